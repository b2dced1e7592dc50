"""`/api/v1/machines`, `/machines/{id}` and `/machines/{id}/oee` over a real LiveView."""

from __future__ import annotations

from datetime import timedelta

import httpx

from core.types import CountDelta, MachineState, OeeUpdate, StateChange
from edge.pipeline.live import LiveView
from tests.api.conftest import NOW

SINCE = NOW - timedelta(minutes=5, milliseconds=250)  # 07:54:59.750


def _run_press1(live: LiveView) -> None:
    """press1: running since SINCE after 30 s idle, 10 parts, OEE of the 15m window."""
    live.apply(
        StateChange(
            machine="press1",
            state=MachineState.RUNNING,
            previous=MachineState.IDLE,
            ts=SINCE,
            since_previous=SINCE - timedelta(seconds=30),
            duration_s=30.0,
            seq=7,
            reason_code=3,
            reason="material ok",
        )
    )
    live.apply(CountDelta("press1", NOW, total=10, good=9, reject=1, product="A-100"))
    live.apply(
        OeeUpdate(
            machine="press1",
            window="15m",
            ts=NOW,
            availability=0.8,
            performance=0.9,
            quality=0.95,
            oee=0.684,
            run_s=720.0,
            planned_s=900.0,
            unknown_s=0.0,
            window_s=900.0,
            total=324,
            good=308,
            reject=16,
            state_s={"running": 720.0, "idle": 180.0},
        )
    )


# An update without a loss report (e.g. from an older engine) has no details or losses.
NO_DETAILS = {
    "start": None,
    "coverage": None,
    "planned_stop_s": None,
    "breakdown_s": None,
    "setup_s": None,
    "idle_s": None,
    "small_stop_s": None,
    "speed_loss_s": None,
    "ideal_s": None,
    "fully_productive_s": None,
    "startup_reject": None,
    "performance_flagged": None,
    "failures": None,
    "mtbf_s": None,
    "mttr_s": None,
    "off_plan_run_s": None,
    "off_plan_total": None,
    "losses": [],
    "pareto": [],
    "shift": None,
    "day": None,
    "planned": None,
    "note": None,
}

# Sliding windows carry no shift or day (`planned` is only the `shift` window's).
NO_PERIOD = {"shift": None, "day": None, "planned": None, "note": None}
NOT_COMPUTED = {
    "computed": False,
    "ts": None,
    "availability": None,
    "performance": None,
    "quality": None,
    "oee": None,
    **NO_PERIOD,
}
# A window in the machine list also says how far to trust it (null until computed).
UNJUDGED = {"coverage": None, "performance_flagged": None}
BRIEF_NOT_COMPUTED = {**NOT_COMPUTED, **UNJUDGED}


