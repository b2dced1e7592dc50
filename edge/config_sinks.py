"""Configuration models of the northbound side: TLS, MQTT, InfluxDB, SQLite and the API.

Re-exported by `edge.config`, which holds the rest of the configuration.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from edge.config_oee import Problem, raise_problems

__all__ = [
    "ApiConfig",
    "ApiKeyConfig",
    "InfluxConfig",
    "MqttConfig",
    "OutboxConfig",
    "SqliteConfig",
    "TlsConfig",
]


_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_ORIGIN = re.compile(r"^(\*|https?://[^/\s?#]+)$")


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


class ApiKeyConfig(Model):
    """One API key. `read` may call every GET; `admin` also the changes (reasons,
    products) and `POST /api/v1/config/reload`."""

    name: str = Field(
        pattern=_NAME, max_length=64, description="shown in 403 answers, never the key"
    )
    key: SecretStr = Field(description="from env or a file: key: ${OEE_ADMIN_KEY}")
    scope: Literal["read", "admin"] = "read"

    @field_validator("key")
    @classmethod
    def _not_empty(cls, key: SecretStr) -> SecretStr:
        if not key.get_secret_value().strip():
            raise ValueError("the key is empty (is its environment variable or file set?)")
        return key


class ApiConfig(Model):
    """The HTTP API. Without any key it serves everyone, so it may bind to loopback only."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    api_key: SecretStr | None = Field(
        default=None, description="one admin key, named 'default' (same as an entry of keys)"
    )
    keys: list[ApiKeyConfig] = Field(default_factory=list)
    cors_origins: list[str] = Field(
        default_factory=list,
        description="browser origins allowed to call the API, e.g. https://grafana.plant:3000; "
        "empty: no CORS headers",
    )
    cors_allow_credentials: bool = False

    def all_keys(self) -> list[ApiKeyConfig]:
        """Every key: `api_key` (as admin key 'default') and the `keys` entries."""
        if self.api_key is None:
            return list(self.keys)
        return [ApiKeyConfig(name=DEFAULT_KEY, key=self.api_key, scope="admin"), *self.keys]

    @model_validator(mode="after")
    def _loopback_unless_key(self) -> ApiConfig:
        loopback = self.host in ("127.0.0.1", "::1", "localhost")
        if not loopback and not self.all_keys():
            raise ValueError(
                f"binding the API to {self.host} needs `api_key` (from env: "
                "api_key: ${OEE_API_KEY}); without a key it may bind to 127.0.0.1 only"
            )
        return self

    @model_validator(mode="after")
    def _keys_and_origins(self) -> ApiConfig:
        raise_problems("ApiConfig", _key_problems(self) + _origin_problems(self))
        return self


DEFAULT_KEY = "default"
_ORIGIN_HINT = "write scheme://host[:port] without a path, e.g. https://grafana.plant:3000, or '*'"


def _key_problems(api: ApiConfig) -> list[Problem]:
    """Each key needs its own name and its own value (the messages never show a key)."""
    names: dict[str, str] = {}
    values: dict[str, str] = {}
    if api.api_key is not None:
        names[DEFAULT_KEY] = values[api.api_key.get_secret_value()] = "api.api_key"
    problems: list[Problem] = []
    for i, k in enumerate(api.keys):
        if k.name in names:
            msg = f"'{k.name}' is already the name of {names[k.name]}; names must be unique"
            problems.append((("keys", i, "name"), msg))
        secret = k.key.get_secret_value()
        if secret in values:
            msg = f"the same key as {values[secret]}; every key must be different"
            problems.append((("keys", i, "key"), msg))
        names.setdefault(k.name, f"api.keys[{i}]")
        values.setdefault(secret, f"api.keys[{i}]")
    return problems


def _origin_problems(api: ApiConfig) -> list[Problem]:
    problems: list[Problem] = []
    for i, origin in enumerate(api.cors_origins):
        if not _ORIGIN.match(origin):
            problems.append((("cors_origins", i), f"'{origin}' is not an origin: {_ORIGIN_HINT}"))
        elif origin == "*" and api.cors_allow_credentials:
            msg = "'*' cannot go with cors_allow_credentials: true (browsers refuse it); list them"
            problems.append((("cors_origins", i), msg))
    return problems


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
