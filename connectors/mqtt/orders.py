"""The order payloads on MQTT (README "MQTT", docs/asyncapi.yaml; documents of
`connectors.common.orderdoc`): the retained `…/order` (QoS 1: the current order's
progress, or an empty-order document when none runs) and `…/changeover` (QoS 1, not
retained: one completed changeover, with its `event_id`)."""

from __future__ import annotations

from connectors.common.orderdoc import changeover_document, progress_document
from connectors.mqtt.payloads import MachineTopics, event_id
from core.orders import ChangeoverDone, OrderProgress

__all__ = ["changeover_payload", "order_payload"]


def order_payload(t: MachineTopics, ev: OrderProgress) -> bytes:
    """Retained `…/order`: `progress_document`."""
    return t.payload(progress_document(ev))


def changeover_payload(t: MachineTopics, ev: ChangeoverDone, stream: str = "") -> bytes:
    """`…/changeover`: `changeover_document` and `event_id` (`{stream}:{machine}:o{seq}`)."""
    body = changeover_document(ev)
    body["event_id"] = event_id(stream, ev.machine, "o", ev.seq)
    return t.payload(body)
