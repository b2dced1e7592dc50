"""OPC UA simulator security against a real asyncua client: policies, certificates,
client trust and logins."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from asyncua import ua

from simulators.opcua_server import OpcuaSimulator, serve_opcua
from simulators.scenario import load_scenario, parse_scenario
from tests.simulators.opcua_client import (
    SECURED,
    KeyPair,
    make_cert,
    refused,
    session,
    sha256_colons,
    sid,
    unsecured_anonymous_session,
)

shared_loop = pytest.mark.asyncio(loop_scope="module")


@dataclass(frozen=True)
class Secure:
    sim: OpcuaSimulator
    client: KeyPair  # trusted
    stranger: KeyPair  # not trusted
    alice: KeyPair  # a configured user certificate
    bob: KeyPair  # an unknown user certificate

    @property
    def server_cert(self) -> Path:
        return self.sim.pki_dir / "own" / "cert.der"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def secure(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Secure]:
    certs = tmp_path_factory.mktemp("certs")
    pki = tmp_path_factory.mktemp("pki")
    client, stranger, alice, bob = (
        make_cert(certs, n) for n in ("client", "stranger", "alice", "bob")
    )
    (pki / "trusted").mkdir()
    shutil.copy(client.cert, pki / "trusted" / "client.der")
    scenario = parse_scenario(
        {
            "machines": [{"id": "m1", "unit_id": 1, "product": 11}],
            "opcua": {
                "security": ["all"],
                "trust_clients": True,
                "allow_anonymous": False,
                "users": {"operator": "secret"},
                "user_certificates": ["alice.der"],
            },
        },
        base_dir=certs,
    )
    async with serve_opcua(scenario, port=0, pki_dir=pki) as sim:
        yield Secure(sim, client, stranger, alice, bob)


@shared_loop
@pytest.mark.parametrize("security", ["None", *SECURED])
async def test_each_policy_and_mode_connects(secure: Secure, security: str) -> None:
    async with session(
        secure.sim.url,
        security=security,
        client_cert=secure.client,
        server_cert=secure.server_cert,
        user=("operator", "secret"),
    ) as client:
        assert await client.get_node(sid(2, "m1.Product")).read_value() == 11
        assert client.security_policy.Mode.name.rstrip("_") == security.split(":")[-1]


@shared_loop
async def test_offered_endpoints(secure: Secure) -> None:
    async with session(secure.sim.url, user=("operator", "secret")) as client:
        endpoints = await client.get_endpoints()
    offered = {(e.SecurityPolicyUri.rsplit("#")[-1], e.SecurityMode.name) for e in endpoints}
    assert len(endpoints) == 7 and ("None", "None_") in offered
    assert ("Aes256_Sha256_RsaPss", "SignAndEncrypt") in offered
    tokens = {t.TokenType for t in endpoints[0].UserIdentityTokens}
    assert tokens == {ua.UserTokenType.UserName, ua.UserTokenType.Certificate}
    der = secure.server_cert.read_bytes()
    assert all(e.ServerCertificate == der for e in endpoints)


@shared_loop
async def test_logins_refused(secure: Secure) -> None:
    url, server_cert, client = secure.sim.url, secure.server_cert, secure.client
    secured = {
        "security": "Basic256Sha256:SignAndEncrypt",
        "client_cert": client,
        "server_cert": server_cert,
    }
    await refused(ua.StatusCodes.BadUserAccessDenied, url, user=("operator", "wrong"))
    await refused(ua.StatusCodes.BadUserAccessDenied, url, user=("nobody", "secret"), **secured)
    await refused(ua.StatusCodes.BadIdentityTokenRejected, url)  # anonymous is off
    await refused(ua.StatusCodes.BadUserAccessDenied, url, user_cert=secure.bob, **secured)


@shared_loop
async def test_user_certificate_login(secure: Secure) -> None:
    async with session(
        secure.sim.url,
        security="Aes128_Sha256_RsaOaep:Sign",
        client_cert=secure.client,
        server_cert=secure.server_cert,
        user_cert=secure.alice,
    ) as client:
        assert await client.get_node(sid(2, "m1.State")).read_value() == 1


@shared_loop
async def test_untrusted_client_is_refused_until_moved_to_trusted(secure: Secure) -> None:
    args = {
        "security": "Basic256Sha256:Sign",
        "client_cert": secure.stranger,
        "server_cert": secure.server_cert,
        "user": ("operator", "secret"),
    }
    pki = secure.sim.pki_dir
    await refused(ua.StatusCodes.BadCertificateUntrusted, secure.sim.url, **args)
    rejected = list((pki / "rejected").iterdir())
    assert [p.read_bytes() for p in rejected] == [secure.stranger.cert.read_bytes()]
    shutil.move(rejected[0], pki / "trusted" / rejected[0].name)
    async with session(secure.sim.url, **args) as client:  # type: ignore[arg-type]
        assert await client.get_node(sid(2, "m1.Product")).read_value() == 11


@shared_loop
async def test_certificate_is_reused_on_restart(secure: Secure) -> None:
    pki = secure.sim.pki_dir
    before = (pki / "own" / "cert.der").read_bytes()
    assert secure.sim.fingerprint == sha256_colons(before)
    scenario = load_scenario("test").with_overrides(opcua={"security": ["Basic256Sha256"]})
    async with serve_opcua(scenario, port=0, pki_dir=pki) as again:
        assert again.fingerprint == secure.sim.fingerprint
        async with session(
            again.url,
            security="Basic256Sha256:SignAndEncrypt",
            client_cert=secure.client,
            server_cert=pki / "own" / "cert.der",
        ) as client:
            assert await client.get_node(sid(2, "m1.Product")).read_value() == 101
        with pytest.raises(ua.UaStatusCodeError) as info:
            await unsecured_anonymous_session(again.url)
        assert info.value.code == ua.StatusCodes.BadUserAccessDenied
    assert (pki / "own" / "cert.der").read_bytes() == before
