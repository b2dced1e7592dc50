"""Planning calendar of a line or machine: shifts, breaks, planned periods, plant days.

Shifts and breaks recur on local wall-clock times of the plant's IANA time zone; planned
periods (maintenance, no order, ...) are absolute. The API takes and returns aware UTC
datetimes (any aware input is accepted and converted; a naive one is a ValueError).

Rules:
- A shift or break with `end <= start` ends on the next local day (`end == start`: 24 h).
  `days` lists the weekdays (Mon=0) on which an occurrence STARTS.
- A calendar with no shifts is scheduled around the clock (a 24/7 line).
- A recurring break is a pause of a shift: it counts only inside a shift occurrence (of the
  shift it names, else of any shift; anywhere on a 24/7 line). Outside shifts the time is
  `no_shift` anyway.
- Planned periods apply wherever they fall, inside a shift or not.
- Where several stops apply at once one kind wins: maintenance > no_order > other > break >
  no_shift. Within a kind the period listed first in `planned` names the stop, then the
  break listed first. Adjacent pieces of the same kind and name are merged, so the stops
  exactly partition the non-production time of the range.
- Overlapping shift occurrences are allowed (hand-over); the current shift at an instant is
  the containing occurrence that started last (the first listed on a tie).
- DST: a wall-clock boundary falls at the first instant at which the plant's clocks show
  that time or later. So a time that does not exist (02:30 on a spring-forward night in
  Europe/Berlin) falls at the first instant after the gap (03:00 local), and an ambiguous
  one (02:30 on a fall-back night) at its first occurrence (fold=0). A night shift 22:00 to
  06:00 lasts 7 h on a spring-forward night and 9 h on a fall-back night; a plant day
  (`day_start` to the next `day_start`) lasts 23 h or 25 h.

Occurrences are generated per local day, so a day or a week costs a few dozen intervals.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PlannedKind = Literal["maintenance", "no_order", "break", "other"]
StopKind = Literal["no_shift", "break", "maintenance", "no_order", "other"]

ALL_DAYS: frozenset[int] = frozenset(range(7))
_RANK: dict[str, int] = {"maintenance": 0, "no_order": 1, "other": 2, "break": 3}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_DAY = timedelta(days=1)


def _check_recurring(start: time, end: time, days: frozenset[int]) -> None:
    if start.tzinfo is not None or end.tzinfo is not None:
        raise ValueError("shift and break times are local wall-clock times, without tzinfo")
    if not days <= ALL_DAYS:
        raise ValueError(f"days must be weekdays 0 (Monday) to 6, got {sorted(days)}")


@dataclass(frozen=True, slots=True)
class Shift:
    """A recurring shift, local wall-clock; `days` are the weekdays it starts on (Mon=0)."""

    name: str
    start: time
    end: time
    days: frozenset[int] = ALL_DAYS

    def __post_init__(self) -> None:
        _check_recurring(self.start, self.end, self.days)


@dataclass(frozen=True, slots=True)
class Break:
    """A recurring pause inside shifts (only inside `shift` occurrences when it is named)."""

    name: str
    start: time
    end: time
    days: frozenset[int] = ALL_DAYS
    shift: str | None = None

    def __post_init__(self) -> None:
        _check_recurring(self.start, self.end, self.days)


@dataclass(frozen=True, slots=True)
class PlannedPeriod:
    """A one-off planned stop [start, end), absolute (aware; stored in UTC)."""

    start: datetime
    end: datetime
    kind: PlannedKind
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in _RANK:
            raise ValueError(f"unknown planned period kind {self.kind!r}")
        object.__setattr__(self, "start", _utc(self.start))
        object.__setattr__(self, "end", _utc(self.end))
        if self.end < self.start:
            raise ValueError("a planned period must not end before it starts")


@dataclass(frozen=True, slots=True)
class PlannedStop:
    """Non-production time [start, end) in UTC; `name` is the break's name or the reason."""

    start: datetime
    end: datetime
    kind: StopKind
    name: str | None

    @property
    def duration(self) -> timedelta:
        """Length of the stop."""
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class ShiftInstance:
    """One actual occurrence of a shift, [start, end) in UTC; `day` is the plant-local date
    on which it starts (set by the calendar that made it; not part of equality)."""

    name: str
    start: datetime
    end: datetime
    day: date | None = field(default=None, compare=False)

    @property
    def id(self) -> str:
        """`{day}/{name}`, e.g. `2026-12-06/late`: how the API and the page name it."""
        if self.day is None:
            raise ValueError(f"shift occurrence {self.name!r} was not made by a calendar")
        return f"{self.day.isoformat()}/{self.name}"


@dataclass(frozen=True, slots=True)
class PlantDay:
    """One plant day: `date` (local) from its `day_start` to the next, [start, end) in UTC
    (23 or 25 h across a DST change)."""

    date: date
    start: datetime
    end: datetime

    @property
    def id(self) -> str:
        """The date, `2026-12-06`: how the API and the page name the day."""
        return self.date.isoformat()


