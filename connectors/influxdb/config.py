"""Configuration model of the InfluxDB sink and history reader (`influxdb:`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr

from connectors.common.tls import TlsConfig
from core.config import Interval, Model, within

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
    batch_size: Annotated[int, within(1, 100_000, "lines")] = 500
    flush_interval_s: Interval = 1.0
    # Longer than other timeouts: a history query over a week of a plant may take a while.
    timeout_s: Annotated[float, within(0.01, 300, "seconds")] = 5.0
