"""The live page's "Process (SPC)" panel (issue 18) in headless Chromium against a running
gateway (`oee-edge run`) reading the Modbus simulator (spc_page_scenario.yaml): Filler 1's
fill weight on an I-MR chart, trial limits from its first 15 points, the drift the
scenario injects at 12 s seen as a red point named on hover and listed, the `spc` alarm it
raises in the banner, the limits frozen over the API and the page's phase following over
the event stream, the shift's capability as the API computes it once the machine stops,
a tablet and a phone without horizontal scroll, and "no SPC charts configured"."""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver

from api.app import create_app
from connectors.sqlite.store import SqliteStore
from edge.config import SqliteConfig
from edge.pipeline.gateway import Gateway
from tests.fixtures.api_thread import ApiThread
from tests.fixtures.browser import chromium
from tests.fixtures.gateway_process import GatewayProcess, SimulatorProcess
from tests.fixtures.ports import free_port
from tests.integration.test_live_page import save_png, wait_for
from tests.integration.test_live_page_flags import config as flags_config

SCENARIO = Path(__file__).with_name("spc_page_scenario.yaml")
# Kept after the run, to look at: $TMPDIR/oee-edge-shots/spc-page-*.png.
SHOTS = Path(tempfile.gettempdir()) / "oee-edge-shots"
CHART = "m1-weight"
DRIFT_S = 12  # the scenario's fill_drift.at_s
IDLE_S = 22  # the scenario's m1 stops making parts then


def config_text(data: Path, api_port: int, modbus_port: int) -> str:
    """A shift `test` from a minute ago for 8 h (the capability's range)."""
    start = datetime.now(UTC) - timedelta(minutes=1)
    end = start + timedelta(hours=8)
    return f"""
gateway: {{id: gw-spc-page, data_dir: "{data}"}}
site: plant
area: area1
line: l1
api: {{port: {api_port}}}
sqlite: {{path: "{data}/store.sqlite"}}
oee: {{windows: [1h], publish_interval_s: 1}}
calendar:
  timezone: UTC
  shifts: [{{name: test, start: "{start:%H:%M:%S}", end: "{end:%H:%M:%S}"}}]
machines:
  - id: m1
    name: Filler 1
    modbus: {{host: 127.0.0.1, port: {modbus_port}, unit_id: 1, poll_interval_s: 0.1}}
    tags:
      code: {{address: 0}}
      total: {{address: 138, type: uint32}}  # the part record: read with the weight
      fill_weight: {{address: 136, type: float32, order: CDAB}}
    state_rules: [{{tag: code, map: {{1: running, 2: idle, 3: fault, 4: setup, 5: planned_stop}}}}]
    counters: {{total: {{tag: total}}}}
    ideal_cycle_s: 0.25
spc:
  charts:
    - id: {CHART}
      machine: m1
      name: Filler 1 fill weight
      unit: g
      tag: fill_weight
      kind: imr
      subgroup: {{per_part: true}}
      valid: {{min: 0, max: 2000}}
      spec: {{lsl: 490, usl: 510, target: 500}}
      baseline_subgroups: 15
alarms:
  rules:
    - {{name: out-of-control, kind: spc, rules: [WE1, WE2, WE3, WE4]}}
"""


@dataclass
class Plant:
    url: str
    started: float  # time.monotonic() when the simulator's script began

    def api(self, path: str) -> Any:
        r = httpx.get(self.url + path, timeout=10)
        r.raise_for_status()
        return r.json()

    def wait_until(self, sim_s: float) -> None:
        time.sleep(max(0.0, self.started + sim_s - time.monotonic()))


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plant]:
    tmp = tmp_path_factory.mktemp("spc-page")
    SHOTS.mkdir(parents=True, exist_ok=True)
    scenario = SCENARIO.read_text().replace(
        "      - {state: running}", f"      - {{state: running, for_s: {IDLE_S}}}\n"
        "      - {state: idle, reason: 0}")  # fmt: skip
    (tmp / "scenario.yaml").write_text(scenario)
    sim = SimulatorProcess(tmp / "scenario.yaml", free_port(), time.time(), tmp / "sim.log")
    api_port = free_port()
    (tmp / "config.yaml").write_text(config_text(tmp / "data", api_port, sim.port))
    (tmp / "data").mkdir()
    gw = GatewayProcess(tmp / "config.yaml", tmp / "gateway.log", api_port)
    started = time.monotonic()
    sim.start()
    try:
        gw.start()
        gw.wait_reading(30)
        yield Plant(f"http://127.0.0.1:{api_port}", started)
    finally:
        gw.terminate()
        sim.stop()


