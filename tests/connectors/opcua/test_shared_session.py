"""Machines on one OPC UA server share one session and subscription
(`connectors.opcua.endpoint`): counted on a real asyncua server, on its own thread, that
serves two machines with values of their own."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from asyncua import Server, ua

from connectors.opcua.endpoint import OpcUaEndpoints
from connectors.opcua.pki import Pki
from connectors.opcua.source import OpcUaSource
from core.types import Quality, SampleBatch
from edge.config import OpcUaConnection, OpcUaTag
from tests.fixtures.ports import free_port
from tests.integration.gateway import wait_until

from .test_source import streaming

NS = "urn:oee-edge:farm"
# Distinct values per machine: a value that turns up at the other machine is cross-talk.
VALUES = {"m1": {"State": 11, "Total": 1001}, "m2": {"State": 22, "Total": 2002}}
T = TypeVar("T")


@dataclass
class Farm:
    """A real asyncua server with machines m1 and m2, on a private loop in a thread;
    stopped and started again on the same port when a test needs a restart."""

    port: int = field(default_factory=free_port)
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    server: Server | None = None
    idx: int = 0

    @property
    def url(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.port}/farm"

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=20)

    def start(self) -> Farm:
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.call(self._start())
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)

    def restart(self) -> None:
        assert self.server is not None
        self.call(self.server.stop())
        self.call(self._start())

    def sessions(self) -> int:
        """The sessions open on the server now."""
        assert self.server is not None
        return len(self.server.iserver._external_sessions)

    def subscriptions(self) -> int:
        assert self.server is not None
        return len(self.server.iserver.subscription_service.subscriptions)

    def write(self, machine: str, name: str, value: int) -> None:
        async def write() -> None:
            assert self.server is not None
            dv = ua.DataValue(ua.Variant(value, ua.VariantType.UInt32))
            await self.server.write_attribute_value(ua.NodeId(f"{machine}.{name}", self.idx), dv)

        self.call(write())

    async def _start(self) -> None:
        server = Server()
        await server.init()
        server.set_endpoint(self.url)
        self.idx = await server.register_namespace(NS)
        for machine, values in VALUES.items():
            for name, value in values.items():
                await server.nodes.objects.add_variable(
                    ua.NodeId(f"{machine}.{name}", self.idx),
                    f"{machine}.{name}",
                    ua.Variant(value, ua.VariantType.UInt32),
                )
        await server.start()
        self.server = server


@pytest.fixture(scope="module")
def farm() -> Iterator[Farm]:
    server = Farm().start()
    yield server
    server.stop()


def machine(
    tmp_path: Path,
    endpoints: OpcUaEndpoints | None,
    url: str,
    machine_id: str,
    names: tuple[str, ...] = ("State", "Total"),
    **conn: object,
) -> OpcUaSource:
    """A source as the gateway builds it: its endpoint from `endpoints` (None: a session
    of its own, as with share_session false)."""
    settings = {"publishing_interval_s": 0.05, "poll_interval_s": 0.05, "backoff_initial_s": 0.05,
                "backoff_max_s": 0.2, "timeout_s": 2.0, "watchdog_s": 0.3, **conn}  # fmt: skip
    connection = OpcUaConnection(endpoint=url, **settings)  # type: ignore[arg-type]
    tags = {n.lower(): OpcUaTag(node=f"nsu={NS};s={machine_id}.{n}") for n in names}
    pki, uri = Pki(tmp_path / "pki"), "urn:oee-edge:test"
    endpoint = None
    if endpoints is not None:
        endpoint = endpoints.get(connection, pki, application_uri=uri, name="oee-edge test")
    return OpcUaSource(
        machine_id, connection, tags, pki=pki, application_uri=uri, endpoint=endpoint
    )


@contextlib.asynccontextmanager
async def both(
    a: OpcUaSource, b: OpcUaSource
) -> AsyncIterator[tuple[list[SampleBatch], list[SampleBatch]]]:
    async with streaming(a) as got_a, streaming(b) as got_b:
        yield got_a, got_b


def values(got: list[SampleBatch]) -> dict[str, object]:
    return {s.tag: s.value for s in got[-1].samples} if got else {}


def good(got: list[SampleBatch], expected: dict[str, object]) -> bool:
    return bool(got) and got[-1].error is None and values(got) == expected


def own(machine_id: str) -> dict[str, object]:
    return {k.lower(): v for k, v in VALUES[machine_id].items()}


@pytest.mark.parametrize(("share", "sessions"), [(True, 1), (False, 2)])
async def test_two_machines_on_one_server_share_one_session(
    share: bool, sessions: int, farm: Farm, tmp_path: Path
) -> None:
    endpoints = OpcUaEndpoints() if share else None
    m1, m2 = (machine(tmp_path, endpoints, farm.url, m) for m in ("m1", "m2"))
    async with both(m1, m2) as (got1, got2):
        await wait_until(lambda: good(got1, own("m1")) and good(got2, own("m2")), 10, "values")
        assert (farm.sessions(), farm.subscriptions()) == (sessions, sessions)
    await wait_until(lambda: farm.sessions() == 0, 5, "the sessions closed")
    assert m1.stats.connects == m2.stats.connects == 1


@pytest.mark.parametrize("mode", ["subscription", "poll"])
async def test_each_machine_gets_exactly_its_own_values(
    mode: str, farm: Farm, tmp_path: Path
) -> None:
    endpoints = OpcUaEndpoints()
    m1, m2 = (machine(tmp_path, endpoints, farm.url, m, mode=mode) for m in ("m1", "m2"))
    try:
        async with both(m1, m2) as (got1, got2):
            await wait_until(lambda: good(got1, own("m1")) and good(got2, own("m2")), 10, "both")
            farm.write("m2", "Total", 2003)
            await wait_until(lambda: values(got2)["total"] == 2003, 5, "m2's change")
            await asyncio.sleep(0.2)  # a few more publishes or polls for m1
            assert farm.sessions() == 1
    finally:
        farm.write("m2", "Total", 2002)
    assert {values([b]).get("total") for b in got1} <= {1001, None}  # never m2's
    assert {values([b]).get("total") for b in got2} <= {2002, 2003, None}
    if mode == "subscription":  # each counts its own changes only
        assert m1.stats.notifications == 2 and m2.stats.notifications >= 3


async def test_a_missing_node_of_one_machine_leaves_the_others_tags_good(
    farm: Farm, tmp_path: Path
) -> None:
    endpoints = OpcUaEndpoints()
    m1 = machine(tmp_path, endpoints, farm.url, "m1", ("State", "Total", "Nope"))
    m2 = machine(tmp_path, endpoints, farm.url, "m2")
    async with both(m1, m2) as (got1, got2):
        await wait_until(lambda: good(got2, own("m2")), 10, "m2's values")
        await wait_until(lambda: good(got1, {**own("m1"), "nope": None}), 10, "m1's values")
        await asyncio.sleep(0.3)  # m1 retries its missing node meanwhile
        assert good(got2, own("m2")) and farm.sessions() == 1
    assert set(m1.problems) == {"nope"} and m2.problems == {}
    assert all(s.quality is Quality.GOOD for s in got2[-1].samples)


async def test_different_publishing_intervals_open_separate_sessions(
    farm: Farm, tmp_path: Path
) -> None:
    endpoints = OpcUaEndpoints()
    m1 = machine(tmp_path, endpoints, farm.url, "m1", publishing_interval_s=0.05)
    m2 = machine(tmp_path, endpoints, farm.url, "m2", publishing_interval_s=0.1)
    async with both(m1, m2) as (got1, got2):
        await wait_until(lambda: good(got1, own("m1")) and good(got2, own("m2")), 10, "values")
        assert farm.sessions() == 2


async def test_the_last_member_leaving_closes_the_session(farm: Farm, tmp_path: Path) -> None:
    endpoints = OpcUaEndpoints()
    m1, m2 = (machine(tmp_path, endpoints, farm.url, m) for m in ("m1", "m2"))
    async with streaming(m2) as got2:
        async with streaming(m1) as got1:
            await wait_until(lambda: good(got1, own("m1")) and good(got2, own("m2")), 10, "both")
        count = len(got2)
        await wait_until(lambda: len(got2) >= count + 5, 5, "m2 going on alone")
        assert farm.sessions() == 1 and good(got2, own("m2"))
    await wait_until(lambda: farm.sessions() == 0, 5, "the session closed")


async def test_a_server_restart_takes_both_offline_and_back(tmp_path: Path) -> None:
    farm = Farm().start()  # its own: restarted
    try:
        endpoints = OpcUaEndpoints()
        m1, m2 = (machine(tmp_path, endpoints, farm.url, m) for m in ("m1", "m2"))
        async with both(m1, m2) as (got1, got2):
            await wait_until(lambda: good(got1, own("m1")) and good(got2, own("m2")), 10, "up")
            before = len(got1), len(got2)
            farm.restart()

            def offline() -> bool:
                pairs = zip((got1, got2), before, strict=True)
                return all(any(b.error for b in g[n:]) for g, n in pairs)

            await wait_until(offline, 10, "both offline")
            await wait_until(lambda: good(got1, own("m1")) and good(got2, own("m2")), 10, "back")
            assert farm.sessions() == 1
        for got, start in zip((got1, got2), before, strict=True):
            down = [b for b in got[start:] if b.error is not None]
            assert down and down[0].error is not None
            assert down[0].error.startswith("connection lost: ")
            assert all(s.quality is Quality.BAD for b in down for s in b.samples)
        for m in (m1, m2):  # each counts the shared loss and reconnect
            assert (m.stats.session_losses, m.stats.reconnects) == (1, 1)
    finally:
        farm.stop()


async def test_a_session_task_that_dies_raises_in_every_member(tmp_path: Path) -> None:
    """A server whose namespace array is null breaks the shared session's task (a
    TypeError, unforeseen): every machine's stream raises it, none hangs."""
    farm = Farm().start()  # its own: broken
    try:
        null = ua.DataValue(ua.Variant(None, ua.VariantType.String))
        array = ua.NodeId(ua.ObjectIds.Server_NamespaceArray)  # type: ignore[arg-type]
        farm.call(farm.server.write_attribute_value(array, null))  # type: ignore[union-attr]
        endpoints = OpcUaEndpoints()
        m1, m2 = (machine(tmp_path, endpoints, farm.url, m) for m in ("m1", "m2"))

        async def drain(src: OpcUaSource) -> None:
            async with src:
                async for _ in src.stream():
                    continue  # what it yields does not matter here: how it ends does

        outcomes = await asyncio.wait_for(
            asyncio.gather(drain(m1), drain(m2), return_exceptions=True), 10
        )
        assert [type(o) for o in outcomes] == [TypeError, TypeError]
        await wait_until(lambda: farm.sessions() == 0, 5, "the session closed")
    finally:
        farm.stop()
