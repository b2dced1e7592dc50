"""`/docs` and the live page in headless Debian Chromium, under the Content-Security-
Policy every answer carries: Swagger UI comes from the gateway itself (no CDN; the
browser here has no internet anyway) and renders every operation of the document; the
live page goes live. Neither page breaks a rule of the policy (each violation the
browser reports is collected through a listener installed before the page's scripts)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium import webdriver

from api.app import create_app
from api.guard import SECURITY_HEADERS
from connectors.sqlite.store import SqliteStore
from core.types import MachineState, StateChange, utc_now
from edge.config import SqliteConfig
from edge.pipeline.live import LiveView
from tests.api.conftest import make_config
from tests.fixtures.api_thread import ApiThread
from tests.fixtures.browser import chromium

REPO = Path(__file__).resolve().parents[2]

T = TypeVar("T")
WATCH_CSP = """window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(e.effectiveDirective + " " + e.blockedURI));"""


def wait_for(get: Callable[[], T | None], within_s: float, what: str) -> T:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        value = get()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"{what} not seen within {within_s} s")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[ApiThread, LiveView]]:
    config = make_config()
    live = LiveView.from_config(config)

    @contextlib.asynccontextmanager
    async def make_app() -> AsyncIterator[Any]:
        async with SqliteStore(SqliteConfig(path=tmp_path / "docs.sqlite")) as store:
            yield create_app(config, live, store)

    server = ApiThread(make_app).start()
    try:
        yield server, live
    finally:
        server.stop()


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    with chromium(1280, 900) as driver:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH_CSP})
        yield driver


def test_docs_render_every_operation_offline_within_the_policy(
    api: tuple[ApiThread, LiveView], browser: webdriver.Chrome
) -> None:
    server, _ = api
    browser.get(server.url + "/docs")
    paths = wait_for(
        lambda: browser.execute_script(
            "return [...document.querySelectorAll('.opblock-summary-path')]"
            ".map((e) => e.dataset.path)"
        ),
        20,
        "Swagger UI's operations",
    )
    assert {"/api/v1/machines/{machine_id}/states", "/api/v1/events", "/metrics"} <= set(paths)
    documented = json.loads((REPO / "docs" / "openapi.json").read_text())["paths"]
    assert len(paths) == sum(len(ops) for ops in documented.values())  # every operation
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource').map((e) => e.name)"
    )
    assert loaded and all(url.startswith(server.url + "/") for url in loaded), loaded
    assert browser.execute_script("return window.__csp") == []


def test_the_live_page_goes_live_within_the_policy(
    api: tuple[ApiThread, LiveView], browser: webdriver.Chrome
) -> None:
    server, live = api
    server.call(
        live.apply, StateChange("press1", MachineState.FAULT, None, utc_now(), None, None, 1)
    )
    browser.get(server.url + "/")
    wait_for(
        lambda: browser.execute_script(
            "return document.getElementById('conn').dataset.conn === 'live' && "
            "document.querySelector('#machines .card[data-state=fault]')"
        ),
        15,
        "the live page with press1 in fault",
    )
    assert browser.execute_script("return window.__csp") == []
    policy = SECURITY_HEADERS["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
