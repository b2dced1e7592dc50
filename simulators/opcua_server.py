"""Serve a scenario's machines over OPC UA (asyncua 2.1), one server for all of them.

The node tree is in `simulators.opcua_nodes`, certificates and logins in
`simulators.opcua_security`, the scenario's ``opcua:`` options in
`simulators.opcua_settings`. A background task advances the machine models on the
wall clock (``sim_t = elapsed wall seconds * time_scale``, 0 when the server starts
listening, or the time since the scenario's ``epoch``: see `simulators.clock`)
every 50 ms and writes each variable whose value changed, with a source
timestamp, so subscriptions see changes and not noise.

Usage::

    async with serve_opcua(load_scenario("test"), port=0) as sim:
        print(sim.url, sim.namespace_index)   # opc.tcp://127.0.0.1:PORT/oee-edge/sim, 2
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from asyncua import Server, ua

from simulators.clock import SimClock
from simulators.lifecycle import serving
from simulators.model import MachineModel
from simulators.opcua_nodes import (
    MachineView,
    add_diagnostics,
    add_machine,
    data_value,
    node_id,
    now_utc,
)
from simulators.opcua_security import (
    ServerIdentity,
    SimulatorUsers,
    TrustedClients,
    default_pki_dir,
    load_der,
    load_or_create_identity,
)
from simulators.opcua_settings import APPLICATION_URI, ENDPOINT_PATH
from simulators.scenario import Scenario, ScenarioError

UPDATE_INTERVAL_S = 0.05
SERVER_NAME = "oee-edge simulator"

SPT = ua.SecurityPolicyType
POLICY_TYPES: dict[str, ua.SecurityPolicyType] = {
    "None": SPT.NoSecurity,
    "Basic256Sha256:Sign": SPT.Basic256Sha256_Sign,
    "Basic256Sha256:SignAndEncrypt": SPT.Basic256Sha256_SignAndEncrypt,
    "Aes128_Sha256_RsaOaep:Sign": SPT.Aes128Sha256RsaOaep_Sign,
    "Aes128_Sha256_RsaOaep:SignAndEncrypt": SPT.Aes128Sha256RsaOaep_SignAndEncrypt,
    "Aes256_Sha256_RsaPss:Sign": SPT.Aes256Sha256RsaPss_Sign,
    "Aes256_Sha256_RsaPss:SignAndEncrypt": SPT.Aes256Sha256RsaPss_SignAndEncrypt,
}


class OpcuaSimulator:
    """A running OPC UA simulator: the asyncua server, its models and their clock.

    `models` and `clock` let it show another simulator's machines (``--protocol
    both`` shares the Modbus simulator's), so both protocols show the same values.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        pki_dir: Path | None = None,
        models: Mapping[str, MachineModel] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.scenario = scenario
        self.settings = scenario.opcua
        self.pki_dir = pki_dir if pki_dir is not None else default_pki_dir()
        machines = scenario.opcua_machines
        self.models = {m.id: models[m.id] if models else scenario.model(m.id) for m in machines}
        self.identity: ServerIdentity | None = None
        self.namespace_index = 0
        self.server = Server(user_manager=self._users())
        self._clock: Callable[[], float] = (
            clock if clock is not None else SimClock(scenario.time_scale, scenario.epoch)
        )
        self._port = self.settings.port
        self._views: dict[str, MachineView] = {}
        self._listening = False

    @property
    def host(self) -> str:
        """The address the server listens on."""
        return self.scenario.host

    @property
    def port(self) -> int:
        """The bound port (the real one when the settings asked for port 0)."""
        return self._port

    @property
    def url(self) -> str:
        """The endpoint URL, ``opc.tcp://HOST:PORT/oee-edge/sim``."""
        return f"opc.tcp://{self.host}:{self.port}{ENDPOINT_PATH}"

    @property
    def fingerprint(self) -> str | None:
        """SHA-256 of the server certificate (None when only security None is offered)."""
        return self.identity.fingerprint if self.identity else None

    def sim_time(self) -> float:
        """Simulated seconds since the server started listening or since the epoch (or
        the shared clock's)."""
        return self._clock()

    async def start(self) -> None:
        """Build the address space and listen; OSError if the port cannot be bound."""
        if self._port:
            _check_bindable(self.host, self._port)
        await self._setup()
        if isinstance(self._clock, SimClock):
            self._clock.restart()  # sim time 0 is listening, not the slow set-up before
        await self.refresh()
        await self.server.start()
        self._listening = True
        bserver = self.server.bserver
        assert bserver is not None
        self._port = int(bserver.port)
        self._advertise(self.url)

    async def stop(self) -> None:
        """Close every connection and the listening socket."""
        if not self._listening:
            return
        self._listening = False
        await _stop_server_clock(self.server)
        await self.server.stop()

    async def refresh(self) -> None:
        """Advance every model to the current sim time; write the values that changed."""
        sim_t = self.sim_time()
        now = now_utc()
        for machine_id, model in self.models.items():
            model.advance_to(sim_t)
            for nodeid, vt, value in self._views[machine_id].changes(model.snapshot()):
                await self.server.write_attribute_value(nodeid, data_value(value, vt, now))

    async def run_clock(self, interval_s: float = UPDATE_INTERVAL_S) -> None:
        """Refresh every `interval_s` wall seconds, forever."""
        while True:
            await self.refresh()
            await asyncio.sleep(interval_s)

    def _users(self) -> SimulatorUsers:
        certs: dict[bytes, str] = {}
        for path in self.settings.user_certificates:
            try:
                certs[load_der(path)] = path.stem
            except (OSError, ValueError) as exc:
                raise ScenarioError(f"opcua.user_certificates: {path}: {exc}") from exc
        return SimulatorUsers(
            self.settings.users,
            certs,
            allow_anonymous=self.settings.allow_anonymous,
            allow_unsecured="None" in self.settings.security,
        )

    async def _setup(self) -> None:
        s, server = self.settings, self.server
        await server.init()
        # asyncua clients ask for 1 h and log a warning at every connect when clamped.
        server.iserver.max_session_timeout_ms = 3_600_000
        await server.set_application_uri(APPLICATION_URI)
        server.set_server_name(SERVER_NAME)
        server.product_uri = "urn:oee-edge"
        server.set_endpoint(self.url)
        server.set_security_policy([POLICY_TYPES[p] for p in s.security])
        server.set_identity_tokens(_identity_tokens(self.scenario))
        if s.secured:
            self.identity = await asyncio.to_thread(
                load_or_create_identity, self.pki_dir, self.host
            )
            await server.load_certificate(str(self.identity.cert_file))
            await server.load_private_key(str(self.identity.key_file))
            if s.trust_clients:
                server.set_certificate_validator(TrustedClients(self.pki_dir))
        for uri in s.extra_namespaces:
            await server.register_namespace(uri)
        idx = self.namespace_index = await server.register_namespace(s.namespace_uri)
        folder = await server.nodes.objects.add_folder(
            node_id("Machines", idx), ua.QualifiedName("Machines", idx)
        )
        for machine_id, model in self.models.items():
            extra_tags = model.params.extra_tags
            self._views[machine_id] = await add_machine(folder, idx, machine_id, extra_tags)
        await add_diagnostics(server, idx)

    def _advertise(self, url: str) -> None:
        # Endpoints were described before the bind; with port 0 they carry port 0.
        self.server.set_endpoint(url)
        for edp in self.server.iserver.endpoints:
            edp.EndpointUrl = url
            edp.Server.DiscoveryUrls = [url]


