"""Security of the OPC UA simulator: its certificate, client trust and user logins.

PKI folder layout (the usual OPC UA one; default in `default_pki_dir()`)::

    own/cert.der   the server's application certificate (DER), created once, then reused
    own/key.pem    its private key (PEM, PKCS#8, mode 0600)
    trusted/       client certificates (DER or PEM) accepted when ``trust_clients`` is on
    rejected/      certificates of refused clients (``<fingerprint>.der``), to move to trusted/

A certificate is only replaced when it is missing, unreadable or expired, so clients
that trusted the simulator once keep trusting it across restarts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asyncua import ua
from asyncua.common.utils import ServiceError
from asyncua.crypto import cert_gen
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.user_managers import UserManager
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from simulators.opcua_settings import APPLICATION_URI

CERT_DAYS = 3650  # a simulator certificate should not expire under a test suite


def default_pki_dir() -> Path:
    """``$XDG_STATE_HOME/oee-edge/simulator/pki`` (``~/.local/state/...`` without it)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "oee-edge" / "simulator" / "pki"


def fingerprint(der: bytes) -> str:
    """SHA-256 of a DER certificate as colon-separated upper-case hex."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def load_der(path: Path) -> bytes:
    """A certificate file (DER or PEM) as DER bytes; ValueError if it is not one."""
    data = path.read_bytes()
    if b"-----BEGIN CERTIFICATE-----" in data:
        cert = x509.load_pem_x509_certificate(data)
    else:
        cert = x509.load_der_x509_certificate(data)
    return cert.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class ServerIdentity:
    """The server's certificate and key files in a PKI folder."""

    pki_dir: Path
    cert_der: bytes

    @property
    def cert_file(self) -> Path:
        return self.pki_dir / "own" / "cert.der"

    @property
    def key_file(self) -> Path:
        return self.pki_dir / "own" / "key.pem"

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.cert_der)


def load_or_create_identity(pki_dir: Path, host: str) -> ServerIdentity:
    """Reuse ``own/cert.der`` + ``own/key.pem`` under `pki_dir`, or create them."""
    own = pki_dir / "own"
    for sub in (own, pki_dir / "trusted", pki_dir / "rejected"):
        sub.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = own / "cert.der", own / "key.pem"
    der = _reusable_cert(cert_file, key_file)
    if der is None:
        der = _create_cert(cert_file, key_file, host)
    return ServerIdentity(pki_dir, der)


def _reusable_cert(cert_file: Path, key_file: Path) -> bytes | None:
    try:
        der = cert_file.read_bytes()
        cert = x509.load_der_x509_certificate(der)
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    except (OSError, ValueError):
        return None
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    expired = cert.not_valid_after_utc <= dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    same_key = cert.public_key() == key.public_key()
    uri_ok = APPLICATION_URI in san.get_values_for_type(x509.UniformResourceIdentifier)
    return der if same_key and uri_ok and not expired else None


def _create_cert(cert_file: Path, key_file: Path, host: str) -> bytes:
    key = cert_gen.generate_private_key()
    names: list[x509.GeneralName] = [
        x509.UniformResourceIdentifier(APPLICATION_URI),
        x509.DNSName("localhost"),
        x509.DNSName(socket.gethostname()),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    try:
        if host not in ("127.0.0.1", "0.0.0.0", "::"):
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.append(x509.DNSName(host))
    cert = cert_gen.generate_self_signed_app_certificate(
        key,
        "oee-edge simulator",
        {"organizationName": "oee-edge"},
        names,
        extended=[ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
        days=CERT_DAYS,
    )
    key_file.write_bytes(cert_gen.dump_private_key_as_pem(key))
    key_file.chmod(0o600)
    der = cert.public_bytes(serialization.Encoding.DER)
    cert_file.write_bytes(der)
    return der


class SimulatorUsers(UserManager):
    """Who may open a session: anonymous, user names with passwords, user certificates.

    An unknown user name or a wrong password is refused (BadUserAccessDenied). When
    anonymous access is allowed, an unknown user certificate gets in like anonymous
    (asyncua does not tell the user manager which token type it got).
    """

    def __init__(
        self,
        users: Mapping[str, str],
        user_certificates: Mapping[bytes, str],
        *,
        allow_anonymous: bool,
        allow_unsecured: bool,
    ) -> None:
        self._users = dict(users)
        self._certs = dict(user_certificates)
        self._allow_anonymous = allow_anonymous
        self._allow_unsecured = allow_unsecured

    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        """The session's user, or None to refuse it."""
        # asyncua opens an unsecured channel even when None is not offered; the
        # channel's peer certificate (empty there) is what tells us.
        if not certificate and not self._allow_unsecured:
            return None
        if username is not None:
            expected = self._users.get(username)
            given = (password or "").encode()
            if expected is None or not hmac.compare_digest(expected.encode(), given):
                return None
            return User(role=UserRole.User, name=username)
        if certificate in self._certs:
            return User(role=UserRole.User, name=self._certs[certificate])
        # The User role (not Anonymous): asyncua lets role Anonymous do nothing at all.
        return User(role=UserRole.User) if self._allow_anonymous else None


class TrustedClients:
    """Accepts a client certificate only if the same certificate is in ``trusted/``.

    The folder is read at each new session, so a certificate moved there from
    ``rejected/`` works without a restart.
    """

    def __init__(self, pki_dir: Path) -> None:
        self.trusted = pki_dir / "trusted"
        self.rejected = pki_dir / "rejected"

    def trusted_ders(self) -> set[bytes]:
        """DER bytes of every readable certificate in ``trusted/``."""
        ders = set()
        for path in sorted(self.trusted.iterdir()):
            try:
                ders.add(load_der(path))
            except (OSError, ValueError):
                continue
        return ders

    async def __call__(self, cert: x509.Certificate, _app: ua.ApplicationDescription) -> None:
        der = cert.public_bytes(serialization.Encoding.DER)
        if der in self.trusted_ders():
            return
        name = fingerprint(der).replace(":", "").lower()[:16]
        (self.rejected / f"{name}.der").write_bytes(der)
        raise ServiceError(ua.StatusCodes.BadCertificateUntrusted)
