"""The journal: one outbox transaction per emit, with its meta; an outbox that cannot be
written holds the transactions in memory, in order, bounded, counted and said."""

import asyncio
import logging
from pathlib import Path

import pytest

from core.records import Priority, Record
from edge.outbox import Journal, Outbox
from tests.integration.gateway import wait_until

TAGS, OEE, EVENTS = Priority.TAGS, Priority.OEE, Priority.EVENTS


def rec(data: str, priority: Priority = EVENTS, sink: str = "s") -> Record:
    return Record(sink, priority, data.encode())


def stored(box: Outbox, sink: str = "s") -> list[str]:
    return [e.data.decode() for e in box.peek(sink, 1000)]


async def test_records_of_several_sinks_and_meta_commit_together(outbox: Outbox) -> None:
    journal = Journal(outbox)
    meta = await journal.load()
    assert journal.stream == outbox.stream == meta["stream"] and len(journal.stream) == 8
    done: list[str] = []
    async with journal.transaction() as tx:
        tx.add([rec("a1", sink="mqtt"), rec("b1", sink="influxdb")])
        tx.set_meta({"normaliser/m1": "{}"})
        tx.after_commit(lambda: done.append(f"{outbox.depth('mqtt').records} stored"))
        assert done == []  # nothing before the commit
    assert done == ["1 stored"]
    assert (stored(outbox, "mqtt"), stored(outbox, "influxdb")) == (["a1"], ["b1"])
    assert outbox.read_meta() == {"stream": journal.stream, "normaliser/m1": "{}"}


async def emit(journal: Journal, data: str) -> None:
    async with journal.transaction() as tx:
        tx.add([rec(data)])
        tx.set_meta({"last": data})


async def test_waiting_transactions_go_into_one_commit_in_order(outbox: Outbox) -> None:
    journal = Journal(outbox)
    await journal.load()
    await asyncio.gather(*(emit(journal, f"e{i}") for i in range(50)))
    assert stored(outbox) == [f"e{i}" for i in range(50)]
    assert (journal.stats.commits, outbox.read_meta()["last"]) == (1, "e49")
    await emit(journal, "e50")  # alone: its own commit
    assert journal.stats.commits == 2
    await journal.aclose()


async def test_a_closed_transaction_is_committed_even_if_its_task_is_cancelled(
    outbox: Outbox,
) -> None:
    """A stopping gateway cancels its polls mid-emit; their events already carry `seq`."""
    journal = Journal(outbox)
    await journal.load()
    first = asyncio.create_task(emit(journal, "e1"))
    await asyncio.sleep(0)  # e1 is being committed
    second = asyncio.create_task(emit(journal, "e2"))
    await asyncio.sleep(0)  # e2 waits for it
    first.cancel(), second.cancel()
    await asyncio.gather(first, second, return_exceptions=True)
    assert await journal.flush() is True
    assert (stored(outbox), outbox.read_meta()["last"]) == (["e1", "e2"], "e2")
    await journal.aclose()


async def test_an_error_in_the_block_commits_nothing(outbox: Outbox) -> None:
    journal = Journal(outbox)
    with pytest.raises(ZeroDivisionError):
        async with journal.transaction() as tx:
            tx.add([rec("x")])
            tx.set_meta({"k": "v"})
            1 / 0  # noqa: B018
    assert stored(outbox) == [] and "k" not in outbox.read_meta()


async def test_the_stream_id_survives_a_reopen_and_differs_per_file(tmp_path: Path) -> None:
    with Outbox(tmp_path / "a.sqlite", 1 << 20) as a:
        first = a.stream
    with Outbox(tmp_path / "a.sqlite", 1 << 20) as a, Outbox(tmp_path / "b", 1 << 20) as b:
        assert a.stream == first != b.stream


async def test_an_unwritable_outbox_holds_transactions_in_order_and_retries(
    outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="edge.journal")
    journal = Journal(outbox)
    await journal.load()
    done: list[int] = []
    outbox.close()  # the file went away
    for i in range(3):
        async with journal.transaction() as tx:
            tx.add([rec(f"e{i}")])
            tx.set_meta({"n": str(i)})
            tx.after_commit(lambda i=i: done.append(i))  # type: ignore[misc]
    assert (journal.stats.held, journal.stats.commit_errors, done) == (3, 3, [])
    outbox.open()
    await wait_until(lambda: journal.stats.held == 0, 5, "the retry")  # no new emit needed
    assert (stored(outbox), outbox.read_meta()["n"], done) == (["e0", "e1", "e2"], "2", [0, 1, 2])
    said = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "edge.journal"]
    assert said[0] == (
        logging.ERROR,
        f"outbox: cannot be written (the outbox {outbox.path} is not open); holding 1 records",
    )
    assert [lvl for lvl, _ in said[1:-1]] == [logging.DEBUG] * (len(said) - 2)
    assert said[-1] == (logging.INFO, "outbox: reconnected")
    await journal.aclose()


async def test_held_records_past_the_bound_give_up_the_lowest_priority_first(
    outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="edge.journal")
    journal = Journal(outbox, hold_max_bytes=10)
    outbox.close()
    async with journal.transaction() as tx:
        tx.add([rec("t1111", TAGS), rec("e1111"), rec("o1111", OEE)])  # 15 bytes
    assert journal.stats.dropped == {"tags": 1, "oee": 0, "events": 0}
    async with journal.transaction() as tx:
        tx.add([rec("e2222"), rec("t2222", TAGS)])  # 20 bytes: tags go, then OEE
    assert journal.stats.dropped == {"tags": 2, "oee": 1, "events": 0}
    async with journal.transaction() as tx:
        tx.add([rec("e3333")])  # 15 bytes of events only: the oldest event goes
    assert journal.stats.dropped == {"tags": 2, "oee": 1, "events": 1}
    assert journal.stats.held == 2
    outbox.open()
    assert await journal.flush() is True
    assert stored(outbox) == ["e2222", "e3333"]
    gave_up = [r for r in caplog.records if "given up" in r.getMessage()]
    assert [r.levelno for r in gave_up] == [logging.ERROR, logging.DEBUG, logging.DEBUG]
    assert gave_up[0].getMessage() == (
        "outbox unwritable and 0 MiB held in memory: 1 records given up so far "
        "{'tags': 1, 'oee': 0, 'events': 0}"
    )
    await journal.aclose()


async def test_what_is_still_held_at_close_is_said_lost(
    outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    journal = Journal(outbox)
    outbox.close()
    async with journal.transaction() as tx:
        tx.add([rec("e1"), rec("e2")])
    await journal.aclose()
    assert caplog.records[-1].getMessage() == (
        "outbox still unwritable at stop: 2 records held in memory are lost"
    )
