"""Opening a session: files that are not what the config says are named, with the field."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from connectors.opcua.client import open_client
from connectors.opcua.errors import OpcUaError
from connectors.opcua.pki import Pki
from edge.config import OpcUaConnection
from tests.fixtures.ports import free_port


def connection(**kw: object) -> OpcUaConnection:
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/x"
    return OpcUaConnection.model_validate({"endpoint": endpoint, "timeout_s": 1, **kw})


@pytest.fixture
def identity(tmp_path: Path) -> tuple[Path, Path]:
    cert, key, _ = Pki(tmp_path / "made").ensure_own_certificate("urn:user")
    return cert, key


async def test_missing_user_certificate_file(tmp_path: Path, identity: tuple[Path, Path]) -> None:
    missing = tmp_path / "nope.der"
    conn = connection(auth={"certificate": missing, "private_key": identity[1]})
    with pytest.raises(OpcUaError) as err:
        await open_client(conn, Pki(tmp_path / "pki"), application_uri="urn:t")
    assert (
        str(err.value) == f"auth.certificate {missing}: cannot read it (No such file or directory)"
    )


async def test_garbage_certificate_and_key(tmp_path: Path, identity: tuple[Path, Path]) -> None:
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x00 not a certificate")
    conn = connection(auth={"certificate": junk, "private_key": identity[1]})
    with pytest.raises(OpcUaError) as err:
        await open_client(conn, Pki(tmp_path / "pki"), application_uri="urn:t")
    assert str(err.value) == f"auth.certificate {junk}: not a certificate (DER or PEM)"
    conn = connection(
        security={"policy": "Basic256Sha256", "certificate": identity[0], "private_key": junk}
    )
    with pytest.raises(OpcUaError) as err:
        await open_client(conn, Pki(tmp_path / "pki"), application_uri="urn:t")
    assert str(err.value) == f"security.private_key {junk}: not an unencrypted PEM private key"


async def test_cancelled_while_connecting_stops_at_once(tmp_path: Path) -> None:
    """A server that accepts TCP and never answers; the connect is cancelled (a gateway
    shutdown, a Ctrl-C) the moment the socket opens. asyncio.wait_for before 3.12 could
    swallow that cancellation and leave the caller waiting out asyncua's timeouts."""
    loop = asyncio.get_running_loop()
    for _ in range(5):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            listener.setblocking(False)
            conn = OpcUaConnection(
                endpoint=f"opc.tcp://127.0.0.1:{listener.getsockname()[1]}", timeout_s=30
            )
            task = asyncio.create_task(
                open_client(conn, Pki(tmp_path / "pki"), application_uri="urn:t")
            )
            accepted, _ = await loop.sock_accept(listener)
            with accepted:
                await asyncio.sleep(0)  # the client's connect step completes in this turn
                task.cancel()
                started = loop.time()
                with pytest.raises(asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(task), 5)
                assert loop.time() - started < 1.0
