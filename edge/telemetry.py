"""The gateway's own figures for /metrics: every int field of the sources' and sinks'
`stats` as counters, the outbox's and the journal's counters, and the outbox depth."""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from edge.components import DURABLE

if TYPE_CHECKING:
    from edge.pipeline import Gateway

__all__ = ["counters", "gauges"]

log = logging.getLogger(__name__)

Sample = tuple[str, dict[str, str], float]


def counters(gw: Gateway) -> list[tuple[str, dict[str, str], int]]:
    """Every int field of the sources' and sinks' `stats`, and the outbox's, as counters."""
    out: list[tuple[str, dict[str, str], int]] = [
        ("oee_edge_sink_handle_errors_total", {}, gw.sink_errors)
    ]
    for machine, source in gw.sources.items():
        for k, v in _int_fields(getattr(source, "stats", None)):
            out.append((f"oee_edge_source_{k}_total", {"machine": machine}, v))
    for sink in gw.sinks:
        for k, v in _int_fields(getattr(sink, "stats", None)):
            out.append((f"oee_edge_sink_{k}_total", {"sink": sink.name}, v))
    if gw.outbox is not None:
        st = gw.outbox.stats
        out += [("oee_edge_outbox_appended_total", {}, st.appended)]
        out += [("oee_edge_outbox_acked_total", {}, st.acked)]
        for kind, counts in (("evicted", st.evicted), ("refused", st.refused)):
            for priority, n in counts.items():
                out.append((f"oee_edge_outbox_{kind}_total", {"priority": priority}, n))
    if gw.journal is not None:
        js = gw.journal.stats
        out += [("oee_edge_outbox_commits_total", {}, js.commits)]
        out += [("oee_edge_outbox_commit_errors_total", {}, js.commit_errors)]
        for priority, n in js.dropped.items():
            out.append(("oee_edge_outbox_dropped_total", {"priority": priority}, n))
    return out


def gauges(gw: Gateway) -> list[Sample]:
    """Records held in memory for an unwritable outbox, and the outbox's depth per sink:
    records, bytes and the oldest record's age."""
    out: list[Sample] = []
    if gw.journal is not None:
        out += [("oee_edge_outbox_held_records", {}, gw.journal.stats.held)]
    box = gw.outbox
    if box is None or not box.is_open:
        return out
    for sink in gw.sinks:
        if sink.name not in DURABLE:
            continue
        try:
            d = box.depth(sink.name)
        except Exception as exc:  # a failing outbox must not take /metrics down with it
            log.debug("outbox depth of %s not read: %s", sink.name, exc)
            continue
        labels = {"sink": sink.name}
        out += [("oee_edge_outbox_records", labels, d.records)]
        out += [("oee_edge_outbox_bytes", labels, d.bytes)]
        out += [("oee_edge_outbox_oldest_age_seconds", labels, d.oldest_age_s or 0.0)]
    return out


def _int_fields(stats: object) -> list[tuple[str, int]]:
    if stats is None or not dataclasses.is_dataclass(stats):
        return []
    values = ((f.name, getattr(stats, f.name)) for f in dataclasses.fields(stats))
    return [(k, v) for k, v in values if isinstance(v, int)]
