"""The one line at the bottom of a terminal that shows progress (`StatusLine`), and
`cleared`, with which the log handler writes a record around it, so the two do not tear
each other apart."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TextIO

__all__ = ["StatusLine", "cleared"]

_ERASE = "\r\x1b[2K"  # carriage return, erase the whole line


class StatusLine:
    """The one line at the bottom of a terminal that `text` is drawn on."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.text = ""

    def show(self, text: str) -> None:
        with _lock:
            global _shown
            self.text, _shown = text, self
            self._write(_ERASE + text)

    def close(self) -> None:
        """Erase the line for good."""
        with _lock:
            global _shown
            if self.text:
                self._write(_ERASE)
            self.text, _shown = "", None

    def _write(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # a closed terminal is no reason to stop
            self.stream.write(text)
            self.stream.flush()


_lock = threading.RLock()  # log records may come from other threads (paho's)
_shown: StatusLine | None = None


@contextlib.contextmanager
def cleared(stream: object) -> Iterator[None]:
    """Erase the status line shown on `stream` (if any) while the caller writes a whole
    line to it, then draw it again below."""
    with _lock:
        line = _shown if _shown is not None and _shown.stream is stream else None
        if line is not None:
            line._write(_ERASE)
        try:
            yield
        finally:
            if line is not None:
                line._write(line.text)
