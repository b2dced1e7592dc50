"""The OEE details document shared by the MQTT payload and the SQLite store."""

from __future__ import annotations

from dataclasses import replace

from connectors.common.oeedetails import PARETO_LIMIT, details_document, finite, rounded
from core.types import MachineState, OeeUpdate
from oee.losses import ReasonLoss
from tests.connectors.oee_report import DETAILS, DOCUMENT, W1, worked_update


def test_the_worked_example() -> None:
    doc = details_document(worked_update())
    assert doc == DOCUMENT
    assert list(doc) == [*DETAILS, "losses", "pareto"]
    assert [x["name"] for x in doc["losses"]] == [  # type: ignore[attr-defined]
        "breakdowns", "setup", "idle", "unknown", "small_stops", "speed", "startup_rejects",
        "production_rejects",
    ]  # fmt: skip


def test_rounded_to_what_each_number_means() -> None:
    doc = {
        "oee": 1425 / 3600,  # 0.395833… -> 4 decimals
        "run_s": 1800.00049,  # seconds -> 3 decimals
        "state_s": {"running": 12.3456},  # inside a `_s` map: seconds
        "losses": [{"seconds": 1 / 3, "points": 1 / 3}],
        "total": 7,
        "flag": True,
        "start": None,
    }
    assert rounded(doc) == {
        "oee": 0.3958,
        "run_s": 1800.0,
        "state_s": {"running": 12.346},
        "losses": [{"seconds": 0.333, "points": 0.3333}],
        "total": 7,
        "flag": True,
        "start": None,
    }


def test_no_report_no_document() -> None:
    bare = OeeUpdate("m1", "1h", W1, 0.5, None, None, None, 1.0, 2.0, 0.0, 2.0, 0, 0, 0)
    assert details_document(bare) == {}


def test_the_pareto_keeps_the_biggest_ten() -> None:
    rows = tuple(
        ReasonLoss(code, f"r{code}", MachineState.FAULT, 1, 100.0 - code, (100.0 - code) / 1000)
        for code in range(12)
    )
    assert PARETO_LIMIT == 10
    doc = details_document(replace(worked_update(), pareto=rows))
    pareto = doc["pareto"]
    assert isinstance(pareto, list)
    assert [p["reason_code"] for p in pareto] == list(range(10))
    assert pareto[9] == {
        "state": "fault",
        "reason_code": 9,
        "reason": "r9",
        "count": 1,
        "seconds": 91.0,
        "share": 0.091,
    }


def test_finite() -> None:
    assert finite(None) is None
    assert finite(float("nan")) is None
    assert finite(float("-inf")) is None
    assert finite(1.5) == 1.5
