"""Response models of the HTTP API (they make `/docs` describe the real payloads).

Every time is serialised as RFC 3339 UTC with milliseconds and `Z`, e.g.
`2026-11-03T07:15:00.250Z`, the same form the MQTT payloads use.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

from core.types import Quality
from oee.states import MachineState


def rfc3339(ts: datetime) -> str:
    """`ts` as RFC 3339 UTC with milliseconds and `Z` (naive times are taken as UTC).
    The year has four digits whatever it is (strftime wrote the year 944 as '944')."""
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts.isoformat(timespec="milliseconds") + "Z"


#: The times the API accepts: from the epoch (the stores keep nothing before it) until
#: 2262, where InfluxDB's nanosecond timestamps end. Anything else is a 422, so that no
#: range arithmetic (a default `from` an hour before `to`, a stop's next millisecond)
#: can leave the datetime range and no year is written with fewer than four digits.
MIN_TIME = datetime(1970, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(2262, 1, 1, tzinfo=UTC)
TIME_RANGE = "times from 1970-01-01T00:00:00Z until 2262-01-01T00:00:00Z"


def in_time_range(ts: datetime) -> bool:
    """True for an aware `ts` the API accepts (compared without converting it, which
    could overflow for the year 1 or 9999)."""
    return MIN_TIME <= ts < MAX_TIME


def _bounded(ts: datetime) -> datetime:
    if not in_time_range(ts):
        raise ValueError(f"{TIME_RANGE}, not {ts.isoformat().replace('+00:00', 'Z')}")
    return ts


#: A query's time: RFC 3339 with an offset, within MIN_TIME..MAX_TIME.
ApiTime = Annotated[AwareDatetime, AfterValidator(_bounded)]


_EXAMPLE = "2026-11-03T07:15:00.250Z"
Timestamp = Annotated[
    datetime,
    PlainSerializer(rfc3339, return_type=str, when_used="json"),
    # The serializer hides the type from the schema; put `date-time` back for /docs.
    WithJsonSchema(
        {"type": "string", "format": "date-time", "example": "2026-11-03T07:15:00.250Z"}
    ),
]


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorOut(Out):
    """Body of every 4xx/5xx the API raises itself; `known` lists valid choices if any."""

    detail: str
    known: list[str] | None = None


class Counts(Out):
    """Parts counted since the gateway started (sums of the count deltas)."""

    total: int
    good: int
    reject: int


class ShiftOut(Out):
    """One shift occurrence: `id` is `{date}/{name}`, `date` the plant-local date it
    starts on."""

    id: str = Field(examples=["2026-12-06/late"])
    name: str
    date: str = Field(examples=["2026-12-06"])
    start: Timestamp
    end: Timestamp


class DayOut(Out):
    """One plant day, from the calendar's `day_start` to the next (23 or 25 h across DST)."""

    date: str = Field(examples=["2026-12-06"])
    start: Timestamp
    end: Timestamp


NO_SHIFT = "no shift planned"


class OeeBrief(Out):
    """The latest figures of one window, as ratios 0..1 (4 decimals; null while not
    computable). The `shift` window's carry `shift` and `planned` (false between shifts:
    `note` "no shift planned", the figures null); the `day` window's carry `day`."""

    computed: bool = Field(description="false until the engine has published this window")
    ts: Timestamp | None = None
    availability: float | None = None
    performance: float | None = None
    quality: float | None = None
    oee: float | None = None
    shift: ShiftOut | None = Field(
        default=None, description="the shift occurrence (`shift` window or `?shift=`)"
    )
    day: DayOut | None = Field(default=None, description="the plant day (`day` window or `?day=`)")
    planned: bool | None = Field(
        default=None,
        description="`shift` window: whether a shift is in progress (false between shifts); "
        "null for other windows",
    )
    note: str | None = Field(default=None, description='"no shift planned" between shifts')


class WindowBrief(OeeBrief):
    """A window's ratios in the machine list, with what says how far to trust them."""

    coverage: float | None = Field(
        default=None, description="known time / window (4 decimals); low: little data yet"
    )
    performance_flagged: bool | None = Field(
        default=None, description="performance above 1: usually an ideal cycle time too long"
    )