async def test_list_before_any_event_shows_every_machine_without_state(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/api/v1/machines")
    assert r.status_code == 200
    assert r.json() == [
        {
            "id": "press1",
            "name": "Press 1",
            "path": "plant1/press/line1/press1",
            "site": "plant1",
            "area": "press",
            "line": "line1",
            "state": None,
            "since": None,
            "reason": None,
            "reason_code": None,
            "product": None,
            "product_name": None,
            "counts": {"total": 0, "good": 0, "reject": 0},
            "issues": [],
            "suspects": 0,
            "alarms": 0,
            "oee": {"15m": BRIEF_NOT_COMPUTED, "1h": BRIEF_NOT_COMPUTED},
            "output": None,
        },
        {
            "id": "press2",
            "name": "press2",
            "path": "plant1/press/line2/press2",
            "site": "plant1",
            "area": "press",
            "line": "line2",
            "state": None,
            "since": None,
            "reason": None,
            "reason_code": None,
            "product": None,
            "product_name": None,
            "counts": {"total": 0, "good": 0, "reject": 0},
            "issues": [],
            "suspects": 0,
            "alarms": 0,
            "oee": {"15m": BRIEF_NOT_COMPUTED, "1h": BRIEF_NOT_COMPUTED},
            "output": None,
        },
    ]


async def test_list_shows_state_counts_and_latest_oee(
    client: httpx.AsyncClient, live: LiveView
) -> None:
    _run_press1(live)
    live.apply(CountDelta("press1", NOW, total=5, good=5, reject=0))
    first = (await client.get("/api/v1/machines")).json()[0]
    assert first["state"] == "running"
    assert first["since"] == "2026-11-03T07:54:59.750Z"
    assert first["reason"] == "material ok"
    assert first["reason_code"] == 3
    assert first["product"] == "A-100"  # a delta without product keeps the last one
    assert first["counts"] == {"total": 15, "good": 14, "reject": 1}
    assert first["oee"] == {
        "15m": {
            "computed": True,
            "ts": "2026-11-03T08:00:00.000Z",
            "availability": 0.8,
            "performance": 0.9,
            "quality": 0.95,
            "oee": 0.684,
            **UNJUDGED,  # an update without a loss report
            **NO_PERIOD,
        },
        "1h": BRIEF_NOT_COMPUTED,
    }


async def test_machine_detail(client: httpx.AsyncClient, live: LiveView) -> None:
    _run_press1(live)
    r = await client.get("/api/v1/machines/press1")
    assert r.status_code == 200
    body = r.json()
    assert {k: body[k] for k in ("state", "since", "previous", "previous_duration_s", "seq")} == {
        "state": "running",
        "since": "2026-11-03T07:54:59.750Z",
        "previous": "idle",
        "previous_duration_s": 30.0,
        "seq": 7,
    }
    assert body["state_duration_s"] == 300.25  # clock (08:00:00) minus since
    assert body["ideal_cycle_s"] == 2.0
    assert body["micro_stop_s"] == 0.0
    assert body["last_seen"] is None
    assert body["oee"]["15m"]["run_s"] == 720.0
    assert body["oee"]["1h"]["computed"] is False


async def test_unknown_machine_is_404_naming_it_and_the_known_ones(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/api/v1/machines/nope", "/api/v1/machines/nope/oee"):
        r = await client.get(path)
        assert r.status_code == 404
        assert r.json() == {
            "detail": "unknown machine 'nope'; known machines: press1, press2",
            "known": ["press1", "press2"],
        }


async def test_oee_of_a_window_gives_every_figure(
    client: httpx.AsyncClient, live: LiveView
) -> None:
    _run_press1(live)
    r = await client.get("/api/v1/machines/press1/oee", params={"window": "15m"})
    assert r.status_code == 200
    assert r.json() == {
        "machine": "press1",
        "window": "15m",
        "computed": True,
        "ts": "2026-11-03T08:00:00.000Z",
        "availability": 0.8,
        "performance": 0.9,
        "quality": 0.95,
        "oee": 0.684,
        "window_s": 900.0,
        "run_s": 720.0,
        "planned_s": 900.0,
        "unknown_s": 0.0,
        "total": 324,
        "good": 308,
        "reject": 16,
        "state_s": {"running": 720.0, "idle": 180.0},
        "source": "live",
        **NO_DETAILS,
    }


async def test_oee_defaults_to_the_first_window(client: httpx.AsyncClient, live: LiveView) -> None:
    _run_press1(live)
    r = await client.get("/api/v1/machines/press1/oee")
    assert r.json()["window"] == "15m"
    assert r.json()["oee"] == 0.684


async def test_oee_not_computed_yet_is_200_with_nulls(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/machines/press2/oee", params={"window": "1h"})
    assert r.status_code == 200
    assert r.json() == {
        "machine": "press2",
        "window": "1h",
        **NOT_COMPUTED,
        "window_s": None,
        "run_s": None,
        "planned_s": None,
        "unknown_s": None,
        "total": None,
        "good": None,
        "reject": None,
        "state_s": None,
        "source": "live",
        **NO_DETAILS,
    }


async def test_unknown_window_is_422_naming_the_configured_ones(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/api/v1/machines/press1/oee", params={"window": "8h"})
    assert r.status_code == 422
    assert r.json() == {
        "detail": "window '8h' is not configured; configured: 15m, 1h",
        "known": ["15m", "1h"],
    }


async def test_failing_history_store_is_503_naming_the_cause(
    client_with_closed_store: httpx.AsyncClient,
) -> None:
    r = await client_with_closed_store.get("/api/v1/machines/press1/states")
    assert r.status_code == 503
    assert r.json() == {"detail": "history store unavailable: the SQLite store is not open"}
