"""The shift report kept at each shift's end: when the output engine publishes a line's
final figures of a shift (`LineOutputUpdate.final`), the report is built in a history
worker and emitted as `ShiftReportDone` (the store keeps it, MQTT `…/_line/report`
retains its summary). Off the event loop: the build is a history job."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from api.report_routes import report_doc
from connectors.sqlite.store import SqliteStore
from core.types import Event, LineOutputUpdate
from edge.pipeline.live import LiveView

__all__ = ["ReportKeeper"]

log = logging.getLogger("api.report")


class ReportKeeper:
    """Builds and keeps each line's report when its shift ends (see the module)."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._tasks: set[asyncio.Task[None]] = set()

    def watch(self, live: LiveView) -> None:
        """Listen to the events of `live` (a new gateway's after a reload)."""
        live.listeners.append(self.seen)

    def seen(self, event: Event) -> None:
        if isinstance(event, LineOutputUpdate) and event.final:
            task = asyncio.get_running_loop().create_task(
                self._keep(event.line, event.shift.id), name=f"report-{event.line}"
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _keep(self, line: str, shift: str) -> None:
        ctx = self._app.state.ctx
        if isinstance(ctx.history, SqliteStore):
            await ctx.history.drain()  # the shift's last rows are written first
        day, name = shift.split("/", 1)
        try:
            await report_doc(ctx, day, name, line, rebuild=True)
        except Exception:  # logged; a GET builds it again
            log.exception("the report of shift %s of line %s was not built", shift, line)
        else:
            log.info("report of shift %s of line %s kept", shift, line)
