"""Configuration model of the InfluxDB sink and history reader (`influxdb:`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from connectors.common.tls import TlsConfig
from core.config import Model

__all__ = ["InfluxConfig"]


class InfluxConfig(Model):
    url: str = Field(pattern=r"^https?://")
    api: Literal["auto", "v1", "v2"] = Field(
        default="auto", description="auto: ask /ping for X-Influxdb-Version (>= 1.8 -> v2)"
    )
    database: str = Field(default="oee", description="v1 database (and InfluxQL reads)")
    bucket: str | None = Field(default=None, description="v2 bucket; default: `database`")
    org: str = "-"
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    tls: TlsConfig | None = None
    batch_size: int = Field(default=500, ge=1)
    flush_interval_s: float = Field(default=1.0, gt=0)
    timeout_s: float = Field(default=5.0, gt=0)
