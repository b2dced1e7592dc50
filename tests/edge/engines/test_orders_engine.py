"""The order engine, hand-computed with a fake clock: progress and the expected
completion across a break, an order paused and resumed, the queue with its changeover,
the intake (the same order twice, a changed one, a refused line naming its field), and
the book and its counts across a restart through the outbox's real meta."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.orders import ChangeoverDone, OrderCommand, OrderProgress
from core.types import (
    CountDelta,
    Event,
    MachineState,
    ProductChanged,
    Quality,
    Sample,
    SampleBatch,
    ScrapBooked,
    StateChange,
)
from edge.config.loading import parse_config
from edge.engines.order_intake import MAX_INTAKE_BYTES
from edge.engines.orders import OrderEngine
from edge.outbox import Outbox

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # a Monday, 08:00 UTC
S = MachineState
CONFIG = """
gateway: {id: gw}
site: s
area: a
line: l1
calendar:
  timezone: UTC
  shifts:
    - {name: early, start: "06:00", end: "14:00"}
    - {name: late, start: "14:00", end: "22:00"}
  breaks: [{name: lunch, start: "10:00", end: "10:30", shift: early}]
machines:
  - id: press1
    modbus: {host: 127.0.0.1}
    tags: {code: {address: 0}}
    ideal_cycle_s: 5
    products: {p1: {ideal_cycle_s: 5}, p2: {ideal_cycle_s: 10, name: Part two}}
orders:
  changeover_standards: [{from: "*", to: p2, standard_s: 480}]
  fixed:
    - {id: A, product: p1, quantity: 1000, due: "2026-12-07T12:00:00Z", machine: press1,
       planned_start: "2026-12-07T08:00:00Z", customer: ACME}
