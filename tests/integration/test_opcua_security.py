"""OPC UA security against the simulator as a real process: every policy and mode,
the trust folder (never auto-accept), the server refusing the gateway, and every kind
of user identity — each failure a clear error naming the machine, no crash."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from asyncua import ua
from asyncua.crypto import cert_gen, uacrypto
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from connectors.opcua.client import POLICIES
from connectors.opcua.pki import fingerprint
from core.types import MachineState
from tests.integration.gateway import opcua_config, running, wait_until

ALL = ("--opcua-security", "all")


def trust_dir_with(tmp_path: Path, cert: Path) -> Path:
    trusted = tmp_path / "trusted-servers"
    trusted.mkdir(exist_ok=True)
    shutil.copy(cert, trusted / "simulator.der")
    return trusted


def done(gw) -> bool:  # type: ignore[no-untyped-def]
    live = gw.live.machines["m1"].state
    return live is not None and live.state is MachineState.PLANNED_STOP


@pytest.mark.parametrize(
    ("policy", "mode"),
    [
        ("None", "None"),
        ("Basic256Sha256", "Sign"),
        ("Basic256Sha256", "SignAndEncrypt"),
        ("Aes128_Sha256_RsaOaep", "Sign"),
        ("Aes128_Sha256_RsaOaep", "SignAndEncrypt"),
        ("Aes256_Sha256_RsaPss", "Sign"),
        ("Aes256_Sha256_RsaPss", "SignAndEncrypt"),
    ],
)
async def test_every_policy_and_mode(
    policy: str, mode: str, opcua_simulator_factory, tmp_path: Path
) -> None:
    sim = opcua_simulator_factory("test", extra_args=ALL)
    trusted = trust_dir_with(tmp_path, sim.pki_dir / "own" / "cert.der")
    sec = f", security: {{policy: {policy}, mode: {mode}, trust_dir: '{trusted}'}}"
    config = opcua_config(tmp_path, sim.url, machines=("m1",), conn_extra=sec)
    async with running(config) as gw:
        await wait_until(lambda: done(gw), 15, f"m1 over {policy}/{mode}")
        client = gw.sources["m1"]._session.client  # type: ignore[attr-defined]
        assert client.security_policy.URI == POLICIES[policy].URI
        assert client.security_policy.Mode == getattr(
            ua.MessageSecurityMode, mode.replace("None", "None_")
        )
    own = tmp_path / "pki" / "own" / "cert.der"
    assert own.is_file() == (policy != "None")


async def test_untrusted_server_is_refused_then_trusted_without_a_restart(
    opcua_simulator_factory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim = opcua_simulator_factory("test", extra_args=ALL)
    server_der = (sim.pki_dir / "own" / "cert.der").read_bytes()
    sec = ", security: {policy: Basic256Sha256}"
    config = opcua_config(tmp_path, sim.url, machines=("m1",), conn_extra=sec)
    rejected = tmp_path / "pki" / "rejected"
    with caplog.at_level(logging.ERROR, logger="connectors.opcua.source"):
        async with running(config) as gw:
            await wait_until(lambda: rejected.is_dir() and any(rejected.iterdir()), 10, "reject")
            live = gw.live.machines["m1"]
            await wait_until(lambda: live.state is not None, 5, "a state")
            assert live.state.state is MachineState.OFFLINE
            saved = next(rejected.iterdir())
            assert saved.read_bytes() == server_der
            errors = [r.getMessage() for r in caplog.records if "not trusted" in r.getMessage()]
            assert len(errors) == 1  # one ERROR per outage, however often it retries
            assert errors[0] == (
                f"opcua m1 ({sim.url}): the server certificate of {sim.url} "
                f"({x509.load_der_x509_certificate(server_der).subject.rfc4514_string()}, "
                f"SHA-256 {fingerprint(server_der)}) is not trusted: move {saved} into "
                f"{tmp_path / 'pki' / 'trusted'}/ or set security.server_fingerprint"
            )
            (tmp_path / "pki" / "trusted").mkdir(parents=True, exist_ok=True)
            shutil.move(saved, tmp_path / "pki" / "trusted" / saved.name)
            await wait_until(lambda: done(gw), 15, "m1 once the certificate is trusted")


async def test_pinned_fingerprint_is_trusted(opcua_simulator_factory, tmp_path: Path) -> None:
    sim = opcua_simulator_factory("test", extra_args=ALL)
    fp = fingerprint((sim.pki_dir / "own" / "cert.der").read_bytes())
    sec = f", security: {{policy: Aes256_Sha256_RsaPss, server_fingerprint: '{fp}'}}"
    config = opcua_config(tmp_path, sim.url, machines=("m1",), conn_extra=sec)
    async with running(config) as gw:
        await wait_until(lambda: done(gw), 15, "m1 with a pinned certificate")


async def test_server_refusing_the_gateway_names_our_certificate(
    opcua_simulator_factory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim = opcua_simulator_factory("test", extra_args=(*ALL, "--opcua-trust-clients"))
    trusted = trust_dir_with(tmp_path, sim.pki_dir / "own" / "cert.der")
    sec = f", security: {{policy: Basic256Sha256, trust_dir: '{trusted}'}}"
    config = opcua_config(tmp_path, sim.url, machines=("m1",), conn_extra=sec)
    own = tmp_path / "pki" / "own" / "cert.der"
    with caplog.at_level(logging.ERROR, logger="connectors.opcua.source"):
        async with running(config) as gw:
            await wait_until(
                lambda: any("refused the gateway's certificate" in r.getMessage()
                            for r in caplog.records), 10, "the refusal",
            )  # fmt: skip
            message = next(
                r.getMessage() for r in caplog.records if "refused the gateway" in r.getMessage()
            )
            assert f"add {own} (SHA-256 {fingerprint(own.read_bytes())})" in message
            assert message.startswith(f"opcua m1 ({sim.url}): {sim.url} refused")
            (sim.pki_dir / "trusted").mkdir(exist_ok=True)
            shutil.copy(own, sim.pki_dir / "trusted" / "oee-edge.der")
            await wait_until(lambda: done(gw), 20, "m1 once the server trusts the gateway")


def user_certificate(tmp_path: Path) -> tuple[Path, Path]:
    key = cert_gen.generate_private_key()
    cert = cert_gen.generate_self_signed_app_certificate(
        key, "operator", {}, [x509.UniformResourceIdentifier("urn:operator")],
        extended=[ExtendedKeyUsageOID.CLIENT_AUTH],
    )  # fmt: skip
    cert_path, key_path = tmp_path / "user.der", tmp_path / "user-key.pem"
    cert_path.write_bytes(uacrypto.der_from_x509(cert))
    key_path.write_bytes(cert_gen.dump_private_key_as_pem(key))
    return cert_path, key_path


@pytest.mark.parametrize("identity", ["password", "certificate"])
async def test_user_identities_accepted(
    identity: str, opcua_simulator_factory, tmp_path: Path
) -> None:
    cert, key = user_certificate(tmp_path)
    args = (
        *ALL,
        "--opcua-no-anonymous",
        "--opcua-user",
        "op:s3cret",
        "--opcua-user-cert",
        str(cert),
    )
    sim = opcua_simulator_factory("test", extra_args=args)
    trusted = trust_dir_with(tmp_path, sim.pki_dir / "own" / "cert.der")
    auth = (
        "auth: {username: op, password: s3cret}"
        if identity == "password"
        else f"auth: {{certificate: '{cert}', private_key: '{key}'}}"
    )
    sec = f", security: {{policy: Basic256Sha256, trust_dir: '{trusted}'}}, {auth}"
    config = opcua_config(tmp_path, sim.url, machines=("m1",), conn_extra=sec)
    async with running(config) as gw:
        await wait_until(lambda: done(gw), 15, f"m1 as a {identity} user")


@pytest.mark.parametrize(
    ("auth", "who"),
    [("auth: {username: op, password: wrong}", "'op'"), ("", "'anonymous'")],
)
async def test_refused_identity_is_one_clear_error(
    auth: str, who: str, opcua_simulator_factory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    args = (*ALL, "--opcua-no-anonymous", "--opcua-user", "op:s3cret")
    sim = opcua_simulator_factory("test", extra_args=args)
    trusted = trust_dir_with(tmp_path, sim.pki_dir / "own" / "cert.der")
    sec = f", security: {{policy: Basic256Sha256, trust_dir: '{trusted}'}}"
    config = opcua_config(
        tmp_path, sim.url, machines=("m1",), conn_extra=sec + (", " + auth if auth else "")
    )
    with caplog.at_level(logging.ERROR, logger="connectors.opcua.source"):
        async with running(config) as gw:
            await wait_until(lambda: "m1" in gw.sources, 5, "the source")
            source = gw.sources["m1"]
            await wait_until(lambda: source.stats.connect_failures >= 2, 10, "retries")  # type: ignore[attr-defined]
            assert gw.live.machines["m1"].state.state is MachineState.OFFLINE
    refused = [r.getMessage() for r in caplog.records if "refused user" in r.getMessage()]
    assert len(refused) == 1
    assert refused[0].startswith(f"opcua m1 ({sim.url}): {sim.url} refused user {who} (Bad")
    assert "wrong" not in refused[0] and "s3cret" not in refused[0]
