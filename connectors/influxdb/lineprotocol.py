"""Events as InfluxDB line protocol (DESIGN.md, "InfluxDB schema").

    measurement,tag=v,... field=value,... timestamp_ns

Tag keys: area, line, machine, site (+ `tag` for tag points, `window` for oee points,
`loss` and `window` for oee_loss points; a line's `line_oee` point has area, line, site
and window, no machine), written in sorted order because InfluxDB sorts
them anyway and a sorted set is cheaper for it to index. Missing fields are omitted
(never written as empty strings, except the `reason=""` that clears a stop's reason),
integers carry the `i` suffix, floats are always written as floats so a field never
changes type (a type conflict makes InfluxDB reject the whole point).

This runs for every event the gateway stores, so it avoids per-call allocations it can
cache (the tag set of a machine) and generic field machinery.
"""

from __future__ import annotations

from functools import lru_cache

from connectors.influxdb.lpfields import (
    escape_key,
    escape_measurement,
    escape_string,
    timestamp_ns,
)
from connectors.influxdb.lpfields import fields as _fields
from connectors.influxdb.lpfields import finite_float as _float
from connectors.influxdb.lpfields import opt_float as _opt_float
from connectors.influxdb.lpfields import opt_int as _opt_int
from connectors.influxdb.lpfields import opt_ms as _ms
from connectors.influxdb.lpfields import opt_string as _opt_string
from connectors.influxdb.lpfields import tagset as _tagset
from connectors.influxdb.orderlines import encode_order
from connectors.influxdb.spclines import encode_spc
from core.alarms import AlarmChange
from core.orders import ChangeoverDone, OrderCommand, OrderEdited, OrderProgress
from core.spc import SpcLimitsChange, SpcPoint, SpcViolation
from core.types import (
    CountDecision,
    CountDelta,
    Event,
    LineOeeUpdate,
    LineOutputUpdate,
    MachineRef,
    OeeUpdate,
    OutputUpdate,
    ProductChanged,
    ReasonAssigned,
    SampleBatch,
    ScrapBooked,
    ShiftNote,
    ShiftReportDone,
    StateChange,
    StopPlanned,
    SuspectCount,
)

__all__ = ["encode", "escape_key", "escape_measurement", "escape_string", "timestamp_ns"]


def _state(e: StateChange, tags: str) -> list[str]:
    fields = _fields(
        [
            ("state", escape_string(e.state.value)),
            ("code", f"{e.state.code}i"),
            ("reason", _opt_string(e.reason)),
            ("reason_code", _opt_int(e.reason_code)),
            ("duration_s", _opt_float(e.duration_s)),
        ]
    )
    return [f"machine_state,{tags} {fields} {timestamp_ns(e.ts)}"]


def _reason(e: ReasonAssigned, tags: str) -> list[str]:
    # Same series and timestamp as the stop's StateChange: InfluxDB merges the fields, so
    # duration_s stays. A cleared reason is written as "" (an omitted field would keep the
    # old text); readers take "" for None. Likewise a cleared code is written as 0, which
    # means "no reason" on every PLC (the normaliser reads it so) and readers take for None.
    fields = _fields(
        [
            ("state", escape_string(e.state.value)),
            ("code", f"{e.state.code}i"),
            ("reason", escape_string(e.reason or "")),
            ("reason_code", f"{e.reason_code or 0}i"),
        ]
    )
    return [f"machine_state,{tags} {fields} {timestamp_ns(e.stop_ts)}"]


def _count(e: CountDelta, tags: str) -> list[str]:
    fields = f"total={e.total}i,good={e.good}i,reject={e.reject}i"
    if e.product:
        fields += ",product=" + escape_string(e.product)
    return [f"production,{tags} {fields} {timestamp_ns(e.ts)}"]


def _suspect(e: SuspectCount, tags: str) -> list[str]:
    fields = _fields(
        [
            ("total", f"{e.total}i"), ("good", f"{e.good}i"), ("reject", f"{e.reject}i"),
            ("product", _opt_string(e.product)), ("counter", escape_string(e.counter)),
            ("allowed", f"{e.allowed}i"), ("elapsed_s", _opt_float(e.elapsed_s)),
            ("seq", f"{e.seq}i"),
        ]
    )  # fmt: skip
    return [f"suspect_count,{tags} {fields} {timestamp_ns(e.ts)}"]


