"""The simulator's OPC UA node tree and what each machine variable shows.

Node ids, browse names and data types here are a contract (docs/simulator.md, the
gateway's OPC UA connector and its tests rely on them)::

    Objects/Machines/<id>/{State, Reason, Running, Fault, Product,
                           Counters/{Total, Good, Reject, Total16, Reject16},
                           Speed, Temperature, FillWeight, Extra/{X00, X01, ...}}
    Objects/Diagnostics/{Numeric, Guid, Opaque, Array, Uncertain, Bad, Text}
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC

from asyncua import Node, Server, ua

from simulators.model import MachineState, Snapshot, extra_values

VT = ua.VariantType

# (path below the machine object, data type, value from a snapshot), in browse order.
MACHINE_VARIABLES: tuple[tuple[str, ua.VariantType, Callable[[Snapshot], object]], ...] = (
    ("State", VT.UInt16, lambda s: int(s.state)),
    ("Reason", VT.UInt16, lambda s: s.reason),
    ("Running", VT.Boolean, lambda s: s.state is MachineState.RUNNING),
    ("Fault", VT.Boolean, lambda s: s.state is MachineState.FAULT),
    ("Product", VT.UInt16, lambda s: s.product),
    ("Counters.Total", VT.UInt32, lambda s: s.total),
    ("Counters.Good", VT.UInt32, lambda s: s.good),
    ("Counters.Reject", VT.UInt32, lambda s: s.reject),
    ("Counters.Total16", VT.UInt16, lambda s: s.total16),
    ("Counters.Reject16", VT.UInt16, lambda s: s.reject16),
    ("Speed", VT.Double, lambda s: s.speed),
    ("Temperature", VT.Double, lambda s: s.temperature),
    ("FillWeight", VT.Double, lambda s: s.fill_weight),
)

# Variables that change with sim time alone; the others only when the machine's state,
# product or counts change (what `MachineView` relies on).
CONTINUOUS = frozenset({"Temperature"})

DIAG_GUID = uuid.UUID("6f1c0c1e-6e2a-4c55-9b0e-1d2c3b4a5f60")
DIAG_OPAQUE = b"OEE-EDGE"  # b=T0VFLUVER0U=
DIAG_NUMERIC = 5001


@dataclass(frozen=True)
class MachineVariable:
    """One live variable of one machine."""

    nodeid: ua.NodeId
    variant_type: ua.VariantType
    value_of: Callable[[Snapshot], object]
    continuous: bool = False  # changes with sim time alone (see CONTINUOUS)


def node_id(identifier: str | int | uuid.UUID | bytes, idx: int) -> ua.NodeId:
    """A NodeId in namespace `idx` (string, numeric, GUID or opaque by the Python type)."""
    # asyncua annotates NodeId with its own int/str/bytes subclasses.
    ident: ua.String | ua.Int32 | ua.Guid | ua.ByteString
    if isinstance(identifier, str):
        ident = ua.String(identifier)
    elif isinstance(identifier, int):
        ident = ua.Int32(identifier)
    elif isinstance(identifier, uuid.UUID):
        ident = ua.Guid(str(identifier))
    else:
        ident = ua.ByteString(identifier)
    return ua.NodeId(ident, ua.Int16(idx))


def now_utc() -> ua.DateTime:
    """The current time as asyncua's DateTime (a timezone-aware datetime)."""
    return ua.DateTime.now(UTC)


class FixedDataValue(ua.DataValue):
    """A DataValue that nobody changes once written, so a deep copy may be itself.

    asyncua deep-copies every written value once per monitored item on it (in case the
    writer changes it later): that copy was over half of a simulator's CPU with a
    subscription on every variable. The simulator builds a new value for each write
    and never touches it again, so sharing it is safe.
    """

    def __deepcopy__(self, memo: dict[int, object]) -> FixedDataValue:
        return self


def data_value(
    value: object, vt: ua.VariantType, when: ua.DateTime, status: int = 0
) -> ua.DataValue:
    """A value with both timestamps set to `when` (a Bad `status` carries no value)."""
    return FixedDataValue(
        ua.Variant(value, vt),
        ua.StatusCode(ua.UInt32(status)),
        SourceTimestamp=when,
        ServerTimestamp=when,
    )


def extra_name(i: int) -> str:
    """Browse name of extra tag `i`: ``X00``, ``X01``, …"""
    return f"X{i:02d}"


