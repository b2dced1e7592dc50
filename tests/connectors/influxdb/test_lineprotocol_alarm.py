"""The `alarm` measurement: one point per change at its time (README "InfluxDB")."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from connectors.influxdb.lineprotocol import encode
from core.alarms import Alarm, AlarmChange
from core.types import MachineRef

REF = MachineRef("plant", "press", "line 1", "p1")
T0 = datetime(2026, 12, 7, 10, 10, tzinfo=UTC)  # 1796638200 s since the epoch


def test_a_raised_and_a_cleared_alarm() -> None:
    a = Alarm("p1.long-fault.1796638200000", "p1", "long-fault", "stop", "critical",
              'Press 1: fault ("Die jam") for 10 min', T0, value=600.0)  # fmt: skip
    assert encode(AlarmChange("p1", T0, "raised", a, (a,), 1), REF) == [
        r"alarm,area=press,change=raised,line=line\ 1,machine=p1,rule=long-fault,"
        r"severity=critical,site=plant "
        r'id="p1.long-fault.1796638200000",kind="stop",'
        r'message="Press 1: fault (\"Die jam\") for 10 min",value=600.0,'
        r"raised_ms=1796638200000i,active=true,seq=1i 1796638200000000000"
    ]
    done = dataclasses.replace(a, cleared=T0.replace(minute=12), acked_by="tablet")
    (line,) = encode(AlarmChange("p1", done.cleared or T0, "cleared", done, (), 2), REF)
    assert line.startswith("alarm,area=press,change=cleared,line=")
    assert 'cleared_ms=1796638320000i,acked_by="tablet",active=false,seq=2i ' in line
    assert line.endswith(" 1796638320000000000")
