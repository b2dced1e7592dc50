"""Grafana (deploy/grafana): the provisioning files, and every query of every dashboard run
against a real influxd that the real gateway (`oee-edge run`) filled from the Modbus
simulator, the way Grafana's InfluxQL data source sends it (GET /query, the provisioned
database and `Authorization` header, macros and template variables substituted)."""

from __future__ import annotations

import json
import re
import string
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.fixtures.gateway_process import REPO_ROOT, GatewayProcess, SimulatorProcess
from tests.fixtures.influx import InfluxServer
from tests.fixtures.ports import free_port

GRAFANA = REPO_ROOT / "deploy" / "grafana"
DATASOURCE_FILE = GRAFANA / "provisioning" / "datasources" / "influxdb.yaml"
PROVIDER_FILE = GRAFANA / "provisioning" / "dashboards" / "oee-edge.yaml"
DASHBOARD_FILES = sorted((GRAFANA / "dashboards").glob("*.json"))
HERE = Path(__file__).parent
DS_REF = {"type": "influxdb", "uid": "oee-influxdb"}
UIDS = {"oee-edge-plant-overview", "oee-edge-machine-detail", "oee-edge-oee-trends",
        "oee-edge-losses", "oee-edge-spc"}  # fmt: skip

# What grafana_gateway.yaml and grafana_scenario.yaml make: the template variables'
# values, and each machine's state changes (state, reason) up to its final state (the
# gateway starts before the simulator, so each machine is offline first).
VARIABLES = {"site": ["plant-g"], "line": ["line-a", "line-b"], "machine": ["m1", "m2", "m3"],
             "window": ["15m", "1h"]}  # fmt: skip
# The SPC dashboard's come from the `spc` measurement: only m2 (line-a) has a chart.
SPC_VARIABLES = {"site": ["plant-g"], "line": ["line-a"], "machine": ["m2"], "chart": ["m2-fill"]}


def expected_variables(dashboard: dict[str, Any]) -> dict[str, list[str]]:
    return SPC_VARIABLES if dashboard["uid"] == "oee-edge-spc" else VARIABLES


OFFLINE = ("offline", None)
STATES = {
    "m1": [OFFLINE, ("idle", "Operator away"), ("running", None),
           ("setup", "Product changeover"), ("running", None), ("fault", "Sensor fault"),
           ("running", None), ("idle", "Operator away")],
    "m2": [OFFLINE, ("idle", None), ("running", None), ("fault", "Motor overload"),
           ("running", None), ("setup", "Product changeover")],
    "m3": [OFFLINE, ("idle", None), ("running", None), ("idle", "Waiting for material"),
           ("running", None), ("fault", "Hydraulic pressure low")],
}  # fmt: skip
TIME_FILTER = "time >= now() - 1h"  # what Grafana makes of $timeFilter for "Last 1 hour"
INTERVAL = "1s"  # $__interval: the whole run lasts about 10 s


def _dashboards() -> list[dict[str, Any]]:
    return [json.loads(f.read_text()) for f in DASHBOARD_FILES]


def _panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those inside (collapsed) rows."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def _targets() -> list[Any]:
    return [
        pytest.param(d, p, t, id=f"{d['uid']}/{p['title']}/{t['refId']}")
        for d in _dashboards() for p in _panels(d) for t in p.get("targets", [])
    ]  # fmt: skip


# --------------------------------------------------------------------------- Grafana's side


@dataclass
class DataSource:
    """The provisioned data source with Grafana's `$VAR` expansion done: what it sends."""

    url: str
    database: str
    headers: dict[str, str]

    @classmethod
    def provisioned(cls, env: dict[str, str]) -> DataSource:
        ds = expand_env(yaml.safe_load(DATASOURCE_FILE.read_text())["datasources"][0], env)
        json_data, secure = ds["jsonData"], ds["secureJsonData"]
        # Surrounding whitespace is not part of a header value (RFC 9110, 5.5): with an
        # empty INFLUX_TOKEN, InfluxDB 1.x sees `Authorization: Token`.
        headers = {json_data["httpHeaderName1"]: secure["httpHeaderValue1"].strip()}
        return cls(ds["url"], json_data["dbName"], headers)

    def query(self, q: str) -> dict[str, Any]:
        """GET /query as Grafana's InfluxQL mode sends it; the first statement's result."""
        params = {"db": self.database, "q": q, "epoch": "ms"}
        r = httpx.get(f"{self.url}/query", params=params, headers=self.headers, timeout=10)
        assert r.status_code == 200, f"{q}\nHTTP {r.status_code}: {r.text}"
        result: dict[str, Any] = r.json()["results"][0]
        assert "error" not in result, f"{q}\n{result['error']}"
        return result

    def tag_values(self, q: str) -> list[str]:
        return [v[1] for s in self.query(q).get("series", []) for v in s["values"]]


