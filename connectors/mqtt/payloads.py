"""Topics and payloads of the MQTT contract (DESIGN.md, "MQTT contract"; docs/asyncapi.yaml).

Pure functions, no I/O. This is the hot path (every event of every machine goes through
it), so the per-machine parts are built once in `MachineTopics`: the topic strings and
the JSON head `{"v":2,"machine":…,"path":…,` that every payload starts with. A payload is
that head followed by the compact encoding of the event's own fields.

Conventions:
- every JSON payload carries `"v": 2` (README "what changed in v2"), `"machine"` and
  `"path"` (`site/area/line/machine`);
  a line's (`LineTopics`: `…/{line}/_line/oee/{window}`) `"line"` and `"path"` `site/area/line`;
- times are RFC 3339 UTC with milliseconds and `Z`: `2026-11-25T10:00:00.123Z`;
- missing values (no reason, no previous state, an undefined ratio) are JSON `null`,
  and so are non-finite floats (JSON has no NaN/Infinity);
- `reason_code` is the integer reason code when there is one, else `null` (on every
  topic, as in REST);
- OEE figures are rounded to what they mean: seconds to 3 decimals, ratios to 4
  (`connectors.common.oeedetails.rounded`); `losses` is a list in the six big losses' order;
- the gateway status payload is not JSON: the plain UTF-8 strings `online` / `offline`.
"""

from __future__ import annotations

import json
from datetime import datetime

from connectors.common.jsonbytes import dumps
from connectors.common.oeedetails import (
    details_document,
    finite,
    line_details_document,
    period_documents,
    rounded,
)
from connectors.common.outputdoc import output_document
from connectors.common.timefmt import rfc3339
from core.types import (
    CountDelta,
    LineOeeUpdate,
    LineOutputUpdate,
    MachineRef,
    OeeUpdate,
    OutputUpdate,
    ReasonAssigned,
    Sample,
    SampleBatch,
    StateChange,
    TagValue,
)

__all__ = [
    "OFFLINE",
    "ONLINE",
    "LineTopics",
    "MachineTopics",
    "count_payload",
    "event_payload",
    "gateway_status_topic",
    "line_oee_payload",
    "oee_payload",
    "output_payload",
    "reason_payload",
    "rfc3339",
    "safe_segment",
    "state_payload",
    "tag_payload",
    "tags_payload",
]

ONLINE = b"online"
OFFLINE = b"offline"
SCHEMA_VERSION = 2

# One shared encoder: json.dumps() would build a new encoder for non-default separators
# on every call. ensure_ascii=False keeps reason texts (umlauts, …) readable and short.
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_FORBIDDEN = frozenset("+#/\0")


def safe_segment(name: str) -> str:
    """Return `name` if it can be one MQTT topic level, else raise ValueError.

    Wildcards (`+`, `#`), the level separator `/` and NUL would change what a subscriber's
    filter matches, so they are rejected rather than silently rewritten (a rewrite could
    make two tags collide on one topic).
    """
    if not name or not _FORBIDDEN.isdisjoint(name):
        raise ValueError(f"'{name}' cannot be an MQTT topic level (empty, or holds + # / NUL)")
    return name


def gateway_status_topic(prefix: str, site: str, gateway_id: str) -> str:
    """`{prefix}/{site}/_gateway/{gateway_id}/status` (retained `online` / last will `offline`)."""
    return f"{prefix}/{safe_segment(site)}/_gateway/{safe_segment(gateway_id)}/status"


def _ts(ts: datetime | None) -> str | None:
    return None if ts is None else rfc3339(ts)


def _value(v: TagValue) -> TagValue:
    return finite(v) if isinstance(v, float) else v


class _Topics:
    """What machine and line topics share: the root, the cached `…/oee/{window}` topics
    and the payload head (the common JSON fields without the closing brace; each payload
    appends `,"field":…}`)."""

    __slots__ = ("head", "output", "root", "_head_bytes", "_oee")

    def __init__(self, root: str, head: dict[str, object]) -> None:
        self.root = root
        self.output = f"{root}/output"  # retained output against target (issue 16)
        self.head = _ENCODE(head)[:-1]
        self._head_bytes = self.head.encode() + b","
        self._oee: dict[str, str] = {}

    def oee(self, window: str) -> str:
        """`…/oee/{window}`, e.g. `…/oee/15m`."""
        topic = self._oee.get(window)
        if topic is None:
            topic = self._oee[window] = f"{self.root}/oee/{safe_segment(window)}"
        return topic

    def payload(self, body: dict[str, object]) -> bytes:
        """The head plus `body`'s fields, compact JSON, UTF-8."""
        return self._head_bytes + dumps(body)[1:]


