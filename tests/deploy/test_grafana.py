"""Grafana (deploy/grafana): the provisioning files, and every query of every dashboard run
against a real influxd that the real gateway (`oee-edge run`) filled from the Modbus
simulator, the way Grafana's InfluxQL data source sends it (GET /query, the provisioned
database and `Authorization` header, macros and template variables substituted)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.deploy.grafana_plant import STATES
from tests.deploy.grafana_query import (
    DATASOURCE_FILE,
    DS_REF,
    PROVIDER_FILE,
    DataSource,
    all_dashboards,
    all_panels,
    panel_rows,
    render,
    variable_values,
)

UIDS = {"oee-edge-plant-overview", "oee-edge-machine-detail", "oee-edge-oee-trends",
        "oee-edge-losses", "oee-edge-spc", "oee-edge-orders"}  # fmt: skip

# What grafana_gateway.yaml and grafana_scenario.yaml make: the template variables' values.
VARIABLES = {"site": ["plant-g"], "line": ["line-a", "line-b"], "machine": ["m1", "m2", "m3"],
             "window": ["15m", "1h"]}  # fmt: skip
# The SPC dashboard's come from the `spc` measurement: only m2 (line-a) has a chart.
SPC_VARIABLES = {"site": ["plant-g"], "line": ["line-a"], "machine": ["m2"], "chart": ["m2-fill"]}
# The orders dashboard has no OEE window.
ORDER_VARIABLES = {k: v for k, v in VARIABLES.items() if k != "window"}


def expected_variables(dashboard: dict[str, Any]) -> dict[str, list[str]]:
    return {"oee-edge-spc": SPC_VARIABLES, "oee-edge-orders": ORDER_VARIABLES}.get(
        dashboard["uid"], VARIABLES
    )


def _targets() -> list[Any]:
    return [
        pytest.param(d, p, t, id=f"{d['uid']}/{p['title']}/{t['refId']}")
        for d in all_dashboards() for p in all_panels(d) for t in p.get("targets", [])
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
    dashboards = all_dashboards()
    assert sorted(d["uid"] for d in dashboards) == sorted(UIDS)  # each once
    for d in dashboards:
        assert d["schemaVersion"] >= 39, d["title"]
        ids = [p["id"] for p in all_panels(d)]
        assert len(ids) == len(set(ids)), f"{d['title']}: panel ids repeat: {ids}"
        names = [v["name"] for v in d["templating"]["list"]]
        assert names == list(expected_variables(d)), d["title"]
        for v in d["templating"]["list"]:
            assert (v["type"], v["datasource"]) == ("query", DS_REF), (d["title"], v["name"])
        for p in all_panels(d):
            where = f"{d['title']} / {p['title']}"
            assert p["datasource"] == DS_REF and p["targets"], where
            for t in p["targets"]:
                assert t["datasource"] == DS_REF and t["rawQuery"] is True, where
                assert t["resultFormat"] in ("time_series", "table"), where


def test_the_machine_detail_has_a_state_timeline() -> None:
    detail = next(d for d in all_dashboards() if d["uid"] == "oee-edge-machine-detail")
    timelines = [p for p in all_panels(detail) if p["type"] == "state-timeline"]
    assert [t["targets"][0]["query"].split(" WHERE ")[0] for t in timelines] == [
        'SELECT "state", "reason" FROM "machine_state"']  # fmt: skip


# --------------------------------------------------------------------------- the queries


def test_template_variables_list_what_the_gateway_wrote(datasource: DataSource) -> None:
    for d in all_dashboards():
        values: dict[str, list[str]] = {}
        for var in d["templating"]["list"]:
            values[var["name"]] = datasource.tag_values(render(var["query"], values))
            expected = expected_variables(d)[var["name"]]
            assert values[var["name"]] == expected, (d["title"], var["name"])
    d = next(d for d in all_dashboards() if d["uid"] == "oee-edge-machine-detail")
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
    rows = panel_rows(datasource, "oee-edge-plant-overview", "Current state")
    assert {r["machine"]: r["state"] for r in rows} == {"m1": "idle", "m2": "setup", "m3": "fault"}


def test_the_state_timeline_shows_states_and_reasons(datasource: DataSource) -> None:
    rows = panel_rows(datasource, "oee-edge-machine-detail", "State and stop reason")
    assert [(r["state"], r["reason"]) for r in rows] == STATES["m1"]


def test_line_oee_is_shown_per_line(datasource: DataSource) -> None:
    rows = panel_rows(datasource, "oee-edge-plant-overview", "Line OEE")
    assert sorted(r["line"] for r in rows) == ["line-a", "line-b"]
    assert all(0 < r["last"] <= 1 for r in rows), rows


def test_the_losses_show_stops_by_reason_and_the_loss_tree(datasource: DataSource) -> None:
    rows = panel_rows(datasource, "oee-edge-losses", "Stops by reason")
    stops = sorted((m, s, r) for m, changes in STATES.items() for s, r in changes if r)
    assert sorted((r["machine"], r["state"], r["reason"]) for r in rows) == stops
    rows = panel_rows(datasource, "oee-edge-losses", "Six big losses (window)")
    assert sorted(r["loss"] for r in rows) == [
        "breakdowns", "idle", "production_rejects", "setup", "small_stops", "speed",
        "startup_rejects", "unknown"]  # fmt: skip
    rows = panel_rows(datasource, "oee-edge-losses", "Downtime by state per machine (window)")
    assert all(r["fault"] > 0 for r in rows if r["machine"] != "m3"), rows
    assert all(r["setup"] > 0 for r in rows if r["machine"] != "m3"), rows


def test_the_spc_chart_shows_points_limits_and_the_drift(datasource: DataSource) -> None:
    rows = panel_rows(datasource, "oee-edge-spc", "Control chart: points, centre line and limits")
    assert len(rows) >= 10
    limited = [r for r in rows if r["UCL"] is not None]
    assert limited, "no point judged against limits"
    for r in limited:
        # The zone lines are the centre line +- (UCL - CL)/3 and 2/3 of it.
        sigma = (r["UCL"] - r["CL"]) / 3
        assert r["+1σ"] == pytest.approx(r["CL"] + sigma)
        assert r["−2σ"] == pytest.approx(r["CL"] - 2 * sigma)
    rows = panel_rows(datasource, "oee-edge-spc", "Run rule violations")
    # The drift of 8σ at 240 sim s: WE1 at points after the trial limits' 10, the drifted
    # ones among them. Not "only drifted ones": trial limits from 10 points (σ from 9
    # moving ranges) give an in-control point a WE1 now and then, and which parts the
    # polls read differs from run to run (one run under load had one).
    we1 = [r for r in rows if r["rule"] == "WE1"]
    assert we1 and all(r["seq"] > 10 for r in we1), rows
    assert any(r["value"] > 251 for r in we1), rows
    rows = panel_rows(datasource, "oee-edge-spc", "Limits: trial, frozen, set by hand")
    assert [(r["action"], r["subgroups"]) for r in rows] == [("trial", 10)]
