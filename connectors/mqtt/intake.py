"""The order intake's MQTT subscription (`orders.intake_topic`, docs/asyncapi.yaml
`orderIntake`): a paho client of its own, apart from the sink's publisher, subscribed at
QoS 1 with a persistent session under a stable client id, so the broker keeps the
orders sent while the gateway is down and hands them over at the next start. paho's
network thread receives; each payload is handed to `take` on the event loop, in order.
Nothing is ever published here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from connectors.mqtt.client import tls_context
from connectors.mqtt.config import MqttConfig

__all__ = ["OrderIntake"]

log = logging.getLogger("connectors.mqtt.intake")
Take = Callable[[bytes], Awaitable[None]]


class OrderIntake:
    """Receives the orders sent to `topic` until cancelled."""

    def __init__(self, config: MqttConfig, client_id: str, topic: str, take: Take) -> None:
        self.config = config
        self.client_id = client_id
        self.topic = topic
        self.take = take
        self.received = 0  # messages on the topic
        self.connected = False

    def _client(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[bytes]) -> paho.Client:
        cfg = self.config
        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id=self.client_id,
            clean_session=False, protocol=MQTTProtocolVersion.MQTTv311,
        )  # fmt: skip
        if cfg.username is not None:
            password = cfg.password.get_secret_value() if cfg.password else None
            client.username_pw_set(cfg.username, password)
        if cfg.tls is not None and cfg.tls.enabled:
            client.tls_set_context(tls_context(cfg.tls))
        client.reconnect_delay_set(max(1, int(cfg.reconnect_min_s)), int(cfg.reconnect_max_s))

        def connected(c: paho.Client, _u: Any, _f: Any, rc: Any, _p: Any = None) -> None:
            self.connected = not rc.is_failure
            if self.connected:  # again after every reconnect: the session may be new
                c.subscribe(self.topic, qos=1)
            else:
                log.warning("order intake: broker refused the connection: %s", rc)

        def lost(_c: paho.Client, _u: Any, _f: Any, _rc: Any, _p: Any = None) -> None:
            self.connected = False

        def message(_c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, bytes(msg.payload))

        client.on_connect, client.on_disconnect, client.on_message = connected, lost, message
        return client

    async def run(self) -> None:
        """Connect (and reconnect), hand over each message, until cancelled."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        client = self._client(loop, queue)
        client.connect_async(self.config.host, self.config.port, self.config.keepalive_s)
        client.loop_start()
        try:
            while True:
                payload = await queue.get()
                self.received += 1
                try:
                    await self.take(payload)
                except Exception:  # one message must not end the intake
                    log.exception("order intake: a message could not be taken")
        finally:
            with contextlib.suppress(Exception):
                client.disconnect()
            await asyncio.to_thread(client.loop_stop)
