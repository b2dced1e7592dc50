"""Checkpoints of the normalisers, committed with the records they produced.

A machine's checkpoint is what its normaliser needs to go on after a restart as if it
had never stopped: the sequence numbers (so `seq` has no gap and no repeat), the counter
baselines (so the parts made while the gateway was down are counted at its first poll,
not lost), and the state with its start (so a gateway that was killed can say, at its
next start, that the machine's state was unknown from its last sign of life).

The gateway writes them into the outbox's meta table in the same transaction as the
records of each emit (`edge.outbox.journal`), so a checkpoint always matches what was queued.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from core.types import MachineState
from edge.pipeline.normaliser import MachineNormaliser

__all__ = ["checkpoint", "key", "restore"]

# The name it had before the move: operators filter on it.
log = logging.getLogger("edge.checkpoint")

VERSION = 1


def key(machine: str) -> str:
    """The meta key of `machine`'s checkpoint."""
    return f"normaliser/{machine}"


def checkpoint(n: MachineNormaliser) -> str:
    """`n`'s state as JSON."""
    counters = {}
    for kind, tracker in n.counters.items():
        rule = getattr(n.config.counters, kind)
        counters[kind] = {"tag": rule.tag, "bits": tracker.bits, "last": tracker.last}
    return json.dumps(
        {
            "v": VERSION,
            "seq": n.seq,
            "count_seq": n.count_seq,
            "reason_seq": n.reason_seq,
            "state": None if n.state is None else n.state.value,
            "since": _ms(n.since),
            "at": _ms(n.last_ts),
            "counters": counters,
            "advance": {kind: _ms(ts) for kind, ts in n.last_advance.items()},
        },
        separators=(",", ":"),
    )


def restore(n: MachineNormaliser, text: str) -> bool:
    """Put the checkpoint `text` back into `n`; False (and `n` untouched) when it cannot
    be read. A counter whose tag or width changed in the config starts from scratch."""
    try:
        data = json.loads(text)
        if data.get("v") != VERSION:
            raise ValueError(f"version {data.get('v')!r}")
        _apply(n, data)
    except KeyError as exc:
        return _ignored(n, f"no {exc.args[0]!r}")
    except (ValueError, TypeError, AttributeError) as exc:
        return _ignored(n, str(exc))
    return True


def _ignored(n: MachineNormaliser, why: str) -> bool:
    log.error("checkpoint of %s ignored (%s): its seq starts again at 1", n.config.id, why)
    return False


def _apply(n: MachineNormaliser, data: dict[str, Any]) -> None:
    # Parse everything first: a bad value must leave `n` as it was.
    state = None if data["state"] is None else MachineState(data["state"])
    since, at = _dt(data["since"]), _dt(data["at"])
    seqs = int(data["seq"]), int(data["count_seq"]), int(data["reason_seq"])
    baselines: dict[str, int | None] = {}
    for kind, tracker in n.counters.items():
        saved = data["counters"].get(kind)
        rule = getattr(n.config.counters, kind)
        if saved and saved["tag"] == rule.tag and saved["bits"] == tracker.bits:
            baselines[kind] = None if saved["last"] is None else int(saved["last"])
    advance = {kind: _dt(ms) for kind, ms in data["advance"].items() if kind in n.counters}
    n.seq, n.count_seq, n.reason_seq = seqs
    n.state, n.since, n.last_ts = state, since, at
    for kind, last in baselines.items():
        n.counters[kind].last = last
    n.last_advance = {k: v for k, v in advance.items() if v is not None}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ms(ts: datetime | None) -> int | None:
    return None if ts is None else (ts - _EPOCH) // timedelta(milliseconds=1)


def _dt(ms: Any) -> datetime | None:
    return None if ms is None else _EPOCH + timedelta(milliseconds=int(ms))
