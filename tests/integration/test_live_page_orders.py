"""Work orders on the live page (issue 19) in headless Chromium against a running gateway
(`oee-edge run`) with API keys and the Modbus simulator (orders_scenario.yaml at 10x):
m1 idles, makes product 101 for order A-101 (24 good: done), sets up to 102 and makes
it for B-102 from its queue, then stops. The card shows the running order with its
progress as the API computes it; the orders view lists them late first with their
status; an operate key starts another order from the view (the card follows) and sees a
refusal's words as the API gives them; a read key (in German) sees no buttons; the
changeover matrix shows the 101 -> 102 setup with its figures. Screenshots at 1280, 768
and 390 px: $TMPDIR/oee-edge-shots/orders-page-*.png."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By

from tests.fixtures.browser import chromium
from tests.fixtures.gateway_process import GatewayProcess, SimulatorProcess
from tests.fixtures.ports import free_port
from tests.integration.test_live_page import save_png, wait_for

SCENARIO = Path(__file__).with_name("orders_scenario.yaml")
SHOTS = Path(tempfile.gettempdir()) / "oee-edge-shots"
OPERATE, READ = "op-" + "o" * 24, "rd-" + "r" * 24
KEY_ITEM = "oee-edge-api-key"


def config_text(data: Path, api: int, modbus: int) -> str:
    """A-101 then B-102 by planned start (the queue), C-102 after them; D-101 was due on
    2026-01-02 and never started: late."""
    return f"""
gateway: {{id: gw-orders-page, data_dir: "{data}"}}
site: plant
area: area1
line: l1
api:
  port: {api}
  keys:
    - {{name: line-1-tablet, key: {OPERATE}, scope: operate}}
    - {{name: viewer, key: {READ}, scope: read}}
sqlite: {{path: "{data}/store.sqlite"}}
oee: {{windows: [1h], publish_interval_s: 0.5}}
orders:
  ramp_fraction: 0.5
  ramp_window_s: 1
  intake_topic: null
  changeover_standards: [{{from: "101", to: "102", standard_s: 0.3}}]
  fixed:
    - {{id: A-101, product: "101", quantity: 24, due: "2099-01-01T00:00:00Z", machine: m1,
       planned_start: "2026-01-01T06:00:00Z", customer: ACME}}
    - {{id: B-102, product: "102", quantity: 100, due: "2099-01-01T00:00:00Z", machine: m1,
       planned_start: "2026-01-01T08:00:00Z", customer: Globex}}
    - {{id: C-102, product: "102", quantity: 50, due: "2099-01-01T00:00:00Z", machine: m1,
       planned_start: "2026-01-01T10:00:00Z"}}
    - {{id: D-101, product: "101", quantity: 5, due: "2026-01-02T00:00:00Z", machine: m1,
       planned_start: "2026-01-01T12:00:00Z"}}
machines:
  - id: m1
    name: Press 1
    modbus: {{host: 127.0.0.1, port: {modbus}, unit_id: 1, poll_interval_s: 0.1}}
    tags:
      code: {{address: 0}}
      reason: {{address: 2}}
      product: {{address: 3}}
      total: {{address: 4, type: uint32}}
      reject: {{address: 8, type: uint32}}
    state_rules:
      - {{tag: code, map: {{1: running, 2: idle, 3: fault, 4: setup, 5: planned_stop}},
         reason_tag: reason}}
    counters: {{total: {{tag: total}}, reject: {{tag: reject}}}}
    product_tag: product
    ideal_cycle_s: 2
