"""`/health`, `/ready`, `/metrics`, the dashboard page and `/docs`."""

from __future__ import annotations

from datetime import timedelta

import httpx

from core.types import CountDelta, MachineState, OeeUpdate, StateChange
from edge.pipeline.live import LiveView
from tests.api.conftest import NOW


def _state(machine: str, state: MachineState, seq: int = 1) -> StateChange:
    return StateChange(machine, state, None, NOW - timedelta(seconds=10), None, None, seq)


async def test_health(client: httpx.AsyncClient) -> None:
    r = await client.get("/health")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})


async def test_ready_turns_200_as_the_parts_arrive(
    client: httpx.AsyncClient, live: LiveView
) -> None:
    sinks = {"mqtt": False, "sqlite": True}
    live.sinks_connected = lambda: dict(sinks)

    r = await client.get("/ready")
    assert r.status_code == 503
    assert r.json() == {
        "ready": False,
        "started": False,
        "machines_without_state": ["press1", "press2"],
        "machines_failing": [],
        "sinks": {"mqtt": False, "sqlite": True},
        "sink_problems": {},
        "not_ready": [
            "pipeline not started",
            "no state yet: press1, press2",
            "sinks not connected: mqtt",
        ],
    }

    live.started = True
    live.apply(_state("press1", MachineState.RUNNING))
    r = await client.get("/ready")
    assert r.status_code == 503
    assert r.json()["not_ready"] == ["no state yet: press2", "sinks not connected: mqtt"]

    live.apply(_state("press2", MachineState.IDLE))
    sinks["mqtt"] = True
    r = await client.get("/ready")
    assert r.status_code == 200
    assert r.json() == {
        "ready": True,
        "started": True,
        "machines_without_state": [],
        "machines_failing": [],
        "sinks": {"mqtt": True, "sqlite": True},
        "sink_problems": {},
        "not_ready": [],
    }
    assert live.ready  # the API agrees with the live view's own verdict


async def test_a_connected_sink_with_a_problem_is_not_ready(
    client: httpx.AsyncClient, live: LiveView
) -> None:
    """A stuck broker: the sink is connected, but nothing is acknowledged."""
    live.started = True
    live.apply(_state("press1", MachineState.RUNNING))
    live.apply(_state("press2", MachineState.IDLE))
    live.sinks_connected = lambda: {"mqtt": True, "sqlite": True}
    stuck = "broker 10.0.0.9:1883 is stuck: no PUBACK within 30 s"
    live.sink_problems = lambda: {"mqtt": stuck}
    r = await client.get("/ready")
    assert r.status_code == 503
    assert r.json() == {
        "ready": False,
        "started": True,
        "machines_without_state": [],
        "sinks": {"mqtt": True, "sqlite": True},
        "sink_problems": {"mqtt": stuck},
        "machines_failing": [],
        "not_ready": [f"sink mqtt: {stuck}"],
    }
    assert not live.ready
    assert "oee_edge_ready 0" in (await client.get("/metrics")).text
    live.sink_problems = dict  # it acknowledges again
    assert (await client.get("/ready")).status_code == 200


