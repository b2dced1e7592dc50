"""Checkpoints of the normalisers, committed with the records they produced.

A machine's checkpoint is what its normaliser needs to go on after a restart as if it
had never stopped: the sequence numbers (so `seq` has no gap and no repeat), the counter
baselines and when they were read (so the parts made while the gateway was down are
counted at its first poll, not lost, and judged against the time that passed), the
suspect counts still waiting for a decision, and the state with its start (so a gateway
that was killed can say, at its next start, that the machine's state was unknown from
its last sign of life). Keys added later are optional: an older checkpoint still loads.

The gateway writes them into the outbox's meta table in the same transaction as the
records of each emit (`edge.outbox.journal`), so a checkpoint always matches what was queued.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.common.jsonbytes import dumps_text
from core.types import MachineState, SuspectCount
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
        counters[kind] = {
            "tag": rule.tag, "bits": tracker.bits, "last": tracker.last, "at": _ms(tracker.at)
        }  # fmt: skip
    return dumps_text(
        {
            "v": VERSION,
            "seq": n.seq,
            "count_seq": n.count_seq,
            "reason_seq": n.reason_seq,
            "suspect_seq": n.suspect_seq,
            "decision_seq": n.decision_seq,
            "scrap_seq": n.scrap_seq,
            "planned_seq": n.planned_seq,
            "pending": [_suspect_out(h) for h in n.pending.values()],
            "state": None if n.state is None else n.state.value,
            "since": _ms(n.since),
            "at": _ms(n.last_ts),
            "counters": counters,
            "advance": {kind: _ms(ts) for kind, ts in n.last_advance.items()},
        }
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
    suspect_seq, decision_seq = int(data.get("suspect_seq", 0)), int(data.get("decision_seq", 0))
    scrap_seq, planned_seq = int(data.get("scrap_seq", 0)), int(data.get("planned_seq", 0))
    pending = [_suspect_in(n.config.id, h) for h in data.get("pending", [])]
    baselines = _baselines(n, data["counters"], at)
    advance = {kind: _dt(ms) for kind, ms in data["advance"].items() if kind in n.counters}
    n.seq, n.count_seq, n.reason_seq = seqs
    n.suspect_seq, n.decision_seq = suspect_seq, decision_seq
    n.scrap_seq, n.planned_seq = scrap_seq, planned_seq
    n.pending.clear()  # in place: the live view shares it
    n.pending.update((h.seq, h) for h in pending)
    n.state, n.since, n.last_ts = state, since, at
    for kind, (last, read_at) in baselines.items():
        n.counters[kind].last, n.counters[kind].at = last, read_at
    n.last_advance = {k: v for k, v in advance.items() if v is not None}


def _baselines(
    n: MachineNormaliser, saved: dict[str, Any], at: datetime | None
) -> dict[str, tuple[int | None, datetime | None]]:
    """Each counter's last value and when it was read (an older checkpoint without the
    time: the last batch that changed something, earlier, so the limit is wider)."""
    out: dict[str, tuple[int | None, datetime | None]] = {}
    for kind, tracker in n.counters.items():
        s = saved.get(kind)
        rule = getattr(n.config.counters, kind)
        if s and s["tag"] == rule.tag and s["bits"] == tracker.bits:
            last = None if s["last"] is None else int(s["last"])
            out[kind] = (last, _dt(s["at"]) if "at" in s else at)
    return out


_SUSPECT_INTS = ("total", "good", "reject", "seq", "allowed")


def _suspect_out(h: SuspectCount) -> dict[str, Any]:
    return {
        "ts": _ms(h.ts), **{k: getattr(h, k) for k in _SUSPECT_INTS},
        "product": h.product, "counter": h.counter, "elapsed_s": h.elapsed_s,
    }  # fmt: skip


def _suspect_in(machine: str, d: dict[str, Any]) -> SuspectCount:
    ts = _dt(d["ts"])
    if ts is None:
        raise ValueError("a pending suspect count without a time")
    ints = {k: int(d[k]) for k in _SUSPECT_INTS}
    product = None if d["product"] is None else str(d["product"])
    return SuspectCount(
        machine, ts, **ints, product=product, counter=str(d["counter"]),
        elapsed_s=float(d["elapsed_s"]),
    )  # fmt: skip


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ms(ts: datetime | None) -> int | None:
    return None if ts is None else (ts - _EPOCH) // timedelta(milliseconds=1)


def _dt(ms: Any) -> datetime | None:
    return None if ms is None else _EPOCH + timedelta(milliseconds=int(ms))
