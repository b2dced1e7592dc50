"""Batched Reads that survive a value the OPC UA library cannot decode.

asyncua decodes a whole Read response at once, so one value it cannot decode (its
`SessionSecurityDiagnosticsDataType` declares a String field a Byte, and values from
open62541 then overrun the buffer) fails every value of the request. `read_split`
reads the halves of such a request again, down to the value itself, and returns
`Undecodable` in its place: a few requests more per bad value, none when all decode.
"""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from asyncua import ua
from asyncua.common.utils import NotEnoughData

__all__ = ["DECODE_ERRORS", "BatchedReads", "Undecodable", "read_split"]

# What asyncua raises while decoding a response it cannot make sense of.
DECODE_ERRORS = (NotEnoughData, struct.error, ValueError, IndexError)

T = TypeVar("T")


@dataclass(frozen=True)
class Undecodable:
    """In place of a DataValue that could not be decoded; `reason` is the library's error."""

    reason: str


async def read_split(
    read: Callable[[Sequence[T]], Awaitable[list[ua.DataValue]]], items: Sequence[T]
) -> list[ua.DataValue | Undecodable]:
    """`read(items)`, except that an undecodable value becomes `Undecodable` alone.

    Other errors (a lost connection, a timeout, a service fault) pass through.
    """
    try:
        return list(await read(items))
    except DECODE_ERRORS as exc:
        if len(items) == 1:
            return [Undecodable(str(exc) or type(exc).__name__)]
    half = len(items) // 2
    return await read_split(read, items[:half]) + await read_split(read, items[half:])


class BatchedReads:
    """Reads the current value of many nodes, `per_read` a request. A node whose value
    could not be decoded is read in a request of its own from then on (until it
    decodes again), so that it costs one request per poll, not a split every time."""

    def __init__(self, per_read: int) -> None:
        self.per_read = per_read
        self._alone: set[str] = set()

    async def read(
        self,
        read: Callable[[Sequence[ua.NodeId]], Awaitable[list[ua.DataValue]]],
        nodes: dict[str, ua.NodeId],
    ) -> list[tuple[str, ua.DataValue | Undecodable]]:
        """(name, value) of every node of `nodes`, in requests made by `read`."""
        names = [n for n in nodes if n not in self._alone]
        groups = [names[i : i + self.per_read] for i in range(0, len(names), self.per_read)]
        groups += [[n] for n in nodes if n in self._alone]
        out: list[tuple[str, ua.DataValue | Undecodable]] = []
        for group in groups:
            values = await read_split(lambda part: read([nodes[n] for n in part]), group)
            out.extend(zip(group, values, strict=True))
        self._alone = {n for n, v in out if isinstance(v, Undecodable)}
        return out
