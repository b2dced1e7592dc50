"""asyncua client helpers for the OPC UA simulator tests (real connections only)."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from asyncua import Client, ua
from asyncua.crypto import cert_gen, security_policies
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

CLIENT_URI = "urn:oee-edge:test-client"
POLICY_CLASSES = {
    "Basic256Sha256": security_policies.SecurityPolicyBasic256Sha256,
    "Aes128_Sha256_RsaOaep": security_policies.SecurityPolicyAes128Sha256RsaOaep,
    "Aes256_Sha256_RsaPss": security_policies.SecurityPolicyAes256Sha256RsaPss,
}
SECURED = [f"{p}:{m}" for p in POLICY_CLASSES for m in ("Sign", "SignAndEncrypt")]
# Machine variables but Temperature (which is a sine), in browse order.
LIVE = ["State", "Reason", "Running", "Fault", "Product"]
LIVE += [f"Counters.{c}" for c in ("Total", "Good", "Reject", "Total16", "Reject16")]
LIVE += ["Speed"]
UInt16, UInt32, Boolean, Double = (
    ua.NodeId(getattr(ua.ObjectIds, t)) for t in ("UInt16", "UInt32", "Boolean", "Double")
)


@dataclass(frozen=True)
class KeyPair:
    cert: Path
    key: Path


def make_cert(folder: Path, name: str) -> KeyPair:
    """A client (or user) certificate + key, as an OPC UA client would have."""
    key = cert_gen.generate_private_key()
    names = [x509.UniformResourceIdentifier(CLIENT_URI), x509.DNSName(socket.gethostname())]
    cert = cert_gen.generate_self_signed_app_certificate(
        key, name, {}, names, extended=[ExtendedKeyUsageOID.CLIENT_AUTH], days=30
    )
    pair = KeyPair(folder / f"{name}.der", folder / f"{name}.pem")
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    pair.key.write_bytes(cert_gen.dump_private_key_as_pem(key))
    return pair


@asynccontextmanager
async def session(
    url: str,
    *,
    security: str = "None",
    client_cert: KeyPair | None = None,
    server_cert: Path | None = None,
    user: tuple[str, str] | None = None,
    user_cert: KeyPair | None = None,
) -> AsyncIterator[Client]:
    client = Client(url, timeout=5)
    client.application_uri = CLIENT_URI
    if security != "None":
        assert client_cert is not None and server_cert is not None
        policy, mode = security.split(":")
        await client.set_security(
            POLICY_CLASSES[policy],
            str(client_cert.cert),
            str(client_cert.key),
            server_certificate=str(server_cert),
            mode=getattr(ua.MessageSecurityMode, mode),
        )
    if user is not None:
        client.set_user(user[0])
        client.set_password(user[1])
    if user_cert is not None:
        await client.load_client_certificate(str(user_cert.cert))
        await client.load_private_key(user_cert.key)
    await client.connect()
    try:
        yield client
    finally:
        await client.disconnect()


async def refused(code: int, url: str, **kwargs: object) -> None:
    with pytest.raises(ua.UaStatusCodeError) as info:
        async with session(url, **kwargs):  # type: ignore[arg-type]
            raise AssertionError(f"{url} accepted a session it should refuse ({kwargs})")
    assert info.value.code == code, ua.StatusCode(info.value.code).name


async def unsecured_anonymous_session(url: str) -> None:
    """Activate a session on an unsecured channel, as a careless client could.

    asyncua's Client refuses by itself when the server offers no None endpoint, so this
    speaks the service calls directly: the server must refuse on its own.
    """
    client = Client(url, timeout=5)
    await client.connect_socket()
    try:
        await client.send_hello()
        await client.open_secure_channel()
        params = ua.CreateSessionParameters()
        params.ClientNonce = bytes(32)
        params.ClientDescription.ApplicationUri = CLIENT_URI
        params.ClientDescription.ApplicationType = ua.ApplicationType.Client
        params.EndpointUrl = url
        params.SessionName = "unsecured"
        params.RequestedSessionTimeout = 60_000
        await client.uaclient.create_session(params)
        activate = ua.ActivateSessionParameters()
        activate.UserIdentityToken = ua.AnonymousIdentityToken(PolicyId="anonymous")
        await client.uaclient.activate_session(activate)
    finally:
        client.disconnect_socket()


def sha256_colons(der: bytes) -> str:
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def sid(idx: int, text: str) -> ua.NodeId:
    return ua.NodeId(text, idx)


async def script_over(client: Client, idx: int = 2) -> None:
    """Wait until m1 of the test scenario holds its final state (planned stop)."""
    state = client.get_node(sid(idx, "m1.State"))
    for _ in range(100):
        if await state.read_value() == 5:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("m1 never reached its final state")


# Final values of the bundled test scenario (docs/simulator.md), in LIVE order.
FINAL = {
    "m1": [5, 90, False, False, 102, 50, 40, 10, 50, 10, 0.0],
    "m2": [2, 5, False, False, 201, 65560, 65550, 65540, 24, 4, 0.0],
    "m3": [3, 44, False, True, 301, 14, 14, 4294967290, 14, 65530, 0.0],
}


async def read_machine(client: Client, machine: str) -> list[object]:
    """State, Reason, Running, Fault, Product, the five counters and Speed."""
    nodes = [client.get_node(sid(2, f"{machine}.{p}")) for p in LIVE]
    return list(await client.read_values(nodes))
