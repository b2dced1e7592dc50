"""Configuration of the full OEE model: planning calendars, lines, the reason tree, windows.

Re-exported by `edge.config`. A calendar here is the YAML face of `oee.calendar.Calendar`
(`to_calendar()`); checks that need the whole configuration (which lines exist, which
machines sit on them) are helpers that `edge.config.Config` calls.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from core.config import Model, within
from edge.config.targets import LineTargetsConfig
from oee.calendar import ALL_DAYS, Break, Calendar, PlannedPeriod, Shift
from oee.states import MachineState

#: The calendar of a machine that none is configured for: around the clock, in UTC.
DEFAULT_CALENDAR = Calendar("UTC")
#: Window names that follow the calendar rather than sliding.
CALENDAR_WINDOWS = ("shift", "day")
#: A sliding window's length: a minute to a week (the engine keeps, and replays at start,
#: the history of its longest window).
WINDOW_MIN_S, WINDOW_MAX_S = 60.0, 7 * 86400.0
#: The states a reason may explain (a reason is given to a stop).
STOP_STATES = (MachineState.IDLE, MachineState.SETUP, MachineState.FAULT, MachineState.PLANNED_STOP)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h|d)$")
_QUOTE_TIMES = 'write times in quotes, e.g. "06:00"'
_INSTANT_HINT = "e.g. 2026-12-01T06:00:00+01:00 or 2026-12-01T05:00:00Z"

Problem = tuple[tuple[str | int, ...], str]  # (path below the model, message)


def raise_problems(title: str, problems: list[Problem]) -> None:
    """Raise every problem at once, each at its own field path (none: return)."""
    if problems:
        raise ValidationError.from_exception_data(
            title,
            [
                InitErrorDetails(
                    type=PydanticCustomError("config", "{message}", {"message": msg}),
                    loc=loc,
                    input=None,
                )
                for loc, msg in problems
            ],
        )


# --------------------------------------------------------------------------- scalars


def parse_duration(text: str) -> float:
    """`'15m'` -> 900.0 seconds. Accepts s, m, h, d suffixes."""
    m = _DURATION.match(text.strip())
    if not m:
        raise ValueError(f"'{text}' is not a duration: write e.g. 30s, 15m, 1h or 1d")
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def window_seconds(window: str) -> float | None:
    """Length of a sliding window (`'1h'` -> 3600.0); None for `shift` and `day`."""
    return None if window in CALENDAR_WINDOWS else parse_duration(window)


def parse_time_of_day(value: object) -> time:
    """`"06:00"` or `"06:00:00"` -> time(6). A number (an unquoted YAML time) is an error."""
    if isinstance(value, time) and value.tzinfo is None:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(_QUOTE_TIMES)
    m = _TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if m is None:
        raise ValueError(f'{value!r} is not a time of day: write "HH:MM" or "HH:MM:SS"')
    hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if (hour, minute, second) == (24, 0, 0):
        raise ValueError("24:00 is not a time of day: write 00:00 (an end <= start is next day)")
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"'{value}' is not a time of day: hours go 00-23, minutes 00-59")
    return time(hour, minute, second)


def _weekday(name: object) -> int:
    key = name.strip().lower() if isinstance(name, str) else None
    if key in WEEKDAYS:
        return WEEKDAYS.index(key)
    if key in _FULL_DAYS:
        return _FULL_DAYS.index(key)
    raise ValueError(f"{name!r} is not a weekday: write mon, tue, wed, thu, fri, sat or sun")


def parse_days(value: object) -> frozenset[int]:
    """Weekdays (Mon=0) from `[mon, tue]`, `"mon-fri"` (may wrap: `"fri-mon"`), `"daily"`/`"all"`
    or one name."""
    if isinstance(value, frozenset) and value <= ALL_DAYS:
        return value  # already parsed (a validated model's own value)
    if isinstance(value, list) and value:
        return frozenset(_weekday(v) for v in value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError("days is a list ([mon, tue]), a range (mon-fri), a weekday or daily")
    text = value.strip().lower()
    if text in ("daily", "all"):
        return ALL_DAYS
    if "-" not in text:
        return frozenset({_weekday(text)})
    first, last = (_weekday(part) for part in text.split("-", 1))
    return frozenset((first + i) % 7 for i in range((last - first) % 7 + 1))


def parse_instant(value: object) -> datetime:
    """An RFC 3339 time with its UTC offset (a naive time is an error)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"'{value}' is not a date and time: write {_INSTANT_HINT}") from None
    if not isinstance(value, datetime):
        what = "a date alone" if isinstance(value, date) else repr(value)
        raise ValueError(f"{what} is not a date and time: write {_INSTANT_HINT}")
    if value.utcoffset() is None:
        raise ValueError(f"{value.isoformat()} has no UTC offset: add Z or +01:00, {_INSTANT_HINT}")
    return value


