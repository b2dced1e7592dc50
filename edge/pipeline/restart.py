"""What a gateway takes back at a start from what the previous run left: the checkpoints
in the outbox's meta (normalisers, engines, and from them the live view's active alarms
and SPC limits) and the stored history the engines replay (`Engine.preload`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime

from core.interfaces import Checkpointed, Engine, HistoryReader
from core.types import MachineState
from edge.engines.alarms import AlarmEngine
from edge.engines.spc import SpcEngine
from edge.pipeline import checkpoint
from edge.pipeline.live import LiveView
from edge.pipeline.normaliser import MachineNormaliser

__all__ = ["PRELOAD_TIMEOUT_S", "replay_history", "restore_checkpoints"]

log = logging.getLogger("edge.pipeline")
# How long an engine may wait for the stored history at start.
PRELOAD_TIMEOUT_S = 30.0


def restore_checkpoints(
    meta: Mapping[str, str],
    engines: Iterable[Engine],
    normalisers: Mapping[str, MachineNormaliser],
    live: LiveView,
) -> list[str]:
    """Put the engines' and normalisers' checkpoints back and show what they restored in
    the live view (a page or stream opened before the next change starts from it); the
    machines whose state was still known when the gateway stopped, i.e. it was killed
    before it could say `offline`."""
    for engine in engines:
        if isinstance(engine, Checkpointed):
            engine.restore(meta)
        if isinstance(engine, AlarmEngine):  # the restored active alarms
            for machine, m in live.machines.items():
                m.alarms = tuple(engine.active(machine))
        if isinstance(engine, SpcEngine):  # the frozen, hand-set or trial limits
            live.spc_limits.update((c.chart, c) for c in engine.limits_in_force())
    resumed = []
    for machine, n in normalisers.items():
        saved = meta.get(checkpoint.key(machine))
        restored = saved is not None and checkpoint.restore(n, saved)
        if restored and n.state not in (None, MachineState.OFFLINE):
            resumed.append(machine)
    return resumed


async def replay_history(
    engines: Iterable[Engine], history: HistoryReader, until: datetime, last_seen: datetime | None
) -> None:
    """Every engine replays the history stored before `until`, side by side; one that
    fails or takes longer than `PRELOAD_TIMEOUT_S` starts without (logged)."""
    await asyncio.gather(*(_replay(e, history, until, last_seen) for e in engines))


async def _replay(
    engine: Engine, history: HistoryReader, until: datetime, last_seen: datetime | None
) -> None:
    try:  # the figures wait for this: a hung database must not hold them for long
        async with asyncio.timeout(PRELOAD_TIMEOUT_S):
            n = await engine.preload(history, until, last_seen)
    except TimeoutError:
        log.error("%s history not loaded within %g s; starting without",
                  engine.name, PRELOAD_TIMEOUT_S)  # fmt: skip
        return
    except Exception:  # one engine's history must not hold up the others, nor stop the polls
        log.exception("%s history not loaded; starting without", engine.name)
        return
    log.info("%s: replayed %d stored events of the last %s", engine.name, n, engine.lookback)