class MachineView:
    """One machine's variables and the values they show, so that a refresh writes only
    what changed and finds it cheaply (it runs every 50 ms for every machine).

    Every variable but the `continuous` ones (Temperature) is a function of the
    snapshot's state, reason, product and counts, so they are only compared when one
    of those moved; the extras all change together, when the sim second does.
    """

    def __init__(self, variables: Sequence[MachineVariable], extras: Sequence[ua.NodeId]) -> None:
        self.variables = tuple(variables)
        self.extras = tuple(extras)
        self._continuous = tuple(i for i, v in enumerate(self.variables) if v.continuous)
        self._shown: list[object] = [None] * len(self.variables)
        self._discrete: tuple[object, ...] | None = None
        self._second: int | None = None

    def changes(self, snap: Snapshot) -> list[tuple[ua.NodeId, ua.VariantType, object]]:
        """(node id, type, value) of each variable whose value differs from what the
        last call returned for it (every variable, on the first call)."""
        discrete = (snap.state, snap.reason, snap.product, snap.parts, snap.rejects)
        indices: Iterable[int] = self._continuous
        if discrete != self._discrete:
            self._discrete = discrete
            indices = range(len(self.variables))
        changed = []
        for i in indices:
            var = self.variables[i]
            value = var.value_of(snap)
            if self._shown[i] != value:
                self._shown[i] = value
                changed.append((var.nodeid, var.variant_type, value))
        second = math.floor(snap.sim_t)
        if self.extras and second != self._second:
            self._second = second
            values = extra_values(snap.sim_t, len(self.extras))
            changed += [(n, VT.UInt16, v) for n, v in zip(self.extras, values, strict=True)]
        return changed


async def add_machine(folder: Node, idx: int, machine_id: str, extra_tags: int = 0) -> MachineView:
    """Create ``<id>/`` with its variables under `folder` (and `extra_tags` UInt16s
    ``<id>/Extra/X00``…); initial values are zeros."""
    obj = await folder.add_object(node_id(machine_id, idx), ua.QualifiedName(machine_id, idx))
    counters: Node | None = None
    variables = []
    for path, vt, value_of in MACHINE_VARIABLES:
        parent = obj
        if path.startswith("Counters."):
            if counters is None:
                counters = await obj.add_object(
                    node_id(f"{machine_id}.Counters", idx), ua.QualifiedName("Counters", idx)
                )
            parent = counters
        nodeid = node_id(f"{machine_id}.{path}", idx)
        name = ua.QualifiedName(path.rsplit(".", 1)[-1], idx)
        await parent.add_variable(nodeid, name, ua.Variant(_zero(vt), vt))
        variables.append(MachineVariable(nodeid, vt, value_of, path in CONTINUOUS))
    extras = await _add_extras(obj, idx, machine_id, extra_tags) if extra_tags else []
    return MachineView(variables, extras)


async def _add_extras(obj: Node, idx: int, machine_id: str, count: int) -> list[ua.NodeId]:
    name = ua.QualifiedName("Extra", idx)
    folder = await obj.add_object(node_id(f"{machine_id}.Extra", idx), name)
    nodeids = []
    for i in range(count):
        nodeid = node_id(f"{machine_id}.Extra.{extra_name(i)}", idx)
        name = ua.QualifiedName(extra_name(i), idx)
        await folder.add_variable(nodeid, name, ua.Variant(0, VT.UInt16))
        nodeids.append(nodeid)
    return nodeids


def _zero(vt: ua.VariantType) -> object:
    return {VT.Boolean: False, VT.Double: 0.0}.get(vt, 0)


# (node id, browse name, value, data type, status code) of the Diagnostics variables.
DIAGNOSTICS: tuple[tuple[str | int | uuid.UUID | bytes, str, object, ua.VariantType, int], ...] = (
    (DIAG_NUMERIC, "Numeric", 42, VT.UInt32, 0),
    (DIAG_GUID, "Guid", 43, VT.UInt32, 0),
    (DIAG_OPAQUE, "Opaque", 44, VT.UInt32, 0),
    ("Diagnostics.Array", "Array", [1.5, 2.5, 3.5], VT.Double, 0),
    ("Diagnostics.Uncertain", "Uncertain", 7.0, VT.Double, ua.StatusCodes.UncertainLastUsableValue),
    # A Bad status carries no value (asyncua nulls it, as Part 4 7.7.1 requires).
    ("Diagnostics.Bad", "Bad", 0.0, VT.Double, ua.StatusCodes.BadSensorFailure),
    ("Diagnostics.Text", "Text", "OEE-SIM", VT.String, 0),
)


async def add_diagnostics(server: Server, idx: int) -> None:
    """The fixed ``Diagnostics`` folder for connector tests (values never change)."""
    folder = await server.nodes.objects.add_folder(
        node_id("Diagnostics", idx), ua.QualifiedName("Diagnostics", idx)
    )
    now = now_utc()
    for ident, name, value, vt, status in DIAGNOSTICS:
        nodeid = node_id(ident, idx)
        await folder.add_variable(nodeid, ua.QualifiedName(name, idx), ua.Variant(value, vt))
        await server.write_attribute_value(nodeid, data_value(value, vt, now, status))
        if isinstance(value, list):
            await _make_array(server, nodeid, len(value))


async def _make_array(server: Server, nodeid: ua.NodeId, length: int) -> None:
    rank = ua.DataValue(ua.Variant(ua.ValueRank.OneDimension, VT.Int32))
    await server.write_attribute_value(nodeid, rank, ua.AttributeIds.ValueRank)
    dims = ua.DataValue(ua.Variant([length], VT.UInt32))
    await server.write_attribute_value(nodeid, dims, ua.AttributeIds.ArrayDimensions)
