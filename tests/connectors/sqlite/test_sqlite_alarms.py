"""The store's `alarm` table (one row per change) and `alarms(start, end, machine)`: the
alarms active at some time of a range, each as it stands now, read by the store and by
the API's read-only history alike."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connectors.sqlite.history import SqliteHistory
from connectors.sqlite.store import SqliteStore
from core.alarms import Alarm, AlarmChange
from edge.config import SqliteConfig

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def alarm(machine: str, rule: str, raised: float) -> Alarm:
    return Alarm(f"{machine}.{rule}.{raised}", machine, rule, "stop", "critical",
                 f"{machine}: fault for 10 min", at(raised), value=600.0)  # fmt: skip


def changes() -> list[AlarmChange]:
    a = alarm("m1", "long-fault", 10)  # 10:10 - 10:20, acknowledged at 10:12
    acked = dataclasses.replace(a, acked_by="tablet", acked_at=at(12))
    done = dataclasses.replace(acked, cleared=at(20))
    b = alarm("m2", "long-fault", 30)  # 10:30, still active
    c = alarm("m1", "offline", 50)  # 10:50 - 10:55
    return [
        AlarmChange("m1", at(10), "raised", a, (a,), 1),
        AlarmChange("m1", at(12), "acknowledged", acked, (acked,), 2),
        AlarmChange("m1", at(20), "cleared", done, (), 3),
        AlarmChange("m2", at(30), "raised", b, (b,), 1),
        AlarmChange("m1", at(50), "raised", c, (c,), 4),
        AlarmChange("m1", at(55), "cleared", dataclasses.replace(c, cleared=at(55)), (), 5),
    ]


async def test_alarms_active_in_a_range_as_they_stand(tmp_path: Path) -> None:
    path = tmp_path / "oee.sqlite"
    async with SqliteStore(SqliteConfig(path=path)) as store:
        await store.handle(changes())
        # 10:00-10:11: only the first, as it stands now (acknowledged, cleared at 10:20).
        (first,) = await store.alarms(at(0), at(11))
        assert (first.id, first.acked_by, first.acked_at, first.cleared) == (
            "m1.long-fault.10", "tablet", at(12), at(20)
        )  # fmt: skip
        assert first.value == 600.0 and first.message == "m1: fault for 10 min"
        # 10:20 exactly: the first was still active (cleared >= start); m2's from 10:30.
        assert [a.id for a in await store.alarms(at(20), at(31))] == [
            "m1.long-fault.10", "m2.long-fault.30"
        ]  # fmt: skip
        # 10:21-10:30: nothing; m2's raised at the end is outside [start, end).
        assert await store.alarms(at(21), at(30)) == []
        # One machine; the limit.
        assert [a.id for a in await store.alarms(at(0), at(60), "m1")] == [
            "m1.long-fault.10", "m1.offline.50"
        ]  # fmt: skip
        assert len(await store.alarms(at(0), at(60), limit=2)) == 2
    # The API's worker processes read the same.
    history = SqliteHistory(path)
    try:
        (still,) = await history.alarms(at(56), at(60))
        assert (still.id, still.active, still.raised) == ("m2.long-fault.30", True, at(30))
    finally:
        await history.close()
