"""The SPC events as line protocol (README "InfluxDB"; issue 18):

- `spc`: one point per chart point at its time, tags `chart`, `kind` (and the machine's):
  `value`, `spread`, `n`, `center`, `ucl`, `lcl` (floats; missing ones left out), `seq`,
  `violations` (how many rules it completed), `held` (readings of its span held out)
  (ints), `phase`, `zone`, `rules` (the ids of the rules it completed, "WE1,SPREAD"),
  `values` (the subgroup's readings, "500.0,500.5", each as Python's `repr` writes it, so
  they read back exactly), `product` (strings; an empty one left out);
- `spc_violation`: one per rule broken, at the point's time, tags `chart`, `rule`:
  `seq` (int), `value` (float), `points` (the seqs involved, "59,60,61"), `name`,
  `side`, `phase` (strings);
- `spc_limits`: one per change of a chart's limits, tags `chart`, `action` (`trial`,
  `frozen`, `manual`, `unfrozen`): `frozen` (bool: fixed by someone, Phase II), the
  limits (`center`, `ucl`, `lcl`, `sigma`, `n`, `spread_center`, `spread_ucl`,
  `spread_lcl`; none once unfrozen), `source`, `kind`, `by` (strings), `subgroups`,
  `baseline_from_ms`, `baseline_to_ms` (ints), `excluded` (the seqs left out, "7,12").

Tag keys in sorted order, as InfluxDB keeps them.
"""

from __future__ import annotations

from connectors.influxdb.lpfields import (
    escape_key,
    escape_string,
    fields,
    opt_float,
    opt_ms,
    opt_string,
    timestamp_ns,
)
from core.spc import SpcLimitsChange, SpcPoint, SpcViolation
from core.types import MachineRef

__all__ = ["encode_spc"]

_FROZEN = frozenset({"frozen", "manual"})


def _seqs(seqs: tuple[int, ...]) -> str | None:
    return escape_string(",".join(map(str, seqs))) if seqs else None


def _readings(values: tuple[float, ...]) -> str | None:
    # repr: the shortest text that reads back as the same float (capability, baselines).
    return escape_string(",".join(repr(float(v)) for v in values)) if values else None


def _head(measurement: str, ref: MachineRef, **extra: str) -> str:
    """`measurement,tag=v,…` with the machine's tags and `extra`, keys sorted."""
    tags = {
        "area": ref.area, "line": ref.line, "machine": ref.machine, "site": ref.site, **extra,
    }  # fmt: skip
    return measurement + "," + ",".join(f"{k}={escape_key(tags[k])}" for k in sorted(tags))


def _point(e: SpcPoint, ref: MachineRef) -> str:
    body = fields(
        [
            ("value", opt_float(e.value)), ("spread", opt_float(e.spread)),
            ("n", opt_float(e.n)), ("center", opt_float(e.center)),
            ("ucl", opt_float(e.ucl)), ("lcl", opt_float(e.lcl)), ("seq", f"{e.seq}i"),
            ("violations", f"{len(e.violations)}i"), ("held", f"{e.held}i"),
            ("phase", escape_string(e.phase)), ("zone", opt_string(e.zone)),
            ("rules", opt_string(",".join(e.violations))), ("values", _readings(e.values)),
            ("product", opt_string(e.product)),
        ]
    )  # fmt: skip
    return f"{_head('spc', ref, chart=e.chart, kind=e.kind)} {body} {timestamp_ns(e.ts)}"


def _violation(e: SpcViolation, ref: MachineRef) -> str:
    body = fields(
        [
            ("seq", f"{e.seq}i"), ("value", opt_float(e.value)), ("points", _seqs(e.points)),
            ("name", escape_string(e.name)), ("side", opt_string(e.side)),
            ("phase", escape_string(e.phase)),
        ]
    )  # fmt: skip
    head = _head("spc_violation", ref, chart=e.chart, rule=e.rule)
    return f"{head} {body} {timestamp_ns(e.ts)}"


def _limits(e: SpcLimitsChange, ref: MachineRef) -> str:
    lim = e.limits
    pairs: list[tuple[str, str | None]] = [("frozen", "true" if e.action in _FROZEN else "false")]
    if lim is not None:
        pairs += [
            (name, opt_float(getattr(lim, name)))
            for name in ("center", "ucl", "lcl", "sigma", "n", "spread_center", "spread_ucl",
                         "spread_lcl")
        ]  # fmt: skip
        pairs += [
            ("source", escape_string(lim.source)), ("kind", escape_string(lim.kind)),
            ("subgroups", f"{lim.subgroups}i"),
        ]  # fmt: skip
    pairs += [
        ("by", opt_string(e.by)), ("baseline_from_ms", opt_ms(e.baseline_from)),
        ("baseline_to_ms", opt_ms(e.baseline_to)), ("excluded", _seqs(e.excluded)),
    ]  # fmt: skip
    head = _head("spc_limits", ref, action=e.action, chart=e.chart)
    return f"{head} {fields(pairs)} {timestamp_ns(e.ts)}"


def encode_spc(event: SpcPoint | SpcViolation | SpcLimitsChange, ref: MachineRef) -> list[str]:
    """The line of one SPC event of the machine `ref`."""
    if isinstance(event, SpcPoint):
        return [_point(event, ref)]
    if isinstance(event, SpcViolation):
        return [_violation(event, ref)]
    return [_limits(event, ref)]
