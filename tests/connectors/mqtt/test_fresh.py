"""connectors.mqtt.fresh: what the delivery may take from memory, and when it must read
the outbox. Exact ids throughout."""

from __future__ import annotations

from connectors.mqtt.fresh import Fresh
from core.records import Entry


def entries(*ids: int) -> list[Entry]:
    return [Entry(i, b"r%d" % i, 0) for i in ids]


def ids(es: list[Entry]) -> list[int]:
    return [e.id for e in es]


def test_memory_counts_only_once_a_read_reached_the_queues_end() -> None:
    f = Fresh()
    f.add(entries(1, 2, 3))
    assert not f.complete  # the outbox may hold older records of a previous run
    f.read(entries(1, 2), to_the_end=False, generation=f.generation)  # a full read
    assert not f.complete
    f.read(entries(3), to_the_end=True, generation=f.generation)
    assert f.complete
    assert f.take(10) == []  # 1-3 were read from the outbox: not again from memory
    f.add(entries(3, 4, 5))  # 3 was taken: skipped
    assert ids(f.take(1)) == [4]
    assert ids(f.take(10)) == [5]


def test_a_read_that_began_before_memory_was_given_up_proves_nothing() -> None:
    f = Fresh(cap=3)
    began = f.generation
    f.add(entries(1, 2, 3, 4))  # past the cap: given up (the outbox holds them)
    f.read(entries(1, 2, 3, 4), to_the_end=True, generation=began)
    assert not f.complete
    f.read([], to_the_end=True, generation=f.generation)
    assert f.complete


def test_records_committed_during_a_read_are_kept_for_after_it() -> None:
    f = Fresh()
    began = f.generation
    f.add(entries(7, 8))  # committed while the read (which saw up to 6) was under way
    f.read(entries(5, 6), to_the_end=True, generation=began)
    assert ids(f.take(10)) == [7, 8]


def test_what_the_client_refused_goes_first_again() -> None:
    f = Fresh()
    f.read([], to_the_end=True, generation=f.generation)
    f.add(entries(1, 2, 3))
    taken = f.take(3)
    f.put_back(taken[1:])  # 1 sent, 2 and 3 refused for now
    f.add(entries(4))
    assert ids(f.take(10)) == [2, 3, 4]


def test_a_lost_connection_sends_the_delivery_back_to_the_outbox() -> None:
    f = Fresh()
    f.read([], to_the_end=True, generation=f.generation)
    f.add(entries(1, 2))
    f.take(1)
    f.forget()
    assert not f.complete
    assert f.take(10) == []
    f.add(entries(3))
    f.read(entries(1, 2, 3), to_the_end=True, generation=f.generation)  # all re-read
    assert f.complete and f.take(10) == []
