"""The gateway's OPC UA identity and its list of trusted servers, on disk.

Layout under the gateway's data directory (the usual OPC UA PKI folders)::

    pki/own/cert.der   the gateway's application certificate, created once and reused
    pki/own/key.pem    its private key (mode 0600)
    pki/trusted/       server certificates the gateway trusts (DER or PEM)
    pki/rejected/      certificates of servers that were refused, for an engineer to
                       inspect and move to trusted/

A certificate regenerated at every start would break every server's trust in the
gateway, so nothing here is ever replaced once it exists.
"""

from __future__ import annotations

import hashlib
import re
import socket
from dataclasses import dataclass
from pathlib import Path

from asyncua.crypto import cert_gen, uacrypto
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from connectors.opcua.errors import OpcUaTrustError

__all__ = ["Pki", "fingerprint", "certificate_uri"]


def fingerprint(der: bytes) -> str:
    """SHA-256 of a DER certificate as colon-separated upper-case hex."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def _normal_fp(text: str) -> str:
    return re.sub(r"[^0-9A-F]", "", text.upper())


def certificate_uri(cert: x509.Certificate) -> str | None:
    """The application URI in a certificate's subjectAltName, if any."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return None
    uris = san.value.get_values_for_type(x509.UniformResourceIdentifier)
    return uris[0] if uris else None


def _load_der(path: Path) -> bytes | None:
    data = path.read_bytes()
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return x509.load_pem_x509_certificate(data).public_bytes(serialization.Encoding.DER)
        return x509.load_der_x509_certificate(data).public_bytes(serialization.Encoding.DER)
    except ValueError:
        return None


@dataclass(frozen=True)
class Pki:
    """The PKI folders under `root` (normally `{data_dir}/pki`)."""

    root: Path
    trusted_dir: Path | None = None
    # How to pin a certificate where this PKI is used (config field or CLI flag).
    pin_hint: str = "set security.server_fingerprint"

    @property
    def own_cert(self) -> Path:
        return self.root / "own" / "cert.der"

    @property
    def own_key(self) -> Path:
        return self.root / "own" / "key.pem"

    @property
    def trusted(self) -> Path:
        return self.trusted_dir or self.root / "trusted"

    @property
    def rejected(self) -> Path:
        return self.root / "rejected"

    def ensure_own_certificate(self, application_uri: str) -> tuple[Path, Path, str]:
        """(cert, key, application uri): created on first use, then always the same files.

        The application URI is read back from an existing certificate, because it must
        match the certificate the servers already trust.
        """
        if not (self.own_cert.is_file() and self.own_key.is_file()):
            self._create(application_uri)
        cert = x509.load_der_x509_certificate(self.own_cert.read_bytes())
        return self.own_cert, self.own_key, certificate_uri(cert) or application_uri

    def _create(self, application_uri: str) -> None:
        self.own_cert.parent.mkdir(parents=True, exist_ok=True)
        key = cert_gen.generate_private_key()
        host = socket.gethostname()
        cert = cert_gen.generate_self_signed_app_certificate(
            key,
            f"oee-edge@{host}",
            {"organizationName": "oee-edge"},
            [x509.UniformResourceIdentifier(application_uri), x509.DNSName(host)],
            extended=[ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH],
            days=3650,
        )
        self.own_key.write_bytes(cert_gen.dump_private_key_as_pem(key))
        self.own_key.chmod(0o600)
        self.own_cert.write_bytes(uacrypto.der_from_x509(cert))

    def own_fingerprint(self) -> str | None:
        return fingerprint(self.own_cert.read_bytes()) if self.own_cert.is_file() else None

    def check_server(self, der: bytes, endpoint: str, pinned: str | None = None) -> None:
        """Raise OpcUaTrustError unless `der` is in the trust folder or matches `pinned`.

        A refused certificate is copied to `rejected/` so that trusting it is one `mv`.
        """
        fp = fingerprint(der)
        if pinned is not None and _normal_fp(pinned) == _normal_fp(fp):
            return
        if self.trusted.is_dir():
            for path in sorted(self.trusted.iterdir()):
                if path.is_file() and _load_der(path) == der:
                    return
        self.rejected.mkdir(parents=True, exist_ok=True)
        saved = self.rejected / f"{_normal_fp(fp)[:16].lower()}.der"
        saved.write_bytes(der)
        subject = x509.load_der_x509_certificate(der).subject.rfc4514_string()
        raise OpcUaTrustError(
            f"the server certificate of {endpoint} ({subject}, SHA-256 {fp}) is not trusted: "
            f"move {saved} into {self.trusted}/ or {self.pin_hint}"
        )
