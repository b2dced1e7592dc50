"""Configuration of the OEE model: calendars, lines, the reason tree and windows."""

import subprocess
import sys
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from core.types import MachineState, Quality, Sample, SampleBatch, StateChange
from edge.config import (
    DEFAULT_CALENDAR,
    CalendarConfig,
    Config,
    MachineConfig,
    ReasonConfig,
    window_seconds,
)
from edge.config.loading import ConfigError, load_config, parse_config
from edge.config.oee import parse_days
from edge.pipeline.normaliser import MachineNormaliser
from oee.calendar import PlannedStop, ShiftInstance

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "deploy" / "examples" / "config.yaml"
S = MachineState

HEAD = """
gateway: {id: gw1}
site: s1
area: a1
line: l1
"""
MACHINE = """
  - id: %s
    modbus: {host: 127.0.0.1}
    tags: {code: {address: 0}, reason: {address: 1}}
    state_rules: [{tag: code, map: {1: running, 3: fault}, reason_tag: reason}]
    ideal_cycle_s: 2
"""
MINIMAL = HEAD + "machines:" + MACHINE % "m1"
PRESS1_CALENDAR = """    calendar:
      timezone: UTC
      shifts: [{name: all, start: "00:00", end: "00:00"}]
"""

FULL = (
    HEAD
    + """
calendar:
  timezone: Europe/Berlin
  day_start: "06:00"
  shifts:
    - {name: early, start: "06:00", end: "14:00", days: mon-fri}
    - {name: late,  start: "14:00", end: "22:00", days: [mon, tue, wed, thu, fri]}
    - {name: night, start: "22:00", end: "06:00", days: sun-thu}
  breaks:
    - {name: lunch, start: "11:30", end: "12:00", shift: early}
  planned:
    - {start: "2026-12-01T06:00:00+01:00", end: "2026-12-01T10:00:00+01:00",
       kind: maintenance, reason: "PM press 2"}
lines:
  l1:
    rollup: sum
  l2:
    calendar:
      timezone: America/Chicago
      shifts: [{name: day, start: "07:00", end: "15:30", days: mon-fri}]
    rollup: bottleneck
    bottleneck: press2
reasons:
  10: Material shortage
  20: {text: Jam, category: Mechanical/Feeder, states: [fault]}
  30: {text: Die change, category: Changeover, states: [setup]}
oee:
  windows: [15m, 1h, 8h, shift, day]
machines:"""
    + MACHINE % "press1"
    + """    startup_s: 300
    reasons: {30: Tool change, 31: {text: Die stuck, states: [fault, setup]}}
"""
    + PRESS1_CALENDAR
    + MACHINE % "press2"
    + "    line: l2\n"
    + MACHINE % "press3"
    + "    line: l2\n"
)


def issues(text: str) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse_config(text, "t.yaml", {})
    return [str(i) for i in e.value.issues]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_full_example_parses() -> None:
    c = parse_config(FULL)
    assert c.calendar is not None
    assert c.calendar.timezone == "Europe/Berlin" and c.calendar.day_start == time(6)
    early, late, night = c.calendar.shifts
    assert (early.name, early.start, early.end, early.days) == (
        "early",
        time(6),
        time(14),
        frozenset({0, 1, 2, 3, 4}),
    )
    assert late.days == early.days
    assert night.days == frozenset({6, 0, 1, 2, 3})
    (lunch,) = c.calendar.breaks
    assert (lunch.start, lunch.end, lunch.shift, lunch.days) == (
        time(11, 30),
        time(12),
        "early",
        frozenset(range(7)),
    )
    (pm,) = c.calendar.planned
    assert pm.start == utc("2026-12-01T05:00:00") and pm.end == utc("2026-12-01T09:00:00")
    assert (pm.kind, pm.reason) == ("maintenance", "PM press 2")
    assert c.lines["l1"].rollup == "sum" and c.lines["l1"].bottleneck is None
    assert (c.lines["l2"].rollup, c.lines["l2"].bottleneck) == ("bottleneck", "press2")
    assert c.reasons[10] == ReasonConfig(text="Material shortage")
    assert c.reasons[20] == ReasonConfig(text="Jam", category="Mechanical/Feeder", states=[S.FAULT])
    assert c.reasons[20].category_path == ("Mechanical", "Feeder")
    assert c.oee.windows == ["15m", "1h", "8h", "shift", "day"]
    assert [window_seconds(w) for w in c.oee.windows] == [900.0, 3600.0, 28800.0, None, None]
    press1 = c.machine("press1")
    assert press1.startup_s == 300 and c.machine("press2").startup_s == 0


