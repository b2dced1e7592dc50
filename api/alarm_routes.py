"""The alarm routes: the active alarms (the live view) or those of a time range (the
store), and an operator's acknowledgement, which goes to the running gateway's alarm
engine and out as an `…/alarm` change like any other (`GatewayControl`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query
from fastapi.responses import Response

from api.alarm_schemas import AlarmOut, AlarmsOut
from api.auth import operator_name
from api.context import (
    OPERATE,
    ApiError,
    Ctx,
    error_docs,
    find_machine,
    from_store,
    operate_docs,
    require_control,
    v1_router,
)
from api.history import history_range, json_bytes, page_size
from api.offload import Cpu, run_job
from api.schemas import ApiTime
from core.interfaces import AlarmReader, HistoryReader
from edge.engines.alarms import AlreadyAcknowledged, UnknownAlarm

router = v1_router()
Operator = Annotated[str, Depends(operator_name)]


@router.get(
    "/alarms",
    tags=["alarms"],
    response_model=AlarmsOut,
    responses=error_docs(
        e404="Unknown machine",
        e422="Bad range or `limit`",
        e501="The history store keeps no alarms (InfluxDB): ask for `active=true`",
        e503="History store unavailable",
    ),
)
async def list_alarms(
    ctx: Ctx,
    active: Annotated[
        bool, Query(description="true: the alarms active now (no range); false: a range's")
    ] = False,
    machine: Annotated[str | None, Query(description="one machine's (default: all)")] = None,
    from_: Annotated[
        ApiTime | None,
        Query(alias="from", description="RFC 3339 with offset; default: `to` minus 1 h"),
    ] = None,
    to: Annotated[ApiTime | None, Query(description="RFC 3339 with offset; default: now")] = None,
    limit: Annotated[
        int | None, Query(ge=1, description="at most (and by default) api.limits.max_rows")
    ] = None,
) -> Response:
    """With `active=true` the alarms raised and not cleared now; else every alarm that
    was active at some time of [from, to) as it stands now (cleared, acknowledged).
    Oldest first."""
    if machine is not None:
        find_machine(ctx, machine)
    if active:
        lives = [ctx.live.machines[machine]] if machine else ctx.live.machines.values()
        found = sorted((a for m in lives for a in m.alarms), key=lambda a: (a.raised, a.id))
        return Response(json_bytes(AlarmsOut(alarms=[AlarmOut.of(a) for a in found])),
                        media_type="application/json")  # fmt: skip
    start, end = history_range(ctx, from_, to, ctx.clock())
    body = await run_job(ctx, alarms_job, start, end, machine, page_size(ctx, limit))
    return Response(body, media_type="application/json")


async def alarms_job(
    reader: HistoryReader, cpu: Cpu, start: datetime, end: datetime, machine: str | None, n: int
) -> bytes:
    """The range's alarms from the store (a history job, `api.offload`)."""
    if not isinstance(reader, AlarmReader):
        raise ApiError(501, "the history store (InfluxDB) keeps no alarms: ask for active=true")
    found = await from_store("alarm history", reader.alarms(start, end, machine, n))
    return await cpu(lambda: json_bytes(AlarmsOut(alarms=[AlarmOut.of(a) for a in found])))


@router.post(
    "/alarms/{alarm_id}/ack",
    tags=["alarms"],
    dependencies=OPERATE,
    responses=operate_docs(
        e404="No active alarm has this id (`known`: the active ones)",
        e409="The alarm was acknowledged before (the detail says by whom, when)",
        e503="No running gateway (read-only API)",
    ),
)
async def acknowledge(alarm_id: str, ctx: Ctx, by: Operator) -> AlarmOut:
    """Acknowledge an active alarm: who (the key's name, "loopback" without keys) and when
    are kept and published (`…/alarm` with `change: acknowledged`, SSE `alarm`, the store).
    It stays active until its condition ends."""
    control = require_control(ctx)
    try:
        change = await control.acknowledge_alarm(alarm_id, by)
    except UnknownAlarm:
        known = sorted(a.id for m in ctx.live.machines.values() for a in m.alarms)
        raise ApiError(404, f"no active alarm '{alarm_id}'", known=known) from None
    except AlreadyAcknowledged as exc:
        raise ApiError(409, str(exc)) from None
    return AlarmOut.of(change.alarm)
