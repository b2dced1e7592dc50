"""The live page says what a figure leaves out (issue 15), in headless Chromium: a count
held for review and a counter value no counter can hold show on the machine's card, and
the held count's line goes when an admin accepts it (over the event stream)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from connectors.sqlite.store import SqliteStore
from core.types import Quality, Sample, SampleBatch, utc_now
from edge.config import Config, SqliteConfig
from edge.pipeline.gateway import Gateway
from tests.fixtures.api_thread import ApiThread
from tests.fixtures.browser import chromium
from tests.integration.test_live_page import save_png

FLAGS_JS = """
return [...document.querySelectorAll("#machines .card")].map((c) => [
  c.dataset.machine, [...c.querySelectorAll(".flags li")].map((li) => li.textContent)]);
"""


def config(data_dir: Path) -> Config:
    machine = {
        "ideal_cycle_s": 2,
        "modbus": {"host": "127.0.0.1"},
        "tags": {"code": {"address": 0}, "total": {"address": 1, "type": "int16"}},
        "state_rules": [{"tag": "code", "map": {1: "running"}}],
        "counters": {"total": {"tag": "total", "bits": 16}},
    }
    return Config.model_validate(
        {
            "gateway": {"id": "gw", "data_dir": str(data_dir)},
            "site": "s",
            "area": "a",
            "line": "l",
            "oee": {"windows": ["1h"]},
            "machines": [{"id": "press1", **machine}, {"id": "press2", **machine}],
        }
    )


def batch(machine: str, seconds_ago: float, total: int) -> SampleBatch:
    ts = utc_now() - timedelta(seconds=seconds_ago)
    values = {"code": 1, "total": total}
    return SampleBatch(
        machine, ts, tuple(Sample(k, v, Quality.GOOD, ts) for k, v in values.items())
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ApiThread, dict[str, Gateway]]]:
    made: dict[str, Gateway] = {}

    @contextlib.asynccontextmanager
    async def make_app() -> AsyncIterator[Any]:
        cfg = config(tmp_path / "data")
        async with SqliteStore(SqliteConfig(path=tmp_path / "oee.sqlite")) as store:
            gw = made["gw"] = Gateway(cfg, sinks=[store], history=store)
            gw.live.started = True
            yield create_app(cfg, gw.live, store, control=gw)

    server = ApiThread(make_app).start()
    try:
        yield server, made
    finally:
        server.stop()


def wait_for(check: Callable[[], Any], what: str, within_s: float = 15.0) -> Any:
    last = None
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {within_s} s (last: {last!r})")


def test_held_counts_and_bad_counter_values_show_on_the_card(
    served: tuple[ApiThread, dict[str, Gateway]], tmp_path: Path
) -> None:
    server, made = served
    gw = made["gw"]
    for machine, readings in {
        "press1": ((20, 100), (19, 104), (18, 9104)),
        "press2": ((20, 5), (19, -3)),
    }.items():
        for ago, total in readings:
            server.run(gw.take, gw.normalisers[machine], batch(machine, ago, total))
    with chromium(1024, 768) as browser:
        browser.get(server.url + "/")
        flags = dict(
            wait_for(
                lambda: (f := browser.execute_script(FLAGS_JS)) and all(x for _, x in f) and f,
                "both flags",
            )
        )
        assert flags["press1"] == ["⚠ 1 count held for review: not in the figures"]
        assert flags["press2"] == [
            "⚠ counter total read -3, not a count of 0..65535 (bits: 16): held out of the "
            "counts; is the tag signed, or `bits` wrong?"
        ]
        width, _ = save_png(browser, tmp_path / "flags-1024.png")
        assert width == 1024
        r = httpx.post(server.url + "/api/v1/machines/press1/suspects/1/accept", timeout=5)
        assert r.status_code == 200
        wait_for(lambda: dict(browser.execute_script(FLAGS_JS))["press1"] == [], "press1 clear")


@pytest.mark.parametrize("width", [1280, 768, 390])
def test_the_flags_fit_every_width(
    served: tuple[ApiThread, dict[str, Gateway]], tmp_path: Path, width: int
) -> None:
    """A long issue text wraps inside its card: no horizontal scroll on a phone either."""
    server, made = served
    gw = made["gw"]
    for ago, total in ((20, 5), (19, -3)):
        server.run(gw.take, gw.normalisers["press2"], batch("press2", ago, total))
    with chromium(width, 900) as browser:
        browser.get(server.url + "/")
        wait_for(lambda: dict(browser.execute_script(FLAGS_JS)).get("press2"), "the flag")
        sizes = browser.execute_script(
            "return [document.scrollingElement.scrollWidth, innerWidth, ...[...document"
            ".querySelectorAll('.flag')].map((f) => f.getBoundingClientRect().right)]"
        )
        assert sizes[0] <= sizes[1] == width and max(sizes[2:]) <= width, sizes
        assert save_png(browser, tmp_path / f"flags-{width}.png")[0] == width