def _identity_tokens(scenario: Scenario) -> list[type]:
    s = scenario.opcua
    tokens: list[type] = []
    if s.allow_anonymous:
        tokens.append(ua.AnonymousIdentityToken)
    if s.users:
        tokens.append(ua.UserNameIdentityToken)
    if s.user_certificates:
        tokens.append(ua.X509IdentityToken)
    return tokens


def _check_bindable(host: str, port: int) -> None:
    """Fail fast (before the slow address-space set-up) when the port is taken."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio does
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise OSError(exc.errno, f"cannot listen on {host}:{port} ({exc.strerror})") from exc


async def _stop_server_clock(server: Server) -> None:
    # asyncua's stop() waits for its ServerStatus clock task to wake from a 1 s sleep;
    # cancelling it first makes a stop take milliseconds instead of a second.
    iserver = server.iserver
    task = iserver.time_task
    if task is not None:
        iserver._time_task_stop = True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        iserver.time_task = None


@asynccontextmanager
async def serve_opcua(
    scenario: Scenario,
    *,
    port: int | None = None,
    time_scale: float | None = None,
    pki_dir: Path | None = None,
    update_interval_s: float = UPDATE_INTERVAL_S,
    models: Mapping[str, MachineModel] | None = None,
    clock: Callable[[], float] | None = None,
    epoch: float | None = None,
) -> AsyncIterator[OpcuaSimulator]:
    """Serve `scenario` over OPC UA until the block exits; yields the OpcuaSimulator.

    `port` overrides ``opcua.port`` (0 picks a free port; read ``sim.port``/``sim.url``),
    `time_scale` the scenario's. `pki_dir` holds the server certificate (default
    `default_pki_dir()`; only used when a policy other than None is offered).
    `models`/`clock` share another simulator's machines. `epoch` (Unix seconds) pins
    sim time 0 to that moment instead of the start (ignored with `clock`). Raises
    OSError if the port cannot be bound, ScenarioError if a user certificate cannot
    be read or the epoch is in the future.
    """
    overrides = {"port": port} if port is not None else None
    scenario = scenario.with_overrides(time_scale=time_scale, opcua=overrides, epoch=epoch)
    sim = OpcuaSimulator(scenario, pki_dir=pki_dir, models=models, clock=clock)
    async with serving(sim, update_interval_s):
        yield sim