def _decision(e: CountDecision, tags: str) -> list[str]:
    fields = _fields(
        [
            ("action", escape_string(e.action)), ("by", escape_string(e.by)),
            ("total", f"{e.total}i"), ("good", f"{e.good}i"), ("reject", f"{e.reject}i"),
            ("suspect_seq", _opt_int(e.suspect_seq)), ("count_seq", _opt_int(e.count_seq)),
            ("note", _opt_string(e.note)), ("seq", f"{e.seq}i"),
        ]
    )  # fmt: skip
    return [f"count_decision,{tags} {fields} {timestamp_ns(e.ts)}"]


def _scrap(e: ScrapBooked, tags: str) -> list[str]:
    fields = _fields(
        [
            ("quantity", f"{e.quantity}i"), ("reason_code", f"{e.reason_code}i"),
            ("reason", escape_string(e.reason)), ("category", _opt_string(e.category)),
            ("product", _opt_string(e.product)), ("note", _opt_string(e.note)),
            ("by", escape_string(e.by)), ("count_seq", _opt_int(e.count_seq)),
            ("seq", f"{e.seq}i"),
        ]
    )  # fmt: skip
    return [f"scrap,{tags} {fields} {timestamp_ns(e.ts)}"]


def _planned(e: StopPlanned, tags: str) -> list[str]:
    # The `stop_planned` record, and the stop's own point (as a reason does) with the
    # kind it counts as now: "" when undone (an omitted field would keep the old one).
    fields = _fields(
        [
            ("stop_ts", f"{timestamp_ns(e.stop_ts) // 1_000_000}i"),
            ("state", escape_string(e.state.value)), ("kind", _opt_string(e.kind)),
            ("reason", _opt_string(e.reason)), ("previous_kind", _opt_string(e.previous_kind)),
            ("previous_reason", _opt_string(e.previous_reason)), ("by", escape_string(e.by)),
            ("seq", f"{e.seq}i"),
        ]
    )  # fmt: skip
    stop = _fields(
        [
            ("state", escape_string(e.state.value)), ("code", f"{e.state.code}i"),
            ("planned_kind", escape_string(e.kind or "")),
            ("planned_reason", escape_string(e.reason or "")),
        ]
    )  # fmt: skip
    return [
        f"stop_planned,{tags} {fields} {timestamp_ns(e.ts)}",
        f"machine_state,{tags} {stop} {timestamp_ns(e.stop_ts)}",
    ]


def _product(e: ProductChanged, tags: str) -> list[str]:
    fields = _fields(
        [
            ("product", _opt_string(e.product)), ("name", _opt_string(e.name)),
            ("previous", _opt_string(e.previous)), ("by", escape_string(e.by)),
        ]
    )  # fmt: skip
    return [f"product_change,{tags} {fields} {timestamp_ns(e.ts)}"]


def _note(e: ShiftNote, site: str) -> list[str]:
    tags = f"area={escape_key(e.area)},line={escape_key(e.line)},site={escape_key(site)}"
    fields = _fields(
        [
            ("shift", escape_string(e.shift)), ("text", escape_string(e.text)),
            ("previous_text", _opt_string(e.previous_text)), ("by", escape_string(e.by)),
        ]
    )  # fmt: skip
    return [f"shift_note,{tags} {fields} {timestamp_ns(e.ts)}"]


def _report(e: ShiftReportDone, site: str) -> list[str]:
    """`shift_report`: the headline of a line's report of a finished shift, at its end."""
    tags = f"area={escape_key(e.area)},line={escape_key(e.line)},site={escape_key(site)}"
    fields = _fields(
        [
            ("shift", escape_string(e.shift.id)), ("oee", _opt_float(e.oee)),
            ("availability", _opt_float(e.availability)),
            ("performance", _opt_float(e.performance)), ("quality", _opt_float(e.quality)),
            ("good", f"{e.good}i"), ("reject", f"{e.reject}i"), ("total", f"{e.total}i"),
            ("target", _opt_float(e.target)), ("attainment", _opt_float(e.attainment)),
            ("stops", f"{e.stops}i"), ("stop_s", _float(e.stop_s)),
            ("scrap", f"{e.scrap}i"), ("alarms", f"{e.alarms}i"),
            ("orders", f"{e.orders}i"), ("orders_late", f"{e.orders_late}i"),
            ("changeovers", f"{e.changeovers}i"),
            ("changeover_loss_s", _float(e.changeover_loss_s)),
            ("plan_attainment", _opt_float(e.plan_attainment)),
            ("otd_count", _opt_float(e.otd_count)),
        ]
    )  # fmt: skip
    return [f"shift_report,{tags} {fields} {timestamp_ns(e.shift.end)}"]


