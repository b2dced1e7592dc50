"""Configuration models of the northbound side: TLS, MQTT, InfluxDB, SQLite and the API.

Re-exported by `edge.config`, which holds the rest of the configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

__all__ = ["ApiConfig", "InfluxConfig", "MqttConfig", "OutboxConfig", "SqliteConfig", "TlsConfig"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsConfig(Model):
    """TLS for a client connection. With none of the files set, the system CA store is used."""

    enabled: bool = True
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure_skip_verify: bool = False


class MqttConfig(Model):
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    prefix: str = Field(default="oee", pattern=r"^[^#+/][^#+]*$")
    client_id: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    tls: TlsConfig | None = None
    keepalive_s: int = Field(default=30, ge=5)
    qos: Literal[0, 1, 2] = 1
    reconnect_min_s: float = Field(default=0.5, gt=0, description="first reconnect delay")
    reconnect_max_s: float = Field(
        default=10.0, gt=0, description="reconnect delays double up to this"
    )
    max_inflight: int = Field(
        default=100,
        ge=1,
        le=65535,
        description="messages published and not yet acknowledged; more carry a burst of "
        "many machines faster, and are sent again after a lost connection",
    )


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


class SqliteConfig(Model):
    path: Path = Path("oee-edge.sqlite")
    retention_days: float | None = Field(
        default=365,
        gt=0,
        description="states, counts and OEE older than this are deleted (null: kept)",
    )
    tag_retention_days: float | None = Field(
        default=7,
        gt=0,
        description="raw tag values (publish_tags) older than this are deleted (null: kept)",
    )


class ApiConfig(Model):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    api_key: SecretStr | None = None

    @model_validator(mode="after")
    def _loopback_unless_key(self) -> ApiConfig:
        loopback = self.host in ("127.0.0.1", "::1", "localhost")
        if not loopback and self.api_key is None:
            raise ValueError(
                f"binding the API to {self.host} needs `api_key` (from env: "
                "api_key: ${OEE_API_KEY}); without a key it may bind to 127.0.0.1 only"
            )
        return self


class OutboxConfig(Model):
    """The durable outbox in front of MQTT and InfluxDB (see edge.outbox)."""

    path: Path | None = Field(default=None, description="default: {data_dir}/outbox.sqlite")
    max_mb: float = Field(
        default=1024, gt=0, description="disk limit; then raw tags go first, events last"
    )
    stop_flush_s: float = Field(
        default=5.0,
        ge=0,
        description="at a graceful stop, deliver what waits for at most this long; the "
        "rest stays in the outbox for the next start",
    )