async def test_metrics_exposition(client: httpx.AsyncClient, live: LiveView) -> None:
    live.started = True
    live.apply(_state("press1", MachineState.FAULT))
    live.apply(CountDelta("press1", NOW, total=12, good=10, reject=2))
    live.apply(
        OeeUpdate(
            "press1", "1h", NOW, 0.5, None, 0.75, None, 1800.0, 3600.0, 0.0, 3600.0, 12, 10, 2
        )
    )
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    lines = r.text.splitlines()
    assert r.text.endswith("\n")
    state_block = [
        "# HELP oee_edge_machine_state 1 for the machine's current state, 0 for the others.",
        "# TYPE oee_edge_machine_state gauge",
        'oee_edge_machine_state{machine="press1",state="running"} 0',
        'oee_edge_machine_state{machine="press1",state="idle"} 0',
        'oee_edge_machine_state{machine="press1",state="setup"} 0',
        'oee_edge_machine_state{machine="press1",state="fault"} 1',
        'oee_edge_machine_state{machine="press1",state="planned_stop"} 0',
        'oee_edge_machine_state{machine="press1",state="offline"} 0',
    ]
    assert lines[: len(state_block)] == state_block
    # press2 has no state yet: all six at 0
    assert 'oee_edge_machine_state{machine="press2",state="idle"} 0' in lines
    assert "# TYPE oee_edge_oee gauge" in lines
    oee = [x for x in lines if x.startswith("oee_edge_oee{")]
    # null figures (performance, oee) are left out, not exported as NaN
    assert oee == [
        'oee_edge_oee{machine="press1",window="1h",figure="availability"} 0.5',
        'oee_edge_oee{machine="press1",window="1h",figure="quality"} 0.75',
    ]
    assert "# TYPE oee_edge_parts_total counter" in lines
    parts = [x for x in lines if x.startswith("oee_edge_parts_total{")]
    assert parts == [
        'oee_edge_parts_total{machine="press1",kind="total"} 12',
        'oee_edge_parts_total{machine="press1",kind="good"} 10',
        'oee_edge_parts_total{machine="press1",kind="reject"} 2',
        'oee_edge_parts_total{machine="press2",kind="total"} 0',
        'oee_edge_parts_total{machine="press2",kind="good"} 0',
        'oee_edge_parts_total{machine="press2",kind="reject"} 0',
    ]
    since = (NOW - timedelta(seconds=10)).timestamp()
    assert f'oee_edge_machine_state_since_seconds{{machine="press1"}} {since!r}' in lines
    assert "oee_edge_ready 0" in lines


async def test_dashboard_page_polls_the_machine_list(client: httpx.AsyncClient) -> None:
    r = await client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "api/v1/machines" in r.text
    assert "2000" in r.text  # polls every 2 s
    assert "http://" not in r.text and "https://" not in r.text  # no CDN: works offline


async def test_openapi_documents_the_routes(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    paths = set(spec["paths"])
    assert {
        "/api/v1/machines",
        "/api/v1/machines/{machine_id}",
        "/api/v1/machines/{machine_id}/oee",
        "/api/v1/machines/{machine_id}/states",
        "/health",
        "/ready",
        "/metrics",
    } <= paths
    since = spec["components"]["schemas"]["MachineSummary"]["properties"]["since"]
    assert {"type": "string", "format": "date-time"}.items() <= since["anyOf"][0].items()
    assert (await client.get("/docs")).status_code == 200


async def test_openapi_documents_the_oee_and_operator_routes(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    codes = {
        (path, method): sorted(op["responses"])
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    }
    assert {
        ("/api/v1/machines/{machine_id}/oee", "get"): ["200", "401", "404", "422", "503"],
        ("/api/v1/lines/{line}/oee", "get"): ["200", "401", "404", "422", "503"],
        ("/api/v1/losses", "get"): ["200", "401", "404", "422", "503"],
        ("/api/v1/machines/{machine_id}/reasons", "get"): ["200", "401", "404", "422"],
        ("/api/v1/machines/{machine_id}/stops/{at}/reason", "put"): [
            "200", "401", "403", "404", "413", "422", "503",
        ],
        ("/api/v1/machines/{machine_id}/product", "put"): [
            "200", "401", "403", "404", "409", "413", "422", "503",
        ],
    }.items() <= codes.items()  # fmt: skip
    line = spec["paths"]["/api/v1/lines/{line}/oee"]["get"]["responses"]["404"]
    assert line["description"].startswith("Unknown machine or line, or a `shift`/`day`")
    oee = spec["components"]["schemas"]["OeeOut"]["properties"]
    assert {"start", "source", "losses", "pareto", "mtbf_s", "coverage"} <= set(oee)