def test_lines_and_their_machines() -> None:
    c = parse_config(FULL)
    assert c.lines_in_use() == ["l1", "l2"]
    assert c.line_machines("l2") == ["press2", "press3"]
    assert c.line_machines("l1") == ["press1"]
    assert c.line_machines("nowhere") == []
    assert [c.line_of(m) for m in ("press1", "press2")] == ["l1", "l2"]
    with pytest.raises(KeyError, match="no machine 'nope' in the configuration"):
        c.line_of("nope")


def test_calendar_precedence_machine_line_plant_default() -> None:
    c = parse_config(FULL)
    assert c.calendar_for("press1").tz == "UTC"  # the machine's own
    assert c.calendar_for("press1").shifts[0].name == "all"
    assert c.calendar_for("press2").tz == "America/Chicago"  # its line's
    assert c.calendar_for("press3").shifts[0].name == "day"
    c = parse_config(FULL.replace(PRESS1_CALENDAR, ""))
    assert c.machine("press1").calendar is None
    assert c.calendar_for("press1").tz == "Europe/Berlin"  # the plant's (l1 has none)
    assert c.calendar_for("press1") is c.calendar_for("press1")  # built once
    assert parse_config(MINIMAL).calendar_for("m1") is DEFAULT_CALENDAR
    assert DEFAULT_CALENDAR.tz == "UTC" and DEFAULT_CALENDAR.shifts == ()


def test_night_shift_across_midnight_in_berlin() -> None:
    cal = parse_config(FULL).calendar.to_calendar()  # type: ignore[union-attr]
    # Wednesday 2026-11-25, CET (+01:00): night 22:00-06:00 local is 21:00Z-05:00Z.
    assert cal.shift_window(utc("2026-11-25T23:00:00")) == (
        utc("2026-11-25T21:00:00"),
        utc("2026-11-26T05:00:00"),
    )
    assert cal.shift_at(utc("2026-11-25T06:00:00")) == ShiftInstance(
        "early", utc("2026-11-25T05:00:00"), utc("2026-11-25T13:00:00")
    )
    # Friday night has no night shift (sun-thu); Saturday has no shift at all.
    assert cal.shift_window(utc("2026-11-27T23:00:00")) is None
    # The plant day starts 06:00 local.
    assert cal.day_window(utc("2026-11-26T04:00:00")) == (
        utc("2026-11-25T05:00:00"),
        utc("2026-11-26T05:00:00"),
    )
    stops = cal.planned_stops(utc("2026-11-25T10:00:00"), utc("2026-11-25T11:30:00"))
    assert stops == [
        PlannedStop(utc("2026-11-25T10:30:00"), utc("2026-11-25T11:00:00"), "break", "lunch")
    ]
    maintenance = cal.planned_stops(utc("2026-12-01T05:00:00"), utc("2026-12-01T09:00:00"))
    assert maintenance == [
        PlannedStop(
            utc("2026-12-01T05:00:00"), utc("2026-12-01T09:00:00"), "maintenance", "PM press 2"
        )
    ]


@pytest.mark.parametrize(
    ("days", "weekdays"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("fri-mon", {4, 5, 6, 0}),
        ("Sun-Thu", {6, 0, 1, 2, 3}),
        ("mon-mon", {0}),
        ("daily", set(range(7))),
        ("all", set(range(7))),
        ("sat", {5}),
        ("Saturday", {5}),
        (["mon", "WED", "friday"], {0, 2, 4}),
    ],
)
def test_days_forms(days: object, weekdays: set[int]) -> None:
    assert parse_days(days) == frozenset(weekdays)
    shift = {"name": "a", "start": "06:00", "end": "14:00", "days": days}
    cal = CalendarConfig.model_validate({"timezone": "UTC", "shifts": [shift]})
    assert cal.shifts[0].days == frozenset(weekdays)


def test_days_default_to_every_day() -> None:
    cal = CalendarConfig.model_validate(
        {"timezone": "UTC", "shifts": [{"name": "a", "start": "06:00", "end": "14:00"}]}
    )
    assert cal.shifts[0].days == frozenset(range(7))
    assert cal.to_calendar().shifts[0].days == frozenset(range(7))