"""


@dataclass
class Plant:
    url: str

    def get(self, path: str, key: str = READ) -> Any:
        r = httpx.get(self.url + path, headers={"Authorization": f"Bearer {key}"}, timeout=10)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body: Any) -> httpx.Response:
        return httpx.post(self.url + path, json=body, timeout=10,
                          headers={"Authorization": f"Bearer {OPERATE}"})  # fmt: skip

    def orders(self) -> dict[str, dict[str, Any]]:
        return {r["order"]["id"]: r for r in self.get("/api/v1/orders")["orders"]}


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plant]:
    tmp = tmp_path_factory.mktemp("orders-page")
    SHOTS.mkdir(parents=True, exist_ok=True)
    # 10x, and a longer idle first (12 s of wall time) so the gateway is up before m1 runs.
    scenario = SCENARIO.read_text().replace("time_scale: 20", "time_scale: 10")
    scenario = scenario.replace(
        "{state: idle, for_s: 80, reason: 7}", "{state: idle, for_s: 120, reason: 7}"
    )
    (tmp / "scenario.yaml").write_text(scenario)
    sim = SimulatorProcess(tmp / "scenario.yaml", free_port(), time.time(), tmp / "sim.log")
    api_port = free_port()
    (tmp / "data").mkdir()
    (tmp / "config.yaml").write_text(config_text(tmp / "data", api_port, sim.port))
    gw = GatewayProcess(tmp / "config.yaml", tmp / "gateway.log", api_port)
    sim.start()
    try:
        gw.start()
        p = Plant(f"http://127.0.0.1:{api_port}")

        def done() -> bool:
            """m1 stopped for good after B-102's parts, the 101 -> 102 setup stored."""
            try:
                m = p.get("/api/v1/machines")[0]
                pairs = p.get("/api/v1/changeovers/matrix")["pairs"]
                b = p.orders()["B-102"]
            except httpx.HTTPError:
                return False
            return (
                m["state"] == "planned_stop"
                and bool(pairs)
                and b["current"]
                and (b["progress"]["good"] > 0)
            )

        try:
            wait_for(done, 90, "m1 through A-101 and B-102, the changeover stored")
        except AssertionError as e:
            raise AssertionError(f"{e}\n{gw.log_tail()}") from None
        time.sleep(1.5)  # the last publication with the last parts
        yield p
    finally:
        gw.terminate()
        sim.stop()


PAGE_JS = """
const q = (e, s) => e.querySelector(s);
const all = (e, s) => [...e.querySelectorAll(s)];
const txt = (e, s) => (q(e, s) || {}).textContent || "";
const card = q(document, '#machines .card[data-machine="m1"]');
const box = card && q(card, ".order-box");
return {
  conn: document.getElementById("conn").dataset.conn,
  card: box && !box.hidden ? {order: box.dataset.order, status: txt(box, ".ord-status"),
    statusClass: (q(box, ".ord-status") || {}).className, product: txt(box, ".ord-product"),
    customer: txt(box, ".ord-customer"), count: txt(box, ".ord-count"),
    fill: (q(box, ".fill") || {style: {}}).style.width, end: txt(box, ".ord-end"),
    due: txt(box, ".ord-due")} : null,
  rows: all(document, "#orders .ord-row").map((r) => ({order: r.dataset.order,
    status: txt(r, ".ord-status"), count: txt(r, ".ord-count"),
    run: txt(r, ".ord-run") || txt(r, ".ord-paused"),
    buttons: all(r, ".ord-acts button").map((b) => b.dataset.action)})),
  matrix: all(document, "#orders table.matrix tbody tr").map((tr) => ({pair: tr.dataset.pair,
    cells: all(tr, "td").map((td) => td.textContent)})),
  head: all(document, "#orders table.matrix th").map((th) => th.textContent),
  link: txt(document, "#orders-link"),
  scrollWidth: document.scrollingElement.scrollWidth, innerWidth: innerWidth,
};
"""


def page(driver: webdriver.Chrome) -> dict[str, Any]:
    result: dict[str, Any] = driver.execute_script(PAGE_JS)
    return result


def open_page(driver: webdriver.Chrome, url: str, key: str) -> dict[str, Any]:
    """The page with `key` in its store, live, the card's order and the matrix drawn."""
    driver.get(url + "/static/icon.svg")  # the origin, to set the key before the page runs
    driver.execute_script(f"localStorage.setItem('{KEY_ITEM}', arguments[0])", key)
    driver.get(url + "/")

    def ready() -> dict[str, Any] | None:
        s = page(driver)
        return s if s["conn"] == "live" and s["card"] and s["rows"] and s["matrix"] else None

    try:
        return wait_for(ready, 30, "the page live with its orders")
    except AssertionError as e:
        raise AssertionError(f"{e}\nconsole: {driver.get_log('browser')}") from None


def console_errors(driver: webdriver.Chrome, allowed: str = "\x00") -> list[Any]:
    """The page's errors (the favicon.ico the key's origin page asks for is not the page's)."""
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"
            and allowed not in e["message"] and "/favicon.ico" not in e["message"]]  # fmt: skip


