"""The line's topic and payload (`…/{line}/_line/oee/{window}`) of the hand-computed
two-machine line of `tests/connectors/line_report.py`, in sum and bottleneck mode."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import yaml

from connectors.mqtt.payloads import LineTopics, line_oee_payload
from core.types import LineOeeUpdate
from edge.engines.lines import line_update
from tests.connectors.line_report import (
    BOTTLENECK,
    BOTTLENECK_RATIOS,
    DETAILS,
    LOSS_LIST,
    M1_RATIOS,
    M2_RATIOS,
    SUM_RATIOS,
    SUMS,
    line,
    wire,
)
from tests.connectors.mqtt.support import ROOT
from tests.connectors.oee_report import worked_update

T = LineTopics("oee", "plant1", "press", "line2")
HEAD = '{"v":2,"line":"line2","path":"plant1/press/line2",'
# Everything after the ratios and before `losses`, as the bytes go out.
TAIL = (
    '"run_s":4800.0,"planned_s":7200.0,"unknown_s":0.0,"window_s":7200.0,'
    '"total":300,"good":285,"reject":15,"window":"1h","ts":"2026-11-25T02:00:00.000Z",'
    '"start":"2026-11-25T01:00:00.000Z","coverage":1.0,"planned_stop_s":0.0,'
    '"breakdown_s":600.0,"setup_s":600.0,"idle_s":1200.0,"small_stop_s":30.0,'
    '"speed_loss_s":870.0,"ideal_s":3900.0,"fully_productive_s":3705.0,"startup_reject":2,'
    '"performance_flagged":false,"failures":1,"mtbf_s":4800.0,"mttr_s":600.0,'
    '"off_plan_run_s":0.0,"off_plan_total":0'
)


def ratios_json(r: dict[str, float]) -> str:
    return ",".join(f'"{k}":{v!r}' for k, v in wire(r).items())


def test_line_topics() -> None:
    assert T.root == "oee/plant1/press/line2/_line"
    assert T.oee("1h") == "oee/plant1/press/line2/_line/oee/1h"
    assert T.oee("1h") is T.oee("1h")
    assert LineTopics("acme/uns", "s", "a", "l").oee("shift") == "acme/uns/s/a/l/_line/oee/shift"
    with pytest.raises(ValueError, match="MQTT topic level"):
        LineTopics("oee", "plant1", "press", "line+2")
    with pytest.raises(ValueError, match="MQTT topic level"):
        T.oee("1h/x")


@pytest.mark.parametrize(
    ("spec_line", "mode", "ratios"),
    [
        (line(), '"mode":"sum","bottleneck":null,', SUM_RATIOS),
        (line(BOTTLENECK), '"mode":"bottleneck","bottleneck":"m2",', BOTTLENECK_RATIOS),
    ],
    ids=["sum", "bottleneck"],
)
def test_line_payload(spec_line: LineOeeUpdate, mode: str, ratios: dict[str, float]) -> None:
    payload = line_oee_payload(T, spec_line)
    head, losses = payload.decode().split(',"losses":', 1)
    assert head == HEAD + mode + ratios_json(ratios) + "," + TAIL
    doc = json.loads(payload)
    assert doc["losses"] == LOSS_LIST  # in the six big losses' order
    assert doc["machines"] == {"m1": wire(M1_RATIOS), "m2": wire(M2_RATIOS)}
    assert doc["missing"] == []
    assert list(doc)[-3:] == ["losses", "machines", "missing"]
    assert {k: doc[k] for k in SUMS} == SUMS and {k: doc[k] for k in DETAILS} == DETAILS


def test_missing_machines_and_undefined_ratios() -> None:
    # Only m1 has figures: the bottleneck (m2) is missing, so the line's ratios are null
    # while the sums are m1's.
    u = line_update(BOTTLENECK, "1h", {"m1": worked_update()}, ["m2"])
    assert u is not None
    doc = json.loads(line_oee_payload(T, u))
    assert [doc[k] for k in ("availability", "performance", "quality", "oee")] == [None] * 4
    assert (doc["run_s"], doc["planned_s"], doc["performance_flagged"]) == (1800.0, 3600.0, False)
    assert (doc["machines"], doc["missing"]) == ({"m1": wire(M1_RATIOS)}, ["m2"])
    nan = replace(u, availability=float("nan"))
    assert json.loads(line_oee_payload(T, nan))["availability"] is None


def test_asyncapi_describes_the_line_payload() -> None:
    spec = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text())
    channel = spec["channels"]["{prefix}/{site}/{area}/{line}/_line/oee/{window}"]
    assert channel["subscribe"]["bindings"]["mqtt"]["retain"] is True
    assert channel["subscribe"]["message"] == {"$ref": "#/components/messages/LineOee"}
    parts = spec["components"]["messages"]["LineOee"]["payload"]["allOf"]
    assert parts[0] == {"$ref": "#/components/schemas/LineCommon"}
    assert parts[-1] == {"$ref": "#/components/schemas/OeeDetails"}
    common = spec["components"]["schemas"]["LineCommon"]["required"]
    required = [*common, *parts[1]["required"]]
    doc = json.loads(line_oee_payload(T, line()))
    assert required == list(doc)  # every field, in the order they go out
    details = set(spec["components"]["schemas"]["OeeDetails"]["properties"]) - {"pareto"}
    assert details <= set(doc)
