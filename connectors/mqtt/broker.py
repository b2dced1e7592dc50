"""A throw-away local MQTT broker for `oee-edge demo`.

`async with local_broker() as broker: host, port = broker` runs Mosquitto when its binary
is installed, else the embedded pure-Python amqtt broker, on 127.0.0.1. Both keep
retained messages and publish last wills, which the MQTT contract relies on.
`broker.kind` says which one ran.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pwd
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

__all__ = ["BrokerKind", "LocalBroker", "find_mosquitto", "free_port", "local_broker"]

log = logging.getLogger(__name__)

BrokerKind = Literal["mosquitto", "amqtt"]


class LocalBroker(tuple[str, int]):
    """`(host, port)` of a running local broker, plus `kind` ("mosquitto" or "amqtt")."""

    kind: BrokerKind

    def __new__(cls, host: str, port: int, kind: BrokerKind) -> LocalBroker:
        self = super().__new__(cls, (host, port))
        self.kind = kind
        return self

    @property
    def host(self) -> str:
        return self[0]

    @property
    def port(self) -> int:
        return self[1]


def find_mosquitto() -> str | None:
    """Path of the mosquitto binary (Debian puts it in /usr/sbin, often not on PATH)."""
    if os.access("/usr/sbin/mosquitto", os.X_OK):
        return "/usr/sbin/mosquitto"
    return shutil.which("mosquitto")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def mosquitto_conf(port: int, host: str = "127.0.0.1", extra: str = "") -> str:
    """A minimal Mosquitto 2.0 config: one loopback listener, anonymous clients allowed."""
    # Run as root, mosquitto drops to user `mosquitto`, which then cannot read or write
    # our temp files; naming the current user keeps it as whoever started it.
    user = pwd.getpwuid(os.geteuid()).pw_name
    return (
        f"listener {port} {host}\n"
        "allow_anonymous true\n"
        f"user {user}\n"
        # Without it Mosquitto's small writes wait for the peer's delayed ACK (Nagle):
        # a p99 of ~40 ms from publish to subscriber instead of ~15 (docs/BENCHMARKS.md).
        "set_tcp_nodelay true\n"
        "log_dest stderr\n"
        "log_type error\nlog_type warning\n"
        f"{extra}"
    )


async def wait_port(
    host: str, port: int, timeout_s: float, proc: asyncio.subprocess.Process | None = None
) -> None:
    """Wait until `host:port` accepts TCP connections; TimeoutError if it does not within
    `timeout_s` or if `proc` (the server) exits first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            if proc is not None and proc.returncode is not None:
                raise TimeoutError(f"the server exited with code {proc.returncode}") from None
            if loop.time() > deadline:
                raise TimeoutError(
                    f"nothing listens on {host}:{port} after {timeout_s} s"
                ) from None
            await asyncio.sleep(0.02)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return


@contextlib.asynccontextmanager
async def _run_mosquitto(binary: str, host: str, port: int) -> AsyncIterator[LocalBroker]:
    with tempfile.TemporaryDirectory(prefix="oee-mosquitto-") as tmp:
        conf = Path(tmp) / "mosquitto.conf"
        conf.write_text(mosquitto_conf(port, host))
        logfile = Path(tmp) / "mosquitto.log"
        # Its log goes to a file, not a pipe: nobody reads a pipe during a long demo, and
        # a full pipe would stall the broker.
        with logfile.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                binary, "-c", str(conf), stdout=asyncio.subprocess.DEVNULL, stderr=err
            )
        try:
            try:
                await wait_port(host, port, 5.0, proc)
            except TimeoutError as exc:
                why = logfile.read_text(errors="replace")
                msg = f"mosquitto did not start on {host}:{port} ({exc}): {why}"
                raise RuntimeError(msg) from exc
            log.info("mosquitto listening on %s:%d", host, port)
            yield LocalBroker(host, port, "mosquitto")
        finally:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 5.0)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


def amqtt_config(host: str, port: int) -> dict[str, object]:
    """amqtt 0.12 broker config: one TCP listener, anonymous clients, no $SYS chatter."""
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }


@contextlib.asynccontextmanager
async def _run_amqtt(host: str, port: int) -> AsyncIterator[LocalBroker]:
    from amqtt.broker import Broker  # imported here: only needed without mosquitto

    broker = Broker(amqtt_config(host, port))
    await broker.start()
    log.info("embedded amqtt broker listening on %s:%d", host, port)
    try:
        yield LocalBroker(host, port, "amqtt")
    finally:
        await broker.shutdown()


@contextlib.asynccontextmanager
async def local_broker(
    port: int = 0, host: str = "127.0.0.1", kind: BrokerKind | None = None
) -> AsyncIterator[LocalBroker]:
    """Run a local broker on `host:port` (0 = a free port) for the duration of the block.

    `kind=None` prefers Mosquitto and falls back to amqtt when no binary is installed;
    pass a kind to force one (tests force "amqtt" to cover the fallback).
    """
    port = port or free_port(host)
    binary = find_mosquitto() if kind in (None, "mosquitto") else None
    if kind == "mosquitto" and binary is None:
        raise RuntimeError("mosquitto is not installed (apt install mosquitto)")
    runner = _run_mosquitto(binary, host, port) if binary else _run_amqtt(host, port)
    async with runner as broker:
        yield broker
