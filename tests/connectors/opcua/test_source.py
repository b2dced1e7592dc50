"""OpcUaSource against real asyncua servers: the bundled simulator, and small servers
built here when a test must change the address space while the source runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asyncua import Server, ua

from connectors.opcua.pki import Pki
from connectors.opcua.source import OpcUaSource
from core.types import Quality, SampleBatch
from edge.config import OpcUaConnection, OpcUaTag
from simulators.opcua_server import serve_opcua
from simulators.scenario import load_scenario
from tests.fixtures.ports import free_port
from tests.integration.gateway import wait_until

NS = "urn:oee-edge:simulator"


def source(
    tmp_path: Path, endpoint: str, tags: dict[str, str | OpcUaTag], **conn: object
) -> OpcUaSource:
    settings = {"publishing_interval_s": 0.05, "poll_interval_s": 0.05, "backoff_initial_s": 0.05,
                "backoff_max_s": 0.2, "timeout_s": 2.0, **conn}  # fmt: skip
    parsed = {k: v if isinstance(v, OpcUaTag) else OpcUaTag(node=v) for k, v in tags.items()}
    return OpcUaSource(
        "m1", OpcUaConnection(endpoint=endpoint, **settings), parsed,  # type: ignore[arg-type]
        pki=Pki(tmp_path / "pki"), application_uri="urn:oee-edge:test",
        numeric={"state", "text_as_number"},
    )  # fmt: skip


async def batches(src: OpcUaSource, n: int, within_s: float = 10.0) -> list[SampleBatch]:
    out: list[SampleBatch] = []

    async def take() -> None:
        async for b in src.stream():
            out.append(b)
            if len(out) >= n:
                return

    async with src:
        await asyncio.wait_for(take(), within_s)
    return out


@contextlib.asynccontextmanager
async def simulator() -> AsyncIterator[str]:
    async with serve_opcua(load_scenario("test"), port=0, time_scale=900) as sim:
        await asyncio.sleep(0.4)  # the test scenario's 180 sim s are over after 0.2 s
        yield sim.url


@pytest.mark.parametrize("mode", ["subscription", "poll"])
async def test_every_node_id_form_and_status(mode: str, tmp_path: Path) -> None:
    tags: dict[str, str | OpcUaTag] = {
        "state": f"nsu={NS};s=m1.State",
        "total": f"nsu={NS};s=m1.Counters.Total",
        "numeric": f"nsu={NS};i=5001",
        "guid": f"nsu={NS};g=6f1c0c1e-6e2a-4c55-9b0e-1d2c3b4a5f60",
        "opaque": f"nsu={NS};b=T0VFLUVER0U=",
        "element": OpcUaTag(node=f"nsu={NS};s=Diagnostics.Array", index=1),
        "uncertain": f"nsu={NS};s=Diagnostics.Uncertain",
        "bad": f"nsu={NS};s=Diagnostics.Bad",
        "text": f"nsu={NS};s=Diagnostics.Text",
        "server_state": OpcUaTag(node="i=2256", field="State"),
    }
    async with simulator() as url:
        src = source(tmp_path, url, tags, mode=mode)
        last = (await batches(src, 3))[-1]
    got = {s.tag: (s.value, s.quality) for s in last.samples}
    assert got == {
        "state": (5, Quality.GOOD),
        "total": (50, Quality.GOOD),
        "numeric": (42, Quality.GOOD),
        "guid": (43, Quality.GOOD),
        "opaque": (44, Quality.GOOD),
        "element": (2.5, Quality.GOOD),
        "uncertain": (7.0, Quality.UNCERTAIN),
        "bad": (None, Quality.BAD),
        "text": ("OEE-SIM", Quality.GOOD),
        "server_state": (0, Quality.GOOD),
    }
    assert last.error is None
    assert src.problems == {"bad": f"node nsu={NS};s=Diagnostics.Bad reads BadSensorFailure"}


@pytest.mark.parametrize("mode", ["subscription", "poll"])
async def test_bad_tags_are_named_and_the_rest_flows(
    mode: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tags: dict[str, str | OpcUaTag] = {
        "state": f"nsu={NS};s=m1.State",
        "missing": f"nsu={NS};s=m1.Nope",
        "other_ns": "nsu=urn:not-here;s=x",
        "array": f"nsu={NS};s=Diagnostics.Array",
        "structure": "i=2256",
        "text_as_number": f"nsu={NS};s=Diagnostics.Text",
    }
    async with simulator() as url:
        src = source(tmp_path, url, tags, mode=mode)
        with caplog.at_level(logging.ERROR, logger="connectors.opcua.source"):
            last = (await batches(src, 3))[-1]
    assert {s.tag: s.quality for s in last.samples} == {
        "state": Quality.GOOD, "missing": Quality.BAD, "other_ns": Quality.BAD,
        "array": Quality.BAD, "structure": Quality.BAD, "text_as_number": Quality.BAD,
    }  # fmt: skip
    missing = "does not exist on the server (BadNodeIdUnknown)"
    assert src.problems == {
        "missing": f"node nsu={NS};s=m1.Nope {missing}",
        "other_ns": "nsu=urn:not-here;s=x: the server has no namespace 'urn:not-here' "
        f"(it has 0: http://opcfoundation.org/UA/, 1: urn:oee-edge:simulator:server, 2: {NS})",
        "array": f"node nsu={NS};s=Diagnostics.Array is an array (Double[3]); "
        "choose an element with `index:`",
        "structure": "node i=2256 is a structure (ServerStatusDataType); choose a field with "
        "`field:` (one of StartTime, CurrentTime, State, BuildInfo, SecondsTillShutdown, "
        "ShutdownReason)",
        "text_as_number": f"node nsu={NS};s=Diagnostics.Text is String, "
        "but a state rule or counter needs a number",
    }
    logged = [r.getMessage() for r in caplog.records if r.name == "connectors.opcua.source"]
    assert f"opcua m1 ({url}): tag missing: node nsu={NS};s=m1.Nope {missing}" in logged
    assert len(logged) == 5  # each problem once, not once per batch


async def test_unreachable_endpoint_gives_all_bad_batches_with_the_reason(tmp_path: Path) -> None:
    url = f"opc.tcp://127.0.0.1:{free_port()}/nothing"
    src = source(tmp_path, url, {"state": f"nsu={NS};s=m1.State"})
    got = await batches(src, 2)
    refused = f"{url}: connection refused (is the server up, the port right?)"
    assert [b.error for b in got] == [refused, refused]
    assert all(s.quality is Quality.BAD for b in got for s in b.samples)
    assert src.stats.connect_failures == 2


@contextlib.asynccontextmanager
async def small_server() -> AsyncIterator[tuple[Server, int, str]]:
    server = Server()
    await server.init()
    url = f"opc.tcp://127.0.0.1:{free_port()}/small"
    server.set_endpoint(url)
    idx = await server.register_namespace(NS)
    async with server:
        yield server, idx, url


@contextlib.asynccontextmanager
async def streaming(src: OpcUaSource) -> AsyncIterator[list[SampleBatch]]:
    """Every batch `src` yields while the block runs, collected in the background."""
    got: list[SampleBatch] = []

    async def consume() -> None:
        async with src:
            async for b in src.stream():
                got.append(b)

    task = asyncio.create_task(consume())
    try:
        yield got
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def changes(got: list[SampleBatch]) -> list[object]:
    """The first tag's values with repeats (heartbeats) left out."""
    values = [b.samples[0].value for b in got]
    return [v for i, v in enumerate(values) if i == 0 or v != values[i - 1]]


