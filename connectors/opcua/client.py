"""Open an asyncua client session as an `OpcUaConnection` describes it.

Security: the server's certificate is fetched over an unsecured channel (GetEndpoints,
as every OPC UA client does) and then checked against the gateway's trust folder
*before* any secure channel is opened: nothing is ever auto-accepted. Every asyncua
or socket error that can happen while connecting leaves here as one of our
`OpcUaError`s, with a message that names the endpoint and what to do.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

from asyncua import Client, ua
from asyncua.crypto import security_policies as sp
from asyncua.ua.uaerrors import UaError, UaStatusCodeError
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from connectors.common.aio import within
from connectors.opcua.config import OpcUaConnection
from connectors.opcua.errors import (
    OpcUaAuthError,
    OpcUaConnectError,
    OpcUaError,
    OpcUaTrustError,
)
from connectors.opcua.pki import Pki, certificate_uri, fingerprint

__all__ = ["POLICIES", "bounded", "close_client", "describe_status", "fingerprint", "open_client"]

log = logging.getLogger(__name__)
T = TypeVar("T")

POLICIES: dict[str, type[sp.SecurityPolicy]] = {
    "None": sp.SecurityPolicyNone,
    "Basic256Sha256": sp.SecurityPolicyBasic256Sha256,
    "Aes128_Sha256_RsaOaep": sp.SecurityPolicyAes128Sha256RsaOaep,
    "Aes256_Sha256_RsaPss": sp.SecurityPolicyAes256Sha256RsaPss,
}
_MODES = {
    "None": ua.MessageSecurityMode.None_,
    "Sign": ua.MessageSecurityMode.Sign,
    "SignAndEncrypt": ua.MessageSecurityMode.SignAndEncrypt,
}
_AUTH_CODES = {
    ua.StatusCodes.BadUserAccessDenied,
    ua.StatusCodes.BadIdentityTokenInvalid,
    ua.StatusCodes.BadIdentityTokenRejected,
    ua.StatusCodes.BadUserSignatureInvalid,
}
_TRUST_CODES = {
    ua.StatusCodes.BadCertificateUntrusted,
    ua.StatusCodes.BadCertificateInvalid,
    ua.StatusCodes.BadSecurityChecksFailed,
    ua.StatusCodes.BadCertificateUriInvalid,
    ua.StatusCodes.BadCertificateTimeInvalid,
    ua.StatusCodes.BadSecurityPolicyRejected,
}


def describe_status(code: ua.StatusCode | int) -> str:
    """`BadNodeIdUnknown` for a status code (its hex value when the name is unknown)."""
    value = code.value if isinstance(code, ua.StatusCode) else int(code)
    name = ua.status_codes.code_to_name_doc.get(value, (None, None))[0]
    return name or f"0x{value:08X}"


async def open_client(
    conn: OpcUaConnection, pki: Pki, *, application_uri: str, name: str = "oee-edge"
) -> Client:
    """A connected client (session activated) for `conn`; raises OpcUaError subclasses."""
    client = Client(conn.endpoint, timeout=conn.timeout_s, watchdog_intervall=conn.watchdog_s)
    client.name = client.description = name
    client.session_timeout = int(conn.session_timeout_s * 1000)
    client.application_uri = application_uri
    try:
        await bounded(_prepare(client, conn, pki, application_uri), conn.timeout_s * 2, client)
        await bounded(client.connect(auto_reconnect=False), conn.timeout_s * 2, client)
    except OpcUaError:
        await close_client(client)
        raise
    except BaseException as exc:
        await close_client(client)
        if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt):
            raise
        raise _translate(exc, conn, pki) from None
    return client


async def close_client(client: Client) -> None:
    """Disconnect without raising: the server may already be gone."""
    try:
        await bounded(client.disconnect(), 2.0, client)
    except Exception:
        _drop_socket(client)


async def bounded(step: Awaitable[T], timeout_s: float, client: Client) -> T:
    """`step` within `timeout_s`, and never stuck when cancelled: asyncua nests
    `asyncio.wait_for` at every step, which can lose a cancel (see connectors.common.aio), so
    on cancel or timeout we close the socket, failing every pending request at once."""
    return await within(step, timeout_s, abandon=lambda: _drop_socket(client))


def _drop_socket(client: Client) -> None:
    try:
        client.disconnect_socket()
    except Exception:
        log.debug("socket close failed", exc_info=True)


async def _prepare(client: Client, conn: OpcUaConnection, pki: Pki, app_uri: str) -> None:
    sec, auth = conn.security, conn.auth
    if sec.trust_dir is not None:
        pki = dataclasses.replace(pki, trusted_dir=sec.trust_dir)
    if sec.policy != "None":
        if sec.certificate is not None and sec.private_key is not None:
            cert = check_identity_files(sec.certificate, sec.private_key, "security")
            own_cert, own_key = sec.certificate, sec.private_key
            client.application_uri = certificate_uri(cert) or app_uri
        else:
            own_cert, own_key, client.application_uri = pki.ensure_own_certificate(app_uri)
        server_der = await _server_certificate(client, conn)
        pki.check_server(server_der, conn.endpoint, sec.server_fingerprint)
        await client.set_security(
            POLICIES[sec.policy],
            str(own_cert),
            str(own_key),
            server_certificate=server_der,
            mode=_MODES[sec.effective_mode],
        )
    if auth.username is not None and auth.password is not None:
        client.set_user(auth.username)
        client.set_password(auth.password.get_secret_value())
    elif auth.certificate is not None and auth.private_key is not None:
        check_identity_files(auth.certificate, auth.private_key, "auth")
        await client.load_client_certificate(str(auth.certificate))
        await client.load_private_key(Path(auth.private_key))


def check_identity_files(cert: Path, key: Path, where: str) -> x509.Certificate:
    """The certificate, once it and its key are known to be readable and what they claim;
    otherwise an OpcUaError naming the config field and the file."""
    try:
        data = cert.read_bytes()
        key_data = key.read_bytes()
    except OSError as exc:
        field = "certificate" if exc.filename == str(cert) else "private_key"
        raise OpcUaError(
            f"{where}.{field} {exc.filename}: cannot read it ({exc.strerror})"
        ) from None
    try:
        loaded = (
            x509.load_pem_x509_certificate(data)
            if data.startswith(b"-----BEGIN")
            else x509.load_der_x509_certificate(data)
        )
    except ValueError:
        raise OpcUaError(f"{where}.certificate {cert}: not a certificate (DER or PEM)") from None
    try:
        serialization.load_pem_private_key(key_data, password=None)
    except (ValueError, TypeError):
        raise OpcUaError(f"{where}.private_key {key}: not an unencrypted PEM private key") from None
    return loaded


async def _server_certificate(client: Client, conn: OpcUaConnection) -> bytes:
    """The certificate of the endpoint offering our policy and mode (unsecured GetEndpoints)."""
    endpoints = await client.connect_and_get_server_endpoints()
    policy_uri = POLICIES[conn.security.policy].URI
    mode = _MODES[conn.security.effective_mode]
    for ep in endpoints:
        if ep.SecurityPolicyUri == policy_uri and ep.SecurityMode == mode:
            return _first_der(ep.ServerCertificate)
    offered = sorted(
        {
            f"{e.SecurityPolicyUri.rsplit('#', 1)[-1]}/{e.SecurityMode.name.rstrip('_')}"
            for e in endpoints
        }
    )
    raise OpcUaConnectError(
        f"{conn.endpoint} does not offer {conn.security.policy}/{conn.security.effective_mode} "
        f"(it offers {', '.join(offered)})"
    )


def _first_der(chain: bytes) -> bytes:
    # ServerCertificate may hold a chain; the leaf comes first (a DER SEQUENCE with its length).
    if len(chain) > 4 and chain[0] == 0x30 and chain[1] == 0x82:
        return chain[: 4 + int.from_bytes(chain[2:4], "big")]
    return chain


def _translate(exc: BaseException, conn: OpcUaConnection, pki: Pki) -> OpcUaError:
    where = conn.endpoint
    if isinstance(exc, UaStatusCodeError):
        code = exc.code
        name = describe_status(code)
        if code in _AUTH_CODES:
            who = conn.auth.username or (
                str(conn.auth.certificate) if conn.auth.certificate else "anonymous"
            )
            return OpcUaAuthError(f"{where} refused user {who!r} ({name})")
        if code in _TRUST_CODES:
            own = pki.own_fingerprint() or "not created"
            return OpcUaTrustError(
                f"{where} refused the gateway's certificate ({name}): add {pki.own_cert} "
                f"(SHA-256 {own}) to the server's trusted certificates"
            )
        return OpcUaConnectError(f"{where}: {name}")
    if isinstance(exc, TimeoutError):
        return OpcUaConnectError(f"{where}: no answer within {conn.timeout_s:g}s")
    if isinstance(exc, ConnectionRefusedError) or "Connect call failed" in str(exc):
        return OpcUaConnectError(f"{where}: connection refused (is the server up, the port right?)")
    if isinstance(exc, socket.gaierror):
        return OpcUaConnectError(f"{where}: unknown host ({exc.strerror})")
    if isinstance(exc, OSError):
        return OpcUaConnectError(f"{where}: {exc.strerror or exc}")
    if isinstance(exc, UaError) and "No matching endpoints" in str(exc):
        return OpcUaConnectError(
            f"{where} does not offer security policy {conn.security.policy}/"
            f"{conn.security.effective_mode}: set `security` (oee-edge browse shows what it offers)"
        )
    if isinstance(exc, UaError):
        return OpcUaConnectError(f"{where}: {exc}")
    return OpcUaConnectError(f"{where}: {type(exc).__name__}: {exc}")
