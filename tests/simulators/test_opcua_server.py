"""The OPC UA simulator against a real asyncua client: node tree, values, namespaces.

Servers run in process (serve_opcua). asyncua builds its standard address space in
~1.5 s per server, so the tests share module-scoped servers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from asyncua import ua

from simulators.model import fill_weight
from simulators.opcua_security import default_pki_dir
from simulators.opcua_server import OpcuaSimulator, serve_opcua
from simulators.scenario import ScenarioError, load_scenario, parse_scenario
from tests.simulators.opcua_client import (
    FINAL,
    LIVE,
    Boolean,
    Double,
    UInt16,
    UInt32,
    read_machine,
    script_over,
    session,
    sid,
)

shared_loop = pytest.mark.asyncio(loop_scope="module")


# -- the bundled test scenario, no security ------------------------------------------


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def bundled() -> AsyncIterator[OpcuaSimulator]:
    # At 3600x the 180 s script is over after 50 ms: final values from the first read.
    async with serve_opcua(load_scenario("test"), port=0, time_scale=3600) as sim:
        async with session(sim.url) as client:
            await script_over(client)
        yield sim


@shared_loop
async def test_endpoint_and_node_tree(bundled: OpcuaSimulator) -> None:
    idx = bundled.namespace_index
    assert (idx, bundled.host) == (2, "127.0.0.1")
    assert bundled.url == f"opc.tcp://127.0.0.1:{bundled.port}/oee-edge/sim"
    async with session(bundled.url) as client:
        assert (await client.get_namespace_array())[2] == "urn:oee-edge:simulator"
        objects = [await n.read_browse_name() for n in await client.nodes.objects.get_children()]
        assert ua.QualifiedName("Machines", 2) in objects
        assert ua.QualifiedName("Diagnostics", 2) in objects
        machines = client.get_node(sid(2, "Machines"))
        assert await machines.read_type_definition() == ua.NodeId(ua.ObjectIds.FolderType)
        ids = [n.nodeid for n in await machines.get_children()]
        assert ids == [sid(2, "m1"), sid(2, "m2"), sid(2, "m3")]
        children = await client.get_node(ids[0]).get_children()
        m1 = [(n.nodeid, await n.read_browse_name()) for n in children]
        names = [*LIVE[:5], "Counters", "Speed", "Temperature", "FillWeight"]
        assert m1 == [(sid(2, f"m1.{n}"), ua.QualifiedName(n, 2)) for n in names]
        counters = await client.get_node(sid(2, "m1.Counters")).get_children()
        names = ["Total", "Good", "Reject", "Total16", "Reject16"]
        assert [n.nodeid for n in counters] == [sid(2, f"m1.Counters.{n}") for n in names]
        assert [(await n.read_browse_name()).Name for n in counters] == names


@shared_loop
async def test_data_types_and_read_only(bundled: OpcuaSimulator) -> None:
    types = {
        "State": UInt16,
        "Reason": UInt16,
        "Running": Boolean,
        "Fault": Boolean,
        "Product": UInt16,
        "Counters.Total": UInt32,
        "Counters.Good": UInt32,
        "Counters.Reject": UInt32,
        "Counters.Total16": UInt16,
        "Counters.Reject16": UInt16,
        "Speed": Double,
        "Temperature": Double,
        "FillWeight": Double,
    }
    async with session(bundled.url) as client:
        for path, data_type in types.items():
            node = client.get_node(sid(2, f"m2.{path}"))
            assert await node.read_data_type() == data_type, path
            assert await node.read_value_rank() == ua.ValueRank.Scalar
        state = client.get_node(sid(2, "m1.State"))
        with pytest.raises(ua.UaStatusCodeError) as info:
            await state.write_value(ua.Variant(1, ua.VariantType.UInt16))
        assert info.value.code == ua.StatusCodes.BadUserAccessDenied
        status = client.get_node(ua.NodeId(ua.ObjectIds.Server_ServerStatus))
        assert await status.read_data_type() == ua.NodeId(ua.ObjectIds.ServerStatusDataType)


@shared_loop
async def test_final_values_of_the_test_scenario(bundled: OpcuaSimulator) -> None:
    async with session(bundled.url) as client:
        for machine, values in FINAL.items():
            assert await read_machine(client, machine) == values, machine
        temp = await client.get_node(sid(2, "m1.Temperature")).read_data_value()
        assert isinstance(temp.Value.Value, float) and 35.0 <= temp.Value.Value <= 45.0
        assert temp.SourceTimestamp is not None
        age = datetime.now(UTC) - temp.SourceTimestamp.replace(tzinfo=UTC)
        assert timedelta(0) <= age < timedelta(seconds=5)
    assert bundled.models["m1"].snapshot().total == 50
    async with session(bundled.url) as client:  # part 50's weight, in full double precision
        weight = await client.get_node(sid(2, "m1.FillWeight")).read_value()
    assert weight == fill_weight("1:m1", 50, 500.0, 1.0)


@shared_loop
async def test_diagnostics_nodes(bundled: OpcuaSimulator) -> None:
    guid = ua.NodeId.from_string("ns=2;g=6f1c0c1e-6e2a-4c55-9b0e-1d2c3b4a5f60")
    opaque = ua.NodeId.from_string("ns=2;b=T0VFLUVER0U=")
    assert opaque.Identifier == b"OEE-EDGE"
    async with session(bundled.url) as client:
        folder = client.get_node(sid(2, "Diagnostics"))
        children = await folder.get_children()
        named = [sid(2, f"Diagnostics.{n}") for n in ("Array", "Uncertain", "Bad", "Text")]
        assert [n.nodeid for n in children] == [ua.NodeId(5001, 2), guid, opaque, *named]
        names = [(await n.read_browse_name()).Name for n in children]
        assert names == ["Numeric", "Guid", "Opaque", "Array", "Uncertain", "Bad", "Text"]
        dvs = [await n.read_data_value(raise_on_bad_status=False) for n in children]
        assert [dv.Value.Value for dv in dvs] == [42, 43, 44, [1.5, 2.5, 3.5], 7.0, None, "OEE-SIM"]
        assert [dv.Value.VariantType for dv in dvs[:3]] == [ua.VariantType.UInt32] * 3
        uncertain, bad = ua.StatusCodes.UncertainLastUsableValue, ua.StatusCodes.BadSensorFailure
        assert [dv.StatusCode.value for dv in dvs] == [0, 0, 0, 0, uncertain, bad, 0]
        array = children[3]
        assert (await array.read_value_rank(), await array.read_array_dimensions()) == (1, [3])
        assert await children[5].read_data_type() == Double
        assert all(dv.SourceTimestamp is not None for dv in dvs)


# -- a live machine, namespaces moved -------------------------------------------------


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def live_sim() -> AsyncIterator[OpcuaSimulator]:
    scenario = parse_scenario(
        {
            "time_scale": 10,  # a part every 0.1 s wall, state never changes
            "opcua": {"extra_namespaces": ["urn:x:a", "urn:x:b"]},
            "machines": [
                {"id": "press", "unit_id": 1, "cycle_s": 1, "product": 7, "extra_tags": 2},
                {"id": "hidden", "unit_id": 2, "opcua": {"enabled": False}},
            ],
        }
    ).with_overrides(namespace_shift=2)
    async with serve_opcua(scenario, port=0) as sim:
        yield sim


@shared_loop
async def test_namespace_shift_moves_the_index(live_sim: OpcuaSimulator) -> None:
    assert live_sim.namespace_index == 6
    async with session(live_sim.url) as client:
        assert (await client.get_namespace_array())[2:] == [
            "urn:x:a",
            "urn:x:b",
            "urn:oee-edge:dummy:1",
            "urn:oee-edge:dummy:2",
            "urn:oee-edge:simulator",
        ]
        assert await client.get_namespace_index("urn:oee-edge:simulator") == 6
        machines = await client.get_node(sid(6, "Machines")).get_children()
        assert [n.nodeid for n in machines] == [sid(6, "press")]
        state = client.get_node(sid(6, "press.State"))
        assert await state.read_browse_name() == ua.QualifiedName("State", 6)
        assert await state.read_value() == 1


class Collector:
    def __init__(self) -> None:
        self.values: dict[str, list[object]] = {}
        self.timestamps: list[datetime | None] = []

    def datachange_notification(self, node: object, value: object, data: object) -> None:
        self.values.setdefault(str(node), []).append(value)
        self.timestamps.append(data.monitored_item.Value.SourceTimestamp)  # type: ignore[attr-defined]


@shared_loop
async def test_subscription_sees_changes_not_noise(live_sim: OpcuaSimulator) -> None:
    async with session(live_sim.url) as client:
        handler = Collector()
        sub = await client.create_subscription(20, handler)
        total = client.get_node(sid(6, "press.Counters.Total"))
        state = client.get_node(sid(6, "press.State"))
        await sub.subscribe_data_change([total, state], sampling_interval=10)
        await asyncio.sleep(0.8)
        await sub.delete()
    totals = handler.values[str(total)]
    assert len(totals) >= 4
    assert all(b > a for a, b in zip(totals, totals[1:], strict=False)), totals
    assert handler.values[str(state)] == [1]  # running all along: one initial value
    assert all(ts is not None for ts in handler.timestamps)


@shared_loop
async def test_subscription_sees_extra_tags_tick(live_sim: OpcuaSimulator) -> None:
    async with session(live_sim.url) as client:
        handler = Collector()
        sub = await client.create_subscription(20, handler)
        x01 = client.get_node(sid(6, "press.Extra.X01"))
        await sub.subscribe_data_change([x01], sampling_interval=10)
        await asyncio.sleep(0.8)  # 8 sim seconds at 10x
        await sub.delete()
    values = handler.values[str(x01)]
    assert len(values) >= 5, values
    # 1000 + floor(sim_t): one more each sim second (0.1 s of wall time).
    assert all(1000 <= a < b <= a + 3 for a, b in zip(values, values[1:], strict=False)), values


async def test_extra_tags_nodes_and_values() -> None:
    scenario = parse_scenario(
        {
            "machines": [
                {"id": "x", "unit_id": 1, "extra_tags": 12, "script": [{"state": "idle"}]},
                {"id": "y", "unit_id": 2},
            ]
        }
    )
    # 0.001x since 123456.7 s ago: sim time 123.46 s, still 123.46 s when the test ends.
    epoch = time.time() - 123_456.7
    served = serve_opcua(scenario, port=0, time_scale=0.001, epoch=epoch)
    async with served as sim, session(sim.url) as client:
        children = await client.get_node(sid(2, "x")).get_children()
        names = [(await n.read_browse_name()).Name for n in children]
        assert names == [*LIVE[:5], "Counters", "Speed", "Temperature", "FillWeight", "Extra"]
        extra = client.get_node(sid(2, "x.Extra"))
        assert await extra.read_type_definition() == ua.NodeId(ua.ObjectIds.BaseObjectType)
        nodes = await extra.get_children()
        expected = [f"X{i:02d}" for i in range(12)]
        assert [n.nodeid for n in nodes] == [sid(2, f"x.Extra.{x}") for x in expected]
        names = [await n.read_browse_name() for n in nodes]
        assert names == [ua.QualifiedName(x, 2) for x in expected]
        assert [await n.read_data_type() for n in nodes] == [UInt16] * 12
        # (floor(sim_t) + 1000 i) % 65536 at sim time 123.46
        assert await client.read_values(nodes) == [123 + 1000 * i for i in range(12)]
        dv = await nodes[11].read_data_value()
        assert dv.Value == ua.Variant(11123, ua.VariantType.UInt16)
        with pytest.raises(ua.UaStatusCodeError) as info:
            await nodes[0].write_value(ua.Variant(1, ua.VariantType.UInt16))
        assert info.value.code == ua.StatusCodes.BadUserAccessDenied
        y = await client.get_node(sid(2, "y")).get_children()
        assert [n.nodeid for n in y][-1] == sid(2, "y.FillWeight")  # no extras: no Extra


# -- settings validation ------------------------------------------------------------


def test_opcua_settings_are_validated(tmp_path: Path) -> None:
    def errors(top: object, **machine: object) -> str:
        data = {"machines": [{"id": "a", "unit_id": 1, **machine}], "opcua": top}
        with pytest.raises(ScenarioError) as info:
            parse_scenario(data, base_dir=tmp_path)
        return str(info.value)

    assert "opcua.colour: unknown field" in errors({"colour": 1})
    assert "opcua.security[1]: must be one of None, all, Basic256Sha256" in errors(
        {"security": ["None", "Basic128Rsa15"]}
    )
    assert "opcua.port: must be an integer 0..65535 (got 70000)" in errors({"port": 70000})
    assert "allow_anonymous: false needs users or user_certificates" in errors(
        {"allow_anonymous": False}
    )
    assert f"{tmp_path / 'x.der'}: no such file" in errors(
        {"user_certificates": ["x.der"], "security": ["all"]}
    )
    assert "trust_clients: needs a security policy other than None" in errors(
        {"trust_clients": True}
    )
    assert "namespace URIs must be unique" in errors(
        {"extra_namespaces": ["urn:oee-edge:simulator"]}
    )
    assert "machines[0].opcua.colour: unknown field" in errors({}, opcua={"colour": 1})
    opcua = {"security": ["Basic256Sha256:Sign", "all"], "port": 0}
    s = parse_scenario({"machines": [{"id": "a", "unit_id": 1}], "opcua": opcua})
    assert s.opcua.security[:2] == ("Basic256Sha256:Sign", "None")
    assert len(s.opcua.security) == 7 and s.opcua.port == 0


def test_default_pki_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_pki_dir() == tmp_path / "oee-edge" / "simulator" / "pki"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert default_pki_dir() == Path.home() / ".local" / "state" / "oee-edge" / "simulator" / "pki"


async def test_epoch_resumes_the_run_instead_of_starting_at_zero() -> None:
    epoch = time.time() - 10  # 600 s ago at 60x: the 180 s script is long over
    async with serve_opcua(load_scenario("test"), port=0, epoch=epoch) as sim:
        # Not reset when the server starts listening (after its ~1.5 s of set-up).
        assert sim.sim_time() >= 600
        async with session(sim.url) as client:
            for machine, final in FINAL.items():
                assert await read_machine(client, machine) == final
