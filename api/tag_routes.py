"""`GET /api/v1/machines/{id}/tags/{tag}`: one tag's stored raw values (machines with
`publish_tags`), as stored or downsampled to one point per `every`.

Buckets are aligned to the epoch (as InfluxDB's `GROUP BY time`), so the same `every`
gives the same bucket starts whatever `from` is; the first and last may be cut by the
range. Both stores answer the same: InfluxDB keeps booleans as 1.0/0.0, so the values of
a Modbus `type: bit` tag (whose type the config declares) are turned back into booleans.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal, TypeGuard

from fastapi import Query
from fastapi.responses import Response

from api.context import ApiContext, ApiError, Ctx, error_docs, find_machine, from_store, v1_router
from api.history import history_range, json_bytes, limits
from api.offload import Cpu, run_job
from api.plant_time import calendar_of, query_range
from api.schemas import TagBucketOut, TagHistoryOut, TagPointOut
from core.interfaces import HistoryReader
from core.types import Quality, Sample, TagValue
from edge.config import Config, DataType, MachineConfig, ModbusTag, TagConfig
from edge.config.oee import parse_duration

router = v1_router()

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_US = timedelta(microseconds=1)

Aggregation = Literal["numeric", "last"]


@router.get(
    "/machines/{machine_id}/tags/{tag}",
    tags=["history"],
    response_model=TagHistoryOut,
    responses=error_docs(
        e404="Unknown machine, or a tag that is not under the machine's `tags`",
        e422="Bad range or `every`, more than `api.limits.max_rows` points, or more than "
        "`api.limits.max_history_rows` values to downsample (the detail says which)",
        e503="History store unavailable",
    ),
)
async def get_tag_history(
    machine_id: str,
    tag: str,
    ctx: Ctx,
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            description="RFC 3339 with offset, or a plant date (2026-12-06: the start of "
            "that plant day); default: `to` minus 1 h",
            examples=["2026-12-06T06:00:00Z", "2026-12-06"],
        ),
    ] = None,
    to: Annotated[
        str | None,
        Query(
            description="RFC 3339 with offset, or a plant date (the end of that plant "
            "day); default: now; at most `api.limits.max_range_days` (92) after `from`",
            examples=["2026-12-06T14:00:00Z", "2026-12-06"],
        ),
    ] = None,
    every: Annotated[
        str | None,
        Query(
            description="downsample to one point per interval, e.g. 10s, 1m, 1h, 1d "
            "(at most `api.limits.max_rows`, 10,000, intervals in the range)",
            examples=["1m"],
        ),
    ] = None,
) -> Response:
    """The stored values of one tag in [from, to), oldest first.

    Values are stored only for a machine with `publish_tags: true`; for one without, the
    answer is 200 with what the store holds (normally nothing) and a `note` saying so.
    Without `every`: each stored value (`aggregation: raw`), at most 10,000, else 422.
    With `every`: one point per interval holding values, `ts` its start. A number tag
    gives `mean`, `min`, `max`, `last` and `count` (`aggregation: numeric`); a string or
    boolean tag its last value (`aggregation: last`). `quality` is the worst in it.
    Downsampling reads at most `api.limits.max_history_rows` values, else 422.
    """
    _, machine = find_machine(ctx, machine_id)
    tag_config = _find_tag(machine, tag)
    step = _step(ctx, every)
    start, end = history_range(
        ctx, *query_range(from_, to, calendar_of(ctx, machine_id)), ctx.clock()
    )
    most = limits(ctx).max_rows if step is None else limits(ctx).max_history_rows
    if step is not None:
        _check_intervals(start, end, step, every, limits(ctx).max_rows)
    note = None if machine.publish_tags else _not_stored_note(ctx.config, machine_id)
    query = TagQuery(machine_id, tag, tag_config, start, end, step, every, most, note)
    return Response(await run_job(ctx, tag_job, query), media_type="application/json")


@dataclass(frozen=True)
class TagQuery:
    """What a tag history job needs (sent to a history worker, `api.offload`)."""

    machine: str
    tag: str
    config: TagConfig
    start: datetime
    end: datetime
    step: timedelta | None
    every: str | None
    most: int  # values the read may bring; one more is a 422
    note: str | None


async def tag_job(reader: HistoryReader, cpu: Cpu, q: TagQuery) -> bytes:
    """The tag route's answer: at most `q.most` values read, then cleaned, downsampled
    and encoded (a history job)."""
    read = reader.tag_history(q.machine, q.tag, q.start, q.end, limit=q.most + 1)
    stored = await from_store(f"tag history of {q.machine}.{q.tag}", read)
    _check_read(len(stored), q.most, q.step, q.start, q.end, q.tag)

    def answer() -> bytes:
        samples = _clean(stored, q.start, q.end, _is_bit(q.config))
        aggregation, points = _points(samples, q.step, q.config)
        return json_bytes(
            TagHistoryOut(
                machine=q.machine,
                tag=q.tag,
                from_=q.start,
                to=q.end,
                every=q.every,
                aggregation=aggregation,
                note=q.note,
                points=points,
            )  # fmt: skip
        )

    result: bytes = await cpu(answer)
    return result


# --------------------------------------------------------------------------- the request


def _find_tag(machine: MachineConfig, tag: str) -> TagConfig:
    """The tag's config, or a 404 naming the machine's tags."""
    found = machine.tags.get(tag)
    if found is None:
        known = sorted(machine.tags)
        detail = f"machine '{machine.id}' has no tag '{tag}'; its tags: {', '.join(known)}"
        raise ApiError(404, detail, known)
    return found


def _step(ctx: ApiContext, every: str | None) -> timedelta | None:
    """`every` as a timedelta (None: no downsampling), or a 422 saying how to write it."""
    if every is None:
        return None
    try:
        seconds = parse_duration(every)
    except ValueError as e:
        raise ApiError(422, f"`every`: {e}") from e
    days = limits(ctx).max_range_days
    if seconds > days * 86_400:  # (and timedelta would overflow on some)
        raise ApiError(422, f"`every`: '{every}' is longer than a range may be, {days}d")
    step = timedelta(seconds=seconds)
    if step < _MS:
        raise ApiError(422, f"`every`: '{every}' is shorter than 1 ms")
    return step


def _suggest(start: datetime, end: datetime, most: int) -> str:
    """A whole-second `every` that cuts [start, end) into at most `most` intervals."""
    # most - 1: epoch-aligned intervals may straddle both ends of the range.
    return f"{math.ceil((end - start).total_seconds() / max(1, most - 1))}s"


def _check_intervals(
    start: datetime, end: datetime, step: timedelta, every: str | None, most: int
) -> None:
    """422 when `every` cuts the range into more than `most` intervals (checked before
    reading: the answer's size is known from the request alone)."""
    n = (end - _US - _EPOCH) // step - (start - _EPOCH) // step + 1
    if n > most:
        raise ApiError(
            422,
            f"every={every} cuts [from, to) into {n} intervals, more than {most}: "
            f"use every={_suggest(start, end, most)} or longer, or a shorter range",
        )


def _check_read(
    n: int, most: int, step: timedelta | None, start: datetime, end: datetime, tag: str
) -> None:
    """422 when the read reached its limit: more values than an answer may hold (raw),
    or than a request may read (to downsample)."""
    if n <= most:
        return
    if step is None:
        raise ApiError(
            422,
            f"[from, to) holds more than {most} values of '{tag}': downsample with `every` "
            f"(e.g. every={_suggest(start, end, most)}) or ask for a shorter range",
        )
    raise ApiError(
        422,
        f"[from, to) holds more than {most} stored values of '{tag}' "
        "(api.limits.max_history_rows): ask for a shorter range",
    )


def _not_stored_note(config: Config, machine_id: str) -> str:
    i = next(i for i, m in enumerate(config.machines) if m.id == machine_id)
    return (
        f"machine '{machine_id}' does not store its raw tag values: set "
        f"`machines[{i}].publish_tags: true` in the config to store them from then on"
    )


# --------------------------------------------------------------------------- the values


def _is_bit(tag: TagConfig) -> bool:
    return isinstance(tag, ModbusTag) and tag.type is DataType.BIT


def _clean(samples: Sequence[Sample], start: datetime, end: datetime, bit: bool) -> list[Sample]:
    """The samples of [start, end) by time (a batch's samples may carry their own times),
    non-finite numbers as None (JSON has none) and, for a bit tag, numbers as booleans."""
    out = []
    for s in sorted(samples, key=lambda s: s.ts):
        if start <= s.ts < end:
            value = _finite(s.value)
            if bit and value is not None and not isinstance(value, bool | str):
                value = value != 0
            out.append(s if value is s.value else Sample(s.tag, value, s.quality, s.ts))
    return out


def _finite(value: TagValue) -> TagValue:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _is_number(value: TagValue) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _aggregation(tag: TagConfig, samples: Sequence[Sample]) -> Aggregation:
    """`last` for a string or boolean tag, else `numeric`: by the declared type of a
    Modbus tag, by the stored values of an OPC UA one (its type is the server's)."""
    if isinstance(tag, ModbusTag):
        return "last" if tag.type in (DataType.BIT, DataType.STRING) else "numeric"
    values = (s.value for s in samples if s.value is not None)
    return "numeric" if all(_is_number(v) for v in values) else "last"


def _buckets(samples: Sequence[Sample], step: timedelta) -> Iterator[tuple[datetime, list[Sample]]]:
    """(start, samples) of each epoch-aligned interval holding samples (sorted by time)."""
    for n, group in itertools.groupby(samples, key=lambda s: (s.ts - _EPOCH) // step):
        yield _EPOCH + step * n, list(group)


def _points(
    samples: Sequence[Sample], step: timedelta | None, tag: TagConfig
) -> tuple[Literal["raw"] | Aggregation, list[TagBucketOut] | list[TagPointOut]]:
    """The answer's `aggregation` and `points`: the samples as they are, or downsampled."""
    if step is None:
        return "raw", [TagPointOut(ts=s.ts, value=s.value, quality=s.quality) for s in samples]
    if _aggregation(tag, samples) == "numeric":
        return "numeric", [_numeric(ts, group) for ts, group in _buckets(samples, step)]
    return "last", [_last(ts, group) for ts, group in _buckets(samples, step)]


def _worst(group: Sequence[Sample]) -> Quality:
    return min((s.quality for s in group), key=lambda q: q.code)  # bad 0 < uncertain 64 < good


def _numeric(ts: datetime, group: Sequence[Sample]) -> TagBucketOut:
    values = [float(s.value) for s in group if _is_number(s.value)]
    n = len(values)
    return TagBucketOut(
        ts=ts,
        mean=math.fsum(values) / n if n else None,
        min=min(values, default=None),
        max=max(values, default=None),
        last=values[-1] if n else None,
        count=n,
        quality=_worst(group),
    )


def _last(ts: datetime, group: Sequence[Sample]) -> TagPointOut:
    value = next((s.value for s in reversed(group) if s.value is not None), None)
    return TagPointOut(ts=ts, value=value, quality=_worst(group))
