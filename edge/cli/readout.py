"""What one read of a machine gave, and what the gateway makes of it (`oee-edge check
--connect`): every tag's value, the state the rules give, the counters' values and what
is wrong with them, so a wrong address, type or word order shows before the gateway runs."""

from __future__ import annotations

from core.types import Quality, Sample, SampleBatch, StateChange
from edge.config import Config, MachineConfig
from edge.pipeline.normaliser import MachineNormaliser

__all__ = ["readout"]


def readout(m: MachineConfig, config: Config, batch: SampleBatch) -> tuple[str, ...]:
    """What one read of `m` gave and what the gateway makes of it (see the module doc)."""
    lines = ["tags: " + ", ".join(_tag_text(s) for s in batch.samples)]
    n = MachineNormaliser(m, reasons=config.reasons_for(m.id))
    change = next((e for e in n.update(batch) if isinstance(e, StateChange)), None)
    if change is not None:
        why = f" (reason {change.reason_code}: {change.reason})" if change.reason_code else ""
        lines.append(f"state: {change.state.value}{why}")
    counted = [f"{kind} {t.last}" for kind, t in n.counters.items() if t.last is not None]
    if counted:
        lines.append("counters: " + ", ".join(counted) + " (parts count from the next read)")
    return (*lines, *(f"! {issue.detail}" for issue in n.issues.open()))


def _tag_text(s: Sample) -> str:
    value = f"{s.tag}={s.value!r}"
    return value if s.quality is Quality.GOOD else f"{value} ({s.quality.value})"