def test_unquoted_times_in_yaml() -> None:
    # YAML 1.1 reads 14:00 as 840 (base 60); our loader keeps it as the text "14:00".
    text = MINIMAL + (
        "calendar:\n  timezone: UTC\n  day_start: 6:00\n"
        "  shifts: [{name: a, start: 06:00, end: 14:00:30}]\n"
    )
    c = parse_config(text)
    assert c.calendar is not None and c.calendar.day_start == time(6)
    assert (c.calendar.shifts[0].start, c.calendar.shifts[0].end) == (time(6), time(14, 0, 30))
    # A number (e.g. from another YAML loader, or `start: 840`) is not guessed at.
    raw = yaml.safe_load("timezone: UTC\nshifts: [{name: a, start: 14:00, end: '22:00'}]")
    assert raw["shifts"][0]["start"] == 840
    with pytest.raises(ValidationError, match='write times in quotes, e.g. "06:00"'):
        CalendarConfig.model_validate(raw)


SHIFT = "shifts: [{name: a, start: %s, end: '14:00'}]"
PLAN = "planned: [{start: %s, end: %s, kind: %s}]"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "calendar: {timezone: Europe/Berln}",
            "calendar.timezone: unknown time zone 'Europe/Berln'; did you mean 'Europe/Berlin'? "
            "write an IANA name, e.g. Europe/Berlin or UTC",
        ),
        (
            "calendar: {day_start: '06:00'}",
            "calendar.timezone: required field is missing",
        ),
        (
            "calendar: {timezone: UTC, %s}" % (SHIFT % "360"),
            'calendar.shifts[0].start: write times in quotes, e.g. "06:00"',
        ),
        (
            "calendar: {timezone: UTC, %s}" % (SHIFT % "'24:00'"),
            "calendar.shifts[0].start: 24:00 is not a time of day: write 00:00 "
            "(an end <= start is next day)",
        ),
        (
            "calendar: {timezone: UTC, %s}" % (SHIFT % "'25:00'"),
            "calendar.shifts[0].start: '25:00' is not a time of day: hours go 00-23, minutes 00-59",
        ),
        (
            "calendar: {timezone: UTC, %s}" % (SHIFT % "6am"),
            'calendar.shifts[0].start: \'6am\' is not a time of day: write "HH:MM" or "HH:MM:SS"',
        ),
        (
            "calendar: {timezone: UTC, shifts: [{name: a, start: '06:00', end: '14:00', "
            "days: mon-fry}]}",
            "calendar.shifts[0].days: 'fry' is not a weekday: write mon, tue, wed, thu, fri, "
            "sat or sun",
        ),
        (
            "calendar: {timezone: UTC, shifts: [{name: a, start: '06:00', end: '14:00', "
            "days: []}]}",
            "calendar.shifts[0].days: days is a list ([mon, tue]), a range (mon-fri), "
            "a weekday or daily",
        ),
        (
            "calendar: {timezone: UTC, shifts: [{name: a, start: '06:00', end: '14:00'}, "
            "{name: a, start: '14:00', end: '22:00'}]}",
            "calendar.shifts[1].name: shift 'a' is already shifts[0]; names must be unique",
        ),
        (
            "calendar: {timezone: UTC, shifts: [{name: a, start: '06:00', end: '14:00'}], "
            "breaks: [{name: lunch, start: '11:30', end: '12:00', shift: b}]}",
            "calendar.breaks[0].shift: names shift 'b', which is not under `shifts` (known: a)",
        ),
        (
            "calendar: {timezone: UTC, %s}"
            % (PLAN % ("2026-12-01T06:00:00", "2026-12-01T10:00:00Z", "maintenance")),
            "calendar.planned[0].start: 2026-12-01T06:00:00 has no UTC offset: add Z or "
            "+01:00, e.g. 2026-12-01T06:00:00+01:00 or 2026-12-01T05:00:00Z",
        ),
        (
            "calendar: {timezone: UTC, %s}"
            % (PLAN % ("2026-12-01", "2026-12-02T00:00:00Z", "other")),
            "calendar.planned[0].start: a date alone is not a date and time: write e.g. "
            "2026-12-01T06:00:00+01:00 or 2026-12-01T05:00:00Z",
        ),
        (
            "calendar: {timezone: UTC, %s}"
            % (PLAN % ("'2026-12-01T10:00:00+01:00'", "2026-12-01T09:00:00Z", "no_order")),
            "calendar.planned[0].end: must be after start (2026-12-01T10:00:00+01:00)",
        ),
        (
            "calendar: {timezone: UTC, %s}"
            % (PLAN % ("2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z", "lunch")),
            "calendar.planned[0].kind: Input should be 'maintenance', 'no_order', 'other' or "
            "'break'",
        ),
        (
            "lines: {l9: {rollup: sum}}",
            "lines.l9: no machine is on line 'l9' (lines in use: l1)",
        ),
        (
            "lines: {l1: {rollup: bottleneck}}",
            "lines.l1.bottleneck: required with rollup: bottleneck; name the line's "
            "bottleneck machine",
        ),
        (
            "lines: {l1: {bottleneck: m1}}",
            "lines.l1.bottleneck: applies only with rollup: bottleneck (rollup is sum)",
        ),
        (
            "lines: {l1: {rollup: bottleneck, bottleneck: m2}}",
            "lines.l1.bottleneck: 'm2' is not a machine of line 'l1' (its machines: m1)",
        ),
        (
            "lines: {l1: {rollup: mean}}",
            "lines.l1.rollup: Input should be 'sum' or 'bottleneck'",
        ),
        (
            "oee: {windows: [15m, shift]}",
            "oee.windows: the `shift` window needs shifts: configure `calendar.shifts`",
        ),
        (
            "oee: {windows: [15m, day, 15m]}",
            "oee.windows: '15m' is listed twice; list each window once",
        ),
        (
            "oee: {windows: [60m, 1h]}",
            "oee.windows: '1h' is the same window as '60m'; list each window once",
        ),
        (
            "oee: {windows: [day, week]}",
            "oee.windows: 'week' is not a window: write a duration (e.g. 15m, 1h, 8h), "
            "shift or day",
        ),
        (
            "reasons: {10: {text: Jam, states: [running]}}",
            "reasons[10].states: a reason explains a stop, not 'running' "
            "(allowed: idle, setup, fault, planned_stop)",
        ),
        (
            "reasons: {10: {text: Jam, category: Mechanical//Feeder}}",
            "reasons[10].category: 'Mechanical//Feeder' has an empty part: write e.g. "
            "Mechanical/Feeder",
        ),
        (
            "reasons: {10: [Jam]}",
            "reasons[10]: a reason is a text, or {text, category, states}",
        ),
        (
            "reasons: {10: {text: Jam, states: []}}",
            "reasons[10].states: List should have at least 1 item after validation, not 0",
        ),
    ],
)
def test_error_messages(extra: str, message: str) -> None:
    assert issues(MINIMAL + extra + "\n") == [message]


