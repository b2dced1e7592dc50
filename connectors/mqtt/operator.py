"""The payloads of the operator's input (README "MQTT", docs/asyncapi.yaml): `…/scrap`
for parts booked as scrap by hand, `…/planned` for a stop turned into planned time (or
back), the retained `…/product` for the product set by hand, and the retained
`…/_line/notes` for a shift's hand-over text. Each names who
(`by`, the API key's name) and what it replaced (`previous_*`)."""

from __future__ import annotations

from connectors.common.timefmt import rfc3339
from connectors.mqtt.payloads import LineTopics, MachineTopics, event_id
from core.types import ProductChanged, ScrapBooked, ShiftNote, StopPlanned

__all__ = ["notes_payload", "planned_payload", "product_payload", "scrap_payload"]


def scrap_payload(t: MachineTopics, ev: ScrapBooked, stream: str = "") -> bytes:
    """`…/scrap`: `quantity` parts moved from good to reject (`…/count` with `count_seq`)
    against `reason_code` of the reject-reason tree."""
    return t.payload(
        {
            "quantity": ev.quantity,
            "reason_code": ev.reason_code,
            "reason": ev.reason,
            "category": ev.category,
            "product": ev.product,
            "note": ev.note,
            "by": ev.by,
            "count_seq": ev.count_seq,
            "ts": rfc3339(ev.ts),
            "seq": ev.seq,
            "id": event_id(stream, ev.machine, "k", ev.seq),
        }
    )


def planned_payload(t: MachineTopics, ev: StopPlanned, stream: str = "") -> bytes:
    """`…/planned`: the stop that began at `stop_ts` counts as planned stop time of
    `kind` (null: no longer), and what it was before."""
    return t.payload(
        {
            "stop_ts": rfc3339(ev.stop_ts),
            "state": ev.state.value,
            "kind": ev.kind,
            "reason": ev.reason,
            "previous_kind": ev.previous_kind,
            "previous_reason": ev.previous_reason,
            "by": ev.by,
            "ts": rfc3339(ev.ts),
            "seq": ev.seq,
            "id": event_id(stream, ev.machine, "p", ev.seq),
        }
    )


def notes_payload(t: LineTopics, ev: ShiftNote) -> bytes:
    """Retained `…/_line/notes`: the latest hand-over text written, of shift `shift`."""
    return t.payload(
        {
            "shift": ev.shift,
            "text": ev.text,
            "previous_text": ev.previous_text,
            "by": ev.by,
            "ts": rfc3339(ev.ts),
        }
    )


def product_payload(t: MachineTopics, ev: ProductChanged) -> bytes:
    """Retained `…/product`: the product set by hand (null: the machine's default) with
    its configured `name`, what it replaced, who and when."""
    return t.payload(
        {
            "product": ev.product,
            "name": ev.name,
            "previous": ev.previous,
            "by": ev.by,
            "ts": rfc3339(ev.ts),
        }
    )