TimeOfDay = Annotated[time, BeforeValidator(parse_time_of_day)]
Weekdays = Annotated[
    frozenset[int],
    BeforeValidator(parse_days),
    PlainSerializer(lambda days: [WEEKDAYS[d] for d in sorted(days)], when_used="json"),
]
Instant = Annotated[datetime, BeforeValidator(parse_instant)]


# --------------------------------------------------------------------------- calendar


class ShiftConfig(Model):
    """A recurring shift, local time; `end <= start` ends the next day."""

    name: str = Field(min_length=1)
    start: TimeOfDay
    end: TimeOfDay
    days: Weekdays = Field(default=ALL_DAYS, description="weekdays the shift starts on")


class BreakConfig(Model):
    """A recurring break inside shifts (only inside `shift` when given)."""

    name: str = Field(min_length=1)
    start: TimeOfDay
    end: TimeOfDay
    days: Weekdays = ALL_DAYS
    shift: str | None = None


class PlannedConfig(Model):
    """A one-off planned stop [start, end), absolute times with their offset."""

    start: Instant
    end: Instant
    kind: Literal["maintenance", "no_order", "other", "break"]
    reason: str | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> PlannedConfig:
        if self.end <= self.start:
            msg = f"must be after start ({self.start.isoformat()})"
            raise_problems("PlannedConfig", [(("end",), msg)])
        return self


class CalendarConfig(Model):
    """Shifts, breaks and planned stops of a plant, line or machine in its time zone."""

    timezone: str
    day_start: TimeOfDay = Field(default=time(0), description="local start of the plant day")
    shifts: list[ShiftConfig] = Field(default_factory=list)
    breaks: list[BreakConfig] = Field(default_factory=list)
    planned: list[PlannedConfig] = Field(default_factory=list)
    _calendar: Calendar = PrivateAttr(default=DEFAULT_CALENDAR)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            near = difflib.get_close_matches(name, available_timezones(), n=1)
            hint = f"did you mean '{near[0]}'? " if near else ""
            raise ValueError(
                f"unknown time zone '{name}'; {hint}write an IANA name, e.g. Europe/Berlin or UTC"
            ) from None
        return name

    @model_validator(mode="after")
    def _build(self) -> CalendarConfig:
        raise_problems("CalendarConfig", self._problems())
        shifts = [Shift(s.name, s.start, s.end, s.days) for s in self.shifts]
        breaks = [Break(b.name, b.start, b.end, b.days, b.shift) for b in self.breaks]
        planned = [PlannedPeriod(p.start, p.end, p.kind, p.reason) for p in self.planned]
        # Its own checks are done above, at their fields; any other ValueError it raised
        # would still be a validation error (at the calendar's path).
        self._calendar = Calendar(
            self.timezone, tuple(shifts), tuple(breaks), tuple(planned), self.day_start
        )
        return self

    def _problems(self) -> list[Problem]:
        problems: list[Problem] = []
        first: dict[str, int] = {}
        for i, s in enumerate(self.shifts):
            if s.name in first:
                msg = f"shift '{s.name}' is already shifts[{first[s.name]}]; names must be unique"
                problems.append((("shifts", i, "name"), msg))
            first.setdefault(s.name, i)
        known = ", ".join(first) or "none"
        for i, b in enumerate(self.breaks):
            if b.shift is not None and b.shift not in first:
                msg = f"names shift '{b.shift}', which is not under `shifts` (known: {known})"
                problems.append((("breaks", i, "shift"), msg))
        return problems

    def to_calendar(self) -> Calendar:
        """The `oee.calendar.Calendar` this describes (built once, at validation; so change
        a calendar by validating a new one, not by `model_copy(update=...)`)."""
        return self._calendar


# --------------------------------------------------------------------------- lines, reasons


class LineConfig(Model):
    """A line's own calendar and how its machines roll up into line OEE."""

    calendar: CalendarConfig | None = None
    rollup: Literal["sum", "bottleneck"] = "sum"
    bottleneck: str | None = None
    targets: LineTargetsConfig | None = Field(
        default=None, description="the line's target per shift; default: its machines' sum"
    )

    @model_validator(mode="after")
    def _bottleneck_iff_rollup(self) -> LineConfig:
        if (self.rollup == "bottleneck") != (self.bottleneck is not None):
            msg = (
                f"applies only with rollup: bottleneck (rollup is {self.rollup})"
                if self.bottleneck
                else "required with rollup: bottleneck; name the line's bottleneck machine"
            )
            raise_problems("LineConfig", [(("bottleneck",), msg)])
        return self