_ENV_VAR = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def expand_env(value: Any, env: dict[str, str]) -> Any:
    """Grafana's expansion of `$VAR` / `${VAR}` in a provisioning file's values (an unset
    variable becomes "")."""
    if isinstance(value, dict):
        return {k: expand_env(v, env) for k, v in value.items()}
    if isinstance(value, str):
        return _ENV_VAR.sub(lambda m: env.get(m[1] or m[2], ""), value)
    return value


def render(query: str, values: dict[str, list[str]]) -> str:
    """`query` with Grafana's macros and the variables' `values` substituted. In a regex
    (`/^$var$/`) Grafana writes one value regex-escaped, several as `(a|b)`."""
    for name, vals in values.items():
        if (regex := f"/^${name}$/") in query:
            assert vals, f"variable ${name} has no values, needed by: {query}"
            escaped = [re.escape(v) for v in vals]
            one = escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
            query = query.replace(regex, f"/^{one}$/")
    query = query.replace("$timeFilter", TIME_FILTER).replace("$__interval", INTERVAL)
    assert not re.search(r"\$[\w{]", query), f"a macro or variable the test does not know: {query}"
    return query


def variable_values(ds: DataSource, dashboard: dict[str, Any]) -> dict[str, list[str]]:
    """Each template variable's values, in order (a variable's query uses the values of
    the ones before it): all of them for a multi-value variable ("All"), else the first."""
    values: dict[str, list[str]] = {}
    for var in dashboard["templating"]["list"]:
        found = ds.tag_values(render(var["query"], values))
        values[var["name"]] = found if var["multi"] or var["includeAll"] else found[:1]
    return values


# --------------------------------------------------------------------------- the plant


def _wait(what: str, seen: Any, expected: Any, gateway: GatewayProcess) -> None:
    """Wait up to 30 s until `seen()` == `expected`; else fail with both and the log."""
    deadline = time.monotonic() + 30
    while (got := seen()) != expected:
        if time.monotonic() > deadline or not gateway.running:
            pytest.fail(f"{what}: {got} != {expected}; gateway log:\n{gateway.log_tail()}")
        time.sleep(0.2)


def _state_points(influx: InfluxServer, db: str) -> dict[str, list[tuple[str, str | None]]]:
    rows = influx.query('SELECT "state", "reason" FROM "machine_state" GROUP BY "machine"', db)
    out: dict[str, list[tuple[str, str | None]]] = {}
    for r in rows:
        out.setdefault(r["machine"], []).append((r["state"], r["reason"]))
    return out


def _oee_series_after(influx: InfluxServer, db: str, ns: int) -> tuple[int, ...]:
    """How many machine and line OEE series (one per window) have points after `ns`."""
    q = 'SELECT count("oee") FROM "{}" WHERE time > {} GROUP BY *'
    return tuple(len(influx.query(q.format(m, ns), db)) for m in ("oee", "line_oee"))


def _gateway(influx: InfluxServer, db: str, work: Path, modbus_port: int) -> GatewayProcess:
    env = {"DATA_DIR": str(work / "data"), "API_PORT": str(free_port()), "INFLUX_URL": influx.url,
           "INFLUX_DB": db, "MODBUS_PORT": str(modbus_port)}  # fmt: skip
    config = work / "gateway.yaml"
    config.write_text(string.Template((HERE / "grafana_gateway.yaml").read_text()).substitute(env))
    return GatewayProcess(config, work / "gateway.log", int(env["API_PORT"]))


