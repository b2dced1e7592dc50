"""The records just committed for the MQTT sink, kept in memory for its delivery.

The delivery used to read every record back from the outbox after the journal had
written it (a worker-thread hop and a SELECT per round; issue 17). The journal now hands
over what each commit stored (`Journal.on_committed`), and the delivery takes it from
here, as long as what is held here is known to be *complete*: every record of the sink
in the outbox past what the delivery has taken. That is known once a read of the outbox
came back short (it reached the queue's end) and nothing was dropped from here since
the read began. It stops being known when the connection is lost (what was in flight is
sent again from the outbox) and when more than `cap` records pile up (a long outage:
the outbox holds them; memory does not). Until it is known again, the delivery reads
the outbox as before. The outbox stays the record of what is owed: a record is removed
from it only once the broker acknowledged it, whichever way it was read.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from core.records import Entry

__all__ = ["Fresh"]


class Fresh:
    """See the module docstring. Event loop only."""

    def __init__(self, cap: int = 10_000) -> None:
        self.cap = cap
        self._held: deque[Entry] = deque()
        self._complete = False
        self.generation = 0  # changes whenever held records are given up
        self._upto = 0  # the highest id taken so far (from here or from the outbox)

    @property
    def complete(self) -> bool:
        """Every record past those taken is held here: no need to read the outbox."""
        return self._complete

    def add(self, entries: Iterable[Entry]) -> None:
        """Records a commit stored (id order); those already taken are skipped."""
        held = self._held
        for e in entries:
            if e.id > self._upto and (not held or e.id > held[-1].id):
                held.append(e)
        if len(held) > self.cap:
            self.forget()

    def take(self, n: int) -> list[Entry]:
        """Up to `n` of the oldest held records (only while `complete`)."""
        held = self._held
        out = [held.popleft() for _ in range(min(n, len(held)))]
        if out:
            self._upto = max(self._upto, out[-1].id)
        return out

    def read(self, entries: list[Entry], to_the_end: bool, generation: int) -> None:
        """The delivery read `entries` from the outbox; `to_the_end`: the read came back
        short. `generation`: `self.generation` when the read began."""
        if entries:
            self._upto = max(self._upto, entries[-1].id)
        while self._held and self._held[0].id <= self._upto:
            self._held.popleft()
        if to_the_end and generation == self.generation:
            self._complete = True

    def put_back(self, entries: list[Entry]) -> None:
        """Records taken but not sent (the client refused them for now): first again."""
        if self._complete:
            self._held.extendleft(reversed(entries))

    def forget(self) -> None:
        """Give up what is held: the delivery reads the outbox again from its start."""
        self._held.clear()
        self._complete = False
        self.generation += 1
        self._upto = 0
