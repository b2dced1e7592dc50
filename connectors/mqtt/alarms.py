"""The payloads of alarms (README "MQTT", docs/asyncapi.yaml): `…/alarm`, each change of
one of the machine's alarms (raised, acknowledged, cleared; QoS 1, not retained), and the
retained `…/alarms`, the machine's active alarms after the last change (an empty list
when none is left)."""

from __future__ import annotations

from connectors.common.alarmdoc import alarm_document, change_document
from connectors.common.timefmt import rfc3339
from connectors.mqtt.payloads import MachineTopics, event_id
from core.alarms import AlarmChange

__all__ = ["active_alarms_payload", "alarm_payload"]


def alarm_payload(t: MachineTopics, ev: AlarmChange, stream: str = "") -> bytes:
    """`…/alarm`: `change`, `ts`, `seq`, the alarm's fields (`connectors.common.alarmdoc`,
    `id` the alarm's), and `event_id` (`{stream}:{machine}:a{seq}`)."""
    body = change_document(ev)
    del body["machine"]  # in the head already
    body["event_id"] = event_id(stream, ev.machine, "a", ev.seq)
    return t.payload(body)


def active_alarms_payload(t: MachineTopics, ev: AlarmChange) -> bytes:
    """Retained `…/alarms`: `{"ts": …, "alarms": [active alarm, …]}` after `ev`."""
    alarms = []
    for a in ev.active:
        doc = alarm_document(a)
        del doc["machine"]
        alarms.append(doc)
    return t.payload({"ts": rfc3339(ev.ts), "seq": ev.seq, "alarms": alarms})
