"""What the API may ask of the running daemon: the gateway (`edge.pipeline.gateway`) and
the config reloader (`edge.cli.serve`). The API sees only these; it never writes to a PLC."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from core.alarms import AlarmChange
from core.types import CountDecision, Event, ScrapBooked
from edge.config import Config

__all__ = ["ConfigReloader", "GatewayControl"]


class GatewayControl(Protocol):
    """What the API may ask of the running gateway (it never writes to a PLC)."""

    @property
    def engines(self) -> Mapping[str, object]:
        """The running engines by name (`edge.pipeline.components.ENGINES`): the API asks
        the SPC engine (`spc`) to freeze limits or take readings by hand."""
        ...

    async def emit(self, events: Sequence[Event]) -> None:
        """Hand events to the engines, the live view and every sink."""
        ...

    async def decide_suspect(
        self, machine: str, seq: int, accept: bool, by: str, note: str | None = None
    ) -> CountDecision:
        """Accept (count its parts now) or discard a held suspect count. KeyError for an
        unknown machine; `edge.pipeline.handcounts.NotPending` when `seq` does not wait."""
        ...

    async def correct_count(
        self, machine: str, counts: tuple[int, int, int], by: str, note: str | None = None
    ) -> CountDecision:
        """Count (total, good, reject) parts of `machine` by hand, now."""
        ...

    async def book_scrap(self, booking: ScrapBooked) -> ScrapBooked:
        """Book `booking.quantity` parts of its machine as scrap now, moved from good to
        reject by a count delta; returns the booking as emitted (time, `count_seq`, `seq`).
        KeyError for an unknown machine."""
        ...

    async def acknowledge_alarm(self, ident: str, by: str) -> AlarmChange:
        """`by` acknowledges the active alarm `ident`; its change is published.
        `edge.engines.alarms.UnknownAlarm` / `AlreadyAcknowledged` otherwise."""
        ...

    def set_product(self, machine: str, product: str | None) -> str | None:
        """The product `machine` makes from now on (None: the machine's default); returns
        the one before. ValueError if the machine reads its product from a tag."""
        ...


class ConfigReloader(Protocol):
    """Re-reads the gateway's config file and restarts the pipeline with it, while the
    API keeps serving (`POST /api/v1/config/reload`, SIGHUP)."""

    async def reload(self) -> Config:
        """Validate the file and, when it is valid, stop the running gateway as on SIGTERM
        (its outbox flushed) and start one with the new config; returns that config.
        Raises `edge.config.loading.ConfigError` (every problem) or
        `edge.config.reload.RestartNeeded` (the `api` section changed), having changed
        nothing."""
        ...
