"""The gateway's OPC UA identity and trust folder, on disk."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from connectors.opcua.errors import OpcUaTrustError
from connectors.opcua.pki import Pki, certificate_uri, fingerprint


def test_own_certificate_is_created_once_and_reused(tmp_path: Path) -> None:
    pki = Pki(tmp_path / "pki")
    cert, key, uri = pki.ensure_own_certificate("urn:oee-edge:gw1")
    first = cert.read_bytes()
    assert uri == "urn:oee-edge:gw1"
    assert (key.stat().st_mode & 0o777) == 0o600
    loaded = x509.load_der_x509_certificate(first)
    assert certificate_uri(loaded) == "urn:oee-edge:gw1"
    # A later start (even with another gateway id) keeps the certificate servers trust,
    # and with it the application URI written in it.
    again = Pki(tmp_path / "pki").ensure_own_certificate("urn:oee-edge:renamed")
    assert again == (cert, key, "urn:oee-edge:gw1")
    assert cert.read_bytes() == first
    assert pki.own_fingerprint() == fingerprint(first)


def test_fingerprint_format() -> None:
    # sha256(b"x") = 2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881
    assert fingerprint(b"x") == (
        "2D:71:16:42:B7:26:B0:44:01:62:7C:A9:FB:AC:32:F5:"
        "C8:53:0F:B1:90:3C:C4:DB:02:25:87:17:92:1A:48:81"
    )


@pytest.fixture
def server_der(tmp_path: Path) -> bytes:
    other = Pki(tmp_path / "server-pki")
    cert, _, _ = other.ensure_own_certificate("urn:some:server")
    return cert.read_bytes()


def test_trusted_in_der_or_pem(tmp_path: Path, server_der: bytes) -> None:
    pki = Pki(tmp_path / "pki")
    pki.trusted.mkdir(parents=True)
    (pki.trusted / "server.der").write_bytes(server_der)
    pki.check_server(server_der, "opc.tcp://x:4840")
    (pki.trusted / "server.der").unlink()
    pem = x509.load_der_x509_certificate(server_der).public_bytes(serialization.Encoding.PEM)
    (pki.trusted / "server.pem").write_bytes(pem)
    (pki.trusted / "notes.txt").write_text("not a certificate")
    pki.check_server(server_der, "opc.tcp://x:4840")
    assert not pki.rejected.exists()


@pytest.mark.parametrize("style", ["colons", "plain", "lower"])
def test_pinned_fingerprint(tmp_path: Path, server_der: bytes, style: str) -> None:
    fp = fingerprint(server_der)
    pin = {"colons": fp, "plain": fp.replace(":", ""), "lower": fp.lower()}[style]
    Pki(tmp_path / "pki").check_server(server_der, "opc.tcp://x:4840", pin)


def test_unknown_server_is_refused_and_saved(tmp_path: Path, server_der: bytes) -> None:
    pki = Pki(tmp_path / "pki")
    other_pin = "AA" * 32
    with pytest.raises(OpcUaTrustError) as err:
        pki.check_server(server_der, "opc.tcp://plc:4840", other_pin)
    fp = fingerprint(server_der)
    saved = pki.rejected / f"{fp.replace(':', '')[:16].lower()}.der"
    assert saved.read_bytes() == server_der
    host = socket.gethostname()
    assert str(err.value) == (
        f"the server certificate of opc.tcp://plc:4840 (O=oee-edge,CN=oee-edge@{host}, "
        f"SHA-256 {fp}) is not trusted: move {saved} into {pki.trusted}/ "
        "or set security.server_fingerprint"
    )
