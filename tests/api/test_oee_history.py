"""`GET /api/v1/machines/{id}/oee?from&to`: figures computed from the stored history
(tests/api/plant.py), and the rules of `window` / `from` / `to`."""

from __future__ import annotations

import httpx

from edge.pipeline.gateway import Gateway
from tests.api.conftest import publish_live
from tests.api.expected import NO_PERIOD, PRESS1_LOSSES, PRESS1_PARETO, RANGE, r4
from tests.api.plant import z

URL = "/api/v1/machines/press1/oee"


async def test_range_crossing_a_break_with_micro_stops_and_several_products(
    plant_client: httpx.AsyncClient,
) -> None:
    # The arithmetic is in tests/api/expected.py.
    r = await plant_client.get(URL, params=RANGE)
    assert r.status_code == 200
    assert r.json() == {
        "machine": "press1",
        "window": None,
        "source": "history",
        "computed": True,
        "start": z("06:40:00"),
        "ts": z("07:50:00"),
        "availability": 0.7273,  # 2400 / 3300, to 4 decimals
        "performance": 0.9104,  # 2185 / 2400
        "quality": 0.9815,  # 2144.5 / 2185
        "oee": 0.6498,  # 2144.5 / 3300
        "window_s": 4200.0,
        "run_s": 2400.0,
        "planned_s": 3300.0,
        "unknown_s": 0.0,
        "total": 1320,
        "good": 1299,
        "reject": 21,
        "state_s": {
            "running": 2400.0,
            "idle": 300.0,
            "setup": 300.0,
            "fault": 300.0,
            "planned_stop": 900.0,
            "offline": 0.0,
        },
        "coverage": 1.0,
        "planned_stop_s": 900.0,
        "breakdown_s": 300.0,
        "setup_s": 300.0,
        "idle_s": 300.0,
        "small_stop_s": 20.0,
        "speed_loss_s": 195.0,
        "ideal_s": 2185.0,
        "fully_productive_s": 2144.5,
        "startup_reject": 6,
        "performance_flagged": False,
        "failures": 1,
        "mtbf_s": 2400.0,  # run / failures
        "mttr_s": 300.0,  # breakdown / failures
        "off_plan_run_s": 0.0,  # inside the early shift (06:00-14:00)
        "off_plan_total": 0,
        "losses": PRESS1_LOSSES,
        "pareto": PRESS1_PARETO,
        **NO_PERIOD,
    }


async def test_from_alone_runs_to_now_and_knows_the_setup_before_it(
    plant_client: httpx.AsyncClient,
) -> None:
    # [07:45, now = 08:00): running 900 s. The setup 07:40-07:45 is the state in force
    # before `from`, so the 10 parts at 07:45:30 are start-up ones (6 start-up rejects).
    # Counts 07:45:30 10 (4 good), 07:50 80, 07:55 100, all product 102 (3 s):
    # total 190, good 184; ideal 570, good-ideal 552.
    r = await plant_client.get(URL, params={"from": "2026-11-03T07:45:00Z"})
    body = r.json()
    assert {k: body[k] for k in ("start", "ts", "total", "good", "reject", "startup_reject")} == {
        "start": z("07:45:00"),
        "ts": z("08:00:00"),
        "total": 190,
        "good": 184,
        "reject": 6,
        "startup_reject": 6,
    }
    assert (body["availability"], body["performance"], body["quality"]) == r4(
        1.0,
        570 / 900,
        552 / 570,
    )
    assert body["oee"] == round(552 / 900, 4)
    assert body["pareto"] == []
    assert body["failures"] == 0
    assert (body["mtbf_s"], body["mttr_s"]) == (None, None)


async def test_time_after_now_is_unknown(plant_client: httpx.AsyncClient) -> None:
    # [07:50, 08:10) with now 08:00: running 600 s, then 600 s unknown, left out of PPT.
    # Counts in (07:50, 08:10]: 07:55 100 x 3 s = 300 ideal. A 1, P 0.5, Q 1, OEE 0.5.
    params = {"from": "2026-11-03T07:50:00Z", "to": "2026-11-03T08:10:00Z"}
    body = (await plant_client.get(URL, params=params)).json()
    assert (body["window_s"], body["unknown_s"], body["planned_s"], body["run_s"]) == (
        1200.0,
        600.0,
        600.0,
        600.0,
    )
    assert (body["coverage"], body["availability"], body["performance"], body["oee"]) == (
        0.5,
        1.0,
        0.5,
        0.5,
    )
    assert body["losses"][3] == {
        "name": "unknown",
        "factor": "availability",
        "seconds": 0.0,  # excluded from PPT: not a loss (offline_counts_as: unknown)
        "points": 0.0,
    }


