"""The printable shift report (`/report.html?shift=…`) in real Chromium over a real API,
SQLite store and Gateway holding the hand-computed shift of tests/api/report_plant.py:
with print media emulated at the printable width of A4 portrait (210 mm - 2 x 12 mm
margins = 186 mm = 703 CSS px) nothing is cut or wider than the page, in English and in
German, with the shift's orders, plan versus actual and changeovers; the PDF Chromium
prints is A4. Screenshots saved (and looked at)."""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.support.ui import WebDriverWait

from api.app import create_app
from connectors.sqlite.config import SqliteConfig
from connectors.sqlite.store import SqliteStore
from core.types import Event
from edge.config import Config
from edge.pipeline.gateway import Gateway
from tests.api import quality_plant
from tests.api.quality_plant import quality_config
from tests.api.report_plant import HISTORY, report_config, t
from tests.fixtures.api_thread import ApiThread
from tests.fixtures.browser import chromium
from tests.integration.test_live_page import save_png

A4_CONTENT_PX = 703  # 186 mm at 96 px per inch

# Every element wider than its box, or reaching past the page's right edge.
OVERFLOWING = """
const right = document.documentElement.clientWidth;
return [...document.querySelectorAll('body *')].filter(
  (e) => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right > right + 0.5
).map((e) => e.tagName + ':' + e.textContent.slice(0, 40));
"""


def _serve(config: Config, history: list[Event], path: Path) -> Iterator[ApiThread]:
    @contextlib.asynccontextmanager
    async def make_app() -> AsyncIterator[Any]:
        async with SqliteStore(SqliteConfig(path=path)) as store:
            await store.handle(history)
            gw = Gateway(config, sinks=[store], history=store, clock=lambda: t("09:00"))
            yield create_app(config, gw.live, store, lambda: t("09:00"), control=gw)

    api = ApiThread(make_app).start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ApiThread]:
    yield from _serve(report_config(tmp_path / "data"), HISTORY, tmp_path / "oee.sqlite")


@pytest.fixture
def line_server(tmp_path: Path) -> Iterator[ApiThread]:
    """The three machines of tests/api/quality_plant.py, their early shift at 09:00."""
    config = quality_config(tmp_path / "data")
    yield from _serve(config, quality_plant.HISTORY, tmp_path / "q.sqlite")


def _ready(driver: webdriver.Chrome) -> None:
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return document.body.dataset.ready")
    )


def _open(driver: webdriver.Chrome, url: str) -> None:
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    driver.get(url)
    _ready(driver)
    assert driver.execute_script("return document.body.dataset.ready") == "1", driver.page_source


@pytest.mark.parametrize(
    ("lang", "title", "texts"),
    [
        ("en", "Shift report · Line line1",
         ["Shift 2026-11-03 · early · 06:00–08:00 (UTC) · finished", "counted by the machine",
          "Die 4 worn", "1 suspect count(s) held out of the figures", "62.4 %", "reduced speed",
          # tests/api/test_report.py QUALITY: FPY 0.9825, scrap 0.0175; Pareto 12, 3, 20.
          "First-pass yield and scrap", "line1 2,000 1,965 35 15 98.3 % 1.8 %",
          "Rolled throughput yield (m1) 98.3 %", "Defect Pareto",
          "m1 1 101 Scratch 12 34.3 % 34.3 %", "m1 3 counted by the machine 20 57.1 % 100.0 %",
          # tests/api/report_orders_plant.py: ORDERS, PLAN, CHANGEOVERS.
          "Orders", "m1 P-1 · ACME A 990 / 1,290 100.0 % done", "m1 P-2 B 975 / 1,000 97.5 % late",
          "Plan 2,740 · made 1,965 · attainment 71.7 % · volume and mix 71.7 % · sequence "
          "100.0 % · in window 50.0 % · on-time delivery 50.0 % (1 of 2)",
          "Changeovers", "m1 A → B"]),
        ("de", "Schichtbericht · Linie line1",
         ["Schicht 2026-11-03 · early · 06:00–08:00 (UTC) · abgeschlossen",
          "von der Maschine gezählt", "Die 4 worn", "62,4 %", "verringerte Geschwindigkeit",
          "Erstdurchlauf und Ausschuss", "line1 2.000 1.965 35 15 98,3 % 1,8 %",
          "Durchlaufausbeute der Linie (m1) 98,3 %", "Ausschuss-Pareto",
          "m1 2 102 Dent 3 8,6 % 42,9 %", "Aufträge",
          "m1 P-2 B 975 / 1.000 97,5 % verspätet", "Liefertreue 50,0 % (1 von 2)",
          "Rüstvorgänge", "m1 A → B"]),
    ],
)  # fmt: skip
def test_the_printed_report_fits_a4(
    server: ApiThread, lang: str, title: str, texts: list[str], tmp_path: Path
) -> None:
    with chromium(A4_CONTENT_PX, 1000) as driver:
        _open(driver, f"{server.url}/report.html?shift=2026-11-03/early&lang={lang}")
        body = driver.find_element("tag name", "body").text
        assert driver.find_element("id", "title").text == title
        for text in texts:
            assert text in body, (text, body)
        assert not driver.find_element("id", "print").is_displayed()  # not on paper
        assert driver.execute_script(OVERFLOWING) == []
        width, _ = save_png(driver, tmp_path / f"report-a4-{lang}.png")
        assert width == A4_CONTENT_PX
        pdf = driver.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True})
        data = base64.b64decode(pdf["data"])
        # A4 portrait: 595 x 842 points; the report's sections fit on one or two pages.
        boxes = set(re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data))
        assert {(round(float(w)), round(float(h))) for w, h in boxes} == {(595, 842)}
        assert 1 <= len(re.findall(rb"/Type /Page\b", data)) <= 2


def test_a_missing_shift_says_how_to_give_it(server: ApiThread) -> None:
    with chromium(800, 600) as driver:
        driver.get(f"{server.url}/report.html?lang=en")
        _ready(driver)
        assert driver.find_element("id", "report").text == (
            "give the shift as ?shift=2026-12-06/late"
        )


def test_a_lines_quality_and_pareto(line_server: ApiThread, tmp_path: Path) -> None:
    """The figures of tests/api/test_report_quality.py: RTY 0.965 x 0.967949 = 0.9341
    over m1 and m2, m3 left out; m1's products A and B (C made none in the shift); the
    line's Pareto first, then each machine's."""
    with chromium(A4_CONTENT_PX, 1000) as driver:
        _open(driver, f"{line_server.url}/report.html?shift=2026-11-03/early&lang=en")
        body = driver.find_element("tag name", "body").text
        save_png(driver, tmp_path / "report-a4-line-quality.png")
        for text in [
            # 1,527 / 1,580 = 0.96646, answered 0.9665 (4 decimals), shown 96.7 %
            "line1 1,580 1,527 53 18 96.7 % 3.4 %",
            "m1 800 772 28 13 96.5 % 3.5 %",
            "m1 · A Bracket A 500 478 22 95.6 % 4.4 %",
            "m1 · B 300 295 5 98.3 % 1.7 %",
            "m1 · C 0 -1 1 – –",  # one of C booked in the shift, none made
            "m3 0 0 0 0 – –",
            "Rolled throughput yield (m1 × m2) 93.4 % · left out, no first-pass yield: m3",
            "line1 2 103 Burr 6 11.3 % 26.4 %",  # 6 / 53; 14 / 53
            "m2 1 103 Burr 5 20.0 % 20.0 %",  # of m2's 25 rejects
        ]:
            assert text in body, (text, body)
        assert driver.execute_script(OVERFLOWING) == []
