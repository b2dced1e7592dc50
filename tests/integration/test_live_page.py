"""The live page in headless Debian Chromium against the real demo (`oee-edge demo` as a
subprocess, its simulated machines at 30x), and against an API with a key."""

from __future__ import annotations

import base64
import contextlib
import re
import signal
import struct
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from api.app import create_app
from connectors.sqlite.store import SqliteStore
from core.types import MachineState, StateChange, utc_now
from edge.config import SqliteConfig
from edge.pipeline.live import LiveView
from tests.api.conftest import make_config
from tests.fixtures.api_thread import ApiThread
from tests.fixtures.browser import chrome, chromium
from tests.fixtures.demo_process import DemoProcess, running_demo, start_demo

T = TypeVar("T")
DEMO_MACHINES = {
    "press1": "Press 1", "press2": "Press 2", "packer1": "Packer 1", "filler1": "Filler 1",
}  # fmt: skip
# The colours of live.css, as getComputedStyle reports them.
STATE_COLOURS = {
    "running": "rgb(46, 204, 113)",
    "idle": "rgb(241, 196, 15)",
    "setup": "rgb(61, 155, 233)",
    "fault": "rgb(255, 77, 61)",
    "planned_stop": "rgb(154, 167, 176)",
    "offline": "rgb(108, 116, 128)",
}
PERCENT = re.compile(r"^\d+\.\d %( ⚠)?$")  # ⚠: P above 100 % (flagged)

# Everything the tests look at, in one script run (one consistent moment of the page).
SNAPSHOT_JS = """
const q = (e, s) => e.querySelector(s);
const style = (e, p) => getComputedStyle(e)[p];
return {
  conn: document.getElementById("conn").dataset.conn,
  loads: document.body.dataset.loads, events: Number(document.body.dataset.events || 0),
  windows: [...document.querySelectorAll("#windows button")].map(
    (b) => [b.textContent, b.getAttribute("aria-pressed")]),
  keyform: !document.getElementById("keyform").hidden,
  cards: [...document.querySelectorAll("#machines .card")].map((c) => ({
    id: c.dataset.machine, name: q(c, "h2").textContent, state: c.dataset.state,
    text: q(c, ".state").textContent, colour: style(q(c, ".state"), "backgroundColor"),
    edge: style(c, "borderLeftColor"), since: q(c, ".dur").dataset.since,
    dur: q(c, ".dur").textContent, oee: q(c, ".ring .val").textContent,
    bars: [...c.querySelectorAll(".bar .val")].map((v) => v.textContent),
    segs: [...c.querySelectorAll(".band .seg")].map((s) => s.dataset.state),
    shiftline: q(c, ".shiftline").textContent,
  })),
  lines: [...document.querySelectorAll("#lines .line")].map(
    (l) => [l.dataset.line, q(l, ".val").textContent]),
  pareto: [...document.querySelectorAll("#pareto .prow")].map(
    (r) => [q(r, "strong").textContent.trim(), r.dataset.state]),
  paretoSpan: document.getElementById("pareto-span").textContent,
  scrollWidth: document.scrollingElement.scrollWidth, innerWidth: innerWidth,
  smallButtons: [...document.querySelectorAll("button")].filter(
    (b) => b.offsetParent && b.getBoundingClientRect().height < 44).length,
  widest: Math.max(...[...document.querySelectorAll("body *")].map(
    (e) => e.getBoundingClientRect().right)),
};
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    """One demo for the module's tests (they only read); stopped after the browser."""
    with running_demo(tmp_path_factory.mktemp("demo")) as d:
        yield d


@pytest.fixture(scope="module")
def browser(demo: DemoProcess) -> Iterator[webdriver.Chrome]:
    with chromium(1024, 768) as driver:
        yield driver


def snapshot(driver: webdriver.Chrome) -> dict[str, Any]:
    result: dict[str, Any] = driver.execute_script(SNAPSHOT_JS)
    return result


def wait_for(check: Callable[[], T | None], within_s: float, what: str) -> T:
    """The first truthy `check()`; fails naming `what` and the last value otherwise."""
    deadline = time.monotonic() + within_s
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {within_s} s (last: {last!r})")


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def open_page(driver: webdriver.Chrome, url: str) -> dict[str, Any]:
    """Load the page; its snapshot once live with every card's gauges filled in."""
    driver.get(url + "/")

    def ready() -> dict[str, Any] | None:
        s = snapshot(driver)
        full = s["cards"] and all(PERCENT.match(c["oee"]) for c in s["cards"])
        return s if s["conn"] == "live" and full else None

    return wait_for(ready, 30, "the page live with OEE figures")


