"""`GET /api/v1/losses`: the loss tree, downtime Pareto and MTBF/MTTR of a machine or line."""

from __future__ import annotations

import httpx

from edge.pipeline.gateway import Gateway
from tests.api.conftest import publish_live
from tests.api.expected import (
    LINE_LOSSES,
    NO_PERIOD,
    PRESS1_LOSSES,
    PRESS1_PARETO,
    RANGE,
    RANGE_HEAD,
)

URL = "/api/v1/losses"


async def test_losses_of_a_machine_over_a_range(plant_client: httpx.AsyncClient) -> None:
    r = await plant_client.get(URL, params={"machine": "press1", **RANGE})
    assert r.status_code == 200
    assert r.json() == {
        "machine": "press1",
        "line": None,
        **RANGE_HEAD,
        "planned_s": 3300.0,
        "fully_productive_s": 2144.5,  # + the losses' 1155.5 s = 3300
        "losses": PRESS1_LOSSES,
        "pareto": [{"machine": "press1", **row} for row in PRESS1_PARETO],
        "reliability": {"failures": 1, "mtbf_s": 2400.0, "mttr_s": 300.0},
        **NO_PERIOD,
    }


async def test_losses_of_a_line_merge_the_machines_pareto(
    plant_client: httpx.AsyncClient,
) -> None:
    body = (await plant_client.get(URL, params={"line": "line1", **RANGE})).json()
    assert (body["machine"], body["line"], body["planned_s"]) == (None, "line1", 6600.0)
    assert body["fully_productive_s"] == 4734.5
    assert body["losses"] == LINE_LOSSES
    # 1200 s of downtime: press1's fault (Jam), idle and setup and press2's fault, 300 s
    # each, a quarter each. Ties in the Pareto's order: state, then code (none first).
    row = {"count": 1, "seconds": 300.0, "share": 0.25}
    assert body["pareto"] == [
        {"machine": "press2", "state": "fault", "reason_code": None, "reason": None, **row},
        {"machine": "press1", "state": "fault", "reason_code": 20, "reason": "Jam", **row},
        {"machine": "press1", "state": "idle", "reason_code": None, "reason": None, **row},
        {"machine": "press1", "state": "setup", "reason_code": None, "reason": None, **row},
    ]
    # 2 failures: MTBF 5400 / 2, MTTR 600 / 2.
    assert body["reliability"] == {"failures": 2, "mtbf_s": 2700.0, "mttr_s": 300.0}


async def test_live_losses_of_a_window(plant_client: httpx.AsyncClient, gateway: Gateway) -> None:
    await publish_live(gateway)
    body = (await plant_client.get(URL, params={"machine": "press1", "window": "1h"})).json()
    # [07:00, 08:00): idle 07:15-07:20 and setup 07:40-07:45 (the break took 07:00-07:15).
    row = {"machine": "press1", "reason_code": None, "reason": None, "count": 1}
    assert body["pareto"] == [
        {"state": "idle", "seconds": 300.0, "share": 0.5, **row},
        {"state": "setup", "seconds": 300.0, "share": 0.5, **row},
    ]
    assert body["reliability"] == {"failures": 0, "mtbf_s": None, "mttr_s": None}
    assert (body["window"], body["source"], body["planned_s"]) == ("1h", "live", 2700.0)


async def test_before_any_figures_nothing_is_computed(plant_client: httpx.AsyncClient) -> None:
    body = (await plant_client.get(URL, params={"line": "line2"})).json()
    assert body == {
        "machine": None,
        "line": "line2",
        "window": "15m",
        "from": None,
        "to": None,
        "source": "live",
        "computed": False,
        "missing": ["press3"],
        "planned_s": None,
        "fully_productive_s": None,
        "losses": [],
        "pareto": [],
        "reliability": None,
        **NO_PERIOD,
    }


async def test_exactly_one_of_machine_and_line(plant_client: httpx.AsyncClient) -> None:
    expected = {"detail": "give exactly one of `machine` and `line`"}
    for params in ({}, {"machine": "press1", "line": "line1"}):
        r = await plant_client.get(URL, params=params)
        assert (r.status_code, r.json()) == (422, expected)


async def test_unknown_machine_or_line_is_404(plant_client: httpx.AsyncClient) -> None:
    r = await plant_client.get(URL, params={"machine": "nope"})
    assert (r.status_code, r.json()["detail"]) == (
        404,
        "unknown machine 'nope'; known machines: press1, press2, press3",
    )
    r = await plant_client.get(URL, params={"line": "nope"})
    assert (r.status_code, r.json()) == (
        404,
        {"detail": "unknown line 'nope'; known lines: line1, line2", "known": ["line1", "line2"]},
    )


async def test_bad_period_is_422(plant_client: httpx.AsyncClient) -> None:
    params = {"machine": "press1", "window": "1h", "from": "2026-11-03T07:00:00Z"}
    r = await plant_client.get(URL, params=params)
    assert r.status_code == 422
    assert r.json() == {"detail": "give either `window` or `from`/`to`, not both"}


async def test_failing_store_is_503(client_with_closed_store: httpx.AsyncClient) -> None:
    r = await client_with_closed_store.get(URL, params={"line": "line1", **RANGE})
    assert r.status_code == 503
    assert r.json() == {"detail": "history store unavailable: the SQLite store is not open"}
