"""Prometheus text exposition (format 0.0.4), written by hand from the live view.

Hand-written because it is a few dozen lines and the gateway should not need
`prometheus_client` for them. Figures that are not computable yet (null) are left
out rather than exported as NaN, so `absent()` alerts and averages behave.
"""

from __future__ import annotations

from collections.abc import Iterator

from edge.live import LiveView
from oee.states import MachineState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_FIGURES = ("availability", "performance", "quality", "oee")


def _escape(value: str) -> str:
    """Label value escaping of the text format: backslash, double quote, newline."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _sample(name: str, labels: dict[str, str], value: float) -> str:
    body = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    text = str(value) if isinstance(value, int) else repr(float(value))
    return f"{name}{{{body}}} {text}" if body else f"{name} {text}"


def _family(name: str, kind: str, help_text: str) -> Iterator[str]:
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
    for mid, m in live.machines.items():
        for kind, value in (("total", m.total), ("good", m.good), ("reject", m.reject)):
            yield _sample("oee_edge_parts_total", {"machine": mid, "kind": kind}, value)


def _gateway(live: LiveView) -> Iterator[str]:
    yield from _family("oee_edge_ready", "gauge", "1 when the gateway is ready (see /ready).")
    yield _sample("oee_edge_ready", {}, int(live.ready))
    yield from _family("oee_edge_sink_connected", "gauge", "1 when the sink is connected.")
    for name, ok in sorted(live.sinks_connected().items()):
        yield _sample("oee_edge_sink_connected", {"sink": name}, int(ok))


def _counters(live: LiveView) -> Iterator[str]:
    families: dict[str, list[tuple[dict[str, str], int]]] = {}
    for name, labels, value in live.counters():
        families.setdefault(name, []).append((labels, value))
    for name, samples in sorted(families.items()):
        yield from _family(name, "counter", "Count from the pipeline's sources and sinks.")
        for labels, value in samples:
            yield _sample(name, labels, value)


def _gauges(live: LiveView) -> Iterator[str]:
    families: dict[str, list[tuple[dict[str, str], float]]] = {}
    for name, labels, value in live.gauges():
        families.setdefault(name, []).append((labels, value))
    for name, samples in sorted(families.items()):
        yield from _family(name, "gauge", "Level in the gateway's pipeline.")
        for labels, value in samples:
            yield _sample(name, labels, value)


def render(live: LiveView) -> str:
    """The whole exposition, newline-terminated as the format requires."""
    lines = [*_states(live), *_since(live), *_oee(live), *_parts(live), *_gateway(live)]
    lines += _counters(live)
    lines += _gauges(live)
    return "\n".join(lines) + "\n"