def test_errors_in_line_and_machine_calendars_name_their_path() -> None:
    text = MINIMAL + (
        "    calendar: {timezone: UTC, shifts: [{name: a, start: '06:00', end: '14:00', "
        "strat: 1}]}\n"
        "lines: {l1: {calendar: {timezone: UTC, breaks: [{name: b, start: 10:00, "
        "end: 10:15, shift: x}]}}}\n"
    )
    assert issues(text) == [
        "machines[0].calendar.shifts[0].strat: unknown field; did you mean 'start'? "
        "allowed here: days, end, name, start",
        "lines.l1.calendar.breaks[0].shift: names shift 'x', which is not under `shifts` "
        "(known: none)",
    ]


def test_shift_window_with_shifts_only_in_a_machine_calendar() -> None:
    text = MINIMAL + (
        "    calendar: {timezone: UTC, shifts: [{name: a, start: '06:00', end: '18:00'}]}\n"
        "oee: {windows: [shift, day]}\n"
    )
    assert parse_config(text).oee.windows == ["shift", "day"]


def test_reasons_merge_and_override() -> None:
    c = parse_config(FULL)
    merged = c.reasons_for("press1")
    assert sorted(merged) == [10, 20, 30, 31]
    assert merged[10] is c.reasons[10]  # the plant's entry
    assert merged[30] == ReasonConfig(text="Tool change")  # the machine's wins
    assert merged[31].states == [S.FAULT, S.SETUP] and merged[31].category is None
    assert merged[30].states == [S.IDLE, S.SETUP, S.FAULT]  # the default
    assert c.reasons_for("press2") == c.reasons
    assert c.reasons[30].text == "Die change"  # the plant's tree is untouched