def category_path(category: str | None, example: str) -> str | None:
    """A reason's category as a '/'-separated path without blanks around its parts;
    ValueError for an empty part (the message shows `example`)."""
    if category is None:
        return None
    parts = [p.strip() for p in category.split("/")]
    if not all(parts):
        raise ValueError(f"'{category}' has an empty part: write e.g. {example}")
    return "/".join(parts)


class ReasonConfig(Model):
    """One entry of the reason tree. YAML short form: `10: Material shortage`."""

    text: str = Field(min_length=1)
    category: str | None = Field(default=None, description="'/'-separated path, e.g. A/B")
    states: list[MachineState] = Field(
        default_factory=lambda: [MachineState.IDLE, MachineState.SETUP, MachineState.FAULT],
        min_length=1,
        description="the stop states this reason may be given to",
    )

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"text": data}
        if isinstance(data, dict | ReasonConfig):
            return data
        raise ValueError("a reason is a text, or {text, category, states}")

    @field_validator("category")
    @classmethod
    def _category_path(cls, category: str | None) -> str | None:
        return category_path(category, "Mechanical/Feeder")

    @field_validator("states")
    @classmethod
    def _stop_states(cls, states: list[MachineState]) -> list[MachineState]:
        for s in states:
            if s not in STOP_STATES:
                allowed = ", ".join(STOP_STATES)
                raise ValueError(f"a reason explains a stop, not '{s}' (allowed: {allowed})")
        return states

    @property
    def category_path(self) -> tuple[str, ...]:
        """`'Mechanical/Feeder'` -> ('Mechanical', 'Feeder'); () without a category."""
        return tuple(self.category.split("/")) if self.category else ()


# --------------------------------------------------------------------------- OEE windows


class OeeConfig(Model):
    """Which OEE windows to compute and publish, and how often."""

    windows: list[str] = Field(default_factory=lambda: ["15m", "1h"], min_length=1)
    # Ten figures a second at most: each publish computes every machine's every window.
    publish_interval_s: Annotated[float, within(0.1, 3600, "seconds")] = 10.0
    offline_counts_as: Literal["unknown", "downtime"] = Field(
        default="unknown",
        description="unknown: offline time is excluded from planned time and reported apart",
    )

    @field_validator("windows")
    @classmethod
    def _windows(cls, ws: list[str]) -> list[str]:
        seen: dict[float | str, str] = {}
        for w in ws:
            try:
                length = window_seconds(w)
            except ValueError:
                raise ValueError(
                    f"'{w}' is not a window: write a duration (e.g. 15m, 1h, 8h), shift or day"
                ) from None
            if length is not None and not WINDOW_MIN_S <= length <= WINDOW_MAX_S:
                raise ValueError(
                    f"'{w}' is out of range: a window is 1m to 7d long, or shift or day"
                )
            key = w if length is None else length
            if key in seen:
                twin = "listed twice" if seen[key] == w else f"the same window as '{seen[key]}'"
                raise ValueError(f"'{w}' is {twin}; list each window once")
            seen[key] = w
        return ws


# --------------------------------------------------------------------------- whole-config checks


def line_problems(
    lines: Mapping[str, LineConfig], members: Mapping[str, list[str]]
) -> list[Problem]:
    """`lines` entries must name a line in use, and a bottleneck one of its machines."""
    problems: list[Problem] = []
    in_use = ", ".join(members) or "none"
    for name, line in lines.items():
        if name not in members:
            msg = f"no machine is on line '{name}' (lines in use: {in_use})"
            problems.append((("lines", name), msg))
        elif line.bottleneck is not None and line.bottleneck not in members[name]:
            msg = (
                f"'{line.bottleneck}' is not a machine of line '{name}' "
                f"(its machines: {', '.join(members[name])})"
            )
            problems.append((("lines", name, "bottleneck"), msg))
    return problems


def window_problems(
    windows: list[str], calendars: Iterable[CalendarConfig | None]
) -> list[Problem]:
    """A `shift` window needs shifts in some calendar."""
    if "shift" in windows and not any(c is not None and c.shifts for c in calendars):
        msg = "the `shift` window needs shifts: configure `calendar.shifts`"
        return [(("oee", "windows"), msg)]
    return []