def save_png(driver: webdriver.Chrome, path: Path) -> tuple[int, int]:
    """A full-page screenshot (beyond the viewport) to `path`; its PNG width and height."""
    w, h = driver.execute_script("return [innerWidth, document.documentElement.scrollHeight]")
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {"format": "png", "captureBeyondViewport": True,
         "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": 1}},
    )  # fmt: skip
    data = base64.b64decode(shot["data"])
    path.write_bytes(data)
    print(f"screenshot: {path}")
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_every_machine_live_with_gauges_timeline_and_pareto(
    demo: DemoProcess, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    s = open_page(browser, demo.url)
    assert [(c["id"], c["name"]) for c in s["cards"]] == list(DEMO_MACHINES.items())
    assert s["windows"] == [["15m", "true"], ["1h", "false"], ["shift", "false"], ["day", "false"]]
    for c in s["cards"]:
        assert c["state"] in STATE_COLOURS, c
        assert c["text"] == c["state"].replace("_", " ")
        assert c["colour"] == c["edge"] == STATE_COLOURS[c["state"]]
        assert re.match(r"^for \d+ (s|min \d\d s)$", c["dur"]), c["dur"]
        assert [PERCENT.match(b) is not None or b == "–" for b in c["bars"]] == [True] * 3

    # The gauges show what the API says (read around each look: figures move every 5 s).
    def gauges_match() -> bool:
        api = {m["id"]: pct(m["oee"]["15m"]["oee"]) for m in demo.api("/api/v1/machines")}
        return {c["id"]: c["oee"] for c in snapshot(browser)["cards"]} == api

    wait_for(gauges_match, 15, "OEE gauges equal to /api/v1/machines")
    line = demo.api("/api/v1/lines/line1/oee?window=15m")
    assert snapshot(browser)["lines"][0][0] == "line1" and line["computed"]

    # The shift's timeline, named after the demo's current shift (from the calendar).
    shift = demo.api("/api/v1/calendar")["shift"]["name"]

    def timelines() -> dict[str, Any] | None:
        s = snapshot(browser)
        ok = all(c["segs"] and c["segs"][-1] == c["state"] for c in s["cards"])
        return (
            s if ok and all(c["shiftline"].startswith(shift + " · ") for c in s["cards"]) else None
        )

    s = wait_for(timelines, 20, "timelines of the shift ending in the current state")
    for c in s["cards"]:
        assert set(c["segs"]) <= set(STATE_COLOURS)

    # The downtime Pareto of the line in the selected window, rows from /api/v1/losses.
    s = wait_for(lambda: (x := snapshot(browser))["pareto"] and x, 30, "Pareto rows")
    api_rows = {
        (r["machine"], r["state"])
        for r in demo.api("/api/v1/losses?line=line1&window=15m")["pareto"]
    }
    assert set(map(tuple, s["pareto"])) <= api_rows
    assert s["paretoSpan"] == "· 15m"

    # A live change, without a reload: a machine's current state changes on the page and
    # it is the state (and start) the API now reports; the machine list was not re-read.
    browser.execute_script("window.sameDocument = true")
    before = snapshot(browser)
    since = {c["id"]: c["since"] for c in before["cards"]}

    def changed_and_agrees() -> bool:
        s = snapshot(browser)
        api = {m["id"]: (m["state"], m["since"]) for m in demo.api("/api/v1/machines")}
        page = {c["id"]: (c["state"], c["since"]) for c in s["cards"]}
        moved = any(c["since"] != since[c["id"]] for c in s["cards"])
        return moved and page == api

    wait_for(changed_and_agrees, 20, "a state change shown as the API reports it")
    after = snapshot(browser)
    assert browser.execute_script("return window.sameDocument") is True
    assert after["loads"] == before["loads"]  # it came over /api/v1/events
    assert after["events"] > before["events"]
    assert after["scrollWidth"] <= after["innerWidth"] == 1024

    width, height = save_png(browser, tmp_path / "live-page.png")
    assert width == 1024 and height >= 768
    assert (tmp_path / "live-page.png").stat().st_size > 30_000


def test_tablet_portrait_has_no_horizontal_overflow(demo: DemoProcess, tmp_path: Path) -> None:
    with chromium(768, 1024) as driver:
        s = open_page(driver, demo.url)
        assert s["innerWidth"] == 768
        assert s["scrollWidth"] <= s["innerWidth"], s["scrollWidth"]
        assert s["widest"] <= s["innerWidth"]
        assert s["smallButtons"] == 0  # every button is a finger-sized target
        assert len(s["cards"]) == len(DEMO_MACHINES)
        width, _ = save_png(driver, tmp_path / "live-page-768.png")
        assert width == 768


# --------------------------------------------------------------------------- API key
KEY = "floor-tablet-key"


class AuthRecorder:
    """ASGI middleware: notes the Authorization header of each /api/v1 request."""

    def __init__(self, app: Any, seen: list[str | None]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/v1/"):
            value = dict(scope["headers"]).get(b"authorization")
            self.seen.append(value.decode() if value else None)
        await self.app(scope, receive, send)


@pytest.fixture
def keyed_api(tmp_path: Path) -> Iterator[tuple[ApiThread, LiveView, list[str | None]]]:
    """An API with a key, its live view, and the Authorization header of each data request."""
    config = make_config(api_key=KEY)
    live = LiveView.from_config(config)
    seen: list[str | None] = []

    @contextlib.asynccontextmanager
    async def make_app() -> AsyncIterator[Any]:
        async with SqliteStore(SqliteConfig(path=tmp_path / "keyed.sqlite")) as store:
            app = create_app(config, live, store)
            app.add_middleware(AuthRecorder, seen=seen)
            yield app

    server = ApiThread(make_app).start()
    try:
        yield server, live, seen
    finally:
        server.stop()


def test_the_page_asks_for_the_key_once_and_sends_it_as_bearer(
    keyed_api: tuple[ApiThread, LiveView, list[str | None]], browser: webdriver.Chrome
) -> None:
    server, live, seen = keyed_api
    server.call(
        live.apply, StateChange("press1", MachineState.RUNNING, None, utc_now(), None, None, 1)
    )
    browser.get(server.url + "/")
    s = wait_for(lambda: (x := snapshot(browser))["keyform"] and x, 10, "the key form")
    assert s["conn"] == "key" and s["cards"] == []
    for key in ("wrong", KEY):
        wait_for(lambda: snapshot(browser)["keyform"], 10, "the key form")
        field = browser.find_element(By.ID, "key")
        field.clear()
        field.send_keys(key)
        field.submit()
    s = wait_for(
        lambda: (x := snapshot(browser))["conn"] == "live" and x["cards"] and x, 10, "live"
    )
    assert [c["id"] for c in s["cards"]] == ["press1", "press2"]
    assert s["cards"][0]["state"] == "running" and not s["keyform"]
    assert browser.execute_script("return localStorage.getItem('oee-edge-api-key')") == KEY
    assert "Bearer wrong" in seen and f"Bearer {KEY}" in seen

    # Asked once: a reload goes straight to the data with the kept key.
    seen.clear()
    browser.refresh()
    wait_for(lambda: (x := snapshot(browser))["conn"] == "live" and x["cards"], 10, "live again")
    assert not snapshot(browser)["keyform"]
    assert seen and set(seen) == {f"Bearer {KEY}"}
    # And the stream carries a change made now (the pipeline's call into the live view).
    change = StateChange("press2", MachineState.FAULT, None, utc_now(), None, None, 1)
    server.call(live.apply, change)
    wait_for(lambda: snapshot(browser)["cards"][1]["state"] == "fault", 10, "press2 in fault")
    browser.execute_script("localStorage.clear()")


# --------------------------------------------------------------------------- stopping
def test_the_demo_stops_promptly_while_a_page_is_open(tmp_path: Path) -> None:
    """Ctrl-C must stop the gateway even with a live page (an open event stream) on it."""
    with (tmp_path / "demo.log").open("w+b") as log:
        d = start_demo(tmp_path / "data", log)
        driver = chrome(1024, 768)
        try:
            open_page(driver, d.url)
            d.proc.send_signal(signal.SIGINT)
            try:
                code = d.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                d.proc.kill()
                d.proc.wait()
                pytest.fail(f"the demo did not stop within 10 s of Ctrl-C:\n{d.log[-3000:]}")
            assert code == 0, d.log
            assert f"oee-edge demo stopped (its data kept in {tmp_path / 'data'})." in d.log
        finally:
            driver.quit()
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait()
