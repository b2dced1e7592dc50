"""The payloads of held counts and of hand decisions on counts (README "MQTT",
docs/asyncapi.yaml): `…/suspect` for a counter movement no machine could have made, held
out of every figure, and `…/decision` for who accepted, discarded or corrected counts."""

from __future__ import annotations

from connectors.common.timefmt import rfc3339
from connectors.mqtt.payloads import MachineTopics, event_id
from core.types import CountDecision, SuspectCount

__all__ = ["decision_payload", "suspect_payload"]


def suspect_payload(t: MachineTopics, ev: SuspectCount, stream: str = "") -> bytes:
    """`…/suspect`: the parts a reading would count and why they are held: `counter`
    moved by more than `allowed` parts in `elapsed_s`."""
    return t.payload(
        {
            "total": ev.total,
            "good": ev.good,
            "reject": ev.reject,
            "product": ev.product,
            "counter": ev.counter,
            "allowed": ev.allowed,
            "elapsed_s": ev.elapsed_s,
            "ts": rfc3339(ev.ts),
            "seq": ev.seq,
            "id": event_id(stream, ev.machine, "x", ev.seq),
        }
    )


def decision_payload(t: MachineTopics, ev: CountDecision, stream: str = "") -> bytes:
    """`…/decision`: `action` (accept, discard, correct), `by`, the parts it concerns, the
    suspect count it decided and the count it made (`…/count` with that `seq`)."""
    return t.payload(
        {
            "action": ev.action,
            "by": ev.by,
            "total": ev.total,
            "good": ev.good,
            "reject": ev.reject,
            "suspect_seq": ev.suspect_seq,
            "count_seq": ev.count_seq,
            "note": ev.note,
            "ts": rfc3339(ev.ts),
            "seq": ev.seq,
            "id": event_id(stream, ev.machine, "d", ev.seq),
        }
    )
