"""Configuration model of the MQTT sink (`mqtt:`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from connectors.common.tls import TlsConfig
from core.config import Model

__all__ = ["MqttConfig"]


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
    ack_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="a broker that acknowledges none of the messages in flight for this "
        "long is stuck: the connection is dropped and made again until it acknowledges",
    )
    max_inflight: int = Field(
        default=100,
        ge=1,
        le=65535,
        description="messages published and not yet acknowledged; more carry a burst of "
        "many machines faster, and are sent again after a lost connection",
    )
