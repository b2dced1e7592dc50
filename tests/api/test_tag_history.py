"""`GET /api/v1/machines/{id}/tags/{tag}` over both real stores: an SQLite file filled
through `SqliteStore.handle`, and a real influxd filled through the real `InfluxSink`
(v1 /write). Every value test runs on both and expects the same JSON, types included
(`true` is not `1.0`). The real gateway's values: tests/integration/test_gateway_tags.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.auth import UNAUTHORIZED
from connectors.influxdb.influxql import InfluxHistory
from connectors.influxdb.sink import InfluxSink
from connectors.sqlite.store import SqliteStore
from core.interfaces import HistoryReader
from core.types import Quality, Sample, SampleBatch, TagValue
from edge.config import Config, InfluxConfig, SqliteConfig
from edge.outbox import Journal
from edge.pipeline.live import LiveView, machine_refs
from tests.api.conftest import NOW
from tests.connectors.influxdb.test_influxdb import until
from tests.fixtures.influx import InfluxServer
from tests.fixtures.outbox import open_outbox

GOOD, UNCERTAIN, BAD = Quality.GOOD, Quality.UNCERTAIN, Quality.BAD
T = datetime(2026, 11, 3, 7, 50, tzinfo=UTC)
BIG = datetime(2026, 11, 3, 7, 0, tzinfo=UTC)  # `level`: 10,001 values, 100 ms apart
KEY = "t4g-key-5c80e1a9"
MODBUS = {"host": "127.0.0.1"}
PRESS_TAGS = {
    "state": {"address": 0},
    "speed": {"address": 1, "type": "float32"},
    "running": {"table": "coil", "address": 0},
    "recipe": {"address": 3, "type": "string", "length": 2},
    "level": {"address": 5},
}
UA = {"endpoint": "opc.tcp://127.0.0.1:4840"}


def make_config(**api: Any) -> Config:
    """press1 stores its tags; press2 does not (any more); ua1 is an OPC UA machine."""
    press = {"modbus": MODBUS, "tags": PRESS_TAGS, "ideal_cycle_s": 2}
    return Config.model_validate(
        {
            "gateway": {"id": "gw1"},
            "site": "plant1",
            "area": "press",
            "line": "line1",
            "machines": [
                {"id": "press1", "publish_tags": True, **press},
                {"id": "press2", **press},
                {"id": "ua1", "opcua": UA, "tags": {"mode": "ns=2;s=Mode", "level": "ns=2;s=L"}}
                | {"ideal_cycle_s": 1, "publish_tags": True},
            ],
            "api": api,
        }
    )


# (s after T, speed, running, recipe, quality): the 07:50:00-10 bucket ends in a failed read.
ROWS: list[tuple[float, float | None, bool | None, str | None, Quality]] = [
    (0, 1.5, True, "A1", GOOD),
    (2.5, 2.5, True, "A1", GOOD),
    (5, 3.5, False, "B2", UNCERTAIN),
    (9.999, None, None, None, BAD),
    (10, 10.0, False, "B2", GOOD),
    (12, 20.0, True, "C3", GOOD),
    (25, -4.25, True, "C3", GOOD),
]


def batch(machine: str, ts: datetime, values: dict[str, TagValue], q: Quality) -> SampleBatch:
    return SampleBatch(machine, ts, tuple(Sample(k, v, q, ts) for k, v in values.items()))


def history_events() -> list[SampleBatch]:
    out = []
    for s, speed, running_, recipe, q in ROWS:
        ts = T + timedelta(seconds=s)
        out.append(batch("press1", ts, {"speed": speed, "running": running_, "recipe": recipe}, q))
        out.append(batch("ua1", ts, {"level": speed, "mode": recipe}, q))
    out += [
        batch("press1", BIG + timedelta(milliseconds=100 * i), {"level": float(i)}, GOOD)
        for i in range(10_001)
    ]
    # OPC UA values with their own (source) times, out of order, one past its batch's range.
    for at, ts, value in [(40, 41, 5.0), (41, 40.5, 6.0), (59.999, 60.5, 7.0)]:
        sample = Sample("level", value, GOOD, T + timedelta(seconds=ts))
        out.append(SampleBatch("ua1", T + timedelta(seconds=at), (sample,)))
    # Stored while press2 still had publish_tags.
    return [*out, batch("press2", T, {"speed": 7.0}, GOOD)]


def run_aside(work: Coroutine[Any, Any, None]) -> None:
    """Run `work` to the end on a loop of its own (a module fixture may be set up from
    within a test's running loop, e.g. through `getfixturevalue`)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, work).result()


@pytest.fixture(scope="module")
def sqlite_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tag-sqlite") / "tags.sqlite"

    async def fill() -> None:
        # Its clock is the API's: with the real one, tag retention (7 days) would prune.
        async with SqliteStore(SqliteConfig(path=path), clock=lambda: NOW) as store:
            await store.handle(history_events())
            assert store.stats.errors == 0

    run_aside(fill())
    return path


@pytest.fixture(scope="module")
def influx_config(influxd: InfluxServer, tmp_path_factory: pytest.TempPathFactory) -> InfluxConfig:
    db = influxd.new_database("tags")
    cfg = InfluxConfig(url=influxd.url, database=db, api="v1", flush_interval_s=0.05)
    events = history_events()
    lines = sum(len(b.samples) for b in events)
    box = open_outbox(tmp_path_factory.mktemp("tag-outbox") / "outbox.sqlite")

    async def fill() -> None:
        refs = machine_refs(make_config())
        async with InfluxSink(cfg, refs, journal=Journal(box)) as sink:
            await sink.handle(events)
            await until(lambda: sink.stats.written == lines, within_s=20)

    try:
        run_aside(fill())
    finally:
        box.close()
    return cfg


@contextlib.asynccontextmanager
async def app_client(config: Config, history: HistoryReader) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(config, LiveView.from_config(config), history, clock=lambda: NOW)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        yield c


@pytest.fixture(params=["sqlite", "influxdb"])
async def api(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the API over one store (both hold the same history)."""
    config = make_config()
    if request.param == "sqlite":
        path = request.getfixturevalue("sqlite_path")
        async with SqliteStore(SqliteConfig(path=path)) as store, app_client(config, store) as c:
            yield c
    else:
        cfg = request.getfixturevalue("influx_config")
        refs = machine_refs(config)
        async with InfluxHistory(cfg, refs) as influx, app_client(config, influx) as c:
            yield c


@pytest.fixture
async def sqlite_api(sqlite_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """For what does not depend on the store: the request's checks."""
    store = SqliteStore(SqliteConfig(path=sqlite_path))
    async with store, app_client(make_config(), store) as c:
        yield c


def z(s: float, base: datetime = T) -> str:
    """RFC 3339 with milliseconds, `s` seconds after `base`."""
    ts = base + timedelta(seconds=s)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


async def get(c: httpx.AsyncClient, path: str, status: int = 200, **params: str) -> Any:
    r = await c.get(f"/api/v1/machines/{path}", params=params)
    assert r.status_code == status, r.text
    return r.json()


def same(got: Any, expected: Any) -> None:
    """Equal, and equal as JSON text: 1.0 is not true, 10 is not 10.0 (== says they are)."""
    assert got == expected
    assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)


def head(tag: str, start: str, end: str, every: str | None, aggregation: str) -> dict[str, Any]:
    return {"machine": "press1", "tag": tag, "from": start, "to": end, "every": every} | {
        "aggregation": aggregation,
        "note": None,
    }


def pt(s: float, value: TagValue, quality: str = "good") -> dict[str, Any]:
    return {"ts": z(s), "value": value, "quality": quality}


def bucket(s: float, mean: float | None, lo: float | None, hi: float | None, last: float | None,
           count: int, quality: str = "good") -> dict[str, Any]:  # fmt: skip
    return {"ts": z(s), "mean": mean, "min": lo, "max": hi, "last": last, "count": count} | {
        "quality": quality
    }


# --------------------------------------------------------------------------- values


async def test_raw_values_of_a_range(api: httpx.AsyncClient) -> None:
    body = await get(api, "press1/tags/speed", **{"from": z(0), "to": z(60)})
    same(body, head("speed", z(0), z(60), None, "raw") | {"points": [
        pt(0, 1.5), pt(2.5, 2.5), pt(5, 3.5, "uncertain"), pt(9.999, None, "bad"),
        pt(10, 10.0), pt(12, 20.0), pt(25, -4.25),
    ]})  # fmt: skip
    # [from, to): the value at `to` is left out, the one at `from` kept.
    body = await get(api, "press1/tags/speed", **{"from": z(2.5), "to": z(10)})
    same(body["points"], [pt(2.5, 2.5), pt(5, 3.5, "uncertain"), pt(9.999, None, "bad")])


async def test_raw_booleans_and_strings(api: httpx.AsyncClient) -> None:
    r = await get(api, "press1/tags/running", **{"from": z(0), "to": z(60)})
    same([p["value"] for p in r["points"]], [True, True, False, None, False, True, True])
    r = await get(api, "press1/tags/recipe", **{"from": z(0), "to": z(60)})
    same([p["value"] for p in r["points"]], ["A1", "A1", "B2", None, "B2", "C3", "C3"])


async def test_values_are_by_their_own_time(api: httpx.AsyncClient) -> None:
    body = await get(api, "ua1/tags/level", **{"from": z(40), "to": z(60)})
    same(body["points"], [pt(40.5, 6.0), pt(41, 5.0)])
    body = await get(api, "ua1/tags/level", **{"from": z(40), "to": z(61)})
    same(body["points"], [pt(40.5, 6.0), pt(41, 5.0), pt(60.5, 7.0)])


async def test_default_range_is_the_last_hour(api: httpx.AsyncClient) -> None:
    body = await get(api, "press1/tags/speed")
    assert (body["from"], body["to"]) == ("2026-11-03T07:00:00.000Z", "2026-11-03T08:00:00.000Z")
    assert [p["value"] for p in body["points"]] == [1.5, 2.5, 3.5, None, 10.0, 20.0, -4.25]


async def test_numeric_buckets(api: httpx.AsyncClient) -> None:
    body = await get(api, "press1/tags/speed", **{"from": z(0), "to": z(60), "every": "10s"})
    same(body, head("speed", z(0), z(60), "10s", "numeric") | {"points": [
        bucket(0, 2.5, 1.5, 3.5, 3.5, 3, "bad"),  # the failed read: worst quality, no value
        bucket(10, 15.0, 10.0, 20.0, 20.0, 2),
        bucket(20, -4.25, -4.25, -4.25, -4.25, 1),
    ]})  # fmt: skip
    body = await get(api, "press1/tags/speed", **{"from": z(0), "to": z(60), "every": "1m"})
    same(body["points"], [bucket(0, 33.25 / 6, -4.25, 20.0, -4.25, 6, "bad")])


async def test_buckets_are_aligned_to_the_epoch_not_to_from(api: httpx.AsyncClient) -> None:
    body = await get(api, "press1/tags/speed", **{"from": z(5), "to": z(21), "every": "10s"})
    same(body["points"], [
        bucket(0, 3.5, 3.5, 3.5, 3.5, 1, "bad"),  # starts before `from`: [from, 07:50:10)
        bucket(10, 15.0, 10.0, 20.0, 20.0, 2),
    ])  # fmt: skip
    body = await get(api, "press1/tags/speed", **{"from": z(9), "to": z(10), "every": "1s"})
    same(body["points"], [bucket(9, None, None, None, None, 0, "bad")])  # only a failed read


async def test_booleans_and_strings_downsample_to_the_last_value(api: httpx.AsyncClient) -> None:
    window = {"from": z(0), "to": z(60), "every": "10s"}
    body = await get(api, "press1/tags/running", **window)
    same(body, head("running", z(0), z(60), "10s", "last") | {"points": [
        pt(0, False, "bad"), pt(10, True), pt(20, True),
    ]})  # fmt: skip
    body = await get(api, "press1/tags/recipe", **window)
    same(body["points"], [pt(0, "B2", "bad"), pt(10, "C3"), pt(20, "C3")])
    # An OPC UA tag's type is the server's: taken from the stored values.
    mode = await get(api, "ua1/tags/mode", **window)
    level = await get(api, "ua1/tags/level", **window)
    assert (mode["aggregation"], level["aggregation"]) == ("last", "numeric")
    same(mode["points"], [pt(0, "B2", "bad"), pt(10, "C3"), pt(20, "C3")])
    same(level["points"][1], bucket(10, 15.0, 10.0, 20.0, 20.0, 2))


async def test_ten_thousand_points_at_most(api: httpx.AsyncClient) -> None:
    end = BIG + timedelta(seconds=1000)  # level's 10,001st value is at `end`
    body = await get(api, "press1/tags/level", **{"from": z(0, BIG), "to": z(0, end)})
    assert len(body["points"]) == 10_000
    same(
        body["points"][-1],
        {"ts": "2026-11-03T07:16:39.900Z", "value": 9999.0} | {"quality": "good"},
    )
    more = {"from": z(0, BIG), "to": z(0.001, end)}
    body = await get(api, "press1/tags/level", 422, **more)
    assert body == {
        "detail": "[from, to) holds more than 10000 values of 'level': downsample "
        "with `every` (e.g. every=1s) or ask for a shorter range"
    }
    body = await get(api, "press1/tags/level", **more, every="1m")
    assert len(body["points"]) == 17
    same(body["points"][0], {**bucket(0, 299.5, 0.0, 599.0, 599.0, 600), "ts": z(0, BIG)})
    same(
        body["points"][16],
        {**bucket(0, 9800.0, 9600.0, 10000.0, 10000.0, 401)} | {"ts": "2026-11-03T07:16:00.000Z"},
    )


# --------------------------------------------------------------------------- the request


async def test_every_may_cut_the_range_into_ten_thousand_intervals_at_most(
    sqlite_api: httpx.AsyncClient,
) -> None:
    end = BIG + timedelta(seconds=1000)
    body = await get(
        sqlite_api, "press1/tags/level", **{"from": z(0, BIG), "to": z(0, end), "every": "0.1s"}
    )
    assert len(body["points"]) == 10_000 and body["points"][1]["count"] == 1
    body = await get(
        sqlite_api,
        "press1/tags/level", 422, **{"from": z(0, BIG), "to": z(0.001, end), "every": "0.1s"},
    )  # fmt: skip
    assert body == {
        "detail": "every=0.1s cuts [from, to) into 10001 intervals, more than 10000: "
        "use every=1s or longer, or a shorter range"
    }


@pytest.mark.parametrize(
    "params, detail",
    [
        ({"every": "10x"}, "`every`: '10x' is not a duration: write e.g. 30s, 15m, 1h or 1d"),
        ({"every": "0s"}, "`every`: '0s' is shorter than 1 ms"),
        ({"every": "93d"}, "`every`: '93d' is longer than a range may be, 92d"),
        ({"every": "9999999999d"}, "`every`: '9999999999d' is longer than a range may be, 92d"),
        ({"from": z(0), "to": z(0)}, "`from` must be earlier than `to`"),
        ({"from": "2026-11-03T08:00:00Z"}, "`from` must be earlier than `to`"),  # `to`: now
        (
            {"from": "2026-08-03T07:59:59.999Z", "to": z(600)},
            "`from` to `to` spans more than 92 days; ask for less",
        ),
    ],
)
async def test_bad_requests_are_422(
    sqlite_api: httpx.AsyncClient, params: dict[str, str], detail: str
) -> None:
    assert await get(sqlite_api, "press1/tags/speed", 422, **params) == {"detail": detail}


async def test_ninety_two_days_is_the_longest_range(sqlite_api: httpx.AsyncClient) -> None:
    body = await get(sqlite_api, "press1/tags/speed", **{"from": "2026-08-03T08:00:00Z"})
    assert (body["from"], len(body["points"])) == ("2026-08-03T08:00:00.000Z", 7)


async def test_unknown_machine_or_tag_is_404(sqlite_api: httpx.AsyncClient) -> None:
    bad = {"every": "10x"}  # the 404 comes first
    assert await get(sqlite_api, "nope/tags/speed", 404, **bad) == {
        "detail": "unknown machine 'nope'; known machines: press1, press2, ua1",
        "known": ["press1", "press2", "ua1"],
    }
    assert await get(sqlite_api, "press1/tags/mode", 404, **bad) == {
        "detail": "machine 'press1' has no tag 'mode'; its tags: level, recipe, running, "
        "speed, state",
        "known": ["level", "recipe", "running", "speed", "state"],
    }


async def test_a_machine_without_publish_tags_says_so(api: httpx.AsyncClient) -> None:
    note = (
        "machine 'press2' does not store its raw tag values: set "
        "`machines[1].publish_tags: true` in the config to store them from then on"
    )
    body = await get(api, "press2/tags/speed", **{"from": z(1), "to": z(60)})
    same(body, {"machine": "press2", "tag": "speed", "from": z(1), "to": z(60), "every": None}
         | {"aggregation": "raw", "note": note, "points": []})  # fmt: skip
    # What it stored while it had publish_tags stays readable (until its retention).
    body = await get(api, "press2/tags/speed")
    assert (body["note"], body["points"]) == (note, [pt(0, 7.0)])


async def test_a_key_is_required_when_configured(sqlite_path: Path) -> None:
    config = make_config(host="0.0.0.0", api_key=KEY)
    store = SqliteStore(SqliteConfig(path=sqlite_path))
    async with store, app_client(config, store) as c:
        r = await c.get("/api/v1/machines/press1/tags/speed")
        assert (r.status_code, r.json()) == (401, {"detail": UNAUTHORIZED})
        r = await c.get("/api/v1/machines/nope/tags/speed")  # no machine list for strangers
        assert (r.status_code, r.json()) == (401, {"detail": UNAUTHORIZED})
        r = await c.get("/api/v1/machines/press1/tags/speed", headers={"X-API-Key": KEY})
        assert (r.status_code, len(r.json()["points"])) == (200, 7)


async def test_a_store_that_fails_is_503(tmp_path: Path) -> None:
    store = SqliteStore(SqliteConfig(path=tmp_path / "never-opened.sqlite"))
    async with app_client(make_config(), store) as c:
        body = await get(c, "press1/tags/speed", 503)
    assert body == {"detail": "history store unavailable: the SQLite store is not open"}
