"""Prometheus text exposition (format 0.0.4), written by hand from the live view.

Hand-written because it is a few dozen lines and the gateway should not need
`prometheus_client` for them. Figures that are not computable yet (null) are left
out rather than exported as NaN, so `absent()` alerts and averages behave.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

from edge.pipeline import telemetry
from edge.pipeline.live import LiveView
from oee.states import MachineState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_FIGURES = ("availability", "performance", "quality", "oee")
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def _escape(value: str) -> str:
    """Label value escaping of the text format: backslash, double quote, newline."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _sample(name: str, labels: dict[str, str], value: float) -> str:
    body = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    text = _number(value)
    return f"{name}{{{body}}} {text}" if body else f"{name} {text}"


def _number(value: float) -> str:
    """Ints as ints; floats round-trip (repr), with the format's +Inf, -Inf and NaN."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _family(name: str, kind: str, help_text: str) -> Iterator[str]:
    # HELP text escapes only backslash and newline (label values also escape quotes).
    help_text = help_text.replace("\\", "\\\\").replace("\n", "\\n")
    yield f"# HELP {name} {help_text}"
    yield f"# TYPE {name} {kind}"


def _states(live: LiveView) -> Iterator[str]:
    yield from _family(
        "oee_edge_machine_state", "gauge", "1 for the machine's current state, 0 for the others."
    )
    for mid, m in live.machines.items():
        current = m.state.state if m.state else None
        for state in MachineState:
            labels = {"machine": mid, "state": state.value}
            yield _sample("oee_edge_machine_state", labels, int(state is current))


def _since(live: LiveView) -> Iterator[str]:
    yield from _family(
        "oee_edge_machine_state_since_seconds",
        "gauge",
        "Unix time the current state began.",
    )
    for mid, m in live.machines.items():
        if m.state:
            yield _sample(
                "oee_edge_machine_state_since_seconds", {"machine": mid}, m.state.ts.timestamp()
            )


def _oee(live: LiveView) -> Iterator[str]:
    yield from _family(
        "oee_edge_oee", "gauge", "Latest OEE figure (ratio 0..1) per rolling window."
    )
    for mid, m in live.machines.items():
        for window in live.windows:
            update = m.oee.get(window)
            if update is None:
                continue
            for figure in _FIGURES:
                value = getattr(update, figure)
                if value is not None:
                    labels = {"machine": mid, "window": window, "figure": figure}
                    yield _sample("oee_edge_oee", labels, float(value))


def _parts(live: LiveView) -> Iterator[str]:
    yield from _family(
        "oee_edge_parts_total", "counter", "Parts counted since the gateway started, by kind."
    )
    # Only growing: a part moved from good to reject counts in `reject` and in
    # oee_edge_parts_moved_total{to="reject"}; good now = good - moved to reject + moved to good.
    for mid, m in live.machines.items():
        good, reject = m.good + m.moved_to_reject, m.reject + m.moved_to_good
        for kind, value in (("total", m.total), ("good", good), ("reject", reject)):
            yield _sample("oee_edge_parts_total", {"machine": mid, "kind": kind}, value)
    yield from _family(
        "oee_edge_parts_moved_total",
        "counter",
        "Parts moved between good and reject since the gateway started (found reject after "
        "they were counted good: to=reject).",
    )
    for mid, m in live.machines.items():
        for to, value in (("reject", m.moved_to_reject), ("good", m.moved_to_good)):
            yield _sample("oee_edge_parts_moved_total", {"machine": mid, "to": to}, value)


def _gateway(live: LiveView) -> Iterator[str]:
    yield from _family("oee_edge_ready", "gauge", "1 when the gateway is ready (see /ready).")
    yield _sample("oee_edge_ready", {}, int(live.ready))
    yield from _family("oee_edge_sink_connected", "gauge", "1 when the sink is connected.")
    for name, ok in sorted(live.sinks_connected().items()):
        yield _sample("oee_edge_sink_connected", {"sink": name}, int(ok))


def _pipeline(live: LiveView) -> Iterator[str]:
    """The pipeline's figures (`edge.pipeline.telemetry`), one block per family, families sorted;
    a histogram's `_bucket`, `_sum` and `_count` samples form one family."""
    families: dict[str, tuple[str, list[str]]] = {}
    channels: tuple[tuple[str, Sequence[tuple[str, dict[str, str], float]]], ...] = (
        ("counter", live.counters()),
        ("gauge", live.gauges()),
    )
    for default_kind, samples in channels:
        for name, labels, value in samples:
            family = _family_of(name)
            lines = families.setdefault(family, (default_kind, []))[1]
            lines.append(_sample(name, labels, value))
    for family, (default_kind, lines) in sorted(families.items()):
        kind, help_text = telemetry.describe(family, default_kind)
        yield from _family(family, kind, help_text)
        yield from lines


def _family_of(name: str) -> str:
    for suffix in _HISTOGRAM_SUFFIXES:
        base = name.removesuffix(suffix)
        if base != name and telemetry.FAMILIES.get(base, ("",))[0] == "histogram":
            return base
    return name


def render(live: LiveView) -> str:
    """The whole exposition, newline-terminated as the format requires."""
    lines = [*_states(live), *_since(live), *_oee(live), *_parts(live), *_gateway(live)]
    lines += _pipeline(live)
    return "\n".join(lines) + "\n"
