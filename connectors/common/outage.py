"""Log an outage once at ERROR, then quietly until it ends (shared by every source)."""

from __future__ import annotations

import logging

__all__ = ["OutageLog"]


class OutageLog:
    """The outage state of one connection, named `where` in every line.

    `down(reason)` logs the first reason of an outage at ERROR and later ones at DEBUG;
    `up()` logs the end of an outage once.
    """

    def __init__(self, log: logging.Logger, where: str) -> None:
        self._log, self.where = log, where
        self.is_down = False

    def down(self, reason: str) -> None:
        level = logging.DEBUG if self.is_down else logging.ERROR
        self._log.log(level, "%s: %s", self.where, reason)
        self.is_down = True

    def up(self) -> None:
        if self.is_down:
            self._log.info("%s: reconnected", self.where)
        self.is_down = False
