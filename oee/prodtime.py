"""Planned production time of the calendar, walked forward, and rates over it (issue 19).

Planned production time of a span is its length less the calendar's planned stops in it
(no shift, breaks, planned periods; `Calendar.planned_stops`), less any `exclude` spans
(an order's pauses). It is absolute UTC time, so a DST change needs nothing special: a
night shift of 9 h on a fall-back night holds 9 h of it.

Rates are good parts per second of planned production time, from (time, cumulative good)
points of one order (counter resets resolved before). Between two consecutive points
the parts made (the difference) are spread over the planned production time between
them; a pair further apart than `max_gap_s` is a gap: unknown, left out of both the parts
and the time, so an outage of the gateway neither lowers nor raises a rate.

- **current rate** (`current_rate`): over the last `window_s` (default 900 s, as
  `oee.targets`) of planned production time before `now`, reaching back over breaks
  and pauses;
- **shift's rate** (`shift_rate`): since the start of the shift occurrence in progress
  at `now` (else the last one that ended; else the plant day's start) up to `now`.

Pure: `now` is an argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from oee.calendar import Calendar
from oee.targets import planned_spans, rate_start

__all__ = [
    "Span", "advance", "aware", "current_rate", "production_seconds", "production_spans",
    "rate", "shift_rate",
]  # fmt: skip

Span = tuple[datetime, datetime]
_ZERO = timedelta(0)
_CHUNK = timedelta(days=7)
HORIZON = timedelta(days=400)  # no expected completion further out than this
LOOKBACK = timedelta(days=2)  # how far the current rate's window may reach back


def aware(name: str, t: datetime) -> datetime:
    """`t` in UTC; a ValueError naming the field `name` when `t` is naive."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{name}: naive datetime {t.isoformat()}, pass an aware (UTC) one")
    return t.astimezone(UTC)


def _subtract(spans: Iterable[Span], exclude: Sequence[Span]) -> list[Span]:
    """`spans` less every span of `exclude` (both sorted or not; result sorted)."""
    out: list[Span] = []
    for a, b in spans:
        pieces = [(a, b)]
        for xa, xb in exclude:
            pieces = [
                p for s, e in pieces for p in ((s, min(e, xa)), (max(s, xb), e)) if p[0] < p[1]
            ]
        out.extend(pieces)
    return sorted(out)


def production_spans(
    calendar: Calendar, start: datetime, end: datetime, exclude: Sequence[Span] = ()
) -> list[Span]:
    """The planned production pieces of [start, end), less the `exclude` spans."""
    if end <= start:
        return []
    return _subtract(planned_spans(calendar, start, end), exclude)


def _seconds(spans: Iterable[Span]) -> float:
    return sum((b - a for a, b in spans), _ZERO).total_seconds()


def production_seconds(
    calendar: Calendar, start: datetime, end: datetime, exclude: Sequence[Span] = ()
) -> float:
    """Seconds of planned production time in [start, end), less `exclude`."""
    return _seconds(production_spans(calendar, start, end, exclude))


def advance(
    calendar: Calendar, start: datetime, seconds: float, exclude: Sequence[Span] = ()
) -> datetime | None:
    """The instant at which `seconds` of planned production time after `start` have
    passed: breaks, no-shift time, planned periods and `exclude` are skipped. `start`
    itself when `seconds` is 0; None when that lies beyond `HORIZON` (a calendar without
    production time, or a rate so low the date means nothing)."""
    need = timedelta(seconds=seconds)
    if need <= _ZERO:
        return start
    at = start
    while at - start < HORIZON:
        for a, b in production_spans(calendar, at, at + _CHUNK, exclude):
            if b - a >= need:
                return a + need
            need -= b - a
        at += _CHUNK
    return None


def _overlap(spans: Sequence[Span], a: datetime, b: datetime) -> float:
    """Seconds of `spans` inside [a, b)."""
    return sum((min(e, b) - max(s, a) for s, e in spans if s < b and e > a), _ZERO).total_seconds()


def rate(
    points: Sequence[tuple[datetime, int]],
    calendar: Calendar,
    since: datetime,
    until: datetime,
    *,
    max_gap_s: float | None = None,
    exclude: Sequence[Span] = (),
) -> float | None:
    """Good parts per second of planned production time in [since, until) (module docs).

    A pair of points contributes its parts in proportion to the share of its planned
    production time that falls in the range. None when no known planned production time
    falls in the range (no points, all gaps, all breaks); 0.0 when time is known and no
    part came.
    """
    pts = sorted((aware("point", t), n) for t, n in points)
    if len(pts) < 2 or until <= since:
        return None
    spans = production_spans(calendar, min(pts[0][0], since), max(pts[-1][0], until), exclude)
    parts = known = 0.0
    for (t0, c0), (t1, c1) in zip(pts, pts[1:], strict=False):
        if max_gap_s is not None and (t1 - t0).total_seconds() > max_gap_s:
            continue  # a gap: unknown, neither time nor parts
        pair = _overlap(spans, t0, t1)
        inside = _overlap(spans, max(t0, since), min(t1, until)) if t1 > since else 0.0
        if pair > 0 and inside > 0:
            parts += (c1 - c0) * inside / pair
            known += inside
    return parts / known if known > 0 else None


def current_rate(
    points: Sequence[tuple[datetime, int]],
    calendar: Calendar,
    now: datetime,
    *,
    window_s: float = 900.0,
    max_gap_s: float | None = None,
    exclude: Sequence[Span] = (),
) -> float | None:
    """Good parts per second over the last `window_s` of planned production time before
    `now` (reaching back over breaks and `exclude`, at most `LOOKBACK`)."""
    now = aware("now", now)
    spans = production_spans(calendar, now - LOOKBACK, now, exclude)
    since = rate_start(spans, window_s)
    if since is None:
        return None
    return rate(points, calendar, since, now, max_gap_s=max_gap_s, exclude=exclude)


def shift_rate(
    points: Sequence[tuple[datetime, int]],
    calendar: Calendar,
    now: datetime,
    *,
    max_gap_s: float | None = None,
    exclude: Sequence[Span] = (),
) -> float | None:
    """Good parts per second since the start of the shift occurrence in progress at `now`
    (else the last that ended, else the plant day's start), up to `now`."""
    now = aware("now", now)
    shift = calendar.shift_at(now) or calendar.previous_shift(now)
    since = shift.start if shift is not None else calendar.day_window(now)[0]
    return rate(points, calendar, since, now, max_gap_s=max_gap_s, exclude=exclude)
