"""Batched Browse and Read services, and data type names, for `connectors.opcua.browse`.

Everything here sends one request per chunk of nodes, never one per node: a walk over
a few thousand nodes stays a handful of round trips on a slow PLC link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asyncua import Client, ua

from connectors.opcua.reads import Undecodable, read_split

__all__ = [
    "DataTypeInfo",
    "browse_many",
    "data_types",
    "good_value",
    "ns0",
    "read_many",
    "read_tolerant",
    "status_of",
]

_BROWSE_CHUNK = 200  # nodes per Browse request; far below what servers refuse
_MAX_TYPE_DEPTH = 12  # supertype steps before giving up (the standard tree is ~5 deep)


def ns0(identifier: int) -> ua.NodeId:
    """The numeric node id `i=<identifier>` of the standard namespace."""
    return ua.NodeId(ua.Int32(identifier))


_STRUCTURE = ns0(ua.ObjectIds.Structure)
_ROOTS = {ns0(ua.ObjectIds.BaseDataType), ns0(ua.ObjectIds.Enumeration)}


@dataclass(frozen=True)
class DataTypeInfo:
    """A data type's name (its BrowseName) and whether it is a structure."""

    name: str
    structure: bool


def status_of(dv: ua.DataValue) -> ua.StatusCode:
    """A DataValue's status (an absent one means Good)."""
    return dv.StatusCode if dv.StatusCode is not None else ua.StatusCode()


def good_value(dv: ua.DataValue) -> Any:
    """The value of a DataValue with a good status, else None."""
    return dv.Value.Value if status_of(dv).is_good() and dv.Value is not None else None


async def read_many(
    client: Client, items: Sequence[tuple[ua.NodeId, ua.AttributeIds]], chunk: int
) -> list[ua.DataValue]:
    """Many attributes in as few Read requests as `chunk` (the server's limit) allows."""
    out: list[ua.DataValue] = []
    for start in range(0, len(items), chunk):
        out += await _read(client, items[start : start + chunk])
    return out


async def read_tolerant(
    client: Client, items: Sequence[tuple[ua.NodeId, ua.AttributeIds]], chunk: int
) -> list[ua.DataValue | Undecodable]:
    """`read_many`, except that a value asyncua cannot decode becomes `Undecodable`
    instead of failing every value of its request (`connectors.opcua.reads`)."""
    out: list[ua.DataValue | Undecodable] = []
    for start in range(0, len(items), chunk):
        out += await read_split(lambda part: _read(client, part), items[start : start + chunk])
    return out


async def _read(
    client: Client, items: Sequence[tuple[ua.NodeId, ua.AttributeIds]]
) -> list[ua.DataValue]:
    params = ua.ReadParameters()
    params.TimestampsToReturn = ua.TimestampsToReturn.Neither
    for node_id, attr in items:
        rv = ua.ReadValueId()
        rv.NodeId, rv.AttributeId = node_id, attr
        params.NodesToRead.append(rv)
    return await client.uaclient.read(params)


async def browse_many(
    client: Client,
    nodes: Sequence[ua.NodeId],
    *,
    reference: int = ua.ObjectIds.HierarchicalReferences,
    forward: bool = True,
    classes: int = ua.NodeClass.Object | ua.NodeClass.Variable,
) -> list[list[ua.ReferenceDescription]]:
    """The references (and subtypes) of each node, following continuation points.

    A node whose browse failed (e.g. BadUserAccessDenied) simply has none.
    """
    out: list[list[ua.ReferenceDescription]] = []
    for start in range(0, len(nodes), _BROWSE_CHUNK):
        params = ua.BrowseParameters()
        params.View = ua.ViewDescription()
        for node_id in nodes[start : start + _BROWSE_CHUNK]:
            desc = ua.BrowseDescription()
            desc.NodeId = node_id
            desc.BrowseDirection = (
                ua.BrowseDirection.Forward if forward else ua.BrowseDirection.Inverse
            )
            desc.ReferenceTypeId = ns0(reference)
            desc.IncludeSubtypes = True
            desc.NodeClassMask = classes
            desc.ResultMask = ua.BrowseResultMask.All
            params.NodesToBrowse.append(desc)
        for result in await client.uaclient.browse(params):
            out.append(await _all_references(client, result))
    return out


async def _all_references(client: Client, result: ua.BrowseResult) -> list[ua.ReferenceDescription]:
    if not result.StatusCode.is_good():
        return []
    refs = list(result.References)
    point = result.ContinuationPoint
    while point:
        params = ua.BrowseNextParameters()
        params.ContinuationPoints = [point]
        (more,) = await client.uaclient.browse_next(params)
        if not more.StatusCode.is_good():
            break
        refs += more.References
        point = more.ContinuationPoint
    return refs


async def data_types(
    client: Client, type_ids: Sequence[ua.NodeId], max_per_read: int
) -> dict[ua.NodeId, DataTypeInfo]:
    """Name and structure-ness of each data type: one Read for the names, and one Browse
    per level of the supertype tree for all types at once."""
    items = [(t, ua.AttributeIds.BrowseName) for t in type_ids]
    names = [good_value(dv) for dv in await read_many(client, items, max_per_read)]
    structures = await _structures(client, type_ids)
    return {
        t: DataTypeInfo(n.Name if n is not None else t.to_string(), t in structures)
        for t, n in zip(type_ids, names, strict=True)
    }


async def _structures(client: Client, type_ids: Sequence[ua.NodeId]) -> set[ua.NodeId]:
    """The types that are Structure or derive from it (a null value does not say so)."""
    found = {t for t in type_ids if t == _STRUCTURE}
    ancestor = {t: t for t in type_ids if t != _STRUCTURE and t not in _ROOTS}
    for _ in range(_MAX_TYPE_DEPTH):
        if not ancestor:
            break
        asked = sorted(set(ancestor.values()), key=str)
        parents = await browse_many(
            client, asked, reference=ua.ObjectIds.HasSubtype, forward=False, classes=0
        )
        parent_of = {a: refs[0].NodeId for a, refs in zip(asked, parents, strict=True) if refs}
        step: dict[ua.NodeId, ua.NodeId] = {}
        for t, a in ancestor.items():
            parent = parent_of.get(a)
            if parent == _STRUCTURE:
                found.add(t)
            elif parent is not None and parent not in _ROOTS:
                step[t] = ua.NodeId(parent.Identifier, parent.NamespaceIndex)
        ancestor = step
    return found
