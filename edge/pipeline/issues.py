"""What is wrong with a machine's input now: a counter value no counter can hold, a state
code outside the map, a failure inside the pipeline. Each issue is logged once when it
opens (WARNING) and once when it ends (INFO), counted while open, and shown on the page,
in the API and in /metrics until it ends: a figure is never silently wrong."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

__all__ = ["Issue", "Issues"]

log = logging.getLogger(__name__)


@dataclass
class Issue:
    """One open issue: `detail` says it in words (the latest occurrence), `count` how
    often it occurred since `since`."""

    kind: str
    detail: str
    since: datetime
    last: datetime
    count: int = 1


class Issues:
    """The open issues of one machine, by key (one key per thing that is wrong, e.g. one
    per unmapped code)."""

    def __init__(self, machine: str) -> None:
        self.machine = machine
        self._open: dict[str, Issue] = {}

    def raise_(
        self, key: str, kind: str, detail: str, at: datetime, exc: BaseException | None = None
    ) -> None:
        """`key` is wrong at `at`: opens the issue (logged; at ERROR with its traceback
        when `exc` caused it) or counts one more."""
        issue = self._open.get(key)
        if issue is None:
            self._open[key] = Issue(kind, detail, at, at)
            if exc is None:
                log.warning("%s: %s", self.machine, detail)
            else:
                log.error("%s: %s", self.machine, detail, exc_info=exc)
            return
        issue.detail, issue.last, issue.count = detail, at, issue.count + 1

    def has(self, kind: str) -> bool:
        """Whether an issue of `kind` is open."""
        return any(i.kind == kind for i in self._open.values())

    def clear(self, key: str) -> None:
        """`key` is right again: ends its issue (logged), if one is open."""
        issue = self._open.pop(key, None)
        if issue is not None:
            log.info("%s: ended after %d time(s): %s", self.machine, issue.count, issue.detail)

    def clear_prefix(self, prefix: str) -> None:
        """End every open issue whose key starts with `prefix`."""
        for key in [k for k in self._open if k.startswith(prefix)]:
            self.clear(key)

    def open(self) -> list[Issue]:
        """The open issues, oldest first."""
        return sorted(self._open.values(), key=lambda i: i.since)
