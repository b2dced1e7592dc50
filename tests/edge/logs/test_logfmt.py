"""Log formats: human-readable lines by default, JSON lines on request (the real CLI with
an unreachable PLC and broker), and never a secret in either."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from edge.config.loading import ConfigError, parse_config
from edge.logs.logfmt import JsonFormatter
from tests.fixtures.gateway_process import OEE_EDGE, REPO_ROOT
from tests.fixtures.ports import free_port

TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
KEYS = {"ts", "level", "logger", "msg"}


@pytest.fixture
def json_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("tests.logfmt")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log, out
    log.removeHandler(handler)
    log.propagate = True


def _records(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_record_with_extra_fields(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    log, out = json_log
    before = datetime.now(UTC)
    log.warning(
        "machine %s: %s\nsecond line", "m1", "timeout",
        extra={"machine": "m1", "polls": 3, "password": SecretStr("hunter2")},
    )  # fmt: skip
    assert out.getvalue().count("\n") == 1  # one line, whatever the message holds
    (rec,) = _records(out)
    assert set(rec) == KEYS | {"machine", "polls", "password"}
    assert rec["level"] == "WARNING" and rec["logger"] == "tests.logfmt"
    assert rec["msg"] == "machine m1: timeout\nsecond line"
    assert (rec["machine"], rec["polls"], rec["password"]) == ("m1", 3, "**********")
    assert "hunter2" not in out.getvalue()
    assert isinstance(rec["ts"], str) and TS.fullmatch(rec["ts"])
    ts = datetime.fromisoformat(rec["ts"].replace("Z", "+00:00"))
    assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= ts
    assert ts <= datetime.now(UTC)


def test_a_traceback_goes_into_exc(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    log, out = json_log
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("sink %s failed", "mqtt")
    (rec,) = _records(out)
    assert set(rec) == KEYS | {"exc"}
    assert (rec["level"], rec["msg"]) == ("ERROR", "sink mqtt failed")
    exc = rec["exc"]
    assert isinstance(exc, str) and exc.startswith("Traceback (most recent call last):\n")
    assert exc.endswith("ValueError: boom")


CONFIG = """
gateway: {{id: gw-logs, data_dir: "{data_dir}"{log_format}}}
site: plant
area: area1
line: logs
api: {{port: {api_port}}}
mqtt: {{port: {mqtt_port}, username: gateway, password: "${{MQTT_PASSWORD}}"}}
machines:
  - id: m1
    modbus: {{host: 127.0.0.1, port: {modbus_port}, backoff_initial_s: 0.2, backoff_max_s: 0.5}}
    tags: {{code: {{address: 0}}}}
    state_rules: [{{tag: code, map: {{1: running}}}}]
    ideal_cycle_s: 1
"""
SECRET = "s3cr3t-mqtt-pw"


def _run(tmp_path: Path, config_format: str, *flags: str) -> tuple[int, str, int, int]:
    """`oee-edge run` until the first connection attempts are reported, then SIGTERM:
    exit code, stderr, and the closed Modbus and MQTT ports."""
    modbus_port, mqtt_port = free_port(), free_port()
    config = tmp_path / "gw.yaml"
    config.write_text(
        CONFIG.format(
            data_dir=tmp_path, api_port=free_port(), mqtt_port=mqtt_port,
            modbus_port=modbus_port, log_format=f", log_format: {config_format}",
        )
    )  # fmt: skip
    proc = subprocess.Popen(
        [OEE_EDGE, "run", "-c", str(config), *flags], cwd=REPO_ROOT,
        env={**os.environ, "MQTT_PASSWORD": SECRET},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    lines = []
    watchdog = threading.Timer(30, proc.kill)  # a gateway that never says it: no hang
    watchdog.start()
    try:
        for line in proc.stderr:  # until the start-up summary (or the process ends)
            lines.append(line)
            if "connected 0/1 machines" in line:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=20)
        watchdog.cancel()
    return proc.returncode, "".join(lines) + rest, modbus_port, mqtt_port


def test_oee_edge_run_writes_json_lines(tmp_path: Path) -> None:
    code, err, modbus_port, mqtt_port = _run(tmp_path, "json")  # from the config file
    assert code == 0, err
    records = [json.loads(line) for line in err.splitlines()]  # every line is JSON
    for rec in records:
        assert set(rec) == KEYS, rec  # exact keys: no traceback, no extra fields here
        assert TS.fullmatch(rec["ts"]) and rec["level"] in {"INFO", "WARNING", "ERROR"}
    said = {(r["logger"], r["level"], r["msg"]) for r in records}
    progress = next(r for r in records if r["logger"] == "edge.progress")
    assert progress["level"] == "INFO"
    expected = (
        r"connected 0/1 machines in \d+\.\d s; "
        rf"failed: m1 \(cannot connect to 127\.0\.0\.1:{modbus_port}\)"
    )
    assert re.fullmatch(expected, progress["msg"])
    assert ("connectors.mqtt.sink", "ERROR",
            f"MQTT broker 127.0.0.1:{mqtt_port}: cannot connect; retrying in the background"
            ) in said  # fmt: skip
    assert SECRET not in err


def test_log_format_flag_wins_over_the_config(tmp_path: Path) -> None:
    code, err, modbus_port, _ = _run(tmp_path, "json", "--log-format", "text")
    assert code == 0, err
    lines = err.splitlines()
    assert lines and not any(line.startswith("{") for line in lines)
    text_line = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING|ERROR) +\S+: .+")
    assert all(text_line.fullmatch(line) for line in lines), lines
    assert any("edge.progress: connected 0/1 machines in" in line for line in lines)
    assert SECRET not in err


def test_a_wrong_log_format_in_the_config_names_the_field(tmp_path: Path) -> None:
    text = CONFIG.format(
        data_dir=tmp_path, api_port=1, mqtt_port=1, modbus_port=1, log_format=", log_format: xml"
    )
    with pytest.raises(ConfigError) as err:
        parse_config(text, "gw.yaml", {"MQTT_PASSWORD": SECRET})
    assert [str(i) for i in err.value.issues] == [
        "gateway.log_format: Input should be 'text' or 'json'"
    ]
