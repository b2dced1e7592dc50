"""Counts changed by hand (the API's admin routes): a held suspect count accepted or
discarded, or parts counted that the PLC did not. Each change is a `CountDecision` (who,
when, what) and, when it counts parts, the `CountDelta` that does: fed to the engines and
emitted like the PLC's, so the figures, MQTT and the stores all take it. Scrap booked by
hand (`ScrapBooked`) moves parts from good to reject the same way."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime

from core.interfaces import MachineEvent
from core.types import CountDecision, CountDelta, Event, ScrapBooked
from edge.pipeline.normaliser import MachineNormaliser

__all__ = ["HandCounts", "NotPending"]


class NotPending(LookupError):
    """No suspect count of that number waits for a decision."""


class HandCounts:
    """Makes the events of a hand decision and hands them on (`feed` to the engines,
    `emit` to the live view and the sinks)."""

    def __init__(
        self,
        normalisers: Mapping[str, MachineNormaliser],
        feed: Callable[[MachineEvent], None],
        emit: Callable[[Sequence[Event]], Awaitable[None]],
        clock: Callable[[], datetime],
    ) -> None:
        self._normalisers, self._feed, self._emit, self._clock = normalisers, feed, emit, clock

    async def decide(
        self, machine: str, seq: int, accept: bool, by: str, note: str | None = None
    ) -> CountDecision:
        """Accept (count its parts now) or discard the suspect count `seq` of `machine`.
        KeyError for an unknown machine, NotPending for a count that does not wait."""
        n, now = self._normalisers[machine], self._clock()
        held = n.pending.get(seq)
        if held is None:
            waiting = ", ".join(map(str, sorted(n.pending))) or "none"
            raise NotPending(f"no suspect count {seq} of {machine} waits (waiting: {waiting})")
        delta: CountDelta | None = None
        if accept:
            delta = n.accepted(seq, now)
        else:
            n.discarded(seq)
        decision = CountDecision(
            machine, now, "accept" if accept else "discard", by, held.total, held.good,
            held.reject, None if delta is None else delta.seq, seq, note, n.next_decision_seq(),
        )  # fmt: skip
        await self._hand_on(delta, decision)
        return decision

    async def correct(
        self, machine: str, counts: tuple[int, int, int], by: str, note: str | None = None
    ) -> CountDecision:
        """Count (total, good, reject) parts of `machine` by hand, now. KeyError for an
        unknown machine."""
        n, now = self._normalisers[machine], self._clock()
        delta = n.corrected(now, *counts)
        decision = CountDecision(
            machine, now, "correct", by, *counts, delta.seq, None, note, n.next_decision_seq()
        )
        await self._hand_on(delta, decision)
        return decision

    async def scrap(self, booking: ScrapBooked) -> ScrapBooked:
        """Book `booking.quantity` parts as scrap now: the `CountDelta` that moves them
        from good to reject (total 0), then the booking that names it. KeyError for an
        unknown machine."""
        n, now = self._normalisers[booking.machine], self._clock()
        q = booking.quantity
        delta = n.corrected(now, 0, -q, q, booking.product)
        booked = dataclasses.replace(
            booking, ts=delta.ts, product=delta.product, count_seq=delta.seq,
            seq=n.next_scrap_seq(),
        )  # fmt: skip
        self._feed(delta)
        await self._emit([delta, booked])
        return booked

    async def _hand_on(self, delta: CountDelta | None, decision: CountDecision) -> None:
        if delta is not None:
            self._feed(delta)
        await self._emit([decision] if delta is None else [delta, decision])
