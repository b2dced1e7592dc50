"""The order events as line protocol (README "InfluxDB"; issue 19), tag keys sorted:

- `order`: a machine's order at each publication, tags also `order` (left out when none
  runs): `status` (`not_started`, `on_track`, `at_risk`, `late`, `done`; `none` when no
  order runs), `product`, `source`, `customer` (strings), `quantity`, `good`, `reject`,
  `scrap`, `remaining` (ints), `percent`, `production_s`, `rate_now`, `rate_shift`, `oee`
  (floats), `due_ms`, `started_ms`, `ended_ms`, `eta_now_ms`, `eta_shift_ms`,
  `eta_ideal_ms`, `finished_ms` (ints, ms), `complete`, `on_time` (bools); a missing one
  left out;
- `changeover`: one per completed changeover at the time it completed, tags also
  `from_product`, `to_product`: `seq`, `parts_to_rate` (ints), `start_ms`, `end_ms`,
  `at_rate_ms` (ints, ms), `duration_s`, `standard_s`, `loss_s` (floats), `from_order`,
  `to_order`, `reason` (strings);
- `order_command`: an operator's command, tags also `action`: `order`, `by` (strings).
"""

from __future__ import annotations

from connectors.influxdb.lpfields import (
    escape_key,
    escape_string,
    fields,
    opt_float,
    opt_int,
    opt_ms,
    opt_string,
    timestamp_ns,
)
from core.orders import ChangeoverDone, OrderCommand, OrderProgress
from core.types import MachineRef

__all__ = ["encode_order"]


def _head(measurement: str, ref: MachineRef, **extra: str | None) -> str:
    tags = {"area": ref.area, "line": ref.line, "machine": ref.machine, "site": ref.site}
    tags.update({k: v for k, v in extra.items() if v})
    return measurement + "," + ",".join(f"{k}={escape_key(tags[k])}" for k in sorted(tags))


def _bool(b: bool | None) -> str | None:
    return None if b is None else ("true" if b else "false")


def _progress(e: OrderProgress, ref: MachineRef) -> str:
    o, p, run = e.order, e.progress, e.run
    pairs: list[tuple[str, str | None]] = [("status", escape_string(p.status if p else "none"))]
    if o is not None:
        pairs += [
            ("product", escape_string(o.product)), ("source", opt_string(e.source)),
            ("customer", opt_string(o.customer)), ("quantity", f"{o.quantity}i"),
            ("due_ms", opt_ms(o.due)),
        ]  # fmt: skip
    if p is not None and run is not None:
        pairs += [
            ("good", f"{p.good}i"), ("reject", f"{p.reject}i"), ("scrap", f"{p.scrap}i"),
            ("remaining", f"{p.remaining}i"), ("percent", opt_float(p.percent)),
            ("production_s", opt_float(p.production_s)), ("rate_now", opt_float(p.rate_now)),
            ("rate_shift", opt_float(p.rate_shift)), ("oee", opt_float(e.oee)),
            ("started_ms", opt_ms(run.started)), ("ended_ms", opt_ms(run.ended)),
            ("eta_now_ms", opt_ms(p.eta_now)), ("eta_shift_ms", opt_ms(p.eta_shift)),
            ("eta_ideal_ms", opt_ms(p.eta_ideal)), ("finished_ms", opt_ms(p.finished)),
            ("complete", _bool(p.complete)), ("on_time", _bool(p.on_time)),
        ]  # fmt: skip
    head = _head("order", ref, order=o.id if o is not None else None)
    return f"{head} {fields(pairs)} {timestamp_ns(e.ts)}"


def _changeover(e: ChangeoverDone, ref: MachineRef) -> str:
    c = e.changeover
    body = fields(
        [
            ("seq", f"{e.seq}i"), ("parts_to_rate", opt_int(c.parts_to_rate)),
            ("start_ms", opt_ms(c.start)), ("end_ms", opt_ms(c.end)),
            ("at_rate_ms", opt_ms(c.at_rate)), ("duration_s", opt_float(c.duration_s)),
            ("standard_s", opt_float(e.standard_s)), ("loss_s", opt_float(e.loss_s)),
            ("from_order", opt_string(c.from_order)), ("to_order", opt_string(c.to_order)),
            ("reason", opt_string(c.reason)),
        ]
    )  # fmt: skip
    head = _head("changeover", ref, from_product=c.from_product, to_product=c.to_product)
    return f"{head} {body} {timestamp_ns(e.ts)}"


def encode_order(e: OrderProgress | ChangeoverDone | OrderCommand, ref: MachineRef) -> str:
    """The one line of an order event of the machine `ref`."""
    if isinstance(e, OrderProgress):
        return _progress(e, ref)
    if isinstance(e, ChangeoverDone):
        return _changeover(e, ref)
    body = fields([("order", escape_string(e.order)), ("by", escape_string(e.by))])
    return f"{_head('order_command', ref, action=e.action)} {body} {timestamp_ns(e.ts)}"
