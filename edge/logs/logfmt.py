"""Log output of the daemon: human-readable lines by default, JSON lines on request.

JSON (`--log-format json`, `gateway.log_format: json`): one object per line with `ts`
(RFC 3339 UTC, milliseconds), `level`, `logger`, `msg`, `exc` when the record carries a
traceback, and every field passed as `extra=`. Values JSON cannot hold are written with
`str()`, so a pydantic `SecretStr` shows as `**********`, never its value.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from edge.logs.statusline import cleared

__all__ = ["TEXT_FORMAT", "JsonFormatter", "LogFormat", "json_logging", "setup_logging"]

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

# The attributes every LogRecord has: anything else came in through `extra=`.
_RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Chatty libraries: our sources and sinks log an outage once, these log every attempt.
_QUIET = ("pymodbus", "asyncua")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in messages are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _rfc3339(record.created),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key not in _RESERVED and key not in out and not key.startswith("_"):
                out[key] = value
        return json.dumps(out, ensure_ascii=False, default=str)


class _Handler(logging.StreamHandler[TextIO]):
    """A stderr handler that writes around the start-up progress line (`edge.logs.statusline`)."""

    def emit(self, record: logging.LogRecord) -> None:
        with cleared(self.stream):
            super().emit(record)


def setup_logging(level: str, fmt: LogFormat = "text", stream: TextIO | None = None) -> None:
    """Configure the root logger for the daemon (replacing any handler set before)."""
    handler = _Handler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level))
    logging.captureWarnings(True)  # library warnings in the same format, not raw on stderr
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def json_logging() -> bool:
    """True when the root logger writes JSON lines (no terminal decorations then)."""
    return any(isinstance(h.formatter, JsonFormatter) for h in logging.getLogger().handlers)


def _rfc3339(created: float) -> str:
    ts = datetime.fromtimestamp(created, UTC)
    return ts.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