class MachineTopics(_Topics):
    """Topic names and the JSON payload head of one machine, built once.

    `root` is `{prefix}/{site}/{area}/{line}/{machine}`; `state`, `event`, `count`,
    `suspect`, `decision`, `reason`, `scrap`, `planned`, `product`, `tags`, `alarm`, `alarms`,
    `order`, `changeover` hang under it;
    `oee(window)`, `tag(name)` and `spc(chart)` build (and cache) the per-window, per-tag
    and per-chart topics.
    """

    __slots__ = (
        "alarm", "alarms", "changeover", "count", "decision", "event", "machine", "order", "path",
        "planned", "reason", "product", "scrap", "state", "suspect", "tags", "_spc",
    )  # fmt: skip

    def __init__(self, prefix: str, ref: MachineRef) -> None:
        for level in (ref.site, ref.area, ref.line, ref.machine):
            safe_segment(level)
        super().__init__(
            f"{prefix}/{ref.path}", {"v": SCHEMA_VERSION, "machine": ref.machine, "path": ref.path}
        )
        self.machine = ref.machine
        self.path = ref.path
        self.state = f"{self.root}/state"
        self.event = f"{self.root}/event"
        self.count = f"{self.root}/count"
        self.suspect = f"{self.root}/suspect"
        self.decision = f"{self.root}/decision"
        self.reason = f"{self.root}/reason"
        self.scrap = f"{self.root}/scrap"
        self.planned = f"{self.root}/planned"
        self.product = f"{self.root}/product"
        self.tags = f"{self.root}/tags"
        self.alarm = f"{self.root}/alarm"
        self.alarms = f"{self.root}/alarms"
        self.order = f"{self.root}/order"
        self.changeover = f"{self.root}/changeover"
        self._spc: dict[str, tuple[str, str]] = {}

    def spc(self, chart: str) -> tuple[str, str]:
        """(`…/spc/{chart}`, `…/spc/{chart}/violation`); ValueError for an unsafe id."""
        topics = self._spc.get(chart)
        if topics is None:
            state = f"{self.root}/spc/{safe_segment(chart)}"
            topics = self._spc[chart] = (state, f"{state}/violation")
        return topics

    def tag(self, name: str) -> str:
        """`…/tag/{name}` (one raw value); raises ValueError for an unsafe tag name."""
        return f"{self.root}/tag/{safe_segment(name)}"


class LineTopics(_Topics):
    """The topics and payload head of one line: `{prefix}/{site}/{area}/{line}/_line`, under
    which `oee(window)` is `…/_line/oee/{window}` and `notes` the shift notes. Machine ids
    cannot begin with `_`, so this never collides with a machine's topics."""

    __slots__ = ("line", "notes", "path")

    def __init__(self, prefix: str, site: str, area: str, line: str) -> None:
        for level in (site, area, line):
            safe_segment(level)
        path = f"{site}/{area}/{line}"
        super().__init__(
            f"{prefix}/{path}/_line", {"v": SCHEMA_VERSION, "line": line, "path": path}
        )
        self.line = line
        self.path = path
        self.notes = f"{self.root}/notes"


def state_payload(t: MachineTopics, ev: StateChange) -> bytes:
    """Retained `…/state`: the state in force since `ev.ts`."""
    ts = rfc3339(ev.ts)
    return t.payload(
        {
            "state": ev.state.value,
            "since": ts,
            "reason": ev.reason,
            "reason_code": ev.reason_code,
            "ts": ts,
        }
    )


def event_id(stream: str, machine: str, kind: str, seq: int) -> str | None:
    """The stable id of a machine's event: `{stream}:{machine}:{kind}{seq}` (kind `s`
    state change, `c` count, `r` reason, `x` suspect count, `d` decision, `k` scrap booked,
    `p` stop turned into planned time, `a` alarm change, `o` changeover). `stream` is
    random per outbox, so ids stay unique if the gateway's data directory is wiped and
    `seq` starts again. None for an event without a number."""
    return f"{stream}:{machine}:{kind}{seq}" if seq > 0 else None


def event_payload(t: MachineTopics, ev: StateChange, stream: str = "") -> bytes:
    """`…/event`: one state change; `duration_s` is how long `previous` lasted."""
    return t.payload(
        {
            "state": ev.state.value,
            "previous": None if ev.previous is None else ev.previous.value,
            "ts": rfc3339(ev.ts),
            "duration_s": finite(ev.duration_s),
            "reason": ev.reason,
            "reason_code": ev.reason_code,
            "seq": ev.seq,
            "id": event_id(stream, ev.machine, "s", ev.seq),
        }
    )


def count_payload(t: MachineTopics, ev: CountDelta, stream: str = "") -> bytes:
    """`…/count`: parts produced since the previous delta."""
    return t.payload(
        {
            "total": ev.total,
            "good": ev.good,
            "reject": ev.reject,
            "product": ev.product,
            "ts": rfc3339(ev.ts),
            "seq": ev.seq,
            "id": event_id(stream, ev.machine, "c", ev.seq),
        }
    )


