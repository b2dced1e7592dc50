"""`oee-edge demo`'s parts: its calendar moved to its start, its port probe, its data
directory and its options. The demo as a process: tests/integration/test_demo.py."""

from __future__ import annotations

import errno
import socket
import struct
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.cli.demo import demo_config, demo_data_dir, demo_shifts, port_or_free
from edge.cli.main import build_parser, main
from edge.cli.startup import StartupError
from edge.pipeline.part_record import split_reads
from oee.calendar import PlannedStop, ShiftInstance
from oee.spc import RuleSet, RuleTracker, Subgroup, compute_limits, judge
from simulators.scenario import load_scenario

UTC_START = datetime(2026, 12, 7, 0, 12, 34, 567000, tzinfo=UTC)


def test_the_early_shift_begins_at_the_demos_start_to_the_second() -> None:
    shifts = demo_shifts(UTC_START)
    # 00:12:34.567Z is 01:12:34.567 in Berlin (CET, +1); shifts have whole seconds.
    assert shifts.env == {
        "EARLY": "01:12:34",
        "LATE": "09:12:34",  # + 8 h
        "NIGHT": "17:12:34",  # + 16 h
        "BREAK_START": "01:15:34",  # + 3 min
        "BREAK_END": "01:17:34",  # + 5 min
    }
    assert shifts.describe() == (
        "early since 2026-12-07 01:12:34 Europe/Berlin (8 h; a 2 min break at 01:15:34)"
    )
    cal = demo_config("/tmp/x", 5020, 1883, 8080, shifts=shifts).calendar_for("press1")
    start = datetime(2026, 12, 7, 0, 12, 34, tzinfo=UTC)
    early = ShiftInstance("early", start, start + timedelta(hours=8))
    now = cal.shift_at(UTC_START)
    assert now == early
    assert now is not None and now.id == "2026-12-07/early"  # the local date it starts on
    assert cal.day_window(UTC_START) == (start, start + timedelta(days=1))
    late = cal.shift_at(start + timedelta(hours=8))
    night = cal.shift_at(start + timedelta(hours=16))
    assert (late and late.name, night and night.name) == ("late", "night")
    # The break: 3 to 5 minutes in, planned stop time of the early shift.
    stops = cal.planned_stops(start, start + timedelta(hours=1))
    brk = PlannedStop(start + timedelta(minutes=3), start + timedelta(minutes=5), "break", "break")
    assert stops == [brk]


def test_a_demo_started_before_the_spring_dst_change_has_a_seven_hour_early_shift() -> None:
    # 2026-03-28 20:30Z = 21:30 CET. Late begins at 05:30 local on the 29th, after the
    # clocks went 02:00 -> 03:00: 05:30 CEST = 03:30Z, 7 h after the start.
    shifts = demo_shifts(datetime(2026, 3, 28, 20, 30, tzinfo=UTC))
    assert (shifts.env["EARLY"], shifts.env["LATE"]) == ("21:30:00", "05:30:00")
    cal = demo_config("/tmp/x", 5020, 1883, 8080, shifts=shifts).calendar_for("press1")
    early = cal.shift_at(datetime(2026, 3, 28, 20, 30, tzinfo=UTC))
    assert early is not None and early.name == "early"
    assert (early.start, early.end) == (
        datetime(2026, 3, 28, 20, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 3, 30, tzinfo=UTC),
    )


def test_the_demos_orders_are_due_minutes_after_its_start_in_simulated_time() -> None:
    start = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    shifts = demo_shifts(start)
    orders = demo_config("/tmp/x", 5020, 1883, 8080, shifts=shifts).orders
    due = {o.id: (o.machine, o.due - start, o.planned_start) for o in orders.fixed}
    assert due == {
        "1001": ("press1", timedelta(minutes=20), start),
        "2001": ("press2", timedelta(minutes=10), start),
        "2002": ("press2", timedelta(minutes=15), None),
    }
    # At 30x the simulator's 20 minutes are 40 s of the gateway's clock, its windows and
    # the at-risk margin alike.
    fast = demo_config("/tmp/x", 5020, 1883, 8080, 30.0, shifts=shifts).orders
    assert {o.id: o.due - start for o in fast.fixed}["1001"] == timedelta(seconds=40)
    assert (fast.at_risk_margin_s, fast.ramp_window_s) == (10.0, 2.0)