"""


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def hm(text: str) -> datetime:
    h, m, *s = (int(x) for x in text.split(":"))
    return T0.replace(hour=h, minute=m, second=s[0] if s else 0)


def engine_of(text: str = CONFIG) -> OrderEngine:
    return OrderEngine(parse_config(text, "t.yaml", {}))


def published(engine: OrderEngine, now: datetime) -> list[Event]:
    return [e for batch in engine.publications(now) for e in batch]


def progress(engine: OrderEngine, now: datetime) -> OrderProgress:
    """The last `OrderProgress` published at `now` (the retained `…/order`)."""
    return [e for e in published(engine, now) if isinstance(e, OrderProgress)][-1]


def count(engine: OrderEngine, t: datetime, good: int, product: str = "p1") -> None:
    engine.apply(CountDelta("press1", t, good, good, 0, product))


def state(engine: OrderEngine, s: MachineState, t: datetime) -> None:
    engine.apply(StateChange("press1", s, None, t, None, None, 0))


def command(engine: OrderEngine, action: str, t: datetime, order: str = "A") -> None:
    engine.observe([OrderCommand("press1", t, order, action, "op")])  # type: ignore[arg-type]


def run_a(engine: OrderEngine, minutes: range) -> None:
    for i in minutes:
        count(engine, at(i), 6)  # 6 good parts a minute: 0.1 per second


def test_progress_and_the_expected_end_across_the_lunch_break() -> None:
    engine = engine_of()
    state(engine, S.RUNNING, at(0))
    command(engine, "start", at(0))
    run_a(engine, range(1, 91))  # 08:01 .. 09:30: 540 good
    p = progress(engine, at(90))
    assert (p.order and p.order.id, p.source) == ("A", "operator")
    g = p.progress
    assert g is not None
    assert (g.good, g.remaining, g.percent, g.production_s) == (540, 460, 54.0, 5400.0)
    assert (g.rate_now, g.rate_shift) == (pytest.approx(0.1), pytest.approx(0.1))
    # 460 parts at 0.1/s: 4600 s of production time from 09:30, 600 s before lunch
    # and 4000 s after it (10:30 + 66 min 40 s).
    assert g.eta_now == hm("11:16:40") and g.eta_shift == hm("11:16:40")
    assert g.eta_ideal == hm("10:38:20")  # 460 x 5 s = 2300 s: 09:30 + 30 min + lunch
    assert g.status == "at_risk"  # after 11:00, the due time less the hour's margin
    assert p.state_s == {"running": 5400.0}
    assert p.oee == pytest.approx(540 * 5 / 5400)


def test_an_order_paused_and_resumed_leaves_out_the_pause() -> None:
    engine = engine_of()
    state(engine, S.RUNNING, at(0))
    command(engine, "start", at(0))
    run_a(engine, range(1, 91))
    assert progress(engine, at(90)).order is not None  # published: the retained document
    command(engine, "pause", at(90))
    state(engine, S.IDLE, at(90))
    left, none = [e for e in published(engine, at(95)) if isinstance(e, OrderProgress)]
    assert left.ts == at(90) and left.run and left.run.paused == ((at(90), None),)
    assert none == OrderProgress("press1", at(95))  # none runs now
    assert published(engine, at(96)) == []  # said once
    run_a(engine, range(91, 100))  # made while paused: not the order's
    command(engine, "resume", at(100))
    state(engine, S.RUNNING, at(100))
    run_a(engine, range(101, 111))  # 09:41 .. 09:50: 60 more
    p = progress(engine, at(110))
    g, run = p.progress, p.run
    assert g is not None and run is not None
    assert run.paused == ((at(90), at(100)),)
    assert (g.good, g.remaining, g.production_s) == (600, 400, 6000.0)
    # The window of 900 s reaches back over the pause: 09:25-09:30 and 09:40-09:50,
    # 30 + 6 + 54 parts.
    assert g.rate_now == pytest.approx(0.1)
    assert g.eta_now == hm("11:26:40")  # 600 s to lunch, 3400 s after it
    assert p.state_s == {"running": 6000.0}
    assert not [e for e in published(engine, at(111)) if isinstance(e, ChangeoverDone)]


QUEUE = CONFIG.replace(
    """  fixed:
    - {id: A, product: p1, quantity: 1000, due: "2026-12-07T12:00:00Z", machine: press1,
       planned_start: "2026-12-07T08:00:00Z", customer: ACME}""",
    """  fixed:
    - {id: B, product: p2, quantity: 100, due: "2026-12-07T12:00:00Z", machine: press1,
       planned_start: "2026-12-07T09:00:00Z"}
    - {id: A, product: p1, quantity: 10, due: "2026-12-07T12:00:00Z", machine: press1,
       planned_start: "2026-12-07T08:00:00Z"}""",
)


def test_the_queue_runs_orders_in_turn_with_the_changeover_between() -> None:
    engine = engine_of(QUEUE)
    products: list[tuple[str, str | None]] = []

    def set_product(machine: str, product: str | None) -> str | None:
        products.append((machine, product))
        return "p1" if product == "p2" else None

    engine.bind_products(set_product)
    state(engine, S.RUNNING, at(0))
    first = progress(engine, at(0))
    assert first.order and (first.order.id, first.source) == ("A", "queue")
    assert first.progress and first.progress.status == "not_started"
    for i in range(1, 11):  # 08:00:10 .. 08:01:40, one part each 10 s: A is made
        count(engine, at(i / 6), 1)
    state(engine, S.SETUP, at(2))
    state(engine, S.RUNNING, at(12))
    for i in range(1, 31):  # B from 08:12:10, a part each 10 s (its ideal) to 08:17:00
        count(engine, at(12 + i / 6), 1, "p2")
    assert products == [("press1", "p1"), ("press1", "p2")]
    out = published(engine, at(17.1))
    (changed,) = [e for e in out if isinstance(e, ProductChanged)]
    assert (changed.ts, changed.product, changed.previous, changed.name, changed.by) == (
        at(10 / 6), "p2", "p1", "Part two", "order B"
    )  # fmt: skip
    (done,) = [e for e in out if isinstance(e, ChangeoverDone)]
    c = done.changeover
    assert (c.from_product, c.to_product, c.from_order, c.to_order) == ("p1", "p2", "A", "B")
    assert (c.start, c.end, c.duration_s) == (at(2), at(12), 600.0)
    # 27 parts (0.9 x 300 s / 10 s) in (08:12, 08:17]: 30 came, at rate from the end.
    assert (c.at_rate, c.parts_to_rate) == (at(12), 0)
    assert (done.seq, done.standard_s, done.loss_s) == (1, 480.0, 120.0)
    final, p = [e for e in out if isinstance(e, OrderProgress)]
    assert final.ts == at(10 / 6) and final.order and final.order.id == "A"
    assert final.progress and final.progress.status == "done"
    assert (final.progress.finished, final.progress.on_time) == (at(10 / 6), True)
    assert p.order and p.order.id == "B" and p.run and p.run.started == at(12 + 1 / 6)
    assert p.progress and p.progress.good == 30
    a = engine.book.runs["A"]
    assert (a.started, a.ended, a.good) == (at(1 / 6), at(10 / 6), 10)
    assert [e for e in published(engine, at(20)) if isinstance(e, ChangeoverDone)] == []


ORDERS = [
    {"id": "W1", "product": "p1", "quantity": 50, "due": "2026-12-08T12:00:00+01:00",
     "machine": "press1"},
    {"id": "W2", "product": "p2", "quantity": 20, "due": "2026-12-08T14:00:00Z",
     "machine": "press1", "planned_start": "2026-12-08T08:00:00Z", "ideal_cycle_s": 9.5,
     "customer": "Ore"},
]  # fmt: skip


def test_the_same_orders_sent_twice_change_nothing_a_changed_one_updates() -> None:
    engine = engine_of()
    changed, errors = engine.intake(json.dumps(ORDERS).encode())
    assert ([o.id for o in changed], errors) == (["W1", "W2"], [])
    assert engine.book.orders["W1"].due == datetime(2026, 12, 8, 11, 0, tzinfo=UTC)
    assert engine.intake(json.dumps(ORDERS).encode()) == ([], [])
    again = {**ORDERS[1], "quantity": 25}
    changed, _ = engine.intake(json.dumps(again).encode())  # one object, not a list
    assert [(o.id, o.quantity) for o in changed] == [("W2", 25)]
    assert sorted(engine.book.orders) == ["A", "W1", "W2"] and engine.refused == 0


def test_a_refused_order_names_its_place_and_field_is_counted_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = engine_of()
    bad = [ORDERS[0], {**ORDERS[1], "due": "2026-12-08T14:00:00"},
           {**ORDERS[1], "id": "W3", "machine": "nope"}]  # fmt: skip
    with caplog.at_level(logging.WARNING, "edge.orders"):
        changed, errors = engine.intake(json.dumps(bad).encode())
        engine.intake(json.dumps(bad).encode())
    assert [o.id for o in changed] == ["W1"]
    assert errors == [
        "[1].due: Input should have timezone info",
        "[2].machine: no machine 'nope' (known: press1)",
    ]
    assert engine.refused == 4
    logged = [r.getMessage() for r in caplog.records]
    assert logged == [f"order refused at the intake: {e}" for e in errors]
    assert engine.intake(b"{oops") == ([], ["payload: not JSON (Expecting property name "
                                           "enclosed in double quotes: line 1 column 2 "
                                           "(char 1))"])  # fmt: skip


def test_a_restart_keeps_the_book_the_run_and_its_counts(tmp_path: Path) -> None:
    engine = engine_of()
    engine.intake(json.dumps(ORDERS[0]).encode())
    state(engine, S.RUNNING, at(0))
    command(engine, "start", at(0))
    run_a(engine, range(1, 31))
    out = published(engine, at(30))
    meta = engine.checkpoint(out)
    assert sorted(meta) == ["orders/press1", "orders/press1/runs"]
    box = Outbox(tmp_path / "outbox.sqlite", max_bytes=2**30)
    box.open()
    box.append([], meta=meta)
    box.close()
    box = Outbox(tmp_path / "outbox.sqlite", max_bytes=2**30)
    box.open()
    stored = box.read_meta()
    box.close()
    again = engine_of()
    again.restore(stored)
    assert sorted(again.book.orders) == ["A", "W1"]
    state(again, S.RUNNING, at(40))
    run_a(again, range(41, 51))  # 60 more after the restart
    p = progress(again, at(50))
    assert p.order and p.order.id == "A" and p.source == "operator"
    assert p.progress and (p.progress.good, p.progress.remaining) == (240, 760)
    assert p.state_s == {"running": 1800.0 + 600.0}  # down 08:30-08:40: no order's time


TAGGED = CONFIG.replace(
    "    ideal_cycle_s: 5\n", "    ideal_cycle_s: 5\n    order_tag: order\n", 1
).replace("tags: {code: {address: 0}}", "tags: {code: {address: 0}, order: {address: 1}}")


def tag(engine: OrderEngine, t: datetime, value: object, q: Quality = Quality.GOOD) -> None:
    engine.take_samples(SampleBatch("press1", t, (Sample("order", value, q, t),)))  # type: ignore[arg-type]


def test_the_order_tag_decides_which_order_runs(caplog: pytest.LogCaptureFixture) -> None:
    engine = engine_of(TAGGED)
    assert engine.sampled() == frozenset({"press1"})
    engine.intake(json.dumps({**ORDERS[0], "id": "1001"}).encode())
    state(engine, S.RUNNING, at(0))
    run_a(engine, range(1, 3))  # no order in the tag yet: none runs
    tag(engine, at(3), 1001.0)  # a number as the PLC holds it
    run_a(engine, range(4, 6))
    tag(engine, at(6), 0)  # 0: none
    with caplog.at_level(logging.WARNING, "edge.orders"):
        command(engine, "start", at(6), "A")  # the tag decides, not the operator
        tag(engine, at(7), 77, Quality.BAD)  # an unknown value changes nothing
        tag(engine, at(8), "X9")
    run = engine.book.runs["1001"]
    assert (run.started, run.good, run.paused) == (at(3), 12, [(at(6), None)])
    assert engine.machines["press1"].current is None and engine.book.runs["A"].started is None
    assert [r.getMessage() for r in caplog.records] == [
        "press1: start of A ignored (not this machine's or tag-driven)",
        "press1: order tag names unknown order 'X9'",
    ]


def test_a_changeover_that_never_reaches_rate_completes_after_twice_the_ramp_window() -> None:
    engine = engine_of(QUEUE)
    state(engine, S.RUNNING, at(0))
    for i in range(1, 11):
        count(engine, at(i / 6), 1)
    state(engine, S.SETUP, at(2))
    state(engine, S.RUNNING, at(12))
    for i in range(1, 30):  # a part of p2 each 30 s: a third of its ideal rate
        count(engine, at(12 + i / 2), 1, "p2")
    assert [e for e in published(engine, at(21.9)) if isinstance(e, ChangeoverDone)] == []
    (done,) = [e for e in published(engine, at(22)) if isinstance(e, ChangeoverDone)]
    assert (done.ts, done.changeover.at_rate, done.changeover.parts_to_rate) == (at(22), None, None)


def test_a_done_order_leaves_the_book_a_week_after_it_ended() -> None:
    engine = engine_of()
    engine.intake(json.dumps({**ORDERS[0], "quantity": 6}).encode())
    command(engine, "start", at(0), "W1")
    run_a(engine, range(1, 2))  # its 6 parts
    command(engine, "end", at(2), "W1")
    published(engine, at(2) + timedelta(days=7))
    assert "W1" in engine.book.orders  # a week to the minute: kept
    published(engine, at(3) + timedelta(days=7))
    assert sorted(engine.book.orders) == ["A"]  # the config's order is kept


def test_counts_after_the_last_publication_survive_a_restart(tmp_path: Path) -> None:
    """Each commit of counts carries the runs they changed (not only each publication):
    a crash between two publications loses no part of an order. Found on review: the
    parts counted after the last `…/order` publication were lost at a restart."""
    engine = engine_of()
    engine.intake(json.dumps(ORDERS[0]).encode())
    state(engine, S.RUNNING, at(0))
    command(engine, "start", at(0))
    run_a(engine, range(1, 31))  # 30 x 6 = 180 good
    meta = dict(engine.checkpoint(published(engine, at(30))))
    for i in range(31, 36):  # 5 x 6 = 30 more, each committed with its count only
        e = CountDelta("press1", at(i), 6, 6, 0, "p1")
        engine.apply(e)
        meta.update(engine.checkpoint([e]))
    engine.observe([ScrapBooked("press1", at(35.5), 2, 7, "burr", "op")])
    meta.update(engine.checkpoint([ScrapBooked("press1", at(35.5), 2, 7, "burr", "op")]))
    again = engine_of()
    again.restore(meta)  # killed here: no publication after minute 30
    run = again.book.runs["A"]
    assert (run.good, run.reject, run.scrap) == (210, 0, 2)
    assert again.machines["press1"].current == "A"
    state(again, S.RUNNING, at(40))
    count(again, at(41), 6)
    p = progress(again, at(41))
    assert p.progress and (p.progress.good, p.progress.remaining) == (216, 784)


def test_a_changeover_across_the_lunch_break_leaves_the_break_out() -> None:
    """A done 09:50, setup from 09:55, B's first part 10:35: the span 09:55-10:35 is
    2400 s, less the calendar's lunch 10:00-10:30 (the machine reported setup through
    it) = 600 s, against the standard 480 s: loss 120 s."""
    engine = engine_of(QUEUE)
    state(engine, S.RUNNING, hm("9:48"))
    for i in range(1, 11):  # A: a part each 10 s, 09:48:20 .. 09:49:50
        count(engine, hm("9:48") + timedelta(seconds=10 + 10 * i), 1)
    state(engine, S.SETUP, hm("9:55"))
    state(engine, S.RUNNING, hm("10:35"))
    for i in range(1, 31):  # B: a part each 10 s from 10:35:10
        count(engine, hm("10:35") + timedelta(seconds=10 * i), 1, "p2")
    (done,) = [e for e in published(engine, hm("10:40:10")) if isinstance(e, ChangeoverDone)]
    c = done.changeover
    assert (c.start, c.end, c.duration_s) == (hm("9:55"), hm("10:35"), 600.0)
    assert (done.standard_s, done.loss_s) == (480.0, 120.0)


def test_an_operators_order_made_before_due_stays_on_time_after_due() -> None:
    """A (1,000 due 12:00) started by hand, 1,000 good by 10:46:40 and never ended: at
    13:00 it is done at 10:46:40 and on time (it was "late" at any look after 12:00)."""
    engine = engine_of()
    state(engine, S.RUNNING, at(0))
    command(engine, "start", at(0))
    for i in range(1, 101):  # 10 good each 100 s: 1,000 at 08:00 + 10,000 s = 10:46:40
        count(engine, at(i * 100 / 60), 10)
    p = progress(engine, hm("13:00"))
    assert p.order and p.order.id == "A" and p.progress
    assert (p.progress.status, p.progress.finished, p.progress.on_time) == (
        "done", hm("10:46:40"), True
    )  # fmt: skip
    assert engine.book.runs["A"].ended is None  # an operator's order waits for its end


def test_an_intake_message_over_the_size_limit_is_refused_unread() -> None:
    engine = engine_of()
    big = b"[" + b" " * MAX_INTAKE_BYTES + b"]"
    assert engine.intake(big) == (
        [], ["payload: 1,048,578 bytes, more than 1,048,576: send the orders in smaller lists"]
    )  # fmt: skip
    assert (engine.refused, sorted(engine.book.orders)) == (1, ["A"])


SAME = QUEUE.replace("{id: B, product: p2,", "{id: B, product: p1,")


def test_the_next_order_of_the_same_product_without_a_stop_is_no_changeover() -> None:
    """A (10 of p1) then B (p1 too) straight on, no stop: nothing was set up, so no
    changeover is recorded (a 0 s one pulled the pair's median down). Found on review
    in the demo (201 -> 201). A stop between them would make it one."""
    engine = engine_of(SAME)
    state(engine, S.RUNNING, at(0))
    for i in range(1, 21):  # a part each 10 s: A's 10, then B's first 10
        count(engine, at(i / 6), 1)
    out = published(engine, at(30))
    assert [e for e in out if isinstance(e, ChangeoverDone)] == []
    assert (engine.book.runs["A"].good, engine.book.runs["B"].good) == (10, 10)
    assert engine.machines["press1"].pending is False