@pytest.fixture(scope="module")
def datasource(
    influxd: InfluxServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DataSource]:
    """The provisioned data source, on a database the gateway filled with the scenario
    (every machine in its final state, OEE of every machine and line published after
    that); the gateway goes on running meanwhile."""
    work = tmp_path_factory.mktemp("grafana")
    db = influxd.new_database("grafana")
    sim = SimulatorProcess(HERE / "grafana_scenario.yaml", free_port(), 0.0, work / "sim.log")
    gateway = _gateway(influxd, db, work, sim.port)

    def states() -> set[str]:
        return {m["state"] for m in gateway.machines() or []}

    # The gateway first: its machines are offline until the simulator serves, which then
    # plays its script from the start, however long the gateway took to start.
    gateway.start()
    try:
        _wait("machine states", states, {"offline"}, gateway)
        sim.epoch = time.time()
        sim.start()
        _wait("state changes", lambda: _state_points(influxd, db), STATES, gateway)
        last = influxd.query('SELECT last("state") FROM "machine_state"', db)[0]["time"]
        # 3 machines and 2 lines, 2 windows each.
        _wait("OEE series", lambda: _oee_series_after(influxd, db, last), (3 * 2, 2 * 2), gateway)
        yield DataSource.provisioned({"INFLUX_URL": influxd.url, "INFLUX_DB": db})
    finally:
        gateway.terminate()
        sim.stop()


def _rows(ds: DataSource, uid: str, title: str) -> list[dict[str, Any]]:
    """The rows of a panel's first query (series tags merged into each row)."""
    dashboard = next(d for d in _dashboards() if d["uid"] == uid)
    panel = next(p for p in _panels(dashboard) if p["title"] == title)
    result = ds.query(render(panel["targets"][0]["query"], variable_values(ds, dashboard)))
    return [
        {**s.get("tags", {}), **dict(zip(s["columns"], row, strict=True))}
        for s in result.get("series", []) for row in s["values"]
    ]  # fmt: skip


# --------------------------------------------------------------------------- the files


def test_the_data_source_is_provisioned_from_the_environment() -> None:
    doc = yaml.safe_load(DATASOURCE_FILE.read_text())
    assert doc["apiVersion"] == 1 and len(doc["datasources"]) == 1
    ds = doc["datasources"][0]
    assert [ds[k] for k in ("uid", "type", "access", "url")] == [
        "oee-influxdb", "influxdb", "proxy", "$INFLUX_URL"]  # fmt: skip
    assert (ds["jsonData"]["version"], ds["jsonData"]["dbName"]) == ("InfluxQL", "$INFLUX_DB")
    env = {"INFLUX_URL": "http://influxdb:8086", "INFLUX_DB": "oee", "INFLUX_TOKEN": "t0k"}
    assert DataSource.provisioned(env) == DataSource(
        "http://influxdb:8086", "oee", {"Authorization": "Token t0k"})  # fmt: skip


def test_the_dashboards_are_provisioned_from_the_mounted_folder() -> None:
    doc = yaml.safe_load(PROVIDER_FILE.read_text())
    assert doc["apiVersion"] == 1 and len(doc["providers"]) == 1
    p = doc["providers"][0]
    assert (p["type"], p["folder"], p["options"]["path"]) == (
        "file", "oee-edge", "/var/lib/grafana/dashboards")  # fmt: skip


def test_every_dashboard_uses_the_provisioned_data_source() -> None:
    dashboards = _dashboards()
    assert sorted(d["uid"] for d in dashboards) == sorted(UIDS)  # each once
    for d in dashboards:
        assert d["schemaVersion"] >= 39, d["title"]
        ids = [p["id"] for p in _panels(d)]
        assert len(ids) == len(set(ids)), f"{d['title']}: panel ids repeat: {ids}"
        names = [v["name"] for v in d["templating"]["list"]]
        assert names == list(expected_variables(d)), d["title"]
        for v in d["templating"]["list"]:
            assert (v["type"], v["datasource"]) == ("query", DS_REF), (d["title"], v["name"])
        for p in _panels(d):
            where = f"{d['title']} / {p['title']}"
            assert p["datasource"] == DS_REF and p["targets"], where
            for t in p["targets"]:
                assert t["datasource"] == DS_REF and t["rawQuery"] is True, where
                assert t["resultFormat"] in ("time_series", "table"), where


def test_the_machine_detail_has_a_state_timeline() -> None:
    detail = next(d for d in _dashboards() if d["uid"] == "oee-edge-machine-detail")
    timelines = [p for p in _panels(detail) if p["type"] == "state-timeline"]
    assert [t["targets"][0]["query"].split(" WHERE ")[0] for t in timelines] == [
        'SELECT "state", "reason" FROM "machine_state"']  # fmt: skip