def test_press1_publishes_its_raw_tags() -> None:
    c = demo_config("/tmp/x", 5020, 1883, 8080)
    assert [m.id for m in c.machines if m.publish_tags] == ["press1"]


def _port_in_time_wait() -> int:
    """A loopback port whose server closed its end first (as a server does at a stop):
    the server's socket lingers in TIME_WAIT on that port for a minute."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = int(listener.getsockname()[1])
        client = socket.create_connection(("127.0.0.1", port))
        served, _ = listener.accept()
        served.close()  # the server closes first ...
        time.sleep(0.05)
        client.close()  # ... the client answers
        time.sleep(0.05)
    return port


def test_the_probe_takes_a_port_in_time_wait_again() -> None:
    port = _port_in_time_wait()
    with socket.socket() as plain, pytest.raises(OSError) as taken:
        plain.bind(("127.0.0.1", port))  # what the probe did before: "in use"
    assert taken.value.errno == errno.EADDRINUSE
    assert port_or_free(port) == port


def test_the_probe_moves_off_a_port_someone_listens_on() -> None:
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = int(listener.getsockname()[1])
        other = port_or_free(port)
        assert other != port and 1024 <= other <= 65535


def test_a_temporary_data_dir_is_removed_however_the_demo_ends(tmp_path: Path) -> None:
    seen: list[Path] = []
    with demo_data_dir(None) as d:
        (d / "oee.sqlite").write_bytes(b"x")
        seen.append(d)
    for failure in (StartupError(["api.port: 8080 is in use"]), KeyboardInterrupt()):
        with pytest.raises(type(failure)), demo_data_dir(None) as d:
            (d / "outbox.sqlite").write_bytes(b"x")
            seen.append(d)
            raise failure
    assert len(set(seen)) == 3
    assert [d.name.startswith("oee-edge-demo-") for d in seen] == [True] * 3
    assert [d.exists() for d in seen] == [False] * 3


def test_a_given_data_dir_is_kept(tmp_path: Path) -> None:
    given = tmp_path / "demo-data"
    with pytest.raises(KeyboardInterrupt), demo_data_dir(str(given)) as d:
        assert d == given and d.is_dir()  # made, as the gateway makes its data_dir
        (d / "oee.sqlite").write_bytes(b"x")
        raise KeyboardInterrupt
    assert (given / "oee.sqlite").read_bytes() == b"x"
    a_file = tmp_path / "f"
    a_file.write_text("")
    with pytest.raises(StartupError) as info, demo_data_dir(str(a_file)) as never:
        raise AssertionError(f"a file as --data-dir was taken: {never}")
    assert info.value.lines[0].startswith(f"--data-dir: {a_file} is a file, not a directory")


def test_every_demo_option_says_what_it_does_and_its_default() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    demo = sub.choices["demo"]  # type: ignore[index]
    options = [a for a in demo._actions if a.option_strings and a.dest != "help"]
    assert [a.option_strings[0] for a in options] == [
        "--api-port", "--mqtt-port", "--modbus-port", "--opcua-port", "--protocol",
        "--data-dir", "--time-scale", "--log-level", "--log-format",
    ]  # fmt: skip
    assert [a.dest for a in options if not a.help] == []
    assert [a.dest for a in options if "default" not in (a.help or "")] == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--api-port", "0"], "argument --api-port: 0 is not a TCP port: write 1 to 65535"),
        (["--mqtt-port", "70000"], "argument --mqtt-port: 70000 is not a TCP port"),
        (["--modbus-port", "x"], "argument --modbus-port: invalid _port value: 'x'"),
        (["--time-scale", "0"], "argument --time-scale: 0: write a factor from 0.01 to 1000"),
        (["--time-scale", "nan"], "argument --time-scale: nan: write a factor from 0.01 to"),
    ],
)
def test_bad_demo_options_are_refused_before_anything_starts(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["demo", *argv])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def _filler_readings(until_s: float) -> list[tuple[int, float, float]]:
    """(part, fill weight as the gateway reads it: float32, sim time) of each part the
    demo's filler1 makes until `until_s`, read as a per-part chart reads: at the poll
    where the part counter moved (here every 0.25 s, the demo's poll at 1x)."""
    model = load_scenario("demo").model("filler1", history_size=None)
    out: list[tuple[int, float, float]] = []
    for tick in range(1, int(until_s * 4) + 1):
        model.advance_to(tick / 4)
        snap = model.snapshot()
        if snap.parts > len(out):
            assert snap.parts == len(out) + 1, "a poll every 0.25 s sees every part"
            weight = struct.unpack("<f", struct.pack("<f", snap.fill_weight))[0]
            out.append((snap.parts, weight, snap.sim_t))
    return out


def test_the_demo_fill_weight_gets_trial_limits_then_breaks_we1_after_its_drift() -> None:
    # The demo's SPC story, replayed from its simulator scenario through oee.spc with the
    # chart demo.yaml configures, at 1x and with the gateway reading from part 1.
    config = demo_config("/tmp/x", 5020, 1883, 8080)
    chart = config.spc.charts[0]
    # The counter from the part record (138), read with the weight: each part's own weight.
    assert config.machine("filler1").modbus_tags["total"].address == 138
    assert split_reads(config) == []
    assert (chart.id, chart.machine, chart.kind, chart.tag) == (
        "filler1-weight", "filler1", "xbar_r", "fill_weight",
    )  # fmt: skip
    assert (chart.subgroup.size, chart.subgroup.per_part, chart.baseline_subgroups) == (5, True, 20)
    assert chart.spec is not None and (chart.spec.lsl, chart.spec.usl) == (495, 505)
    readings = _filler_readings(420)
    n = chart.subgroup.size
    groups = [
        Subgroup(datetime.fromtimestamp(readings[i + n - 1][2], UTC),
                 tuple(r[1] for r in readings[i : i + n]))
        for i in range(0, len(readings) - n + 1, n)
    ]  # fmt: skip
    # Part k is done at 5 + 2k s; the drift (+2 g from 300 s) begins at part 148.
    assert [r[0] for r in readings if r[2] < 300][-1] == 147
    trial = compute_limits("xbar_r", groups[:20])  # parts 1-100, done at 205 s
    assert readings[99][2] == 205
    # Montgomery (8th ed.) eq. 6.4 and Appendix VI: X̄̄ ± A2·R̄, A2(5) = 0.577.
    xbb = sum(sum(g.values) / n for g in groups[:20]) / 20
    rbar = sum(max(g.values) - min(g.values) for g in groups[:20]) / 20
    assert (trial.center, trial.ucl) == (
        pytest.approx(xbb),
        pytest.approx(xbb + 0.577 * rbar, abs=2e-3),
    )
    rules = RuleSet(western_electric=frozenset(chart.rules.western_electric))
    tracker = RuleTracker(rules)
    broken = []
    for seq, g in enumerate(groups[20:], start=21):
        found = tracker.add(seq, judge("xbar_r", g, trial))
        if found:
            broken.append((seq, groups[seq - 1].ts.timestamp(), [v.rule for v in found]))
    # None before the drift; subgroup 31 (parts 151-155, done at 315 s) breaks WE1 and
    # subgroup 32 WE1 and WE2 (32 and 31 both beyond 2σ).
    assert broken[:2] == [(31, 315, ["WE1"]), (32, 325, ["WE1", "WE2"])]