def lost(s: float | None) -> str:
    """i18n.js `lostTime` in English."""
    if s is None:
        return "–"
    if s < 10:
        return f"{s:.1f}".removesuffix(".0") + " s"
    if s < 60:
        return f"{int(s + 0.5)} s"
    return f"{s / 60:.1f}".removesuffix(".0") + " min"


def count_text(row: dict[str, Any], words: str = "good") -> str:
    p, o = row["progress"], row["order"]
    return f"{p['good']} / {o['quantity']} {words} · {p['percent']:.1f} %"


def test_the_card_shows_the_running_order_and_its_progress(plant: Plant) -> None:
    b = plant.orders()["B-102"]
    assert (b["current"], b["source"], b["status"]) == (True, "queue", "on_track")
    with chromium(1280, 900, lang="en-US", tz="UTC") as driver:
        s = open_page(driver, plant.url, OPERATE)
        c = s["card"]
        assert (c["order"], c["product"], c["customer"], c["status"]) == (
            "B-102", "102", "Globex", "on track")  # fmt: skip
        assert "on_track" in c["statusClass"]
        # Exactly the API's figures: good / quantity and the percentage, the bar as wide.
        assert c["count"] == count_text(b), (c, b["progress"])
        assert abs(float(c["fill"].removesuffix("%")) - b["progress"]["good"]) < 1e-6  # of 100
        eta = b["progress"]["finished"] or b["progress"]["eta_now"]
        assert c["end"].startswith("expected end ") and (
            eta is not None or c["end"] == "expected end –"
        )
        assert s["link"] == "Orders"
        save_png(driver, SHOTS / "orders-page-card-1280.png")
        assert console_errors(driver) == []


def test_the_orders_view_lists_late_first_with_status_and_progress(plant: Plant) -> None:
    books = plant.orders()
    with chromium(768, 1024, lang="en-US", tz="UTC") as driver:
        s = open_page(driver, plant.url, OPERATE)
        driver.execute_script("document.getElementById('orders-box').scrollIntoView()")
        # D-101 (late, never started) first, then the open ones in queue order, done last.
        assert [r["order"] for r in s["rows"]] == ["D-101", "B-102", "C-102", "A-101"]
        words = {"late": "late", "on_track": "on track", "not_started": "not started",
                 "done": "done", "at_risk": "at risk"}  # fmt: skip
        for r in s["rows"]:
            api = books[r["order"]]
            assert r["status"] == words[api["status"]], (r, api["status"])
            assert r["count"] == count_text(api), (r, api["progress"])
        by = {r["order"]: r for r in s["rows"]}
        assert books["D-101"]["status"] == "late" and books["A-101"]["status"] == "done"
        assert by["B-102"]["run"] == "▶ runs" and by["B-102"]["buttons"] == ["pause", "end"]
        assert by["C-102"]["buttons"] == ["start"] and by["D-101"]["buttons"] == ["start"]
        # Tablet: nothing wider than the screen, every button a 48 px target.
        assert s["scrollWidth"] <= s["innerWidth"], s["scrollWidth"]
        sizes = driver.execute_script(
            "return [...document.querySelectorAll('#orders button')].map((b) => "
            "[b.offsetWidth, b.offsetHeight])"
        )
        assert sizes and all(w >= 48 and h >= 48 for w, h in sizes), sizes
        save_png(driver, SHOTS / "orders-page-view-768.png")
        assert console_errors(driver) == []


def test_the_matrix_shows_the_changeover_with_its_figures(plant: Plant) -> None:
    matrix = plant.get("/api/v1/changeovers/matrix")
    pair = next(
        p for p in matrix["pairs"] if (p["from_product"], p["to_product"]) == ("101", "102")
    )
    assert (pair["count"], pair["standard_s"]) == (1, 0.3)
    with chromium(1280, 900, lang="en-US", tz="UTC") as driver:
        s = open_page(driver, plant.url, READ)
        assert s["head"] == ["from → to", "count", "median", "p90", "standard", "over standard",
                             "trend"]  # fmt: skip
        row = next(r for r in s["matrix"] if r["pair"] == "101>102")
        assert row["cells"] == ["101 → 102", "1", lost(pair["median_s"]), lost(pair["p90_s"]),
                                "0.3 s", lost(pair["loss_s"]), "– (fewer than 3)"]  # fmt: skip
        assert console_errors(driver) == []


