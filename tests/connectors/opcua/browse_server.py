"""Small real asyncua servers for the browse tests, each on its own thread and loop.

A thread (not the test's loop) lets tests call `edge.cli.main`, which runs its own
`asyncio.run`, directly with capsys. The tree follows the simulator contract
(docs: /tmp/spec/common.md) in a reduced form: one machine and the Diagnostics folder.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from asyncua import Server, ua
from asyncua.crypto import cert_gen, uacrypto
from asyncua.crypto.permission_rules import User, UserRole
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from connectors.opcua.pki import fingerprint
from tests.fixtures.ports import free_port

NS_URI = "urn:oee-edge:simulator"
SERVER_URI = "urn:oee-edge:test-server"
USER, PASSWORD = "operator", "s3cret-Pa55"
T = TypeVar("T")


class Users:
    """Anonymous, or `operator` with the right password; anyone else is refused."""

    def get_user(
        self, iserver: Any, username: str | None = None, password: str | None = None, **_: Any
    ) -> User | None:
        if username is None or (username, password) == (USER, PASSWORD):
            return User(role=UserRole.User)
        return None


@dataclass
class ServerThread:
    """An asyncua server running on a private event loop in a daemon thread."""

    secure_dir: Path | None = None  # Basic256Sha256 only, certificate made here
    undecodable: bool = False  # serve i=3708 as open62541 does (see spec_session_security)
    port: int = field(default_factory=free_port)
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    server: Server | None = None
    cert_der: bytes = b""

    @property
    def url(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.port}/"

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.cert_der)

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=20)

    def start(self) -> ServerThread:
        logging.getLogger("asyncua").setLevel(logging.ERROR)  # set-up warnings
        if self.secure_dir is not None:
            self._make_certificate(self.secure_dir)
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.call(self._start())
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)

    async def _start(self) -> None:
        server = Server(user_manager=Users())  # type: ignore[arg-type]
        await server.init()
        server.set_endpoint(self.url)
        server.set_server_name("browse test server")
        if self.secure_dir is not None:
            await self._secure(server, self.secure_dir)
        idx = await server.register_namespace(NS_URI)
        await build_tree(server, idx)
        await server.start()
        if self.undecodable:
            await serve_undecodable(server)
        self.server = server

    def _make_certificate(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        key = cert_gen.generate_private_key()
        cert = cert_gen.generate_self_signed_app_certificate(
            key,
            "browse-test-server",
            {"organizationName": "oee-edge tests"},
            [x509.UniformResourceIdentifier(SERVER_URI), x509.DNSName("localhost")],
            extended=[ExtendedKeyUsageOID.SERVER_AUTH],
            days=30,
        )
        self.cert_der = uacrypto.der_from_x509(cert)
        (folder / "cert.der").write_bytes(self.cert_der)
        (folder / "key.pem").write_bytes(cert_gen.dump_private_key_as_pem(key))

    async def _secure(self, server: Server, folder: Path) -> None:
        await server.set_application_uri(SERVER_URI)
        await server.load_certificate(str(folder / "cert.der"))
        await server.load_private_key(folder / "key.pem")
        server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
        server.set_security_IDs(["Username"])


async def build_tree(server: Server, idx: int) -> None:
    """Machines/m1 with a few tags and Diagnostics with the contract's odd nodes."""
    objects = server.nodes.objects
    machines = await objects.add_folder(
        ua.NodeId("Machines", idx), ua.QualifiedName("Machines", idx)
    )
    m1 = await machines.add_object(ua.NodeId("m1", idx), ua.QualifiedName("m1", idx))
    vt = ua.VariantType

    async def var(parent: Any, ident: Any, name: str, value: Any, vtype: ua.VariantType) -> None:
        await parent.add_variable(ua.NodeId(ident, idx), ua.QualifiedName(name, idx), value, vtype)

    await var(m1, "m1.State", "State", 1, vt.UInt16)
    await var(m1, "m1.Running", "Running", True, vt.Boolean)
    counters = await m1.add_object(ua.NodeId("m1.Counters", idx), ua.QualifiedName("Counters", idx))
    await var(counters, "m1.Counters.Total", "Total", 1234, vt.UInt32)
    await var(counters, "m1.Counters.Total16", "Total16", 1234, vt.UInt16)
    await var(m1, "m1.Speed", "Speed", 60.5, vt.Double)
    diag = await objects.add_folder(
        ua.NodeId("Diagnostics", idx), ua.QualifiedName("Diagnostics", idx)
    )
    await var(diag, 5001, "Numeric", 42, vt.UInt32)
    await var(diag, "Diagnostics.Array", "Array", [1.5, 2.5, 3.5], vt.Double)
    await var(diag, "Diagnostics.Uncertain", "Uncertain", 7.0, vt.Double)
    await var(diag, "Diagnostics.Bad", "Bad", 0.0, vt.Double)
    await var(diag, "Diagnostics.Text", "Text", "OEE-SIM", vt.String)
    now = datetime.now(UTC)
    uncertain = ua.StatusCode(ua.StatusCodes.UncertainLastUsableValue)
    await server.write_attribute_value(
        ua.NodeId("Diagnostics.Uncertain", idx),
        ua.DataValue(ua.Variant(7.0, vt.Double), uncertain, SourceTimestamp=now),
    )
    bad = ua.StatusCode(ua.StatusCodes.BadSensorFailure)
    await server.write_attribute_value(
        ua.NodeId("Diagnostics.Bad", idx), ua.DataValue(None, bad, SourceTimestamp=now)
    )


def _string(text: str | None) -> bytes:
    """An OPC UA String (Int32 length, then UTF-8; -1: null)."""
    if text is None:
        return struct.pack("<i", -1)
    raw = text.encode()
    return struct.pack("<i", len(raw)) + raw


def spec_session_security() -> bytes:
    """A SessionSecurityDiagnosticsDataType body encoded by the specification (Part 5,
    12.11), as open62541 sends it: Encoding is a String ("UA Binary"). asyncua 2.1
    declares that field a Byte, so it cannot decode this value (the next String's length
    becomes 0x55000000: "Not enough data left in buffer")."""
    return b"".join(
        [
            bytes([0x01, 0x00]) + struct.pack("<H", 1000),  # SessionId: four-byte NodeId i=1000
            _string("anonymous"),  # ClientUserIdOfSession
            struct.pack("<i", 1) + _string("anonymous"),  # ClientUserIdHistory
            _string("Anonymous"),  # AuthenticationMechanism
            _string("UA Binary"),  # Encoding
            _string("http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary"),
            struct.pack("<i", 1),  # SecurityMode: None
            _string("http://opcfoundation.org/UA/SecurityPolicy#None"),
            _string(None),  # ClientCertificate (a ByteString, null)
        ]
    )


async def serve_undecodable(server: Server) -> None:
    """The standard SessionSecurityDiagnosticsArray (i=3708) holds one spec-encoded value."""
    encoding = ua.NodeId(ua.ObjectIds.SessionSecurityDiagnosticsDataType_Encoding_DefaultBinary)
    value = ua.ExtensionObject(encoding, Body=spec_session_security())
    variant = ua.Variant([value], ua.VariantType.ExtensionObject)
    await server.write_attribute_value(
        ua.NodeId(
            ua.ObjectIds.Server_ServerDiagnostics_SessionsDiagnosticsSummary_SessionSecurityDiagnosticsArray
        ),
        ua.DataValue(variant),
    )
