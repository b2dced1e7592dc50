"""The `alarms.webhook` section: where alarm changes are POSTed (README "Configuration")."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator

from connectors.common.tls import TlsConfig
from core.config import Model, Timeout, within

__all__ = ["WebhookConfig"]


class WebhookConfig(Model):
    """An HTTP(S) receiver of alarm changes. Header values are secrets (`${ENV}` or
    `${file:/path}`): they are never logged nor shown by the API."""

    url: str = Field(description="http:// or https:// URL that receives each alarm change")
    headers: dict[str, SecretStr] = Field(
        default_factory=dict, description="sent with every request, e.g. Authorization"
    )
    timeout_s: Timeout = 5.0
    tls: TlsConfig | None = Field(default=None, description="CA, client certificate (https)")
    retry_min_s: Annotated[float, within(0.01, 60, "seconds")] = 0.5
    retry_max_s: Annotated[float, within(0.1, 3600, "seconds")] = 60.0

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")) or len(url) < 10:
            raise ValueError(f"'{url}' is not an HTTP URL: write e.g. https://host/path")
        return url

    @field_validator("headers")
    @classmethod
    def _header_names(cls, headers: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name in headers:
            if not name or not all(c.isalnum() or c in "-_" for c in name):
                raise ValueError(f"'{name}' is not an HTTP header name: use letters, digits, -")
        return headers
