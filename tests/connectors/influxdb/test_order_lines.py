"""The order events as line protocol: `order`, `changeover`, `order_command` (README
"InfluxDB"), exact lines."""

from __future__ import annotations

from connectors.influxdb.lineprotocol import encode
from connectors.influxdb.sink import priority
from core.orders import OrderCommand, OrderEdited
from core.records import Priority
from core.types import MachineRef
from tests.fixtures.order_events import CHANGEOVER, NONE_RUNS, PROGRESS, T

REF = MachineRef("plant1", "press", "line1", "m1")
TAGS = "area=press,line=line1,machine=m1"
NS = "1796635800000000000"


def test_an_order_point_carries_its_progress() -> None:
    (line,) = encode(PROGRESS, REF)
    assert line == (
        f'order,{TAGS},order=A,site=plant1 status="at_risk",product="p1",'
        'source="operator",customer="ACME",quantity=1000i,due_ms=1796644800000i,good=540i,'
        "reject=3i,scrap=1i,remaining=460i,percent=54.0,production_s=4800.0,rate_now=0.1125,"
        "rate_shift=0.1,oee=0.5625,started_ms=1796630400000i,eta_now_ms=1796639400000i,"
        f"eta_shift_ms=1796640600000i,complete=false {NS}"
    )
    assert encode(NONE_RUNS, REF) == [f'order,{TAGS},site=plant1 status="none" {NS}']
    assert priority(PROGRESS) is Priority.OEE


def test_a_changeover_point_and_an_operator_command() -> None:
    (line,) = encode(CHANGEOVER, REF)
    assert line == (
        "changeover,area=press,from_product=p1,line=line1,machine=m1,site=plant1,to_product=p2 "
        "seq=1i,parts_to_rate=0i,"
        "start_ms=1796634600000i,end_ms=1796635200000i,at_rate_ms=1796635200000i,"
        'duration_s=600.0,standard_s=480.0,loss_s=120.0,from_order="A",to_order="B",'
        f'reason="Die change" {NS}'
    )
    (cmd,) = encode(OrderCommand("m1", T, "A", "pause", "ana"), REF)
    assert cmd == f'order_command,action=pause,{TAGS},site=plant1 order="A",by="ana" {NS}'


def test_an_order_put_through_the_api_is_no_point() -> None:
    # Its audit is the SQLite store's (`GET /api/v1/audit`); InfluxDB keeps none.
    order = PROGRESS.order
    assert order is not None
    assert encode(OrderEdited("m1", T, "A", "created", "ana", None, order), REF) == []
