"""The MQTT sink's security options against a real Mosquitto: username and password
(a broker that refuses anonymous clients), and TLS verified against our CA. A wrong
password or an unverifiable server keeps the records on disk, nothing is sent."""

from __future__ import annotations

import asyncio
import logging
import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr

from connectors.mqtt.broker import free_port
from connectors.mqtt.sink import MqttSink
from edge.config import MqttConfig, TlsConfig
from edge.outbox import Journal, Outbox
from tests.connectors.mqtt.support import changes, ref, unique_site
from tests.fixtures.tls import server_tls
from tests.integration.gateway import wait_until


def sink(cfg: MqttConfig, site: str, outbox: Outbox) -> MqttSink:
    return MqttSink(
        cfg, "gw1", site, {"m1": ref(site)}, journal=Journal(outbox),
        reconnect_min_s=0.1, reconnect_max_s=0.2, shutdown_timeout_s=0.5,
    )  # fmt: skip


async def delivered(s: MqttSink, outbox: Outbox, n: int, acked: int) -> None:
    """Hand `n` state changes (2 records each) over; the broker acknowledges `acked`
    records in all (those queued before too), and none is left."""
    await s.handle(changes(n))
    await wait_until(lambda: s.connected, 10, "the connection")
    await wait_until(lambda: outbox.depth("mqtt").records == 0, 10, "the broker's acks")
    assert s.stats.acked == acked


async def kept(s: MqttSink, outbox: Outbox, n: int, waiting: int) -> None:
    """Hand `n` state changes over; the broker never lets the sink in, so `waiting`
    records in all stay queued."""
    await s.handle(changes(n))
    await asyncio.sleep(0.8)  # several refused attempts
    assert not s.connected and s.stats.acked == 0
    assert outbox.depth("mqtt").records == waiting


def password_file(directory: Path, user: str, password: str) -> Path:
    path = directory / "passwords"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(path), user, password], check=True)
    return path


async def test_username_and_password(
    mosquitto_factory, tmp_path: Path, outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    pw = password_file(tmp_path, "gateway", "s3cret")
    broker = mosquitto_factory(extra_conf=f"allow_anonymous false\npassword_file {pw}\n")
    site = unique_site()
    cfg = MqttConfig(port=broker.port, username="gateway", password=SecretStr("wrong"))
    async with sink(cfg, site, outbox) as s:
        await kept(s, outbox, 2, waiting=4)
    refused = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(refused) == 1 and "connection refused" in refused[0], refused
    assert "wrong" not in caplog.text  # a secret never reaches the log
    cfg = cfg.model_copy(update={"password": SecretStr("s3cret")})
    async with sink(cfg, site, outbox) as s:
        await delivered(s, outbox, 3, acked=4 + 6)


async def test_tls_verified_against_the_configured_ca(
    mosquitto_factory, tmp_path: Path, outbox: Outbox
) -> None:
    tls = server_tls(tmp_path / "tls")
    broker = mosquitto_factory(
        extra_conf=f"cafile {tls.ca_file}\ncertfile {tls.cert_file}\nkeyfile {tls.key_file}\n"
    )
    site = unique_site()
    # The system store does not know our CA: the handshake fails, nothing is sent.
    async with sink(MqttConfig(port=broker.port, tls=TlsConfig()), site, outbox) as s:
        await kept(s, outbox, 1, waiting=2)
    # Plain MQTT to a TLS listener does not get through either.
    async with sink(MqttConfig(port=broker.port), site, outbox) as s:
        await kept(s, outbox, 1, waiting=4)
    cfg = MqttConfig(port=broker.port, tls=TlsConfig(ca_file=tls.ca_file))
    async with sink(cfg, site, outbox) as s:
        await delivered(s, outbox, 2, acked=4 + 4)
    insecure = MqttConfig(port=broker.port, tls=TlsConfig(insecure_skip_verify=True))
    async with sink(insecure, site, outbox) as s:
        await delivered(s, outbox, 1, acked=2)


async def test_a_tls_config_for_a_port_nothing_listens_on_is_an_outage(outbox: Outbox) -> None:
    cfg = MqttConfig(port=free_port(), tls=TlsConfig())
    async with sink(cfg, unique_site(), outbox) as s:
        await kept(s, outbox, 1, waiting=2)