# --------------------------------------------------------------------------- the queries


def test_template_variables_list_what_the_gateway_wrote(datasource: DataSource) -> None:
    for d in _dashboards():
        values: dict[str, list[str]] = {}
        for var in d["templating"]["list"]:
            values[var["name"]] = datasource.tag_values(render(var["query"], values))
            expected = expected_variables(d)[var["name"]]
            assert values[var["name"]] == expected, (d["title"], var["name"])
    d = next(d for d in _dashboards() if d["uid"] == "oee-edge-machine-detail")
    machine = next(v for v in d["templating"]["list"] if v["name"] == "machine")
    one_line = render(machine["query"], {"site": ["plant-g"], "line": ["line-b"]})
    assert datasource.tag_values(one_line) == ["m3"]


@pytest.mark.parametrize(("dashboard", "panel", "target"), _targets())
def test_every_panel_query_returns_data(
    datasource: DataSource, dashboard: dict[str, Any], panel: dict[str, Any], target: Any
) -> None:
    query = render(target["query"], variable_values(datasource, dashboard))
    series = datasource.query(query).get("series", [])
    values = [v for s in series for row in s["values"] for v in row[1:] if v is not None]
    assert values, (
        f"no data for dashboard {dashboard['title']!r}, panel {panel['title']!r} "
        f"(target {target['refId']}):\n{query}"
    )


def test_the_overview_shows_each_machines_current_state(datasource: DataSource) -> None:
    rows = _rows(datasource, "oee-edge-plant-overview", "Current state")
    assert {r["machine"]: r["state"] for r in rows} == {"m1": "idle", "m2": "setup", "m3": "fault"}


def test_the_state_timeline_shows_states_and_reasons(datasource: DataSource) -> None:
    rows = _rows(datasource, "oee-edge-machine-detail", "State and stop reason")
    assert [(r["state"], r["reason"]) for r in rows] == STATES["m1"]


def test_line_oee_is_shown_per_line(datasource: DataSource) -> None:
    rows = _rows(datasource, "oee-edge-plant-overview", "Line OEE")
    assert sorted(r["line"] for r in rows) == ["line-a", "line-b"]
    assert all(0 < r["last"] <= 1 for r in rows), rows


def test_the_losses_show_stops_by_reason_and_the_loss_tree(datasource: DataSource) -> None:
    rows = _rows(datasource, "oee-edge-losses", "Stops by reason")
    stops = sorted((m, s, r) for m, changes in STATES.items() for s, r in changes if r)
    assert sorted((r["machine"], r["state"], r["reason"]) for r in rows) == stops
    rows = _rows(datasource, "oee-edge-losses", "Six big losses (window)")
    assert sorted(r["loss"] for r in rows) == [
        "breakdowns", "idle", "production_rejects", "setup", "small_stops", "speed",
        "startup_rejects", "unknown"]  # fmt: skip
    rows = _rows(datasource, "oee-edge-losses", "Downtime by state per machine (window)")
    assert all(r["fault"] > 0 for r in rows if r["machine"] != "m3"), rows
    assert all(r["setup"] > 0 for r in rows if r["machine"] != "m3"), rows


def test_the_spc_chart_shows_points_limits_and_the_drift(datasource: DataSource) -> None:
    rows = _rows(datasource, "oee-edge-spc", "Control chart: points, centre line and limits")
    assert len(rows) >= 10
    limited = [r for r in rows if r["UCL"] is not None]
    assert limited, "no point judged against limits"
    for r in limited:
        # The zone lines are the centre line +- (UCL - CL)/3 and 2/3 of it.
        sigma = (r["UCL"] - r["CL"]) / 3
        assert r["+1σ"] == pytest.approx(r["CL"] + sigma)
        assert r["−2σ"] == pytest.approx(r["CL"] - 2 * sigma)
    rows = _rows(datasource, "oee-edge-spc", "Run rule violations")
    # The drift of 8σ at 240 sim s: WE1 at points after the trial limits' 10.
    assert "WE1" in {r["rule"] for r in rows}
    assert all(r["seq"] > 10 and r["value"] > 251 for r in rows if r["rule"] == "WE1"), rows
    rows = _rows(datasource, "oee-edge-spc", "Limits: trial, frozen, set by hand")
    assert [(r["action"], r["subgroups"]) for r in rows] == [("trial", 10)]
