"""The gateway's configuration for a benchmark `Load`: every machine polled (Modbus) or
subscribed (OPC UA) with all its tags, states from the state code, counts from the
counters, every tag published on `…/tags` and stored (`publish_tags`), events and OEE
on MQTT, the embedded SQLite store (or InfluxDB). The API is on, as in production."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bench.endpoints import Load, Machine, Tag, modbus_tags

__all__ = ["write_config"]

STATES = {1: "running", 2: "idle", 3: "fault", 4: "setup", 5: "planned_stop"}
_TYPES = {
    "uint16": {},
    "uint32": {"type": "uint32"},
    "float32": {"type": "float32"},
    "float32_cdab": {"type": "float32", "order": "CDAB"},
}


def _modbus_tag(tag: Tag) -> dict[str, Any]:
    return {"address": tag.address, **_TYPES[tag.type]}


def _modbus_machine(load: Load, m: Machine, aligned: bool) -> dict[str, Any]:
    modbus = {
        "host": m.host, "port": m.port, "unit_id": m.unit,
        "poll_interval_s": load.interval_s, "timeout_s": 2.0,
    }  # fmt: skip
    if aligned:  # every machine at the same instant (default: spread over the interval)
        modbus["poll_phase"] = 0.0
    return {
        "modbus": modbus,
        "tags": {t.name: _modbus_tag(t) for t in modbus_tags(load.tags)},
        "state_rules": [{"tag": "code", "map": STATES, "reason_tag": "reason"}],
        "counters": {"total": {"tag": "total"}, "reject": {"tag": "reject"}},
        "product_tag": "product",
    }  # fmt: skip


def _opcua_machine(load: Load, m: Machine, aligned: bool) -> dict[str, Any]:
    # Tag names: the node id's last part (`m001.Counters.Total` -> `Total`).
    tags = {n.rpartition(".")[2]: {"node": f"nsu={m.opcua_ns};s={n}"} for n in m.nodes}
    return {
        "opcua": {
            "endpoint": m.opcua_url, "mode": "subscription",
            "publishing_interval_s": load.interval_s, "queue_size": 1,
        },
        "tags": tags,
        "state_rules": [{"tag": "State", "map": STATES, "reason_tag": "Reason"}],
        "counters": {"total": {"tag": "Total"}, "reject": {"tag": "Reject"}},
        "product_tag": "Product",
    }  # fmt: skip


def write_config(
    load: Load,
    path: Path,
    *,
    data_dir: Path,
    mqtt_port: int,
    api_port: int,
    influx_url: str | None = None,
    aligned: bool = False,
) -> Path:
    """Write the gateway's YAML for `load` to `path`."""
    build = _modbus_machine if load.protocol == "modbus" else _opcua_machine
    machines = [
        {"id": m.id, **build(load, m, aligned), "ideal_cycle_s": 1.0, "publish_tags": True}
        for m in load.machines
    ]
    config: dict[str, Any] = {
        "gateway": {"id": "bench", "data_dir": str(data_dir), "log_level": "WARNING"},
        "site": "bench", "area": "a", "line": "l",
        "api": {"port": api_port},
        "mqtt": {"host": "127.0.0.1", "port": mqtt_port},
        "machines": machines,
    }  # fmt: skip
    if influx_url is not None:
        config["influxdb"] = {"url": influx_url, "database": "bench"}
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path
