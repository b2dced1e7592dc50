"""The live page's files: served without a key (they hold no data), with their types,
nothing else from the static folder, and nothing loaded from elsewhere."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from connectors.sqlite.store import SqliteStore
from edge.config import SqliteConfig
from edge.pipeline.live import LiveView
from tests.api.conftest import NOW, make_config

ASSETS = {
    "live.js": "text/javascript; charset=utf-8",
    "sse.js": "text/javascript; charset=utf-8",
    "render.js": "text/javascript; charset=utf-8",
    "i18n.js": "text/javascript; charset=utf-8",
    "timeline.js": "text/javascript; charset=utf-8",
    "stoppanel.js": "text/javascript; charset=utf-8",
    "clock.js": "text/javascript; charset=utf-8",
    "dom.js": "text/javascript; charset=utf-8",
    "quality.js": "text/javascript; charset=utf-8",
    "live.css": "text/css; charset=utf-8",
    "spc.js": "text/javascript; charset=utf-8",
    "spcchart.js": "text/javascript; charset=utf-8",
    "spctexts.js": "text/javascript; charset=utf-8",
    "spcparts.js": "text/javascript; charset=utf-8",
    "spc.css": "text/css; charset=utf-8",
    "orders.js": "text/javascript; charset=utf-8",
    "orderstexts.js": "text/javascript; charset=utf-8",
    "orders.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}


@pytest.fixture
async def keyed(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    config = make_config(api_key="k3y-9a61f0e2b7c4d5")
    async with SqliteStore(SqliteConfig(path=tmp_path / "page.sqlite")) as store:
        app = create_app(config, LiveView.from_config(config), store, clock=lambda: NOW)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
            yield c


async def test_the_page_and_its_files_need_no_key(keyed: httpx.AsyncClient) -> None:
    page = await keyed.get("/")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-cache"
    for ref in ('src="static/live.js"', 'href="static/live.css"', 'data-events="api/v1/events"'):
        assert ref in page.text
    for name, media_type in ASSETS.items():
        r = await keyed.get(f"/static/{name}")
        assert (r.status_code, r.headers["content-type"]) == (200, media_type), name
        # An SVG names its XML namespace with a URL (icon.svg, the SPC chart's elements):
        # a name, never fetched.
        text = r.text.replace('"http://www.w3.org/2000/svg"', "")
        if name != "icon.svg":
            assert "http://" not in text and "https://" not in text, name  # works offline
    live = (await keyed.get("/static/live.js")).text
    assert 'from "./sse.js"' in live and 'Authorization: "Bearer " + key' in live
    assert (await keyed.get("/api/v1/events")).status_code == 401  # the data does need it


@pytest.mark.parametrize("name", ["nope.js", "index.html", "events.py"])
async def test_only_the_page_files_are_served(keyed: httpx.AsyncClient, name: str) -> None:
    r = await keyed.get(f"/static/{name}")
    assert (r.status_code, r.json()) == (404, {"detail": f"no page asset '{name}'"})


@pytest.mark.parametrize("path", ["/static/..%2Froutes.py", "/static/%2E%2E%2Fapp.py"])
async def test_no_way_out_of_the_folder(keyed: httpx.AsyncClient, path: str) -> None:
    r = await keyed.get(path)
    assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})  # no route matches


STATIC = Path(__file__).parents[2] / "api" / "static"
PAGE_SCRIPTS = ("live.js", "render.js", "timeline.js", "stoppanel.js", "clock.js", "quality.js",
                "spc.js", "spcchart.js", "spcparts.js", "orders.js")  # fmt: skip


def _keys(block: str) -> set[str]:
    return set(re.findall(r"^  (\w+):", block, re.MULTILINE))


def test_every_text_is_in_both_languages_and_nowhere_else() -> None:
    """All texts live in i18n.js (the SPC panel's in spctexts.js, the orders' in
    orderstexts.js, added to its dictionaries), one dictionary per language with the same
    keys; the page's scripts name them (`t("key")`, `data-t="key"`) and every name exists."""
    en: set[str] = set()
    for dictionaries in ("i18n.js", "spctexts.js", "orderstexts.js"):
        source = (STATIC / dictionaries).read_text()
        en_one = _keys(source.split("const en = {")[1].split("\n};")[0])
        de_one = _keys(source.split("const de = {")[1].split("\n};")[0])
        assert en_one == de_one and len(en_one) > 20, dictionaries
        assert not en & en_one, f"{dictionaries} uses a key of another: {en & en_one}"
        en |= en_one
    used: set[str] = set()
    for name in PAGE_SCRIPTS:
        used |= set(re.findall(r'\bt\("(\w+)"', (STATIC / name).read_text()))
    used |= set(re.findall(r'data-t(?:-label)?="(\w+)"', (STATIC / "index.html").read_text()))
    assert used - en == set()
    # No text literal left in the scripts that draw the page: a string with a space or a
    # word of three letters or more is a class list, a selector, a route or an event name.
    for name in PAGE_SCRIPTS:
        code = re.sub(r"/\*.*?\*/|//[^\n]*", "", (STATIC / name).read_text(), flags=re.DOTALL)
        for text in re.findall(r'"([^"\n]*)"', code):
            words = re.findall(r"[A-Za-z]{3,}", text)
            looks_like_prose = len(words) >= 3 and " " in text and not text.startswith(".")
            assert not looks_like_prose, (name, text)