class LossOut(Out):
    """One loss of the OEE loss tree (the six big losses, plus idle and unknown downtime)."""

    name: str = Field(description="breakdowns, setup, idle, unknown, small_stops, speed, ...")
    factor: Literal["availability", "performance", "quality"]
    seconds: float = Field(description="seconds of planned production time lost")
    points: float | None = Field(description="the OEE it costs: seconds / planned_s (0..1)")


class ParetoOut(Out):
    """Unplanned downtime of one state and reason, biggest first."""

    state: MachineState
    reason_code: int | None
    reason: str | None
    count: int = Field(description="stops")
    seconds: float
    share: float = Field(description="of all the downtime in the Pareto (0..1)")


class LossDetails(Out):
    """The time model beyond the headline figures (null while not computed)."""

    coverage: float | None = Field(default=None, description="known time / window")
    planned_stop_s: float | None = None
    breakdown_s: float | None = None
    setup_s: float | None = None
    idle_s: float | None = None
    small_stop_s: float | None = None
    speed_loss_s: float | None = None
    ideal_s: float | None = Field(default=None, description="sum of ideal cycle x parts")
    fully_productive_s: float | None = None
    startup_reject: int | None = None
    performance_flagged: bool | None = Field(
        default=None, description="performance above 1: usually an ideal cycle time too long"
    )
    failures: int | None = None
    mtbf_s: float | None = None
    mttr_s: float | None = None
    off_plan_run_s: float | None = Field(
        default=None,
        description="seconds the machine ran while no shift was planned (planned stop time, "
        "out of the figures; flag it)",
    )
    off_plan_total: int | None = Field(
        default=None, description="parts counted while no shift was planned (in `total`)"
    )


class OeeOut(OeeBrief, LossDetails):
    """All figures of [start, ts) with the times, counts and losses they come from.

    `source` is "live" for a configured window (the engine's latest figures) and
    "history" for a `from`/`to` range computed from the store (`window` is then null).
    """

    machine: str
    window: str | None
    source: Literal["live", "history"] = "live"
    start: Timestamp | None = Field(default=None, description="where the figures begin")
    window_s: float | None = None
    run_s: float | None = None
    planned_s: float | None = None
    unknown_s: float | None = None
    total: int | None = None
    good: int | None = None
    reject: int | None = None
    state_s: dict[str, float] | None = Field(
        default=None, description="seconds spent in each state within the window"
    )
    losses: list[LossOut] = Field(default_factory=list)
    pareto: list[ParetoOut] = Field(default_factory=list)


class IssueOut(Out):
    """Something wrong with the machine's input now (open until it ends): `kind` is
    `counter_invalid`, `state_code_unmapped`, `pipeline_error`, `implausible_value`,
    `spc_error`, `spc_limits`, `per_part_split_read` or `per_part_missed` (docs/API.md)."""

    kind: str
    detail: str
    since: Timestamp
    last: Timestamp
    count: int


class ZonedShiftOut(ShiftOut):
    """A shift occurrence with its calendar's time zone (as `…/output` carries it)."""

    timezone: str = Field(description="the calendar's IANA time zone")


class OutputOut(Out):
    """Parts in a shift against its target (null figures: not computable)."""

    ts: Timestamp
    final: bool = Field(description="the shift has ended: its last figures")
    shift: ZonedShiftOut
    good: int
    reject: int
    total: int
    target: float | None = Field(description="parts for the whole shift")
    target_source: Literal["per_shift", "per_hour", "ideal"] | None
    due: float | None = Field(description="the target pro rata over planned time elapsed")
    planned_s: float
    elapsed_s: float
    remaining_s: float
    rate_per_h: float | None = Field(description="good parts/h over the last rate_window_s")
    rate_window_s: float = Field(description="planned time the rate spans (up to 900 s)")
    average_per_h: float | None
    expected: float | None = Field(description="good parts at the shift's end at rate_per_h")
    on_track: bool | None


class MachineBase(Out):
    """Identity, place in the hierarchy and current state of one machine."""

    id: str
    name: str
    path: str = Field(description="site/area/line/machine")
    site: str
    area: str
    line: str
    state: MachineState | None = Field(description="null until the first state is known")
    since: Timestamp | None = None
    reason: str | None = None
    reason_code: int | None = None
    product: str | None = None
    product_name: str | None = Field(default=None, description="`products.{code}.name`")
    counts: Counts
    issues: list[IssueOut] = Field(
        default_factory=list, description="what is wrong with its input now (empty: nothing)"
    )
    suspects: int = Field(
        default=0, description="suspect counts held out of the figures, waiting for a decision"
    )
    alarms: int = Field(default=0, description="active alarms (GET /api/v1/alarms?machine=)")


