"""The `line_oee` point of the hand-computed two-machine line (tests/connectors/line_report.py)
in sum and bottleneck mode: exact line protocol."""

from __future__ import annotations

from dataclasses import replace

import pytest

from connectors.influxdb.lineprotocol import encode
from core.types import LineOeeUpdate, MachineRef
from edge.engines.lines import line_update
from tests.connectors.line_report import BOTTLENECK, BOTTLENECK_RATIOS, SUM_RATIOS, line
from tests.connectors.oee_report import worked_update

# Any machine of the gateway: a line point takes the site from it, the rest from the update.
REF = MachineRef(site="s1", area="elsewhere", line="other", machine="m9")
NS = "1795572000000000000"  # the window end, 2026-11-25 02:00 UTC
TAGS = "area=press,line=line2,site=s1,window=1h"
# The summed times, counts and details: the `oee` point's fields after the ratios.
SUMMED = (
    "run_s=4800.0,planned_s=7200.0,unknown_s=0.0,window_s=7200.0,total=300i,good=285i,"
    "reject=15i,coverage=1.0,planned_stop_s=0.0,breakdown_s=600.0,setup_s=600.0,"
    "idle_s=1200.0,small_stop_s=30.0,speed_loss_s=870.0,ideal_s=3900.0,"
    "fully_productive_s=3705.0,startup_reject=2i,performance_flagged=false,failures=1i,"
    "mtbf_s=4800.0,mttr_s=600.0,off_plan_run_s=0.0,off_plan_total=0i"
)


def ratios(r: dict[str, float]) -> str:
    return ",".join(f"{k}={v!r}" for k, v in r.items())


@pytest.mark.parametrize(
    ("update", "mode"),
    [
        (line(), 'mode="sum"'),
        (line(BOTTLENECK), 'mode="bottleneck",bottleneck="m2"'),
    ],
    ids=["sum", "bottleneck"],
)
def test_line_oee_point(update: LineOeeUpdate, mode: str) -> None:
    want = SUM_RATIOS if update.mode == "sum" else BOTTLENECK_RATIOS
    assert encode(update, REF) == [f"line_oee,{TAGS} {ratios(want)},{SUMMED},{mode} {NS}"]


def test_hand_computed_ratios_as_written() -> None:
    # The sum mode's ratios, spelled out: 4800/7200, 3900/4800, 3705/3900, 3705/7200.
    assert ratios(SUM_RATIOS) == (
        "availability=0.6666666666666666,performance=0.8125,quality=0.95,oee=0.5145833333333333"
    )


def test_undefined_ratios_are_omitted_and_names_escaped() -> None:
    # The bottleneck (m2) has no figures yet: no ratios, the sums are m1's.
    u = line_update(BOTTLENECK, "1h", {"m1": worked_update()}, ["m2"])
    assert u is not None
    u = replace(u, line="line 2", area="a,b", window="1h")
    (point,) = encode(u, REF)
    assert point == (
        "line_oee,area=a\\,b,line=line\\ 2,site=s1,window=1h run_s=1800.0,planned_s=3600.0,"
        "unknown_s=0.0,window_s=3600.0,total=100i,good=95i,reject=5i,coverage=1.0,"
        "planned_stop_s=0.0,breakdown_s=600.0,setup_s=0.0,idle_s=1200.0,small_stop_s=30.0,"
        "speed_loss_s=270.0,ideal_s=1500.0,fully_productive_s=1425.0,startup_reject=2i,"
        "performance_flagged=false,failures=1i,mtbf_s=1800.0,mttr_s=600.0,off_plan_run_s=0.0,"
        f'off_plan_total=0i,mode="bottleneck",bottleneck="m2" {NS}'
    )
