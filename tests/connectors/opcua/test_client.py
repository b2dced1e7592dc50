"""Opening a session: files that are not what the config says are named, with the field."""

from __future__ import annotations

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
