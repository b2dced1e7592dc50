"""`Emitter`: the gateway's emits, handed in a group at a time (issue 17).

Every emit (a machine's poll, an operator's reason, a batch of OEE figures) is queued;
one task hands in everything queued at once: one pass over the live view and the
engines that watch the events, one journal transaction, one hand-in to each other sink.
The next group is what was queued while this one's commit was under way (the journal
would have made it wait for that commit anyway), so the machines of one poll slot,
whose answers come in within a few ms, go out together: a commit, a store write and a
delivery wake-up per poll slot, not per machine. Groups go out in the order of the
emits, and each caller goes on once its group is committed and with the other sinks,
as when every emit went on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from core.interfaces import DurableSink, Sink
from core.records import Transaction
from core.types import Event

__all__ = ["Emitter", "HandIn", "stage_group"]

# One group's events in the order of their emits (`parts`) -> all of them, and the
# future of their journal commit (None without a journal).
HandIn = Callable[[list[list[Event]]], tuple[list[Event], "asyncio.Future[None] | None"]]
Failed = Callable[[Sink, Sequence[Event]], None]


class Emitter:
    """Queues emits and hands them in a group at a time (see the module docstring):
    `hand_in` does what a group needs on the event loop, then `after` (the sinks outside
    the journal) get it once it is committed; `failed` hears of a sink that fails."""

    def __init__(self, hand_in: HandIn, after: Sequence[Sink], failed: Failed) -> None:
        self._hand_in, self._after, self._failed = hand_in, after, failed
        self._pending: list[tuple[list[Event], asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._busy: set[asyncio.Future[None]] = set()

    async def emit(self, events: list[Event]) -> None:
        """Queue `events` for the next group; return once that group is committed and
        the other sinks have it. Once called, the events go out even if the caller is
        cancelled."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((events, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = self._track(self._flush())
        await asyncio.shield(done)

    async def settle(self) -> None:
        """Wait until every emit begun is through."""
        while self._busy:
            await asyncio.gather(*self._busy, return_exceptions=True)

    def _track(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._busy.add(task)
        task.add_done_callback(self._busy.discard)
        return task

    async def _flush(self) -> None:
        while self._pending:
            parts, self._pending = self._pending, []
            try:
                events, committed = self._hand_in([p for p, _ in parts])
            except Exception as exc:  # to the callers, as a failed emit always went
                for _, done in parts:
                    if not done.done():
                        done.set_exception(exc)
                continue
            self._track(self._handed_in(parts, events, committed))
            if committed is not None:
                await asyncio.wait([committed])
            else:
                await asyncio.sleep(0)  # a loop round's emits together

    async def _handed_in(
        self,
        parts: list[tuple[list[Event], asyncio.Future[None]]],
        events: list[Event],
        committed: asyncio.Future[None] | None,
    ) -> None:
        """Once the group is committed: the other sinks get it (a sink that fails on it
        gets each emit's events on their own), then the callers go on."""
        try:
            if committed is not None:
                await asyncio.shield(committed)
            for sink in self._after:
                try:
                    await sink.handle(events)
                except Exception:
                    if len(parts) == 1:
                        self._failed(sink, events)
                        continue
                    for part, _ in parts:
                        try:
                            await sink.handle(part)
                        except Exception:
                            self._failed(sink, part)
        finally:
            for _, done in parts:
                if not done.done():
                    done.set_result(None)


def stage_group(
    durable: DurableSink,
    parts: list[list[Event]],
    events: list[Event],
    tx: Transaction,
    failed: Failed,
) -> None:
    """`durable`'s records of a group (`events`, made of `parts`) into `tx`. Should they
    fail, each emit's records are staged on their own, so that the events a sink cannot
    take lose only their own emit's records (as when every emit had its transaction)."""
    try:
        one = Transaction()
        durable.stage(events, one)
    except Exception:
        if len(parts) == 1:
            failed(durable, events)
            return
        for part in parts:
            try:
                one = Transaction()
                durable.stage(part, one)
            except Exception:
                failed(durable, part)
            else:
                _merge(tx, one)
    else:
        _merge(tx, one)


def _merge(tx: Transaction, one: Transaction) -> None:
    tx.add(one.records)
    tx.set_meta(one.meta)
    tx.callbacks.extend(one.callbacks)
