"""The SPC routes over a real SQLite store and a real (not running) Gateway as the
control, as in the daemon: readings entered by hand on an I-MR chart (Montgomery's
aircraft primer paint viscosity, Introduction to SQC 5th ed., pp. 232-235, Table 6.9;
qcc's vignette "Continuous one-at-time data"), a Phase I baseline previewed, frozen with
and without an assignable cause, a drifted reading judged against the frozen limits,
limits by hand, unfreezing, capability and every refusal with its exact message; and the
same case over a real influxd as the history store, answering as the SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import mean
from typing import Any

import httpx
import pytest

from api.app import create_app
from connectors.influxdb.influxql import InfluxHistory
from connectors.influxdb.sink import InfluxSink
from connectors.sqlite.store import SqliteStore
from core.spc import SpcPoint
from edge.config import Config, InfluxConfig, SqliteConfig
from edge.outbox import Journal, Outbox
from edge.pipeline.gateway import Gateway
from edge.pipeline.live import LiveView, machine_refs
from tests.connectors.influxdb.test_influxdb import until
from tests.fixtures.influx import InfluxServer
from tests.oee.spc.datasets import VISCOSITY

T0 = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
CHART = "paint-viscosity"
URL = f"/api/v1/spc/charts/{CHART}"
D2 = 1.128379  # d2(2) = 2/√π; qcc and the book print 1.128 (oee.spc uses the exact value)


def _config(tmp_path: Path) -> Config:
    machine = {"modbus": {"host": "127.0.0.1"}, "tags": {"state": {"address": 0}}}
    chart = {
        "id": CHART, "machine": "mixer1", "name": "Primer viscosity", "unit": "cSt",
        "source": "manual", "kind": "imr", "valid": {"min": 0, "max": 100},
        "rules": {"western_electric": [1, 2, 3, 4]}, "baseline_subgroups": 100,
        "spec": {"lsl": 32, "usl": 36, "target": 34},
        "products": {"P2": {"lsl": 38, "usl": 42, "target": 40}},
    }  # fmt: skip
    return Config.model_validate({
        "gateway": {"id": "gw1", "data_dir": str(tmp_path / "data")},
        "site": "plant1", "area": "paint", "line": "line1",
        "calendar": {"timezone": "UTC",
                     "shifts": [{"name": "early", "start": "06:00", "end": "14:00"}]},
        "machines": [{"id": "mixer1", "ideal_cycle_s": 2, **machine,
                      "products": {"P1": {"ideal_cycle_s": 2}, "P2": {"ideal_cycle_s": 2}}}],
        "spc": {"charts": [chart]},
    })  # fmt: skip


class Plant:
    """The API over a store, with a gateway behind it and a clock the test moves."""

    def __init__(self, client: httpx.AsyncClient, gateway: Gateway) -> None:
        self.client, self.gateway = client, gateway
        self.now = NOW

    async def read(self, minute: int, *values: float) -> httpx.Response:
        ts = (T0 + timedelta(minutes=minute)).isoformat()
        return await self.client.post(f"{URL}/measurements", json={"values": values, "ts": ts})


@pytest.fixture
async def plant(tmp_path: Path) -> AsyncIterator[Plant]:
    config = _config(tmp_path)
    async with SqliteStore(SqliteConfig(path=tmp_path / "spc.sqlite")) as store:
        holder: list[Plant] = []
        gateway = Gateway(config, sinks=[store], history=store, clock=lambda: NOW)
        app = create_app(config, gateway.live, store, lambda: NOW, control=gateway)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            holder.append(Plant(client, gateway))
            yield holder[0]


async def _twenty(plant: Plant) -> None:
    """The 20 Phase I readings, one a minute from T0."""
    for i, v in enumerate(VISCOSITY[:20]):
        r = await plant.read(i, v)
        assert r.status_code == 200, r.text


async def test_readings_by_hand_become_points_in_phase_one(plant: Plant) -> None:
    await _twenty(plant)
    r = await plant.client.get(URL, params={"from": T0.isoformat(), "to": NOW.isoformat()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["chart"], body["machine"], body["kind"], body["source"]) == (
        CHART, "mixer1", "imr", "manual",
    )  # fmt: skip
    assert (body["phase"], body["limits"], body["zones"], body["count"]) == ("I", None, None, 20)
    assert [p["value"] for p in body["points"]] == VISCOSITY[:20]
    assert [p["seq"] for p in body["points"]] == list(range(1, 21))
    # The moving range of point 2: |34.40 - 34.05| = 0.35; the first point has none.
    assert [p["spread"] for p in body["points"][:2]] == [None, 0.35]
    assert body["points"][0]["ts"] == "2026-11-03T06:00:00.000Z"
    assert body["violations"] == [] and body["held"] == 0
    listed = (await plant.client.get("/api/v1/spc/charts")).json()["charts"]
    assert [(c["chart"], c["seq"], c["value"], c["phase"]) for c in listed] == [
        (CHART, 20, VISCOSITY[19], "I")
    ]


async def test_freeze_from_a_baseline_then_judge_a_drift(plant: Plant) -> None:
    await _twenty(plant)
    preview = await plant.client.post(f"{URL}/limits", json={"last": 20, "preview": True})
    assert preview.status_code == 200, preview.text
    body = preview.json()
    # Montgomery: x̄ = 34.088, limits 32.57 .. 35.61 (d2 = 1.128); qcc: σ̂ 0.5076521.
    sigma = 0.5076521 * 1.128 / D2
    lim = body["limits"]
    assert body["frozen"] is False and lim["center"] == 34.088
    assert lim["sigma"] == pytest.approx(sigma, rel=2e-6)
    assert (round(lim["lcl"], 2), round(lim["ucl"], 2)) == (32.57, 35.61)
    assert (lim["frozen_by"], lim["subgroups"], len(body["points"])) == (None, 20, 20)
    # The baseline review shows Montgomery's assignable cause: batch 4 (35.96) beyond
    # the UCL, and its moving range |35.96 - 33.59| = 2.37 beyond the MR chart's UCL
    # D4·MR̄ = 3.267 x 0.5726 = 1.871 (the next one, 1.26, is inside).
    found = body["violations"]
    assert [(v["seq"], v["rule"], v["points"], v["side"], v["phase"]) for v in found] == [
        (4, "WE1", [4], "+", "I"), (4, "SPREAD", [4], None, "I"),
    ]  # fmt: skip
    state = (await plant.client.get("/api/v1/spc/charts")).json()["charts"][0]
    assert (state["phase"], state["limits"]) == ("I", None)  # a preview freezes nothing

    frozen = await plant.client.post(f"{URL}/limits", json={"last": 20})
    assert frozen.status_code == 200, frozen.text
    lim = frozen.json()["limits"]
    assert (lim["frozen_by"], lim["frozen_at"]) == ("loopback", "2026-11-03T07:00:00.000Z")
    assert (lim["baseline_from"], lim["baseline_to"]) == (
        "2026-11-03T06:00:00.000Z", "2026-11-03T06:19:00.000Z",
    )  # fmt: skip

    # A drifted batch, 36.5 cSt > UCL 35.61: WE1 on point 21, judged on the frozen limits;
    # its moving range |36.5 - 34.05| = 2.45 is beyond the MR chart's 1.871: SPREAD.
    r = await plant.read(20, 36.5)
    assert r.status_code == 200, r.text
    state = r.json()
    assert (state["seq"], state["zone"], state["violations"], state["phase"]) == (
        21, "beyond+", ["WE1", "SPREAD"], "II",
    )  # fmt: skip
    chart = (await plant.client.get(URL, params={"from": T0.isoformat()})).json()
    assert chart["phase"] == "II" and chart["limits"]["frozen_by"] == "loopback"
    # Only live judgements are stored: the Phase I points had no limits to break.
    assert chart["violations"] == [
        {"seq": 21, "ts": "2026-11-03T06:20:00.000Z", "rule": "WE1",
         "name": "1 point beyond 3σ", "points": [21], "side": "+", "value": 36.5, "phase": "II"},
        {"seq": 21, "ts": "2026-11-03T06:20:00.000Z", "rule": "SPREAD",
         "name": "spread point beyond its limits", "points": [21], "side": None, "value": 36.5,
         "phase": "II"},
    ]  # fmt: skip
    step = (chart["limits"]["ucl"] - 34.088) / 3
    assert chart["zones"]["c"] == pytest.approx([34.088 - step, 34.088 + step], abs=1e-4)
    last = chart["points"][-1]
    assert (last["ucl"], last["lcl"]) == (chart["limits"]["ucl"], chart["limits"]["lcl"])
    # `limit`: the latest points, and only the violations among them: not point 21's, nor
    # 22's (its moving range |34.1 - 36.5| = 2.4 is beyond 1.871: SPREAD).
    for minute, value in ((21, 34.1), (22, 34.0), (23, 34.2)):
        assert (await plant.read(minute, value)).status_code == 200
    page = (await plant.client.get(URL, params={"from": T0.isoformat(), "limit": 2})).json()
    assert [p["seq"] for p in page["points"]] == [23, 24]
    assert (page["violations"], page["count"]) == ([], 2)


async def test_a_point_with_an_assignable_cause_is_left_out(plant: Plant) -> None:
    await _twenty(plant)
    r = await plant.client.post(f"{URL}/limits", json={"last": 20, "exclude": [4]})
    assert r.status_code == 200, r.text
    lim = r.json()["limits"]
    # Reading 4 (35.96) left out: the centre is the mean of the other 19; its two moving
    # ranges (3-4 and 4-5) are left out too, so MR̄ is over the 17 others.
    kept = VISCOSITY[:3] + VISCOSITY[4:20]
    ranges = [abs(a - b) for a, b in zip(VISCOSITY[1:20], VISCOSITY[:19], strict=True)]
    ranges = ranges[:2] + ranges[4:]
    assert lim["center"] == pytest.approx(mean(kept), abs=5e-5)
    assert lim["sigma"] == pytest.approx(mean(ranges) / D2, rel=1e-5)
    assert (lim["excluded"], lim["subgroups"]) == ([4], 19)


async def test_limits_by_hand_and_unfreeze(plant: Plant) -> None:
    r = await plant.client.put(f"{URL}/limits", json={"center": 34, "ucl": 35.5, "lcl": 32.5})
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["phase"] == "II"
    assert {k: state["limits"][k] for k in ("center", "ucl", "lcl", "sigma", "source")} == {
        "center": 34, "ucl": 35.5, "lcl": 32.5, "sigma": 0.5, "source": "manual",
    }  # fmt: skip
    assert state["limits"]["frozen_by"] == "loopback"
    r = await plant.client.delete(f"{URL}/limits")
    assert r.status_code == 200, r.text
    assert (r.json()["phase"], r.json()["limits"]) == ("I", None)


async def test_capability_of_the_readings(plant: Plant) -> None:
    await _twenty(plant)
    r = await plant.client.get(
        f"{URL}/capability", params={"from": T0.isoformat(), "to": NOW.isoformat()}
    )
    assert r.status_code == 200, r.text
    cap = r.json()
    # Within σ = MR̄/d2 (qcc's 0.5076521 with d2 = 1.128); Cp = (USL − LSL)/6σ,
    # Cpk = min(USL − x̄, x̄ − LSL)/3σ = (36 − 34.088)/3σ; overall σ the sample stdev.
    sigma = 0.5076521 * 1.128 / D2
    assert (cap["n"], cap["subgroups"], cap["mean"]) == (20, 20, 34.088)
    assert cap["sigma_within"] == pytest.approx(sigma, rel=2e-6)
    assert cap["cp"] == pytest.approx(4 / (6 * sigma), rel=1e-5)
    assert cap["cpk"] == pytest.approx((36 - 34.088) / (3 * sigma), rel=1e-5)
    assert cap["spec"] == {"lsl": 32, "usl": 36, "target": 34}
    assert (cap["below_lsl"], cap["above_usl"], cap["observed_ppm"]) == (0, 0, 0)
    # 20 subgroups: fewer than the 25 a capability study wants (AIAG SPC manual).
    assert cap["flags"] == [{"flag": "few_subgroups", "value": 20}]


async def test_capability_pools_the_readings_held_to_the_same_spec(plant: Plant) -> None:
    """Points made before the product was known (product null) and those of a product
    without a spec of its own share the chart's spec, so one capability: the finding was
    n = 2 on the page while 16 points of the shift were on the chart."""

    def point(seq: int, product: str | None, value: float) -> SpcPoint:
        ts = T0 + timedelta(minutes=seq)
        return SpcPoint(CHART, "mixer1", ts, seq, "imr", value, None, 1, None, None, None,
                        None, "I", (), (value,), product)  # fmt: skip

    values = [(None, 34.0), (None, 34.5), ("P1", 33.5), ("P1", 34.2), ("P2", 40.0)]
    await plant.gateway.emit([point(i + 1, p, v) for i, (p, v) in enumerate(values)])
    span = {"from": T0.isoformat(), "to": NOW.isoformat()}
    cap = (await plant.client.get(f"{URL}/capability", params=span | {"product": "P1"})).json()
    assert (cap["n"], cap["mean"], cap["product"]) == (4, 34.05, "P1")
    assert cap["spec"] == {"lsl": 32, "usl": 36, "target": 34}
    cap = (await plant.client.get(f"{URL}/capability", params=span | {"product": "P2"})).json()
    assert (cap["n"], cap["mean"], cap["spec"]) == (1, 40, {"lsl": 38, "usl": 42, "target": 40})


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "detail"),
    [
        ("GET", "/api/v1/spc/charts/nope", None, 404,
         f"unknown SPC chart 'nope'; known charts: {CHART}"),
        ("POST", f"{URL}/limits", {"last": 5, "from": "2026-11-03T06:00:00Z"}, 422,
         "give the baseline as `from` and `to`, or as `last`, not both"),
        ("POST", f"{URL}/measurements", {"values": [150.0]}, 422,
         f"values[0]: 150 is outside the physical range 0..100 of chart {CHART}: "
         "check the reading"),
    ],
)  # fmt: skip
async def test_refusals(
    plant: Plant, method: str, path: str, body: Any, status: int, detail: str
) -> None:
    r = await plant.client.request(method, path, json=body)
    assert (r.status_code, r.json()["detail"]) == (status, detail)


async def test_excluding_a_point_outside_the_baseline_is_refused(plant: Plant) -> None:
    await _twenty(plant)
    r = await plant.client.post(f"{URL}/limits", json={"last": 5, "exclude": [3]})
    assert r.status_code == 422
    assert r.json()["detail"] == (
        "exclude: points 3 are not in the baseline (points 16..20): exclude only points of it"
    )


async def test_read_only_api_lists_charts_but_refuses_changes(tmp_path: Path) -> None:
    config = _config(tmp_path)
    async with SqliteStore(SqliteConfig(path=tmp_path / "ro.sqlite")) as store:
        app = create_app(config, LiveView.from_config(config), store, lambda: NOW)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            listed = (await client.get("/api/v1/spc/charts")).json()["charts"]
            assert [(c["chart"], c["seq"], c["phase"]) for c in listed] == [(CHART, None, "I")]
            r = await client.post(f"{URL}/limits", json={"last": 5})
    assert (r.status_code, r.json()["detail"]) == (
        503,
        "read-only API: no running gateway to hand the change to",
    )


async def _frozen_then_drifted(plant: Plant, settle: Any) -> tuple[Any, Any]:
    """The viscosity case through the store: 20 readings, limits frozen from them (the
    stored points), the drifted 21st; the chart of the hour and the capability of the 20."""
    await _twenty(plant)
    await settle()
    assert (await plant.client.post(f"{URL}/limits", json={"last": 20})).status_code == 200
    assert (await plant.read(20, 36.5)).status_code == 200
    await settle()
    chart = await plant.client.get(URL, params={"from": T0.isoformat(), "to": NOW.isoformat()})
    span = {"from": T0.isoformat(), "to": (T0 + timedelta(minutes=20)).isoformat()}
    cap = await plant.client.get(f"{URL}/capability", params=span)
    assert (chart.status_code, cap.status_code) == (200, 200), (chart.text, cap.text)
    return chart.json(), cap.json()


async def test_influxdb_as_the_history_store_answers_as_sqlite(
    plant: Plant, influxd: InfluxServer, outbox: Outbox, tmp_path: Path
) -> None:
    async def nothing() -> None:
        """No step between the freeze and the drift: the same story as the SQLite run."""

    expected = await _frozen_then_drifted(plant, nothing)
    config = _config(tmp_path / "influx")
    cfg = InfluxConfig(url=influxd.url, database=influxd.new_database("spcapi"), api="v1",
                       flush_interval_s=0.05)  # type: ignore[call-arg]  # fmt: skip
    sink = InfluxSink(cfg, machine_refs(config), journal=Journal(outbox))

    async def settle() -> None:  # every line the gateway handed the sink is in influxd
        await until(lambda: outbox.depth(sink.name).records == 0, within_s=10)

    holder: list[Plant] = []
    async with sink, InfluxHistory(cfg, machine_refs(config)) as influx:
        gateway = Gateway(config, sinks=[sink], history=influx, clock=lambda: NOW)
        app = create_app(config, gateway.live, influx, lambda: NOW, control=gateway)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            holder.append(Plant(client, gateway))
            chart, cap = await _frozen_then_drifted(holder[0], settle)
    assert (chart, cap) == expected
    # The figures themselves (Montgomery Table 6.9; qcc σ̂ 0.5076521 with d2 = 1.128).
    assert [p["value"] for p in chart["points"]] == [*VISCOSITY[:20], 36.5]
    lim = chart["limits"]
    assert (lim["center"], round(lim["lcl"], 2), round(lim["ucl"], 2)) == (34.088, 32.57, 35.61)
    assert [(v["seq"], v["rule"]) for v in chart["violations"]] == [(21, "WE1"), (21, "SPREAD")]
    assert (cap["n"], cap["mean"]) == (20, 34.088)
    assert cap["sigma_within"] == pytest.approx(0.5076521 * 1.128 / D2, rel=2e-6)