def reason_payload(t: MachineTopics, ev: ReasonAssigned, stream: str = "") -> bytes:
    """`…/reason`: the stop that began at `stop_ts` got a reason (and what it had before)."""
    return t.payload(
        {
            "stop_ts": rfc3339(ev.stop_ts),
            "state": ev.state.value,
            "reason_code": ev.reason_code,
            "reason": ev.reason,
            "category": ev.category,
            "source": ev.source,
            "previous_reason_code": ev.previous_reason_code,
            "previous_reason": ev.previous_reason,
            "ts": rfc3339(ev.ts),
            "seq": ev.seq,
            "id": event_id(stream, ev.machine, "r", ev.seq),
        }
    )


def _figures(ev: OeeUpdate | LineOeeUpdate) -> dict[str, object]:
    """The headline figures of a machine's or a line's OEE payload, `availability` … `ts`."""
    return {
        "availability": finite(ev.availability),
        "performance": finite(ev.performance),
        "quality": finite(ev.quality),
        "oee": finite(ev.oee),
        "run_s": finite(ev.run_s),
        "planned_s": finite(ev.planned_s),
        "unknown_s": finite(ev.unknown_s),
        "window_s": finite(ev.window_s),
        "total": ev.total,
        "good": ev.good,
        "reject": ev.reject,
        "window": ev.window,
        "ts": rfc3339(ev.ts),
    }


def oee_payload(t: MachineTopics, ev: OeeUpdate) -> bytes:
    """Retained `…/oee/{window}`: ratios (null when undefined), times in seconds, counts.

    With a loss report the payload goes on with `start` (null when unknown), every
    `details()` figure, `losses` and the top of the `pareto` (`connectors.common.oeedetails`).
    The `shift` window's carries `shift` (the occurrence), the `day` window's `day`.
    """
    body = _figures(ev)
    body.update(period_documents(ev.window, ev.shift, ev.day))
    if ev.report is not None:
        body["start"] = _ts(ev.start)
        body.update(details_document(ev))
    return t.payload(rounded(body))


def line_oee_payload(t: LineTopics, ev: LineOeeUpdate) -> bytes:
    """Retained `…/_line/oee/{window}`: `mode` and `bottleneck`, the figures of a machine's
    payload (of the summed report; the ratios per `mode`), `start`, the details and
    `losses`, then `machines` (each one's ratios) and `missing` (no figures yet)."""
    body: dict[str, object] = {"mode": ev.mode, "bottleneck": ev.bottleneck}
    body.update(_figures(ev))
    body.update(period_documents(ev.window, ev.shift, ev.day))
    body["start"] = rfc3339(ev.start)
    body.update(line_details_document(ev))
    return t.payload(rounded(body))


def output_payload(t: MachineTopics | LineTopics, ev: OutputUpdate | LineOutputUpdate) -> bytes:
    """Retained `…/output` (a machine's) or `…/_line/output` (a line's): parts in the
    shift against its target, the rate and `on_track` (`connectors.common.outputdoc`),
    published with the OEE figures; `final` once when the shift has ended."""
    return t.payload(output_document(ev))


def _sample(s: Sample) -> dict[str, object]:
    # `quality` is a StrEnum: JSON writes it as its text, without the enum's slow `.value`.
    return {"value": _value(s.value), "quality": s.quality, "ts": rfc3339(s.ts)}


def _batch_tags(batch: SampleBatch, ts: str) -> dict[str, dict[str, object]]:
    # The hot path (every poll of every machine): the samples share the batch's datetime
    # as a rule, and a non-finite float becomes null in `dumps` as `_value` would make it.
    # An OPC UA subscription's samples keep the times of the scans that last changed
    # them: a few distinct times, each formatted once.
    bts = batch.ts
    texts: dict[datetime, str] = {}
    return {
        s.tag: {
            "value": s.value,
            "quality": s.quality,
            "ts": ts if s.ts is bts else texts.get(s.ts) or _format(texts, s.ts),
        }
        for s in batch.samples
    }


def _format(texts: dict[datetime, str], t: datetime) -> str:
    text = texts[t] = rfc3339(t)
    return text


def tags_payload(t: MachineTopics, batch: SampleBatch) -> bytes:
    """`…/tags`: `{"tags": {name: {value, quality, ts}}}` plus the batch's `ts`.

    The raw values sit under `"tags"` rather than at the top level so that a tag named
    `v`, `machine`, `path` or `ts` cannot collide with the common fields.
    """
    ts = rfc3339(batch.ts)
    return t.payload({"ts": ts, "tags": _batch_tags(batch, ts)})


def tag_payload(t: MachineTopics, sample: Sample) -> bytes:
    """`…/tag/{tag}`: one raw value (`tag`, `value`, `quality`, `ts`)."""
    return t.payload({"tag": sample.tag, **_sample(sample)})