async def test_a_node_that_appears_later_is_picked_up(tmp_path: Path) -> None:
    """A PLC whose program loads after its server is up: the node is retried, not
    left dead until someone restarts the gateway."""
    async with small_server() as (server, idx, url):
        src = source(tmp_path, url, {"state": f"nsu={NS};s=late.State"})
        async with streaming(src) as got:
            await asyncio.sleep(0.5)
            assert got and (got[-1].samples[0].value, got[-1].samples[0].quality) == (
                None,
                Quality.BAD,
            )
            await server.nodes.objects.add_variable(
                ua.NodeId("late.State", idx), "State", ua.Variant(1, ua.VariantType.UInt16)
            )
            await wait_until(
                lambda: got[-1].samples[0].quality is Quality.GOOD, 10, "the late node"
            )
    assert got[-1].samples[0].value == 1
    assert src.stats.connects == 1  # the same session: only the item was retried


async def test_every_change_within_one_publish_becomes_its_own_batch(tmp_path: Path) -> None:
    """With queue_size > 1 the server queues 1 -> 3 -> 1 for one publish; none is lost."""
    async with small_server() as (server, idx, url):
        node = await server.nodes.objects.add_variable(
            ua.NodeId("m1.State", idx), "State", ua.Variant(2, ua.VariantType.UInt16)
        )
        src = source(
            tmp_path, url, {"state": f"nsu={NS};s=m1.State"},
            publishing_interval_s=0.5, sampling_interval_s=0.0, queue_size=10,
        )  # fmt: skip
        async with streaming(src) as got:
            await asyncio.sleep(0.7)  # subscribed; first publish delivered the initial 2
            for v in (1, 3, 1):
                await server.write_attribute_value(
                    node.nodeid, ua.DataValue(ua.Variant(v, ua.VariantType.UInt16))
                )
                await asyncio.sleep(0.05)
            await wait_until(lambda: len(changes(got)) >= 4, 5, "four changes")
    assert changes(got) == [2, 1, 3, 1]


