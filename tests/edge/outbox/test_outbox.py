"""The durable outbox on a real SQLite file: per-sink order, acks, reopening, the disk
limit policy, and a writer killed with SIGKILL in the middle of its appends."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from edge.outbox import Outbox, Priority, Record, SinkDepth

EVENTS, OEE, TAGS = Priority.EVENTS, Priority.OEE, Priority.TAGS


def rec(sink: str, data: str, priority: Priority = EVENTS) -> Record:
    return Record(sink, priority, data.encode())


def datas(box: Outbox, sink: str, limit: int = 100) -> list[str]:
    return [e.data.decode() for e in box.peek(sink, limit)]


def test_each_sink_reads_its_own_records_in_order_and_acks_them(tmp_path: Path) -> None:
    with Outbox(tmp_path / "outbox.sqlite", max_bytes=10_000) as box:
        assert box.append([rec("mqtt", "m1"), rec("influx", "i1"), rec("mqtt", "m2")]) == 3
        assert box.append([rec("mqtt", "m3"), rec("influx", "i2")]) == 2
        assert datas(box, "mqtt") == ["m1", "m2", "m3"]
        assert datas(box, "influx") == ["i1", "i2"]
        first_two = box.peek("mqtt", 2)
        assert [e.data for e in first_two] == [b"m1", b"m2"]
        assert box.ack("mqtt", [e.id for e in first_two]) == 2
        assert datas(box, "mqtt") == ["m3"]
        assert datas(box, "influx") == ["i1", "i2"]  # a slow sink keeps its own
        # Acking another sink's ids, or twice, removes nothing.
        assert box.ack("influx", [e.id for e in first_two]) == 0
        assert box.ack("mqtt", [e.id for e in first_two]) == 0
        assert (box.stats.appended, box.stats.acked) == (5, 2)


def test_peek_stops_at_a_byte_budget_but_always_gives_one(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite", max_bytes=10_000) as box:
        box.append([rec("s", "a" * 40), rec("s", "b" * 40), rec("s", "c" * 40)])
        assert [len(e.data) for e in box.peek("s", 10, max_bytes=100)] == [40, 40]
        assert [len(e.data) for e in box.peek("s", 10, max_bytes=10)] == [40]


def test_peek_after_an_id_skips_what_is_in_flight(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite", max_bytes=10_000) as box:
        box.append([rec("s", d) for d in ("a", "b", "c", "d")] + [rec("t", "x")])
        a, b, c, d = box.peek("s", 10)
        assert [e.data for e in box.peek("s", 10, after=b.id)] == [b"c", b"d"]
        assert [e.data for e in box.peek("s", 1, after=a.id)] == [b"b"]
        assert box.peek("s", 10, after=d.id) == []


def test_depth_and_age(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite", max_bytes=10_000) as box:
        box.append([rec("s", "abc"), rec("s", "de")], now_ms=1_000)
        box.append([rec("s", "f")], now_ms=4_000)
        assert box.depth("s", now_ms=6_500) == SinkDepth(3, 6, 5.5)
        assert box.depth("other", now_ms=6_500) == SinkDepth(0, 0, None)


def test_records_survive_reopening_and_sizes_are_recounted(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    with Outbox(path, max_bytes=100) as box:
        box.append([rec("s", "x" * 30, TAGS), rec("s", "y" * 30)])
    with Outbox(path, max_bytes=100) as box:
        assert datas(box, "s") == ["x" * 30, "y" * 30]
        assert box.stored_bytes == 60
        # Still 40 bytes free after the reopen: 41 only fits by evicting the tag record.
        assert box.append([rec("s", "z" * 41)]) == 1
        assert datas(box, "s") == ["y" * 30, "z" * 41]


def test_the_disk_limit_gives_up_tags_first_and_keeps_events_longest(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite", max_bytes=100) as box:
        box.append([rec("s", "t1" + "." * 18, TAGS), rec("s", "o1" + "." * 18, OEE)])
        box.append([rec("s", "t2" + "." * 18, TAGS), rec("s", "e1" + "." * 18)])
        box.append([rec("s", "e2" + "." * 18)])  # 100 bytes: full
        # A new tag record cannot push anything out: refused.
        assert box.append([rec("s", "t3" + "." * 18, TAGS)]) == 0
        # An OEE update evicts the oldest tag record.
        assert box.append([rec("s", "o2" + "." * 18, OEE)]) == 1
        # Events evict the other tag record, then the oldest OEE update.
        assert box.append([rec("s", "e3" + "." * 18), rec("s", "e4" + "." * 18)]) == 2
        assert [d[:2] for d in datas(box, "s")] == ["e1", "e2", "o2", "e3", "e4"]
        # Only events and one newer OEE record left: an OEE update is refused, and an
        # event evicts the OEE update; an event never evicts another event.
        assert box.append([rec("s", "o3" + "." * 18, OEE)]) == 0
        assert box.append([rec("s", "e5" + "." * 18)]) == 1
        assert box.append([rec("s", "e6" + "." * 18)]) == 0
        assert [d[:2] for d in datas(box, "s")] == ["e1", "e2", "e3", "e4", "e5"]
        assert box.stats.evicted == {"tags": 2, "oee": 2, "events": 0}
        assert box.stats.refused == {"tags": 1, "oee": 1, "events": 1}
        assert box.stored_bytes == 100


def test_a_record_bigger_than_the_limit_is_refused_without_evicting(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite", max_bytes=50) as box:
        box.append([rec("s", "t" * 20, TAGS)])
        assert box.append([rec("s", "e" * 60)]) == 0
        assert datas(box, "s") == ["t" * 20]
        assert box.stats.evicted["tags"] == 0 and box.stats.refused["events"] == 1


def test_a_closed_or_newer_outbox_is_refused(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite", max_bytes=10)
    with pytest.raises(RuntimeError, match="is not open"):
        box.append([rec("s", "x")])
    with pytest.raises(ValueError, match="max_bytes must be > 0"):
        Outbox(tmp_path / "o.sqlite", max_bytes=0)
    conn = sqlite3.connect(tmp_path / "future.sqlite")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(RuntimeError, match="outbox of a newer gateway"):
        Outbox(tmp_path / "future.sqlite", max_bytes=10).open()


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from edge.outbox import Outbox, Priority, Record

    box = Outbox(Path(sys.argv[1]), max_bytes=10**9).open()
    n = 0
    while True:
        batch = [Record("s", Priority.EVENTS, f"{n + i:08d}".encode() * 8) for i in range(50)]
        box.append(batch)
        n += len(batch)
        print(n, flush=True)  # committed
    """
)


def test_sigkill_in_the_middle_of_appends_loses_nothing_committed(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    committed = 0
    for line in proc.stdout:
        committed = int(line)
        if committed >= 20_000:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    with Outbox(path, max_bytes=10**9) as box:
        entries = box.peek("s", 10**6)
    # Everything reported committed is there, in order, whole; at most the batches in
    # flight after the last report are too (a batch is all or nothing).
    got = [int(e.data[:8]) for e in entries]
    assert got == list(range(len(got)))
    assert committed <= len(got) and len(got) % 50 == 0
    assert all(e.data == e.data[:8] * 8 for e in entries)