def _alarm(e: AlarmChange, ref: MachineRef) -> list[str]:
    """`alarm`: one point per change at its time; tags `rule`, `severity`, `change`."""
    a = e.alarm
    k = escape_key  # tag keys in sorted order, as InfluxDB keeps them
    head = (
        f"alarm,area={k(ref.area)},change={e.change},line={k(ref.line)},"
        f"machine={k(ref.machine)},rule={k(a.rule)},severity={a.severity},site={k(ref.site)}"
    )
    fields = _fields(
        [
            ("id", escape_string(a.id)), ("kind", escape_string(a.kind)),
            ("message", escape_string(a.message)), ("value", _opt_float(a.value)),
            ("raised_ms", _ms(a.raised)), ("cleared_ms", _ms(a.cleared)),
            ("acked_by", _opt_string(a.acked_by)), ("acked_ms", _ms(a.acked_at)),
            ("active", "true" if a.active else "false"), ("seq", f"{e.seq}i"),
        ]
    )  # fmt: skip
    return [f"{head} {fields} {timestamp_ns(e.ts)}"]


# details() fields written as integers; performance_flagged is a boolean, the rest floats.
# Fixed by name, not by the Python type of a value: a field must never change type.
_DETAIL_INTS = frozenset({"startup_reject", "failures", "off_plan_total"})