PANEL_JS = """
const box = document.getElementById("spc");
const all = (s) => [...box.querySelectorAll(s)];
const main = box.querySelector("svg.main");
return {
  conn: document.getElementById("conn").dataset.conn,
  loads: Number(document.body.dataset.loads || 0),
  options: all("#spc-chart option").map((o) => [o.value, o.textContent]),
  head: (box.querySelector(".spc-head") || {}).innerText || "",
  phase: (box.querySelector(".spc-phase") || {}).textContent || "",
  spec: (box.querySelector(".spc-spec") || {}).textContent || "",
  points: main ? [...main.querySelectorAll("circle.pt")].map((c) => [Number(c.dataset.seq),
    c.classList.contains("bad"), c.querySelector("title").textContent]) : [],
  spread: all("svg.spread circle.pt").length,
  labels: main ? [...main.querySelectorAll("text")].map((t) => t.textContent) : [],
  zones: main ? main.querySelectorAll("path.zone").length : 0,
  violations: all(".spc-violations li").map((li) => [li.dataset.rule, Number(li.dataset.seq),
    li.innerText]),
  figs: Object.fromEntries(all(".spc-figs .fig").map((f) => [f.dataset.fig,
    f.querySelector(".val").textContent])),
  capN: (box.querySelector(".spc-cap p") || {}).textContent || "",
  text: box.innerText,
  alarms: [...document.querySelectorAll("#banner .alarm .msg")].map((m) => m.textContent),
  scrollWidth: document.scrollingElement.scrollWidth, innerWidth: innerWidth,
  select: (box.querySelector("#spc-chart") || {offsetHeight: 0}).offsetHeight,
};
"""


def panel(driver: webdriver.Chrome) -> dict[str, Any]:
    result: dict[str, Any] = driver.execute_script(PANEL_JS)
    return result


def open_panel(driver: webdriver.Chrome, url: str, points: int) -> dict[str, Any]:
    driver.get(url + "/")

    def ready() -> dict[str, Any] | None:
        s = panel(driver)
        return s if s["conn"] == "live" and len(s["points"]) >= points else None

    try:
        return wait_for(ready, 60, f"the SPC panel live with {points} points")
    except AssertionError as e:
        raise AssertionError(f"{e}\nconsole: {driver.get_log('browser')}") from None


def fmt(x: float) -> str:
    """A limit as the chart's labels show it (spcchart.js num: 4 significant digits)."""
    return f"{float(f'{x:.4g}'):g}" if abs(x) < 1000 else f"{float(f'{x:.6g}'):g}"


def test_trial_limits_then_the_drift_marked_named_and_alarmed(plant: Plant) -> None:
    with chromium(1280, 900) as driver:
        s = open_panel(driver, plant.url, 16)
        # The option names the rules a point broke in the hour (" ⚠ WE1" …): on a loaded
        # box the page may open after the drift, or after a false alarm of the trial limits.
        [(value, text)] = s["options"]
        assert value == CHART and text.startswith("Filler 1 · Filler 1 fill weight (I-MR)")
        assert s["head"].startswith("Filler 1 fill weight · I-MR")
        assert s["phase"] == "Phase I: trial limits from 15 subgroups (not frozen yet)"
        assert s["spec"] == "Spec: LSL 490 · target 500 · USL 510 g"
        assert s["zones"] == 5 and s["spread"] >= len(s["points"]) - 1  # MR from the 2nd
        chart = plant.api(f"/api/v1/spc/charts/{CHART}")
        limits = chart["limits"]
        for name in ("UCL", "CL", "LCL"):
            value = limits[{"UCL": "ucl", "CL": "center", "LCL": "lcl"}[name]]
            assert f"{name} {fmt(value)}" in s["labels"], (name, value, s["labels"])
        # Spec limits on an individuals chart: drawn with the control limits.
        assert "USL 510" in s["labels"] and "LSL 490" in s["labels"]
        loads = s["loads"]

        def violated() -> dict[str, Any] | None:
            s = panel(driver)
            return s if any(bad for _, bad, _ in s["points"]) and s["alarms"] else None

        plant.wait_until(DRIFT_S)
        s = wait_for(violated, 30, "a red point and the alarm after the drift")
        assert s["loads"] == loads  # came over the event stream, no re-read

        # The page lists the newest violations only, and at a 0.25 s cycle the drift
        # makes four a point: check a point the page lists now, against the API.
        def named() -> tuple[dict[str, Any], int, list[dict[str, Any]]] | None:
            page = panel(driver)
            known = plant.api(f"/api/v1/spc/charts/{CHART}")["violations"]
            listed = {(rule, seq) for rule, seq, _ in page["violations"]}
            red = {seq: title for seq, bad, title in page["points"] if bad}
            we = sorted(seq for rule, seq in listed if rule.startswith("WE") and seq in red)
            if not we:
                return None
            at = [v for v in known if v["seq"] == we[-1]]
            # Every rule the API has for the point is listed, the x-chart ones in its title.
            if (
                at
                and {(v["rule"], v["seq"]) for v in at} <= listed
                and all(
                    f"{v['rule']} {v['name']}" in red[we[-1]] for v in at if v["rule"] != "SPREAD"
                )
            ):
                return page, we[-1], at
            return None

        s, first, at_first = wait_for(named, 10, "a WE point listed, red and named as the API says")
        assert {v["rule"] for v in at_first} & {"WE1", "WE2", "WE3", "WE4"}
        assert [first, True] in [[seq, bad] for seq, bad, _ in s["points"]]
        chart = plant.api(f"/api/v1/spc/charts/{CHART}")
        # The alarm active now was raised by one of them (a false alarm before the drift,
        # 0.27 % a point for WE1 alone, clears after 8 points in control).
        messages = {
            f"Filler 1: Filler 1 fill weight: {v['rule']} {v['name']} at {v['value']:.6g} g "
            "(trial limits)"
            for v in chart["violations"]
            if v["rule"].startswith("WE")
        }
        assert len(s["alarms"]) == 1 and s["alarms"][0] in messages, (s["alarms"], messages)

        # Every violation the API knows is red on the page (once its event has come).
        def all_red() -> bool:
            page = panel(driver)
            shown = {seq for seq, _, _ in page["points"]}
            bad = {seq for seq, b, _ in page["points"] if b}
            return {v["seq"] for v in chart["violations"]} & shown <= bad

        wait_for(all_red, 10, "every violation of the API red on the page")
        save_png(driver, SHOTS / "spc-page-violation-1280.png")


