"""`GET /api/v1/plant/oee`: every machine of the gateway summed, in the line route's shape."""

from __future__ import annotations

import httpx

from edge.pipeline.gateway import Gateway
from tests.api.conftest import publish_live
from tests.api.expected import (
    LINE_LOSSES,
    LINE_RATIOS,
    NO_PERIOD,
    PRESS1_RATIOS,
    PRESS2_RATIOS,
    RANGE,
    RANGE_HEAD,
    SUMS,
    r4,
)
from tests.api.plant import z

URL = "/api/v1/plant/oee"
NO_RATIOS = {"availability": None, "performance": None, "quality": None, "oee": None}


async def test_the_plant_over_a_range(plant_client: httpx.AsyncClient) -> None:
    r = await plant_client.get(URL, params=RANGE)
    assert r.status_code == 200
    # line1's sums (tests/api/expected.py) plus press3 (line2), which has no history: its
    # 4200 s are unknown, out of the planned time. So the ratios are line1's, while the
    # window, the unknown time and the coverage take press3 in.
    assert r.json() == {
        "line": None,
        **RANGE_HEAD,
        "mode": "sum",
        "bottleneck": None,
        **LINE_RATIOS,
        "performance_flagged": False,
        **SUMS,
        "window_s": 12600.0,
        "unknown_s": 4200.0,
        "coverage": 0.6667,  # 8400 / 12600
        "losses": LINE_LOSSES,
        "machines": {"press1": PRESS1_RATIOS, "press2": PRESS2_RATIOS, "press3": NO_RATIOS},
        **NO_PERIOD,
    }


async def test_the_plant_is_summed_whatever_the_lines_rollup(
    bottleneck_client: tuple[httpx.AsyncClient, Gateway],
) -> None:
    client, _ = bottleneck_client
    body = (await client.get(URL, params=RANGE)).json()
    line = (await client.get("/api/v1/lines/line1/oee", params=RANGE)).json()
    assert (body["mode"], body["bottleneck"], body["oee"]) == ("sum", None, 0.7173)  # 4734.5 / 6600
    assert (line["mode"], line["bottleneck"]) == ("bottleneck", "press2")


async def test_the_live_window_sums_every_machine(
    plant_client: httpx.AsyncClient, gateway: Gateway
) -> None:
    await publish_live(gateway)
    body = (await plant_client.get(URL, params={"window": "1h"})).json()
    # [07:00, 08:00): line1 as in test_line_oee (run 4500, PPT 5400, ideal 3705,
    # good-ideal 3679.5, 2960 parts, 11 rejects); press3's hour is all unknown.
    assert {k: body[k] for k in ("line", "window", "from", "to", "source", "missing")} == {
        "line": None,
        "window": "1h",
        "from": z("07:00:00"),
        "to": z("08:00:00"),
        "source": "live",
        "missing": [],
    }
    assert (body["availability"], body["performance"]) == r4(4500 / 5400, 3705 / 4500)
    assert (body["quality"], body["oee"]) == r4(3679.5 / 3705, 3679.5 / 5400)
    assert (body["window_s"], body["unknown_s"], body["planned_s"]) == (10800.0, 3600.0, 5400.0)
    assert (body["total"], body["good"], body["reject"]) == (2960, 2949, 11)
    assert list(body["machines"]) == ["press1", "press2", "press3"]
    assert body["machines"]["press3"] == NO_RATIOS


async def test_before_any_figures_every_machine_is_missing(
    plant_client: httpx.AsyncClient, gateway: Gateway
) -> None:
    body = (await plant_client.get(URL)).json()
    assert (body["line"], body["window"], body["computed"]) == (None, "15m", False)
    assert body["missing"] == ["press1", "press2", "press3"]
    await publish_live(gateway, ["press2"])
    body = (await plant_client.get(URL)).json()
    assert (body["computed"], body["missing"]) == (True, ["press1", "press3"])


async def test_bad_period_is_422_and_the_route_is_documented(
    plant_client: httpx.AsyncClient,
) -> None:
    r = await plant_client.get(URL, params={"window": "8h"})
    assert r.status_code == 422
    assert r.json()["detail"] == "window '8h' is not configured; configured: 15m, 1h"
    spec = (await plant_client.get("/openapi.json")).json()
    op = spec["paths"]["/api/v1/plant/oee"]["get"]
    assert op["summary"] == "Plant OEE: every machine of the gateway, summed (`line` is null)"
    assert {"200", "422", "503"} <= set(op["responses"])
    line = spec["components"]["schemas"]["LineOeeOut"]["properties"]["line"]
    assert line["description"] == "null for the plant (`GET /plant/oee`)"