def test_reason_short_form() -> None:
    assert ReasonConfig.model_validate("Jam") == ReasonConfig(text="Jam")
    assert ReasonConfig(text="Jam").category_path == ()
    m = MachineConfig.model_validate(
        {
            "id": "m1",
            "modbus": {"host": "h"},
            "tags": {"a": {"address": 0}},
            "ideal_cycle_s": 1,
            "reasons": {"12": "Sensor fault", 13: {"text": "Cat", "category": " A / B "}},
        }
    )
    assert m.reasons == {
        12: ReasonConfig(text="Sensor fault"),
        13: ReasonConfig(text="Cat", category="A/B"),
    }


def test_normaliser_names_reasons_from_the_merged_tree() -> None:
    c = parse_config(FULL)
    press1 = c.machine("press1")
    t0 = datetime(2026, 11, 25, 8, tzinfo=UTC)

    def reason_of(code: int, merged: bool = True) -> str | None:
        reasons = c.reasons_for("press1") if merged else None
        n = MachineNormaliser(press1, reasons=reasons)
        samples = (Sample("code", 3, Quality.GOOD, t0), Sample("reason", code, Quality.GOOD, t0))
        (change,) = n.update(SampleBatch("press1", t0, samples))
        assert isinstance(change, StateChange) and change.state is S.FAULT
        return change.reason

    assert [reason_of(code) for code in (10, 20, 30, 31, 99)] == [
        "Material shortage",
        "Jam",
        "Tool change",
        "Die stuck",
        "99",
    ]
    # Without `reasons`: the machine's own entries only.
    assert [reason_of(code, merged=False) for code in (10, 30)] == ["10", "Tool change"]


def test_deploy_example_configures_the_oee_model() -> None:
    c = load_config(EXAMPLE, env={"MQTT_PASSWORD": "x"})
    assert c.oee.windows == ["15m", "1h", "8h", "shift", "day"]
    assert c.calendar is not None and c.calendar.timezone == "Europe/Berlin"
    assert [s.name for s in c.calendar_for("press3").shifts] == ["early", "late", "night"]
    assert [s.name for s in c.calendar_for("packer1").shifts] == ["early", "late"]
    assert (c.lines["line1"].rollup, c.lines["line1"].bottleneck) == ("bottleneck", "filler3")
    assert c.reasons_for("press3")[12].states == [S.FAULT]
    assert c.reasons_for("filler3")[10].text == "Material shortage"
    assert c.machine("press3").startup_s == 300


def test_check_command_reports_a_calendar_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL + "calendar: {timezone: UTC, day_start: 360}\n")
    r = subprocess.run(
        [sys.executable, "-m", "edge.cli", "check", str(bad)], capture_output=True, text=True
    )
    assert r.returncode == 1
    assert 'calendar.day_start: write times in quotes, e.g. "06:00"' in r.stderr


def test_config_without_oee_sections_is_unchanged() -> None:
    c = parse_config(MINIMAL)
    assert (c.calendar, c.lines, c.reasons) == (None, {}, {})
    assert c.machine("m1").startup_s == 0 and c.machine("m1").calendar is None
    assert c.oee.windows == ["15m", "1h"]
    assert isinstance(c, Config)


def test_round_trip_through_dump() -> None:
    c = parse_config(FULL)
    assert Config.model_validate(c.model_dump()) == c
    assert Config.model_validate_json(c.model_dump_json()) == c
    night = c.model_dump(mode="json")["calendar"]["shifts"][2]
    assert night == {"name": "night", "start": "22:00:00", "end": "06:00:00",
                     "days": ["mon", "tue", "wed", "thu", "sun"]}  # fmt: skip


def test_a_line_sits_in_one_area() -> None:
    text = HEAD + "machines:" + MACHINE % "m1" + MACHINE % "m2" + "    area: a2\n"
    assert issues(text) == [
        "machines[1].area: line 'l1' is in area 'a1' (machines[0]); a line sits in one area: "
        "give this machine area 'a1' or another line"
    ]
    moved = HEAD + "machines:" + MACHINE % "m1" + MACHINE % "m2" + "    area: a2\n    line: l9\n"
    assert parse_config(moved).line_machines("l9") == ["m2"]