def test_a_read_key_sees_the_orders_without_buttons_in_german(plant: Plant) -> None:
    with chromium(768, 1024, lang="de-DE", tz="UTC") as driver:
        s = open_page(driver, plant.url, READ)
        assert s["card"]["order"] == "B-102" and s["card"]["status"] == "im Plan"
        b = plant.orders()["B-102"]
        assert s["card"]["count"] == f"{b['progress']['good']} / 100 gut · " + (
            f"{b['progress']['percent']:.1f} %".replace(".", ",")
        )
        assert [r["status"] for r in s["rows"]][0] == "verspätet"
        assert all(r["buttons"] == [] for r in s["rows"]), s["rows"]
        assert s["link"] == "Aufträge" and s["head"][0] == "von → nach"
        assert driver.find_elements(By.CSS_SELECTOR, "#orders button") == []
        driver.execute_script("document.getElementById('orders-box').scrollIntoView()")
        save_png(driver, SHOTS / "orders-page-read-de-768.png")
        # A phone: the card's order and the view wrap, the matrix scrolls in its own box.
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": False},
        )
        phone = wait_for(lambda: (p := page(driver))["innerWidth"] == 390 and p, 10, "390 px")
        assert phone["scrollWidth"] <= 390, phone["scrollWidth"]
        save_png(driver, SHOTS / "orders-page-read-de-390.png")
        assert console_errors(driver) == []


def text_of(driver: webdriver.Chrome, css: str) -> str:
    text: str = driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : ''", css
    )
    return text


def _click(driver: webdriver.Chrome, order: str, action: str) -> None:
    """Tap the button (the view is drawn again on every read: find it again if so)."""
    css = f'#orders .ord-row[data-order="{order}"] button[data-action="{action}"]'

    def tapped() -> bool:
        try:
            driver.find_element(By.CSS_SELECTOR, css).click()
        except (NoSuchElementException, StaleElementReferenceException):
            return False
        return True

    wait_for(tapped, 10, f"{action} on {order}")


def test_a_start_click_changes_which_order_runs_and_a_refusal_is_shown(plant: Plant) -> None:
    with chromium(1280, 900, lang="en-US", tz="UTC") as driver:
        open_page(driver, plant.url, OPERATE)
        _click(driver, "C-102", "start")
        dialog = driver.find_element(By.ID, "panel")
        assert dialog.find_element(By.TAG_NAME, "p").text == "Start order C-102 on Press 1?"
        driver.save_screenshot(str(SHOTS / "orders-page-confirm-1280.png"))
        dialog.find_element(By.CSS_SELECTOR, ".choices .primary").click()
        s = wait_for(lambda: (p := page(driver))["card"]["order"] == "C-102" and p, 10,
                     "the card showing C-102")  # fmt: skip
        books = plant.orders()
        assert (books["C-102"]["current"], books["C-102"]["source"]) == (True, "operator")
        assert books["B-102"]["current"] is False
        by = {r["order"]: r for r in s["rows"]}
        assert by["C-102"]["buttons"] == ["pause", "end"]
        assert by["B-102"]["buttons"] == ["resume", "end"] and by["B-102"]["run"] == "paused"
        # Another tablet starts D-101 while this one asks: its Yes is refused, in the
        # API's words, and the dialog stays open.
        _click(driver, "D-101", "start")
        assert plant.post(
            "/api/v1/machines/m1/order", {"order": "D-101", "action": "start"}
        ).is_success
        dialog.find_element(By.CSS_SELECTOR, ".choices .primary").click()
        again = plant.post("/api/v1/machines/m1/order", {"order": "D-101", "action": "start"})
        assert again.status_code == 409
        said = wait_for(lambda: text_of(driver, "#panel .status-line.error"), 10,
                        "the refusal in the dialog")  # fmt: skip
        assert said == "refused: " + again.json()["detail"]
        assert dialog.get_attribute("open") is not None
        driver.save_screenshot(str(SHOTS / "orders-page-refused-1280.png"))  # the dialog
        dialog.find_element(By.CSS_SELECTOR, "button.close").click()
        wait_for(lambda: page(driver)["card"]["order"] == "D-101", 10, "the card showing D-101")
        assert console_errors(driver, allowed="status of 409") == []
