"""Coalesce a device's tags into the fewest Modbus read requests.

One request of 100 registers costs about as much as one of a single register, so tags
close to each other (gap <= ``max_gap``) are read together, up to the device's
``max_registers_per_read`` / ``max_bits_per_read``. A tag is never split across
requests, and several tags may share registers (two bits of one word, say).
``max_gap`` counts in the table's unit: registers, or bits for coils/discrete inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from connectors.modbus.config import ModbusConnection, ModbusTag, RegisterTable

__all__ = ["PlanError", "PlannedTag", "ReadRequest", "plan_reads"]

_TABLE_ORDER = (
    RegisterTable.HOLDING,
    RegisterTable.INPUT,
    RegisterTable.COIL,
    RegisterTable.DISCRETE,
)


class PlanError(ValueError):
    """The tags cannot be read as configured; the message lists every problem."""


@dataclass(frozen=True, slots=True)
class PlannedTag:
    """A tag inside a request: its value starts ``offset`` words (or bits) in."""

    name: str
    tag: ModbusTag
    offset: int


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """One read: ``count`` registers (or bits) of ``table`` from 0-based ``start``."""

    table: RegisterTable
    start: int
    count: int
    tags: tuple[PlannedTag, ...]


@dataclass(frozen=True, slots=True)
class _Span:
    name: str
    tag: ModbusTag
    start: int  # 0-based protocol address
    end: int  # exclusive


def plan_reads(tags: Mapping[str, ModbusTag], conn: ModbusConnection) -> tuple[ReadRequest, ...]:
    """The minimal list of reads covering ``tags``, per table, in address order.

    Raises PlanError naming every tag whose address is invalid for the connection
    (0 with 1-based addressing, past 65535, wider than one read allows).
    """
    spans: dict[RegisterTable, list[_Span]] = {t: [] for t in _TABLE_ORDER}
    errors: list[str] = []
    for name, tag in tags.items():
        span = _span(name, tag, conn, errors)
        if span is not None:
            spans[tag.table].append(span)
    if errors:
        raise PlanError("; ".join(errors))
    requests: list[ReadRequest] = []
    for table in _TABLE_ORDER:
        limit = conn.max_bits_per_read if table.is_bit else conn.max_registers_per_read
        requests += _coalesce(table, spans[table], limit, conn.max_gap)
    return tuple(requests)


def _span(name: str, tag: ModbusTag, conn: ModbusConnection, errors: list[str]) -> _Span | None:
    problem = conn.span_problem(tag)  # the config's own check: a loaded config passes it
    if problem is not None:
        errors.append(f"tag '{name}' ({tag.table.value} {tag.address}): {problem}")
        return None
    start = tag.address - conn.addressing
    return _Span(name, tag, start, start + tag.words)


def _coalesce(
    table: RegisterTable, spans: list[_Span], limit: int, max_gap: int
) -> list[ReadRequest]:
    # Greedy over tags sorted by start address: extend the open request while the gap
    # to the next tag is small enough and the merged read still fits in one request.
    spans.sort(key=lambda s: (s.start, s.end, s.name))
    groups: list[list[_Span]] = []
    start = end = 0
    for span in spans:
        if groups and span.start - end <= max_gap and max(end, span.end) - start <= limit:
            groups[-1].append(span)
            end = max(end, span.end)
        else:
            groups.append([span])
            start, end = span.start, span.end
    return [_request(table, group) for group in groups]


def _request(table: RegisterTable, group: list[_Span]) -> ReadRequest:
    start = group[0].start
    end = max(s.end for s in group)
    planned = tuple(PlannedTag(s.name, s.tag, s.start - start) for s in group)
    return ReadRequest(table, start, end - start, planned)