async def test_offsets_other_than_z_are_the_same_instant(plant_client: httpx.AsyncClient) -> None:
    utc = RANGE
    local = {"from": "2026-11-03T07:40:00+01:00", "to": "2026-11-03T08:50:00+01:00"}
    a = (await plant_client.get(URL, params=utc)).json()
    b = (await plant_client.get(URL, params=local)).json()
    assert a == b


async def test_live_window_equals_the_same_range_from_history(
    plant_client: httpx.AsyncClient, gateway: Gateway
) -> None:
    # The engine (replaying the store) and the history route agree on [07:00, 08:00):
    # running 07:00-07:10 and idle 07:10-07:15 are in the break (900 s planned stop),
    # idle 300, run 600 + 20 + 580 + 900 = 2100, setup 300; PPT 2700.
    # Counts in (07:00, 08:00]: 570 + 525 + 30 + 240 + 300 = 1665 ideal,
    # 562.5 + 525 + 12 + 240 + 300 = 1639.5 good-ideal.
    await publish_live(gateway)
    live = (await plant_client.get(URL, params={"window": "1h"})).json()
    params = {"from": "2026-11-03T07:00:00Z", "to": "2026-11-03T08:00:00Z"}
    history = (await plant_client.get(URL, params=params)).json()
    assert (live.pop("window"), live.pop("source")) == ("1h", "live")
    assert (history.pop("window"), history.pop("source")) == (None, "history")
    assert live == history
    assert (live["start"], live["ts"]) == (z("07:00:00"), z("08:00:00"))
    assert (live["availability"], live["performance"]) == r4(2100 / 2700, 1665 / 2100)
    assert (live["quality"], live["oee"]) == r4(1639.5 / 1665, 1639.5 / 2700)


async def test_bad_periods_are_422_naming_the_parameter(plant_client: httpx.AsyncClient) -> None:
    cases = [
        (
            {"window": "1h", "from": "2026-11-03T07:00:00Z"},
            {"detail": "give either `window` or `from`/`to`, not both"},
        ),
        (
            {"window": "1h", "to": "2026-11-03T07:00:00Z"},
            {"detail": "give either `window` or `from`/`to`, not both"},
        ),
        ({"to": "2026-11-03T07:00:00Z"}, {"detail": "`from` is required with `to`"}),
        (
            {"from": "2026-11-03T07:00:00Z", "to": "2026-11-03T07:00:00Z"},
            {"detail": "`from` must be earlier than `to`"},
        ),
        (
            {"from": "2026-11-03T08:00:00Z"},  # = now
            {"detail": "`from` must be earlier than now (`to` defaults to now)"},
        ),
        (
            {"from": "2026-08-03T06:59:59Z", "to": "2026-11-03T07:00:00Z"},  # 92 days + 1 s
            {"detail": "`from` to `to` spans more than 92 days; ask for less"},
        ),
        (
            {"window": "8h"},
            {
                "detail": "window '8h' is not configured; configured: 15m, 1h",
                "known": ["15m", "1h"],
            },
        ),
    ]
    for params, expected in cases:
        r = await plant_client.get(URL, params=params)
        assert (r.status_code, r.json()) == (422, expected), params


async def test_92_days_are_allowed(plant_client: httpx.AsyncClient) -> None:
    # 2026-08-03 to 2026-11-03: 31 + 30 + 31 = 92 days (UTC: no summer time hour).
    params = {"from": "2026-08-03T08:00:00Z", "to": "2026-11-03T08:00:00Z"}
    r = await plant_client.get(URL, params=params)
    assert r.status_code == 200
    assert r.json()["window_s"] == 92 * 86400.0


async def test_a_naive_time_is_422(plant_client: httpx.AsyncClient) -> None:
    r = await plant_client.get(URL, params={"from": "2026-11-03T07:00:00"})
    assert r.status_code == 422


async def test_unknown_machine_is_404_before_a_bad_range(plant_client: httpx.AsyncClient) -> None:
    r = await plant_client.get("/api/v1/machines/nope/oee", params={"to": "2026-11-03T07:00:00Z"})
    assert r.status_code == 404
    assert r.json() == {
        "detail": "unknown machine 'nope'; known machines: press1, press2, press3",
        "known": ["press1", "press2", "press3"],
    }


async def test_failing_store_is_503(client_with_closed_store: httpx.AsyncClient) -> None:
    r = await client_with_closed_store.get(URL, params={"from": "2026-11-03T07:00:00Z"})
    assert r.status_code == 503
    assert r.json() == {"detail": "history store unavailable: the SQLite store is not open"}
