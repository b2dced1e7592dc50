"""The routes on a machine's counts: the suspect counts held out of the figures, and the
admin's decisions on them and corrections by hand. Each decision goes to the running
gateway (`GatewayControl`), which counts the parts like the PLC's (the OEE engine, the
live view, the store and MQTT) and records who decided, when; never to a PLC."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.auth import admin_name
from api.context import ApiError, Ctx, admin_docs, find_machine, require_control, v1_router
from api.count_schemas import CorrectionIn, DecisionIn, DecisionOut, SuspectOut
from core.types import CountDecision, SuspectCount
from edge.pipeline.handcounts import NotPending

router = v1_router()
Admin = Annotated[str, Depends(admin_name)]


@router.get("/machines/{machine_id}/suspects", tags=["counts"])
async def list_suspects(machine_id: str, ctx: Ctx) -> list[SuspectOut]:
    """The machine's suspect counts waiting for a decision, oldest first."""
    m, _ = find_machine(ctx, machine_id)
    return [_suspect(s) for _, s in sorted(m.suspects.items())]


@router.post(
    "/machines/{machine_id}/suspects/{seq}/accept",
    tags=["counts"],
    responses=admin_docs(
        e404="Unknown machine, or no such suspect count waits",
        e503="No running gateway (read-only API)",
    ),
)
async def accept_suspect(
    machine_id: str, seq: int, ctx: Ctx, by: Admin, body: DecisionIn | None = None
) -> DecisionOut:
    """Count the held parts now: they enter every figure, MQTT (`…/count`, then
    `…/decision`) and the store, as if the PLC had counted them at this moment."""
    return await _decide(ctx, machine_id, seq, True, by, body)


@router.post(
    "/machines/{machine_id}/suspects/{seq}/discard",
    tags=["counts"],
    responses=admin_docs(
        e404="Unknown machine, or no such suspect count waits",
        e503="No running gateway (read-only API)",
    ),
)
async def discard_suspect(
    machine_id: str, seq: int, ctx: Ctx, by: Admin, body: DecisionIn | None = None
) -> DecisionOut:
    """Drop the held parts for good (recorded as `…/decision`; nothing is counted)."""
    return await _decide(ctx, machine_id, seq, False, by, body)


@router.post(
    "/machines/{machine_id}/counts",
    tags=["counts"],
    responses=admin_docs(
        e422="Counts that do not add up, none, or too many",
        e503="No running gateway (read-only API)",
    ),
)
async def correct_counts(machine_id: str, body: CorrectionIn, ctx: Ctx, by: Admin) -> DecisionOut:
    """Count parts the PLC did not (made during an outage, counted by hand): they count
    now, like the PLC's, and the correction is recorded with who made it."""
    find_machine(ctx, machine_id)
    control = require_control(ctx)
    counts = (body.good + body.reject, body.good, body.reject)
    return _decision(await control.correct_count(machine_id, counts, by, body.note))


async def _decide(
    ctx: Ctx, machine_id: str, seq: int, accept: bool, by: str, body: DecisionIn | None
) -> DecisionOut:
    find_machine(ctx, machine_id)
    control = require_control(ctx)
    try:
        decided = await control.decide_suspect(
            machine_id, seq, accept, by, None if body is None else body.note
        )
    except NotPending as exc:
        raise ApiError(404, str(exc)) from exc
    return _decision(decided)


def _suspect(s: SuspectCount) -> SuspectOut:
    return SuspectOut(
        seq=s.seq, ts=s.ts, total=s.total, good=s.good, reject=s.reject, product=s.product,
        counter=s.counter, allowed=s.allowed, elapsed_s=s.elapsed_s,
    )  # fmt: skip


def _decision(d: CountDecision) -> DecisionOut:
    return DecisionOut(
        machine=d.machine, action=d.action, by=d.by, ts=d.ts, total=d.total, good=d.good,
        reject=d.reject, suspect_seq=d.suspect_seq, count_seq=d.count_seq, note=d.note,
        seq=d.seq,
    )  # fmt: skip