class _Label(NamedTuple):
    # Sorted: the smallest active label wins (rank = precedence, order = listing order).
    rank: int
    order: int
    kind: StopKind
    name: str | None
    in_shift: bool  # a recurring break: applies only inside a shift
    shift: str | None  # ... of this name (None: any shift)


_Events = dict[datetime, list[tuple[int, "_Label | str"]]]


@dataclass(frozen=True, slots=True)
class Calendar:
    """The planning calendar of a line or machine in the plant's time zone `tz` (IANA)."""

    tz: str
    shifts: tuple[Shift, ...] = ()
    breaks: tuple[Break, ...] = ()
    planned: tuple[PlannedPeriod, ...] = ()
    day_start: time = field(default=time(0))

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {self.tz!r}") from e
        for name in ("shifts", "breaks", "planned"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        known = {s.name for s in self.shifts}
        for b in self.breaks:
            if b.shift is not None and b.shift not in known:
                raise ValueError(f"break {b.name!r} names unknown shift {b.shift!r}")
        if self.day_start.tzinfo is not None:
            raise ValueError("day_start is a local wall-clock time, without tzinfo")

    @property
    def zone(self) -> ZoneInfo:
        """The plant's time zone (zoneinfo caches instances, so this is cheap)."""
        return ZoneInfo(self.tz)

    def planned_stops(self, start: datetime, end: datetime) -> list[PlannedStop]:
        """Sorted, disjoint stops partitioning the non-production time of [start, end)."""
        start, end = _range(start, end)
        events = self._events(start, end)
        stops: list[PlannedStop] = []
        labels: Counter[_Label] = Counter()
        shifts: Counter[str] = Counter()
        for a, b in pairwise(sorted({start, end, *events})):
            for delta, key in events.get(a, ()):
                if isinstance(key, str):
                    shifts[key] += delta
                else:
                    labels[key] += delta
            found = self._classify(labels, shifts)
            if found is not None:
                _append(stops, a, b, *found)
        return stops

    def shifts_between(self, start: datetime, end: datetime) -> list[ShiftInstance]:
        """Shift occurrences overlapping [start, end), whole (not clipped), by start."""
        start, end = _range(start, end)
        return [s for _, s in self._shift_occurrences(start, end)]

    def shift_at(self, t: datetime) -> ShiftInstance | None:
        """The shift occurrence in progress at `t` (the latest started if several), or None."""
        t = _utc(t)
        # [t, t + 1 µs) is overlapped exactly by the occurrences containing t. They come
        # sorted by start then listing order, and max() keeps the first of equal starts.
        containing = self.shifts_between(t, t + timedelta(microseconds=1))
        return max(containing, key=lambda s: s.start, default=None)

    def previous_shift(self, t: datetime) -> ShiftInstance | None:
        """The occurrence that ended last at or before `t` (within the 8 days before), or None."""
        t = _utc(t)
        ended = [s for s in self.shifts_between(t - 8 * _DAY, t) if s.end <= t]
        return max(ended, key=lambda s: (s.end, s.start), default=None)

    def shift_by_id(self, shift_id: str) -> ShiftInstance | None:
        """The occurrence named `{date}/{name}` (its local start date), or None if that
        shift does not run that day; ValueError if `shift_id` is not of that form."""
        day_text, _, name = shift_id.partition("/")
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            day = None
        if day is None or len(day_text) != 10 or not name:
            raise ValueError(
                f"{shift_id!r} is not a shift: write its local start date and name, "
                "e.g. 2026-12-06/late"
            )
        for i, s, e in _occurrences(self.zone, self.shifts, day, day):
            if self.shifts[i].name == name:
                return ShiftInstance(name, s, e, day)
        return None

    def local_date(self, t: datetime) -> date:
        """The plant-local calendar date at `t`."""
        return _utc(t).astimezone(self.zone).date()

    def shift_window(self, t: datetime) -> tuple[datetime, datetime] | None:
        """[start, end) in UTC of the shift occurrence in progress at `t`, or None."""
        s = self.shift_at(t)
        return None if s is None else (s.start, s.end)

    def day_window(self, t: datetime) -> tuple[datetime, datetime]:
        """[start, end) in UTC of the plant day (day_start to next day_start) containing `t`."""
        t, zone = _utc(t), self.zone
        day = t.astimezone(zone).date()
        start = _wall_to_utc(zone, day, self.day_start)
        if t < start:
            day -= _DAY
            start = _wall_to_utc(zone, day, self.day_start)
        return start, _wall_to_utc(zone, day + _DAY, self.day_start)

    def day_of(self, day: date) -> PlantDay:
        """The plant day of the local date `day` (from its `day_start` to the next)."""
        zone = self.zone
        return PlantDay(
            day,
            _wall_to_utc(zone, day, self.day_start),
            _wall_to_utc(zone, day + _DAY, self.day_start),
        )

    def plant_day(self, t: datetime) -> PlantDay:
        """The plant day containing `t` (its date is that of its start, local)."""
        start, end = self.day_window(t)
        return PlantDay(start.astimezone(self.zone).date(), start, end)

    def days_between(self, start: datetime, end: datetime) -> list[PlantDay]:
        """The plant days overlapping [start, end), oldest first."""
        start, end = _range(start, end)
        days: list[PlantDay] = []
        day = self.plant_day(start)
        while day.start < end or not days:
            days.append(day)
            day = self.day_of(day.date + _DAY)
        return days

    def _dates(self, start: datetime, end: datetime) -> tuple[date, date]:
        # Two days of margin before: an occurrence starting the day before can reach into
        # the range, and a DST gap at local midnight can move a boundary across a date.
        zone = self.zone
        return start.astimezone(zone).date() - 2 * _DAY, end.astimezone(zone).date() + _DAY

    def _shift_occurrences(self, start: datetime, end: datetime) -> list[tuple[int, ShiftInstance]]:
        first, last = self._dates(start, end)
        found = [
            (s, i, e, day)
            for i, s, e, day in _dated_occurrences(self.zone, self.shifts, first, last)
            if s < end and e > start
        ]
        found.sort()
        return [(i, ShiftInstance(self.shifts[i].name, s, e, day)) for s, i, e, day in found]

    def _events(self, start: datetime, end: datetime) -> _Events:
        events: _Events = defaultdict(list)

        def add(s: datetime, e: datetime, key: _Label | str) -> None:
            s, e = max(s, start), min(e, end)
            if s < e:
                events[s].append((1, key))
                events[e].append((-1, key))

        for _, occ in self._shift_occurrences(start, end):
            add(occ.start, occ.end, occ.name)
        first, last = self._dates(start, end)
        for i, s, e in _occurrences(self.zone, self.breaks, first, last):
            b = self.breaks[i]
            add(s, e, _Label(_RANK["break"], len(self.planned) + i, "break", b.name, True, b.shift))
        for i, p in enumerate(self.planned):
            add(p.start, p.end, _Label(_RANK[p.kind], i, p.kind, p.reason, False, None))
        return events

    def _classify(
        self, labels: Counter[_Label], shifts: Counter[str]
    ) -> tuple[StopKind, str | None] | None:
        """The stop in force given the active labels and shifts, None for production."""
        in_shift = not self.shifts or any(n > 0 for n in shifts.values())
        for label in sorted(k for k, n in labels.items() if n > 0):
            if not label.in_shift:
                return label.kind, label.name
            if in_shift and (label.shift is None or shifts[label.shift] > 0):
                return label.kind, label.name
        return None if in_shift else ("no_shift", None)


def _append(
    stops: list[PlannedStop], a: datetime, b: datetime, kind: StopKind, name: str | None
) -> None:
    last = stops[-1] if stops else None
    if last is not None and last.end == a and (last.kind, last.name) == (kind, name):
        stops[-1] = PlannedStop(last.start, b, kind, name)
    else:
        stops.append(PlannedStop(a, b, kind, name))


def _occurrences(
    zone: ZoneInfo, items: Sequence[Shift | Break], first: date, last: date
) -> Iterator[tuple[int, datetime, datetime]]:
    """(index, start, end) in UTC of the non-empty occurrences starting first..last (local)."""
    for i, s, e, _ in _dated_occurrences(zone, items, first, last):
        yield i, s, e


def _dated_occurrences(
    zone: ZoneInfo, items: Sequence[Shift | Break], first: date, last: date
) -> Iterator[tuple[int, datetime, datetime, date]]:
    """`_occurrences` with the local date each starts on."""
    day = first
    while day <= last:
        weekday = day.weekday()
        for i, item in enumerate(items):
            if weekday not in item.days:
                continue
            end_day = day + _DAY if item.end <= item.start else day
            s, e = _wall_to_utc(zone, day, item.start), _wall_to_utc(zone, end_day, item.end)
            if s < e:  # a shift lying wholly in a DST gap has no time
                yield i, s, e, day
        day += _DAY


def _wall_to_utc(zone: ZoneInfo, day: date, at: time) -> datetime:
    """First instant at which the clocks of `zone` show `day` `at` or later, in UTC."""
    local = datetime.combine(day, at, tzinfo=zone).replace(fold=0)  # fold=0: first occurrence
    utc = local.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return utc
    # In a gap, fold=0 maps with the offset before the transition (an instant after it) and
    # fold=1 with the offset after it (an instant before it): the transition lies between.
    return _transition(zone, local.replace(fold=1).astimezone(UTC), utc)


def _transition(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The instant in (before, after] where the offset changes, by bisection on seconds."""
    # tz database transitions fall on whole seconds, so whole seconds find it exactly.
    target = after.astimezone(zone).utcoffset()
    lo, hi = (before - _EPOCH) // _SECOND, -((_EPOCH - after) // _SECOND)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if (_EPOCH + mid * _SECOND).astimezone(zone).utcoffset() == target:
            hi = mid
        else:
            lo = mid
    return _EPOCH + hi * _SECOND


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"naive datetime {t.isoformat()}: pass an aware (UTC) datetime")
    return t.astimezone(UTC)


def _range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = _utc(start), _utc(end)
    if end < start:
        raise ValueError(f"range ends ({end.isoformat()}) before it starts")
    return start, end
