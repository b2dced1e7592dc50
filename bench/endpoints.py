"""What a load benchmark polls: the simulated machines and where each one is served.

Every contender (the gateway, Node-RED, the bare read loops) is given the same
`Load`, written as JSON (`Load.dump` / `Load.load`), so they poll the same registers
and nodes of the same simulator processes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["LIVE_TAGS", "Load", "Machine", "Tag", "modbus_tags", "register_count"]


@dataclass(frozen=True)
class Tag:
    """One Modbus tag: its name, first holding register and type."""

    name: str
    address: int
    type: str  # "uint16" | "uint32" | "float32" (ABCD) | "float32_cdab"


# The simulator's live holding registers 0-15 (docs/simulator.md), as 11 tags.
LIVE_TAGS: tuple[Tag, ...] = (
    Tag("code", 0, "uint16"),
    Tag("status", 1, "uint16"),
    Tag("reason", 2, "uint16"),
    Tag("product", 3, "uint16"),
    Tag("total", 4, "uint32"),
    Tag("good", 6, "uint32"),
    Tag("reject", 8, "uint32"),
    Tag("total16", 10, "uint16"),
    Tag("reject16", 11, "uint16"),
    Tag("speed", 12, "float32"),
    Tag("temperature", 14, "float32_cdab"),
)
EXTRA_START = 16  # the simulator's `extra_tags` registers: one uint16 each from here


def modbus_tags(tags: int) -> tuple[Tag, ...]:
    """`tags` tags (at least the 11 live ones): the live registers, then extra uint16s
    from register 16. The registers to read are 0 .. last address (one request)."""
    if tags < len(LIVE_TAGS):
        raise ValueError(f"at least {len(LIVE_TAGS)} tags (got {tags})")
    extra = tags - len(LIVE_TAGS)
    return LIVE_TAGS + tuple(Tag(f"x{i:02d}", EXTRA_START + i, "uint16") for i in range(extra))


def register_count(tags: int) -> int:
    """How many holding registers from 0 hold `modbus_tags(tags)`."""
    return EXTRA_START + tags - len(LIVE_TAGS)


@dataclass(frozen=True)
class Machine:
    """One simulated machine: Modbus unit `unit` at `host:port` (holding registers
    0..`registers`-1 carry its `tags` tags), or the OPC UA server `opcua_url` whose
    `Machines/<id>` object holds its variables (`nodes`: their string node ids in
    namespace `opcua_ns`)."""

    id: str
    host: str
    port: int = 0
    unit: int = 0
    registers: int = 0
    opcua_url: str = ""
    opcua_ns: str = ""  # namespace URI
    nodes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Load:
    """N machines × `tags` tags, polled (or published) every `interval_s`."""

    protocol: str  # "modbus" | "opcua"
    interval_s: float
    tags: int
    machines: tuple[Machine, ...]

    def dump(self, path: Path) -> Path:
        path.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> Load:
        raw = json.loads(path.read_text(encoding="utf-8"))
        machines = tuple(
            Machine(**{**m, "nodes": tuple(m.get("nodes", ()))}) for m in raw["machines"]
        )
        return cls(raw["protocol"], float(raw["interval_s"]), int(raw["tags"]), machines)