def _detail(name: str, value: float | int | bool | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if name in _DETAIL_INTS:
        return f"{int(value)}i"
    return _float(value)


def _oee_fields(e: OeeUpdate | LineOeeUpdate) -> list[tuple[str, str | None]]:
    """The fields of an `oee` (or `line_oee`) point: the figures, then `details()`."""
    pairs = [
        ("availability", _opt_float(e.availability)),
        ("performance", _opt_float(e.performance)),
        ("quality", _opt_float(e.quality)),
        ("oee", _opt_float(e.oee)),
        ("run_s", _float(e.run_s)),
        ("planned_s", _float(e.planned_s)),
        ("unknown_s", _float(e.unknown_s)),
        ("window_s", _float(e.window_s)),
        ("total", f"{e.total}i"),
        ("good", f"{e.good}i"),
        ("reject", f"{e.reject}i"),
    ]
    return pairs + [(k, _detail(k, v)) for k, v in e.details().items()]


def _oee(e: OeeUpdate, ref: MachineRef, tags: str) -> list[str]:
    pairs = _oee_fields(e)
    ns = timestamp_ns(e.ts)
    return [f"oee,{tags},window={escape_key(e.window)} {_fields(pairs)} {ns}", *_losses(e, ref, ns)]


def _line_oee(e: LineOeeUpdate, site: str) -> list[str]:
    """One `line_oee` point: the `oee` fields of the line's figures, `mode`, `bottleneck`."""
    tags = (
        f"area={escape_key(e.area)},line={escape_key(e.line)},site={escape_key(site)},"
        f"window={escape_key(e.window)}"
    )
    pairs = [
        *_oee_fields(e),
        ("mode", escape_string(e.mode)),
        ("bottleneck", _opt_string(e.bottleneck)),
    ]
    return [f"line_oee,{tags} {_fields(pairs)} {timestamp_ns(e.ts)}"]


def _output_fields(e: OutputUpdate | LineOutputUpdate) -> str:
    """The fields of an `output` or `line_output` point (docs/OEE.md "Targets and rate")."""
    o = e.output
    pairs = [
        ("good", f"{o.good}i"), ("reject", f"{o.reject}i"), ("total", f"{o.total}i"),
        ("target", _opt_float(o.target)), ("due", _opt_float(o.due)),
        ("rate_per_h", _opt_float(o.rate_per_h)), ("average_per_h", _opt_float(o.average_per_h)),
        ("expected", _opt_float(o.expected)), ("planned_s", _float(o.planned_s)),
        ("elapsed_s", _float(o.elapsed_s)), ("remaining_s", _float(o.remaining_s)),
        ("on_track", None if o.on_track is None else str(o.on_track).lower()),
        ("final", str(e.final).lower()),
    ]  # fmt: skip
    if isinstance(e, OutputUpdate):
        pairs.append(("product", _opt_string(e.product)))
    return _fields(pairs)


def _output(e: OutputUpdate | LineOutputUpdate, ref: MachineRef) -> list[str]:
    """One `output` point (a machine's: `ref`'s tags) or `line_output` point, tagged with
    the shift's id and name."""
    shift = f"shift={escape_key(e.shift.id)},shift_name={escape_key(e.shift.name)}"
    if isinstance(e, OutputUpdate):
        tags = (
            f"area={escape_key(ref.area)},line={escape_key(ref.line)},"
            f"machine={escape_key(ref.machine)},{shift},site={escape_key(ref.site)}"
        )
        name = "output"
    else:
        place = f"area={escape_key(e.area)},line={escape_key(e.line)}"
        tags = f"{place},{shift},site={escape_key(ref.site)}"
        name = "line_output"
    return [f"{name},{tags} {_output_fields(e)} {timestamp_ns(e.ts)}"]


@lru_cache(maxsize=4096)
def _loss_tagset(ref: MachineRef, window: str, loss: str) -> str:
    return (
        f"area={escape_key(ref.area)},line={escape_key(ref.line)},loss={escape_key(loss)},"
        f"machine={escape_key(ref.machine)},site={escape_key(ref.site)},"
        f"window={escape_key(window)}"
    )


def _losses(e: OeeUpdate, ref: MachineRef, ns: int) -> list[str]:
    """One `oee_loss` point per loss of the report (none without a report)."""
    if e.report is None:
        return []
    lines = []
    for loss in e.report.losses:
        fields = _fields(
            [
                ("seconds", _float(loss.seconds)),
                ("points", _opt_float(loss.points)),
                ("factor", escape_string(loss.factor)),
            ]
        )
        lines.append(f"oee_loss,{_loss_tagset(ref, e.window, loss.name)} {fields} {ns}")
    return lines


def _tags(e: SampleBatch, tags: str) -> list[str]:
    lines = []
    last_ts, ns = None, 0
    for s in e.samples:
        if s.ts is not last_ts:  # samples of one poll usually share one datetime object
            last_ts, ns = s.ts, timestamp_ns(s.ts)
        v = s.value
        if v is None:
            value = ""
        elif isinstance(v, str):
            value = "value_str=" + escape_string(v) + "," if v else ""
        elif isinstance(v, bool):  # before int: bool is an int subclass
            value = "value=1.0," if v else "value=0.0,"
        else:
            f = _float(v)
            value = f"value={f}," if f is not None else ""
        lines.append(f"tag,{tags},tag={escape_key(s.tag)} {value}quality={s.quality.code}i {ns}")
    return lines


def encode(event: Event, ref: MachineRef) -> list[str]:
    """The line-protocol lines (without newlines) for one event of the machine `ref`.

    A SampleBatch gives one `tag` line per sample; an OeeUpdate with a report its `oee`
    line and one `oee_loss` line per loss; every other event gives one line (a
    ReasonAssigned a `machine_state` line at the stop's timestamp; a LineOeeUpdate a
    `line_oee` line, with `ref` any machine of the gateway: only its site is used).
    """
    if isinstance(event, LineOeeUpdate):
        return _line_oee(event, ref.site)
    if isinstance(event, OutputUpdate | LineOutputUpdate):
        return _output(event, ref)
    if isinstance(event, ShiftNote):
        return _note(event, ref.site)
    if isinstance(event, ShiftReportDone):
        return _report(event, ref.site)
    tags = _tagset(ref)
    if isinstance(event, StateChange):
        return _state(event, tags)
    if isinstance(event, CountDelta):
        return _count(event, tags)
    if isinstance(event, SuspectCount):
        return _suspect(event, tags)
    if isinstance(event, CountDecision):
        return _decision(event, tags)
    if isinstance(event, OeeUpdate):
        return _oee(event, ref, tags)
    if isinstance(event, SampleBatch):
        return _tags(event, tags)
    if isinstance(event, ReasonAssigned):
        return _reason(event, tags)
    if isinstance(event, ScrapBooked):
        return _scrap(event, tags)
    if isinstance(event, StopPlanned):
        return _planned(event, tags)
    if isinstance(event, ProductChanged):
        return _product(event, tags)
    if isinstance(event, AlarmChange):
        return _alarm(event, ref)
    if isinstance(event, SpcPoint | SpcViolation | SpcLimitsChange):
        return encode_spc(event, ref)
    if isinstance(event, OrderProgress | ChangeoverDone | OrderCommand):
        return [encode_order(event, ref)]
    if isinstance(event, OrderEdited):
        return []  # the audit of the API's changes is the SQLite store's; InfluxDB keeps none
    raise TypeError(f"cannot encode {type(event).__name__} as line protocol")
