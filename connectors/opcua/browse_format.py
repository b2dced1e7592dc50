"""Render a `BrowseReport` as an aligned table, as JSON, or as a gateway config snippet."""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
import math
import re
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import yaml
from asyncua import ua

from connectors.opcua.browse import BrowseReport, Variable
from connectors.opcua.client import describe_status

__all__ = ["config_snippet", "plain", "table", "to_json", "tag_names"]

_CELL_MAX = 40  # value column width before "…": keeps a structure from wrapping the line
_HEADER = ("NODE", "PATH", "TYPE", "VALUE", "STATUS")


def plain(value: Any) -> Any:
    """A JSON-ready form of a decoded OPC UA value (structures become objects)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, enum.Enum):
        return int(value.value) if isinstance(value, int) else value.name
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return _plain_ua(value)


def _plain_ua(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, ua.LocalizedText):
        return value.Text
    if isinstance(value, ua.QualifiedName | ua.NodeId):
        return value.to_string()
    if isinstance(value, ua.StatusCode):
        return describe_status(value)
    if isinstance(value, ua.Variant):
        return plain(value.Value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return str(value)


def cell(value: Any, status: str) -> str:
    """The value as one short table cell: JSON text, `-` when there is none."""
    if value is None:
        return "-" if status != "Good" else "null"
    text = json.dumps(plain(value), ensure_ascii=False)
    return text if len(text) <= _CELL_MAX else text[: _CELL_MAX - 1] + "…"


def _shown(v: Variable) -> tuple[str, str]:
    """The value and status cells; `?` for the status of a value nobody could decode."""
    if v.undecodable is not None or v.status is None:
        return f"<undecodable: {v.data_type}>", "?"
    return cell(v.value, v.status), v.status


def table(report: BrowseReport) -> str:
    """One aligned line per variable under a header; empty when nothing matched."""
    if not report.variables:
        return ""
    rows = [_HEADER] + [(v.node, v.path, v.type_label, *_shown(v)) for v in report.variables]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADER) - 1)]
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(r, widths, strict=False)), r[-1]]) for r in rows
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def to_json(report: BrowseReport) -> str:
    """A JSON list of {node, path, data_type, array, value, status}, plus `undecodable`
    (asyncua's reason; value and status null) for a value that could not be decoded."""
    return json.dumps([_item(v) for v in report.variables], indent=2, ensure_ascii=False) + "\n"


def _item(v: Variable) -> dict[str, Any]:
    item = {
        "node": v.node,
        "path": v.path,
        "data_type": v.data_type,
        "array": v.array,
        "value": plain(v.value),
        "status": v.status,
    }
    if v.undecodable is not None:
        item["undecodable"] = v.undecodable
    return item


def snake(name: str) -> str:
    """`Counters/Total16` parts -> `total16`, `ServerStatus` -> `server_status`."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "tag"


def tag_names(paths: Sequence[tuple[str, ...]]) -> list[str]:
    """Short unique snake_case names: the last path part, more parts only where they clash."""
    used = [1] * len(paths)
    while True:
        names = [snake("_".join(p[-n:])) for p, n in zip(paths, used, strict=True)]
        clashes = {n for n, k in Counter(names).items() if k > 1}
        grow = [i for i, n in enumerate(names) if n in clashes and used[i] < len(paths[i])]
        if not grow:
            break
        for i in grow:
            used[i] += 1
    seen: Counter[str] = Counter()
    unique = []
    for name in names:  # same full path twice (e.g. two namespaces): number them
        seen[name] += 1
        unique.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return unique


def config_snippet(report: BrowseReport, machine: str, opcua: Mapping[str, Any]) -> str:
    """A `machines:` YAML snippet: scalar variables as tags, arrays and structures as
    commented lines ready to uncomment once an `index:` or `field:` is chosen."""
    variables = report.variables
    names = tag_names([v.names[1:] or v.names for v in variables])
    connection = yaml.safe_dump({"opcua": dict(opcua)}, sort_keys=False, width=1000)
    lines = [
        f"# oee-edge browse: {len(variables)} variable(s) under {report.start}.",
        "# Add gateway, site, area and line at the top, and ideal_cycle_s, state_rules and",
        "# counters to the machine (see docs/opcua-browse.md), then: oee-edge check FILE",
        "machines:",
        f"  - id: {machine}",
        *("    " + line for line in connection.splitlines()),
    ]
    tags = [(n, v) for n, v in zip(names, variables, strict=True) if not _needs_pick(v)]
    picks = [(n, v) for n, v in zip(names, variables, strict=True) if _needs_pick(v)]
    lines.append("    tags:" if tags else "    tags: {}")
    width = max((len(n) + len(json.dumps(v.node)) for n, v in tags), default=0) + 2
    for name, v in tags:
        entry = f"{name}: {json.dumps(v.node)}"
        lines.append(f"      {entry.ljust(width)}  # {_note(v)}")
    if picks:
        lines.append("      # arrays and structures: uncomment with the element or field to read")
    for name, v in picks:
        lines.append(f"      # {name}: {{node: {json.dumps(v.node)}, {_pick(v)}}}  # {_note(v)}")
    return "\n".join(lines) + "\n"


def _needs_pick(v: Variable) -> bool:
    return v.array or v.structure


def _pick(v: Variable) -> str:
    if v.array:
        return "index: 0"
    fields = _fields(v.value)
    return f"field: {fields[0] if fields else 'FIELD'}"


def _fields(value: Any) -> list[str]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [f.name for f in dataclasses.fields(value)]
    return []


def _note(v: Variable) -> str:
    note = f"{v.type_label}, {v.path}"
    if v.structure and (fields := _fields(v.value)):
        note += f"; fields: {', '.join(fields)}"
    if v.undecodable is not None:
        return f"{note} (undecodable)"
    return note if v.status == "Good" else f"{note} ({v.status})"
