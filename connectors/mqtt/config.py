"""Configuration model of the MQTT sink (`mqtt:`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, model_validator

from connectors.common.tls import TlsConfig
from core.config import Interval, Model, Port, check_order, within

__all__ = ["MqttConfig"]


class MqttConfig(Model):
    host: str = "127.0.0.1"
    port: Port = 1883
    prefix: str = Field(default="oee", pattern=r"^[^#+/][^#+]*$")
    client_id: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    tls: TlsConfig | None = None
    # MQTT carries the keepalive in 16 bits.
    keepalive_s: Annotated[int, within(5, 65535, "seconds")] = 30
    qos: Literal[0, 1, 2] = 1
    reconnect_min_s: Interval = Field(default=0.5, description="first reconnect delay")
    reconnect_max_s: Interval = Field(
        default=10.0, description="reconnect delays double up to this"
    )
    ack_timeout_s: Annotated[float, within(0.1, 3600, "seconds")] = Field(
        default=30.0,
        description="a broker that acknowledges none of the messages in flight for this "
        "long is stuck: the connection is dropped and made again until it acknowledges",
    )
    max_inflight: Annotated[int, within(1, 65535)] = Field(
        default=100,
        description="messages published and not yet acknowledged; more carry a burst of "
        "many machines faster, and are sent again after a lost connection",
    )
    tags_direct: bool = Field(
        default=True,
        description="raw tag values (QoS 0) go to the broker at once while it is connected "
        "and none wait in the outbox; false: every one through the outbox",
    )

    @model_validator(mode="after")
    def _reconnect_grows(self) -> MqttConfig:
        check_order(
            self.reconnect_min_s, "reconnect_min_s", self.reconnect_max_s, "reconnect_max_s"
        )
        return self
