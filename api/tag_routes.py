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
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal, TypeGuard

from fastapi import Query
from pydantic import AwareDatetime

from api.context import ApiError, Ctx, error_docs, find_machine, from_store, v1_router
from api.oee_data import MAX_RANGE
from api.routes import DEFAULT_RANGE
from api.schemas import TagBucketOut, TagHistoryOut, TagPointOut
from core.types import Quality, Sample, TagValue
from edge.config import Config, DataType, MachineConfig, ModbusTag, TagConfig
from edge.config.oee import parse_duration

router = v1_router()

#: The most points one answer holds (raw values, or `every` intervals of the range).
MAX_POINTS = 10_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_US = timedelta(microseconds=1)

Aggregation = Literal["numeric", "last"]


@router.get(
    "/machines/{machine_id}/tags/{tag}",
    tags=["history"],
    responses=error_docs(
        e404="Unknown machine, or a tag that is not under the machine's `tags`",
        e422="Bad range or `every`, or more than 10,000 points (the detail says which)",
        e503="History store unavailable",
    ),
)
async def get_tag_history(
    machine_id: str,
    tag: str,
    ctx: Ctx,
    from_: Annotated[
        AwareDatetime | None,
        Query(alias="from", description="RFC 3339 with offset; default: `to` minus 1 h"),
    ] = None,
    to: Annotated[
        AwareDatetime | None,
        Query(description=f"RFC 3339 with offset; default: now; at most {MAX_RANGE.days} days"),
    ] = None,
    every: Annotated[
        str | None,
        Query(
            description="downsample to one point per interval, e.g. 10s, 1m, 1h, 1d "
            f"(at most {MAX_POINTS} intervals in the range)",
            examples=["1m"],
        ),
    ] = None,
) -> TagHistoryOut:
    """The stored values of one tag in [from, to), oldest first.

    Values are stored only for a machine with `publish_tags: true`; for one without, the
    answer is 200 with what the store holds (normally nothing) and a `note` saying so.
    Without `every`: each stored value (`aggregation: raw`), at most 10,000, else 422.
    With `every`: one point per interval holding values, `ts` its start. A number tag
    gives `mean`, `min`, `max`, `last` and `count` (`aggregation: numeric`); a string or
    boolean tag its last value (`aggregation: last`). `quality` is the worst in it.
    """
    _, machine = find_machine(ctx, machine_id)
    tag_config = _find_tag(machine, tag)
    step = _step(every)
    start, end = _range(from_, to, ctx.clock())
    if step is not None:
        _check_intervals(start, end, step, every)
    read = ctx.history.tag_history(machine_id, tag, start, end)
    stored = await from_store(f"tag history of {machine_id}.{tag}", read)
    samples = _clean(stored, start, end, _is_bit(tag_config))
    if step is None:
        _check_raw(len(samples), start, end, tag)
    aggregation, points = _points(samples, step, tag_config)
    note = None if machine.publish_tags else _not_stored_note(ctx.config, machine_id)
    return TagHistoryOut(
        machine=machine_id, tag=tag, from_=start, to=end, every=every,
        aggregation=aggregation, note=note, points=points,
    )  # fmt: skip


# --------------------------------------------------------------------------- the request


def _find_tag(machine: MachineConfig, tag: str) -> TagConfig:
    """The tag's config, or a 404 naming the machine's tags."""
    found = machine.tags.get(tag)
    if found is None:
        known = sorted(machine.tags)
        detail = f"machine '{machine.id}' has no tag '{tag}'; its tags: {', '.join(known)}"
        raise ApiError(404, detail, known)
    return found


def _step(every: str | None) -> timedelta | None:
    """`every` as a timedelta (None: no downsampling), or a 422 saying how to write it."""
    if every is None:
        return None
    try:
        seconds = parse_duration(every)
    except ValueError as e:
        raise ApiError(422, f"`every`: {e}") from e
    if seconds > MAX_RANGE.total_seconds():  # (and timedelta would overflow on some)
        raise ApiError(422, f"`every`: '{every}' is longer than a range may be, {MAX_RANGE.days}d")
    step = timedelta(seconds=seconds)
    if step < _MS:
        raise ApiError(422, f"`every`: '{every}' is shorter than 1 ms")
    return step


def _range(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """[from, to) with the defaults (the last hour), or a 422 (the OEE routes' limits)."""
    stop = end or now
    begin = start or stop - DEFAULT_RANGE
    if begin >= stop:
        raise ApiError(422, "`from` must be earlier than `to`")
    if stop - begin > MAX_RANGE:
        raise ApiError(422, f"`from` to `to` spans more than {MAX_RANGE.days} days; ask for less")
    return begin, stop


def _suggest(start: datetime, end: datetime) -> str:
    """A whole-second `every` that cuts [start, end) into at most MAX_POINTS intervals."""
    # MAX_POINTS - 1: epoch-aligned intervals may straddle both ends of the range.
    return f"{math.ceil((end - start).total_seconds() / (MAX_POINTS - 1))}s"


def _check_intervals(start: datetime, end: datetime, step: timedelta, every: str | None) -> None:
    """422 when `every` cuts the range into more than MAX_POINTS intervals (checked
    before reading: the answer's size is known from the request alone)."""
    n = (end - _US - _EPOCH) // step - (start - _EPOCH) // step + 1
    if n > MAX_POINTS:
        raise ApiError(
            422,
            f"every={every} cuts [from, to) into {n} intervals, more than {MAX_POINTS}: "
            f"use every={_suggest(start, end)} or longer, or a shorter range",
        )


def _check_raw(n: int, start: datetime, end: datetime, tag: str) -> None:
    if n > MAX_POINTS:
        raise ApiError(
            422,
            f"[from, to) holds {n} values of '{tag}', more than {MAX_POINTS}: downsample "
            f"with `every` (e.g. every={_suggest(start, end)}) or ask for a shorter range",
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