async def test_absolute_deadband_filters_small_moves(tmp_path: Path) -> None:
    async with small_server() as (server, idx, url):
        node = await server.nodes.objects.add_variable(
            ua.NodeId("m1.Temperature", idx), "Temperature", ua.Variant(10.0, ua.VariantType.Double)
        )
        tag = OpcUaTag(
            node=f"nsu={NS};s=m1.Temperature", deadband={"type": "absolute", "value": 0.5}
        )  # type: ignore[arg-type]
        src = source(
            tmp_path, url, {"temp": tag}, publishing_interval_s=0.05, sampling_interval_s=0.0
        )
        async with streaming(src) as got:
            await asyncio.sleep(0.4)
            for v in (10.2, 10.4, 11.0, 11.3, 9.0):
                await server.write_attribute_value(
                    node.nodeid, ua.DataValue(ua.Variant(v, ua.VariantType.Double))
                )
                await asyncio.sleep(0.15)
    assert changes(got) == [10.0, 11.0, 9.0]


async def test_polling_reads_in_batches_of_max_nodes_per_read(tmp_path: Path) -> None:
    names = ("State", "Reason", "Product", "Counters.Total", "Counters.Reject")
    tags: dict[str, str | OpcUaTag] = {n.lower(): f"nsu={NS};s=m1.{n}" for n in names}
    async with simulator() as url:
        src = source(tmp_path, url, tags, mode="poll", max_nodes_per_read=2)
        got = await batches(src, 2)
    assert src.stats.reads == 6  # 5 nodes in reads of 2, 2, 1 — per poll
    assert [s.value for s in got[-1].samples] == [5, 90, 102, 50, 10]


async def test_batches_carry_the_change_time_and_heartbeats_move_on(tmp_path: Path) -> None:
    """A batch with a change is stamped with the change's source time; without one, the
    subscription still ticks with the gateway's time, so a rule like "the counter moved
    in the last 10 s" can expire while nothing changes."""
    async with small_server() as (server, idx, url):
        node = await server.nodes.objects.add_variable(
            ua.NodeId("m1.Total", idx), "Total", ua.Variant(0, ua.VariantType.UInt32)
        )
        src = source(tmp_path, url, {"total": f"nsu={NS};s=m1.Total"}, publishing_interval_s=0.1)
        async with streaming(src) as got:
            await asyncio.sleep(0.5)
            # A source time just ahead of the gateway's clock, so that no heartbeat already
            # went past it (an earlier one would be clamped: time never runs backwards).
            changed_at = datetime.now(UTC) + timedelta(seconds=0.2)
            dv = ua.DataValue(ua.Variant(7, ua.VariantType.UInt32), SourceTimestamp=changed_at)
            await server.write_attribute_value(node.nodeid, dv)
            await asyncio.sleep(1.0)
    first_seven = next(i for i, b in enumerate(got) if b.samples[0].value == 7)
    assert got[first_seven].ts == changed_at  # when the PLC saw it, not when we did
    after = [b.ts for b in got[first_seven + 1 :]]
    assert len(after) >= 5 and after == sorted(after) and after[-1] > changed_at
    assert after[-1] - after[0] >= timedelta(seconds=0.5)  # heartbeats advance time
