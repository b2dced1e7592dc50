"""Walk an OPC UA server's address space and describe every variable found.

For the engineer mapping tags (``oee-edge browse``, see `connectors.opcua.browse_cli`):
each variable comes back with its node id in the portable ``nsu=`` form, its browse
path, data type, scalar/array and current value with status. The walk costs a few
requests, not a few per node: one Browse per tree level (in chunks), one Read for
DataType + ValueRank + Value of all variables (in chunks), one Read for the names of
the data types seen.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asyncua import Client, ua

from connectors.opcua.browse_types import (
    DataTypeInfo,
    browse_many,
    data_types,
    good_value,
    ns0,
    read_many,
    read_tolerant,
    status_of,
)
from connectors.opcua.client import describe_status
from connectors.opcua.errors import NodeIdError
from connectors.opcua.nodeids import parse_node_ref, to_nsu
from connectors.opcua.reads import Undecodable

__all__ = ["BrowseReport", "Variable", "browse"]

_ATTRS = (ua.AttributeIds.DataType, ua.AttributeIds.ValueRank, ua.AttributeIds.Value)
# Abstract types say little ("Number"): the value's own type is the useful name then.
_ABSTRACT_TYPES = {ua.ObjectIds.BaseDataType, ua.ObjectIds.Number}
_ABSTRACT_TYPES |= {ua.ObjectIds.Integer, ua.ObjectIds.UInteger}
# The standard Server object: hundreds of diagnostics variables that are never PLC tags.
# Skipped on the way down; listed when it (or a node under it) is the start node.
_SERVER = ns0(ua.ObjectIds.Server)


@dataclass(frozen=True)
class Variable:
    """One variable: where it is, what it holds and how its current value reads."""

    node: str  # nsu= form (plain i=... in namespace 0)
    names: tuple[str, ...]  # browse names from the start node down to this one
    display_name: str
    data_type: str  # e.g. UInt16, Double, ServerStatusDataType
    array: bool
    length: int | None  # elements of the current value when it is an array
    value: Any  # as asyncua decoded it; None when the status is bad
    status: str | None  # Good, UncertainLastUsableValue, BadSensorFailure...; None: undecodable
    structure: bool
    undecodable: str | None = None  # why asyncua could not decode the value (and its status)

    @property
    def path(self) -> str:
        """`Objects/Machines/m1/State`."""
        return "/".join(self.names)

    @property
    def type_label(self) -> str:
        """`UInt16`, `Double[3]` (array of 3), `Double[]` (array, length unknown)."""
        if not self.array:
            return self.data_type
        return f"{self.data_type}[{'' if self.length is None else self.length}]"


@dataclass(frozen=True)
class BrowseReport:
    """What a walk found: matching variables in tree order, and how far it looked."""

    variables: tuple[Variable, ...]
    start: str  # the start node's browse path (its browse name)
    nodes: int  # objects and variables visited
    unexpanded: int  # objects at the depth limit whose children were not browsed
    depth: int
    skipped: str | None = None  # path of the standard Server object, left out of the walk


@dataclass(frozen=True)
class _Found:
    node_id: ua.NodeId
    names: tuple[str, ...]
    display_name: str
    node_class: ua.NodeClass
    key: tuple[int, ...]  # child positions from the start node: sorts into tree order


async def browse(
    client: Client,
    start: str = "i=85",
    *,
    depth: int = 6,
    pattern: str | None = None,
    max_per_read: int = 1000,
) -> BrowseReport:
    """Walk `depth` levels below `start` and describe the variables matching `pattern`.

    `pattern` is a case-insensitive glob tried on the browse path and the display name.
    Raises NodeIdError for a start node that is malformed or not on the server; asyncua
    errors (connection lost...) pass through.
    """
    ref = parse_node_ref(start)
    namespaces = await client.get_namespace_array()
    root = await _root(client, ref.resolve(namespaces), start)
    walk = await _walk(client, root, depth, namespaces)
    wanted = [f for f in walk.found if f.node_class == ua.NodeClass.Variable and _match(f, pattern)]
    wanted.sort(key=lambda f: f.key)
    variables = await _describe(client, wanted, namespaces, max_per_read)
    return BrowseReport(
        tuple(variables), root.names[0], len(walk.found), walk.unexpanded, depth, walk.skipped
    )


def _match(found: _Found, pattern: str | None) -> bool:
    if pattern is None:
        return True
    pat = pattern.lower()
    path = "/".join(found.names).lower()
    return fnmatch.fnmatchcase(path, pat) or fnmatch.fnmatchcase(found.display_name.lower(), pat)


async def _root(client: Client, node_id: ua.NodeId, text: str) -> _Found:
    attrs = (ua.AttributeIds.BrowseName, ua.AttributeIds.DisplayName, ua.AttributeIds.NodeClass)
    name, display, node_class = await read_many(client, [(node_id, a) for a in attrs], len(attrs))
    for dv in (name, display, node_class):
        if not status_of(dv).is_good():
            raise NodeIdError(
                f"{text}: the server has no such node ({describe_status(status_of(dv))})"
            )
    qualified, localized = good_value(name), good_value(display)
    return _Found(
        node_id, (qualified.Name,), localized.Text or "", ua.NodeClass(good_value(node_class)), ()
    )


@dataclass
class _Walk:
    found: list[_Found]
    unexpanded: int = 0
    skipped: str | None = None  # path of the Server object when it was left out


async def _walk(client: Client, root: _Found, depth: int, namespaces: Sequence[str]) -> _Walk:
    """Breadth first, one batch of Browse requests per level; each node once (no cycles)."""
    walk, level, seen = _Walk([root]), [root], {root.node_id}
    for _ in range(depth):
        children: list[_Found] = []
        results = await browse_many(client, [f.node_id for f in level])
        for parent, refs in zip(level, results, strict=True):
            for i, ref in enumerate(refs):
                node_id = _local(ref.NodeId, namespaces)
                if node_id is None or node_id in seen:
                    continue
                seen.add(node_id)
                names = (*parent.names, ref.BrowseName.Name or "")
                if node_id == _SERVER:
                    walk.skipped = "/".join(names)
                    continue
                display = ref.DisplayName.Text or ""
                children.append(_Found(node_id, names, display, ref.NodeClass, (*parent.key, i)))
        walk.found += children
        level = children
        if not level:
            break
    walk.unexpanded = sum(1 for f in level if f.node_class == ua.NodeClass.Object)
    return walk


def _local(target: ua.ExpandedNodeId, namespaces: Sequence[str]) -> ua.NodeId | None:
    """The target as a NodeId on this server; None for a node on another server."""
    # asyncua decodes an ExpandedNodeId into a NodeId plus these two optional attributes.
    uri = getattr(target, "NamespaceUri", None)
    if getattr(target, "ServerIndex", 0):
        return None
    index: int = target.NamespaceIndex
    if uri:
        if uri not in namespaces:
            return None
        index = list(namespaces).index(uri)
    return ua.NodeId(target.Identifier, ua.Int16(index), target.NodeIdType)


async def _describe(
    client: Client, found: list[_Found], namespaces: Sequence[str], max_per_read: int
) -> list[Variable]:
    # Keep the three attributes of one node in the same request.
    chunk = max(len(_ATTRS), max_per_read - max_per_read % len(_ATTRS))
    values = await read_tolerant(client, [(f.node_id, a) for f in found for a in _ATTRS], chunk)
    rows = [values[i : i + len(_ATTRS)] for i in range(0, len(values), len(_ATTRS))]
    type_ids = {_good(dt) for dt, _, _ in rows} - {None}
    types = await data_types(client, sorted(type_ids, key=str), max_per_read)
    return [_variable(f, row, types, namespaces) for f, row in zip(found, rows, strict=True)]


def _good(dv: ua.DataValue | Undecodable) -> Any:
    return None if isinstance(dv, Undecodable) else good_value(dv)


def _variable(
    found: _Found,
    row: list[ua.DataValue | Undecodable],
    types: dict[ua.NodeId, DataTypeInfo],
    ns: Sequence[str],
) -> Variable:
    dt_dv, rank_dv, value_dv = row
    type_id, rank = _good(dt_dv), _good(rank_dv)
    info = types.get(type_id) if type_id is not None else None
    if isinstance(value_dv, Undecodable):
        return _undecodable(found, info, rank, value_dv.reason, ns)
    variant = value_dv.Value
    value = variant.Value if variant is not None else None
    vtype = variant.VariantType if variant is not None and value is not None else None
    type_name = info.name if info is not None else "?"
    if vtype is not None and (info is None or _is_abstract(type_id)):
        type_name = vtype.name
    is_array = isinstance(value, list) or (value is None and isinstance(rank, int) and rank >= 0)
    return Variable(
        node=to_nsu(found.node_id, ns),
        names=found.names,
        display_name=found.display_name,
        data_type=type_name,
        array=is_array,
        length=len(value) if isinstance(value, list) else None,
        value=value,
        status=describe_status(status_of(value_dv)),
        structure=vtype is ua.VariantType.ExtensionObject or (info is not None and info.structure),
    )


def _undecodable(
    found: _Found, info: DataTypeInfo | None, rank: Any, reason: str, ns: Sequence[str]
) -> Variable:
    """A variable whose value (and with it its status) asyncua could not decode: what
    its DataType and ValueRank attributes say, and why."""
    return Variable(
        node=to_nsu(found.node_id, ns),
        names=found.names,
        display_name=found.display_name,
        data_type=info.name if info is not None else "?",
        array=isinstance(rank, int) and rank >= 0,
        length=None,
        value=None,
        status=None,
        structure=info is not None and info.structure,
        undecodable=reason,
    )


def _is_abstract(type_id: ua.NodeId) -> bool:
    return type_id.NamespaceIndex == 0 and type_id.Identifier in _ABSTRACT_TYPES