def test_frozen_limits_and_the_shifts_capability(plant: Plant) -> None:
    chart = plant.api(f"/api/v1/spc/charts/{CHART}")
    baseline = chart["points"][:15]
    body = {"from": baseline[0]["ts"], "to": baseline[-1]["ts"], "preview": False}
    with chromium(1280, 900) as driver:
        open_panel(driver, plant.url, 16)
        r = httpx.post(f"{plant.url}/api/v1/spc/charts/{CHART}/limits", json=body, timeout=10)
        assert r.status_code == 200, r.text

        def frozen() -> str | None:
            phase = panel(driver)["phase"]
            return phase if phase.startswith("Phase II") else None

        phase = wait_for(frozen, 20, "the page in Phase II from the event stream")
        assert phase.startswith("Phase II: limits frozen by loopback at ")
        # Once the machine stops making parts the shift's capability stays put: a fresh
        # page shows the API's figures exactly.
        plant.wait_until(IDLE_S + 3)
        s = open_panel(driver, plant.url, 16)
        cap = plant.api(f"/api/v1/spc/charts/{CHART}/capability?shift=current")
        for key in ("cp", "cpk", "pp", "ppk", "cpm"):
            assert s["figs"][key] == f"{cap[key]:.2f}", (key, s["figs"], cap)
        assert s["capN"] == f"n = {cap['n']} readings"
        assert s["phase"].startswith("Phase II: limits frozen by loopback at ")
        assert "the chart broke run rules in this range" in s["text"]
        # Every point of the shift is one product's (the first ones, before the product was
        # known, pooled with it): n is the chart's points, fewer than 25 subgroups, flagged.
        assert cap["n"] == len(plant.api(f"/api/v1/spc/charts/{CHART}")["points"])
        # Every point of the shift is the one product's (the first ones, before the
        # product was known, pooled with it: the page once showed n = 2 of 16 points).
        points = plant.api(f"/api/v1/spc/charts/{CHART}?shift=current")["points"]
        assert (cap["n"], cap["subgroups"]) == (len(points), len(points))
        broken = {p["seq"] for p in points if p["violations"]}
        assert cap["flags"] == [{"flag": "out_of_control", "value": len(broken)}]
        save_png(driver, SHOTS / "spc-page-frozen-1280.png")


@pytest.mark.parametrize(("width", "height"), [(768, 1024), (390, 844)])
def test_readable_on_a_tablet_and_a_phone(plant: Plant, width: int, height: int) -> None:
    with chromium(width, height) as driver:
        s = open_panel(driver, plant.url, 16)
        assert s["scrollWidth"] <= s["innerWidth"], s["scrollWidth"]
        assert s["select"] >= 48  # a finger's target
        save_png(driver, SHOTS / f"spc-page-{width}.png")


@pytest.fixture
def no_charts(tmp_path: Path) -> Iterator[str]:
    @contextlib.asynccontextmanager
    async def make_app() -> AsyncIterator[Any]:
        cfg = flags_config(tmp_path / "data")
        async with SqliteStore(SqliteConfig(path=tmp_path / "oee.sqlite")) as store:
            gw = Gateway(cfg, sinks=[store], history=store)
            gw.live.started = True
            yield create_app(cfg, gw.live, store, control=gw)

    server = ApiThread(make_app).start()
    try:
        yield server.url
    finally:
        server.stop()


def test_no_charts_configured(no_charts: str) -> None:
    with chromium(1024, 768) as driver:
        driver.get(no_charts + "/")

        def said() -> str | None:
            text = panel(driver)["text"]
            return text if "no SPC charts configured" in text else None

        wait_for(said, 20, "the panel saying there are no charts")
        save_png(driver, SHOTS / "spc-page-none.png")