class MachineSummary(MachineBase):
    """One entry of `GET /api/v1/machines`."""

    oee: dict[str, WindowBrief] = Field(description="every configured window, by name")
    output: OutputOut | None = Field(
        default=None, description="in the shift in progress (or the last one's final)"
    )


class ProductEntry(Out):
    """A configured product of a machine (scrap may be booked against it)."""

    code: str
    name: str | None = Field(description="`products.{code}.name`")


class MachineDetail(MachineBase):
    """`GET /api/v1/machines/{id}`: the summary plus the previous state, config and full OEE."""

    state_duration_s: float | None = Field(description="time in the current state so far")
    previous: MachineState | None = None
    previous_duration_s: float | None = None
    seq: int | None = Field(default=None, description="sequence number of the last state change")
    last_seen: Timestamp | None = Field(default=None, description="last successful poll")
    ideal_cycle_s: float
    micro_stop_s: float
    oee: dict[str, OeeOut]
    output: OutputOut | None = None
    products: list[ProductEntry] = Field(
        default_factory=list, description="the configured products (`products`), by code"
    )


class StateInterval(Out):
    """A span of one state, clipped to the requested range."""

    state: MachineState
    start: Timestamp
    end: Timestamp
    duration_s: float
    reason: str | None = None
    reason_code: int | None = None
    planned_kind: str | None = Field(
        default=None, description="the stop counts as planned time (PUT …/planned): its kind"
    )
    planned_reason: str | None = None


class StatesOut(Out):
    """`GET /api/v1/machines/{id}/states`: the intervals of [from, to], oldest first, at
    most `limit`; `next_from` is where the next page begins (null: this is the last)."""

    machine: str
    from_: Timestamp = Field(serialization_alias="from")
    to: Timestamp
    intervals: list[StateInterval]
    next_from: Timestamp | None = Field(
        default=None,
        description="the start of the first interval not in this page: ask again with it as "
        "`from` (and the same `to`); null when the page reaches `to`",
    )


class HealthOut(Out):
    status: str = "ok"


class ReadyOut(Out):
    """Readiness; with `ready` false, `not_ready` says which part is missing."""

    ready: bool
    started: bool
    machines_without_state: list[str]
    sinks: dict[str, bool] = Field(description="each sink: connected to its server")
    sink_problems: dict[str, str] = Field(
        description="why a sink does not deliver although it may be connected, by sink "
        "(mqtt: a broker that acknowledges nothing within `mqtt.ack_timeout_s`)"
    )
    machines_failing: list[str] = Field(
        default_factory=list, description="machines whose events fail inside the pipeline"
    )
    not_ready: list[str]


class TagPointOut(Out):
    """One stored raw value; downsampled (a string or boolean tag with `every`): the
    bucket's last value, `ts` the bucket's start."""

    ts: Timestamp
    value: bool | int | float | str | None = Field(
        description="null: the read failed (see `quality`) or no value in the bucket"
    )
    quality: Quality = Field(description="downsampled: the worst in the bucket")


class TagBucketOut(Out):
    """One `every` interval of a numeric tag: its values' statistics (null values, e.g.
    of failed reads, are left out of them; with none left they are null)."""

    ts: Timestamp = Field(
        description="the bucket's start: a multiple of `every` since 1970-01-01T00:00:00Z"
    )
    mean: float | None
    min: float | None
    max: float | None
    last: float | None
    count: int = Field(description="values the statistics are of")
    quality: Quality = Field(description="the worst in the bucket")


class TagHistoryOut(Out):
    """`GET /api/v1/machines/{id}/tags/{tag}`: the stored values of [from, to), oldest first.

    `aggregation` says what `points` hold: `raw` (no `every`), `numeric` (`every`, a
    number tag: `TagBucketOut`s) or `last` (`every`, a string or boolean tag). Only the
    buckets holding values are listed."""

    machine: str
    tag: str
    from_: Timestamp = Field(serialization_alias="from")
    to: Timestamp
    every: str | None = Field(description="the downsampling interval asked for")
    aggregation: Literal["raw", "numeric", "last"]
    note: str | None = Field(
        default=None, description="why there may be no values: the machine's values are not stored"
    )
    points: list[TagBucketOut] | list[TagPointOut]
