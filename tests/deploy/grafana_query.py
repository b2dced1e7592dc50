"""Grafana's side of the dashboard tests (tests/deploy/test_grafana*.py): the dashboard
files, and every query sent as Grafana's InfluxQL data source sends it (GET /query, the
provisioned database and `Authorization` header, macros and template variables
substituted)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import yaml

from tests.fixtures.gateway_process import REPO_ROOT

GRAFANA = REPO_ROOT / "deploy" / "grafana"
DATASOURCE_FILE = GRAFANA / "provisioning" / "datasources" / "influxdb.yaml"
PROVIDER_FILE = GRAFANA / "provisioning" / "dashboards" / "oee-edge.yaml"
DASHBOARD_FILES = sorted((GRAFANA / "dashboards").glob("*.json"))
DS_REF = {"type": "influxdb", "uid": "oee-influxdb"}
TIME_FILTER = "time >= now() - 1h"  # what Grafana makes of $timeFilter for "Last 1 hour"
INTERVAL = "1s"  # $__interval: the whole run lasts about 10 s


def all_dashboards() -> list[dict[str, Any]]:
    return [json.loads(f.read_text()) for f in DASHBOARD_FILES]


def all_panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those inside (collapsed) rows."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


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


def panel_rows(ds: DataSource, uid: str, title: str) -> list[dict[str, Any]]:
    """The rows of a panel's first query (series tags merged into each row)."""
    dashboard = next(d for d in all_dashboards() if d["uid"] == uid)
    panel = next(p for p in all_panels(dashboard) if p["title"] == title)
    result = ds.query(render(panel["targets"][0]["query"], variable_values(ds, dashboard)))
    return [
        {**s.get("tags", {}), **dict(zip(s["columns"], row, strict=True))}
        for s in result.get("series", []) for row in s["values"]
    ]  # fmt: skip
