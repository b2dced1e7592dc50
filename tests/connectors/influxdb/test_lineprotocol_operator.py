"""Exact line protocol of the operator's input: `scrap`, `stop_planned` (and the stop's
`machine_state` point with its planned kind), `shift_note`, `product_change`, and the
shift report's summary `shift_report` (README "InfluxDB")."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.influxdb.lineprotocol import encode
from core.report import ShiftReportDone
from core.types import (
    MachineRef,
    MachineState,
    ProductChanged,
    ScrapBooked,
    ShiftNote,
    ShiftRef,
    StopPlanned,
)

REF = MachineRef(site="s1", area="a1", line="l1", machine="m1")
TAGS = "area=a1,line=l1,machine=m1,site=s1"
T0 = datetime(2026, 11, 25, 10, 5, 0, tzinfo=UTC)  # 1795601100 s
STOP = datetime(2026, 11, 25, 10, 0, 0, 123000, tzinfo=UTC)


def test_scrap_line() -> None:
    ev = ScrapBooked("m1", T0, 5, 102, "Dent", "ops", None, "101", None, 44, 1)
    assert encode(ev, REF) == [
        f'scrap,{TAGS} quantity=5i,reason_code=102i,reason="Dent",product="101",by="ops",'
        "count_seq=44i,seq=1i 1795601100000000000"
    ]


def test_planned_lines_and_undo() -> None:
    ev = StopPlanned("m1", STOP, MachineState.IDLE, T0, "ops", "meeting", "Shift meeting", seq=1)
    assert encode(ev, REF) == [
        f'stop_planned,{TAGS} stop_ts=1795600800123i,state="idle",kind="meeting",'
        'reason="Shift meeting",by="ops",seq=1i 1795601100000000000',
        f'machine_state,{TAGS} state="idle",code=2i,planned_kind="meeting",'
        'planned_reason="Shift meeting" 1795600800123000000',
    ]
    undo = StopPlanned("m1", STOP, MachineState.IDLE, T0, "ops", None, None, "meeting", None, 2)
    assert encode(undo, REF)[1] == (
        f'machine_state,{TAGS} state="idle",code=2i,planned_kind="",planned_reason="" '
        "1795600800123000000"
    )


def test_shift_note_line() -> None:
    ev = ShiftNote("l1", "a1", "2026-11-25/late", 'Die "4" worn', T0, "ops")
    assert encode(ev, REF) == [
        'shift_note,area=a1,line=l1,site=s1 shift="2026-11-25/late",text="Die \\"4\\" worn",'
        'by="ops" 1795601100000000000'
    ]


def test_product_change_line() -> None:
    # Unset strings are left out (InfluxDB has no null): back to the default product.
    ev = ProductChanged("m1", T0, "102", "101", "line3-tablet", "Bracket B")
    assert encode(ev, REF) == [
        f'product_change,{TAGS} product="102",name="Bracket B",previous="101",'
        'by="line3-tablet" 1795601100000000000'
    ]
    back = ProductChanged("m1", T0, None, "102", "ops")
    assert encode(back, REF) == [
        f'product_change,{TAGS} previous="102",by="ops" 1795601100000000000'
    ]


def test_shift_report_line_with_the_orders() -> None:
    """tests/api/report_orders_plant.py's shift: 2 orders (1 late), a changeover 300 s
    over its standard, attainment 0.7172, OTD 1 of 2; no target (left out)."""
    shift = ShiftRef("2026-11-25/early", "early", "2026-11-25", T0, T0, "UTC")
    ev = ShiftReportDone(
        "l1", "a1", shift, T0, 0.5, 0.8, 0.75, 0.9, 1965, 35, 2000, None, None, (), 2, 1200.0,
        15, 1, "{}", orders=2, orders_late=1, changeovers=1, changeover_loss_s=300.0,
        plan_attainment=0.7172, otd_count=0.5,
    )  # fmt: skip
    assert encode(ev, REF) == [
        'shift_report,area=a1,line=l1,site=s1 shift="2026-11-25/early",oee=0.5,'
        "availability=0.8,performance=0.75,quality=0.9,good=1965i,reject=35i,total=2000i,"
        "stops=2i,stop_s=1200.0,scrap=15i,alarms=1i,orders=2i,orders_late=1i,changeovers=1i,"
        "changeover_loss_s=300.0,plan_attainment=0.7172,otd_count=0.5 1795601100000000000"
    ]
