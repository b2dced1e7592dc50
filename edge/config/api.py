"""Configuration models of the HTTP API (`api:`): its keys, their scopes, CORS and the
limits that keep the API from starving acquisition (`api.limits`, docs/SECURITY.md)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from core.config import Model, Port
from edge.config.oee import Problem, raise_problems

__all__ = ["ApiConfig", "ApiKeyConfig", "ApiLimits"]


_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_ORIGIN = re.compile(r"^(\*|https?://[^/\s?#]+)$")


class ApiKeyConfig(Model):
    """One API key. `read` may call every GET; `operate` also an operator's changes at
    the line (a stop's reason, scrap, the product, shift notes, acknowledging an alarm);
    `admin` every change (counts, suspect decisions, `POST /api/v1/config/reload`)."""

    name: str = Field(
        pattern=_NAME, max_length=64, description="shown in 403 answers, never the key"
    )
    key: SecretStr = Field(description="from env or a file: key: ${OEE_ADMIN_KEY}")
    scope: Literal["read", "operate", "admin"] = "read"

    @field_validator("key")
    @classmethod
    def _strong(cls, key: SecretStr) -> SecretStr:
        return strong_key(key)


class ApiLimits(Model):
    """What one client or request may cost the gateway. The API shares the process (and
    its event loop) with the polls, so each limit bounds a way a client could stop them:
    a body read into memory, a descriptor held open, a stream fed every event, a store
    read of a quarter of history."""

    max_body_bytes: int = Field(
        default=65_536, ge=1_024, description="larger request bodies are a 413, never read"
    )
    header_timeout_s: float = Field(
        default=10.0, gt=0, description="a request's headers must be complete within this"
    )
    idle_timeout_s: float = Field(
        default=15.0, gt=0, description="no byte from the client for this long: closed"
    )
    max_connections: int = Field(
        default=256, ge=2, description="beyond: 503 and closed (at most half the fd limit)"
    )
    max_event_clients: int = Field(
        default=100, ge=1, description="open `GET /api/v1/events` streams; beyond: 503"
    )
    max_range_days: int = Field(
        default=92, ge=1, le=3650, description="the longest `from`/`to` range of a history route"
    )
    max_rows: int = Field(
        default=10_000, ge=1, description="state intervals per page, raw tag values per answer"
    )
    max_history_rows: int = Field(
        default=250_000, ge=1, description="stored rows one request may read for its figures"
    )
    history_at_once: int = Field(
        default=2, ge=1, description="history requests read and computed at once; others wait"
    )


class ApiConfig(Model):
    """The HTTP API. Without any key it serves everyone, so it may bind to loopback only."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: Port = 8080
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
    limits: ApiLimits = Field(default_factory=ApiLimits)
    language: Literal["auto", "en", "de"] = Field(
        default="auto",
        description="the live page's language; auto: the browser's (English if not offered)",
    )

    @field_validator("api_key")
    @classmethod
    def _strong(cls, key: SecretStr | None) -> SecretStr | None:
        return None if key is None else strong_key(key)

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
#: An API key is guessed at the speed of HTTP requests; 16 random characters are out of
#: reach (`openssl rand -hex 16` makes 32).
KEY_MIN_CHARS = 16


def strong_key(key: SecretStr) -> SecretStr:
    """`key`, if it is long enough to be a key (the messages never show it)."""
    value = key.get_secret_value().strip()
    if not value:
        raise ValueError("the key is empty (is its environment variable or file set?)")
    if len(value) < KEY_MIN_CHARS:
        raise ValueError(
            f"the key is shorter than {KEY_MIN_CHARS} characters: make one with "
            "`openssl rand -hex 16`"
        )
    return key


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
