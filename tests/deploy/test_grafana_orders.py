"""The orders dashboard (deploy/grafana/dashboards/orders.json) on the gateway's real
data (tests/deploy/grafana_plant.py): m1 runs A-1 (due an hour ago: late) through its
setup from product 101 to 102 (standard 0.3 s); m2 runs B-2 (at risk); m3 finishes C-3
(50 parts, on time) and runs D-3 (on track). Every panel's query returning rows is
checked with the other dashboards' in test_grafana.py."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.grafana_query import DataSource, panel_rows

UID = "oee-edge-orders"


def _rows(ds: DataSource, title: str) -> list[dict[str, Any]]:
    return panel_rows(ds, UID, title)


def _good(ds: DataSource, machine: str) -> int:
    """The good parts the gateway counted on `machine` (the `production` measurement)."""
    q = f'SELECT sum("good") FROM "production" WHERE "machine" = \'{machine}\''
    return int(ds.query(q)["series"][0]["values"][0][1])


def test_each_machines_current_order_and_its_progress(datasource: DataSource) -> None:
    rows = {r["machine"]: r for r in _rows(datasource, "Current order per machine")}
    got = {m: (r["order"], r["product"], r["quantity"], r["status"]) for m, r in rows.items()}
    assert got == {
        "m1": ("A-1", "101", 1_000_000, "late"),  # due an hour ago
        "m2": ("B-2", "201", 100_000, "at_risk"),  # expected within 25 days of due
        "m3": ("D-3", "301", 100_000, "on_track"),  # due in a year
    }
    # m1 makes A-1 only: every good part it counted is A-1's (both products).
    a1 = rows["m1"]
    assert a1["good"] == _good(datasource, "m1")
    assert a1["percent"] == pytest.approx(100 * a1["good"] / 1_000_000)
    assert a1["eta_now_ms"] > a1["due_ms"]  # late: expected after due, which is past
    # m3's parts after C-3's 50 good are D-3's.
    c3 = next(r for r in _rows(datasource, "Orders done in range") if r["order"] == "C-3")
    assert rows["m3"]["good"] + c3["good"] == _good(datasource, "m3")


def test_late_and_at_risk_orders_are_listed(datasource: DataSource) -> None:
    rows = _rows(datasource, "Late and at-risk orders")
    assert sorted((r["machine"], r["order"], r["status"]) for r in rows) == [
        ("m1", "A-1", "late"), ("m2", "B-2", "at_risk")]  # fmt: skip


def test_on_time_delivery_counts_the_orders_done(datasource: DataSource) -> None:
    (c3,) = _rows(datasource, "Orders done in range")
    assert (c3["machine"], c3["order"], c3["on time"]) == ("m3", "C-3", True)
    # Complete at the count that reached 50 good: a poll may bring more parts with it.
    assert 50 <= c3["good"] < 60 and c3["finished_ms"] <= c3["due_ms"]
    # The stat's first query (on time; its second, done, is 1 too: every panel's
    # queries run in test_grafana.py): 1 / 1.
    (on_time,) = _rows(datasource, "On-time delivery (orders done in range)")
    assert on_time["on time"] == 1


def _setup(ds: DataSource) -> tuple[float, float]:
    """m1's setup: (start, end) in ms, from its state changes."""
    q = 'SELECT "state" FROM "machine_state" WHERE "machine" = \'m1\''
    points = ds.query(q)["series"][0]["values"]
    i = next(i for i, (_, state) in enumerate(points) if state == "setup")
    return points[i][0], points[i + 1][0]


def test_changeover_durations_against_the_standard(datasource: DataSource) -> None:
    rows = _rows(datasource, "Changeover duration per product pair (standard dashed)")
    start, end = _setup(datasource)
    duration = (end - start) / 1000  # the setup, from state change to state change
    pairs = {(r["from_product"], r["to_product"]): r["duration_s"] for r in rows}
    # m3's next order of the same product, straight on, is no changeover (docs/OEE.md).
    assert pairs == {("101", "102"): pytest.approx(duration, abs=1e-3)}
    rows = _rows(datasource, "Changeovers per product pair: loss against standard")
    table = {
        (r["from_product"], r["to_product"]): (r["changeovers"], r["standard"], r["loss"])
        for r in rows
    }
    loss = pytest.approx(duration - 0.3, abs=1e-3)
    assert table == {("101", "102"): (1, 0.3, loss)}
