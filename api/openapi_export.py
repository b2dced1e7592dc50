"""Write the HTTP API's OpenAPI document to `docs/openapi.json`.

    .venv/bin/python -m api.openapi_export            # regenerate docs/openapi.json
    .venv/bin/python -m api.openapi_export --check    # exit 1 if the file is stale

The document is what `/openapi.json` serves (FastAPI's `app.openapi()`), built from an
example configuration: it depends on the routes and models only, never on a config's
values (no key, host or machine appears in it). `tests/api/test_openapi.py` fails when
the file and the code disagree, so it cannot drift.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from api.app import create_app
from edge.config import Config
from edge.pipeline.live import LiveView

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"

_EXAMPLE = {
    "gateway": {"id": "example"},
    "site": "site",
    "area": "area",
    "line": "line",
    "machines": [
        {
            "id": "m1",
            "modbus": {"host": "127.0.0.1"},
            "tags": {"state": {"address": 0}},
            "ideal_cycle_s": 1,
        }
    ],
}


class _NoHistory:
    """The document needs the routes, not a store: nothing is ever read from this."""

    async def state_history(self, *_: Any) -> list[Any]:
        raise NotImplementedError

    async def count_history(self, *_: Any) -> list[Any]:
        raise NotImplementedError

    async def tag_history(self, *_: Any) -> list[Any]:
        raise NotImplementedError

    async def history_rows(self, *_: Any) -> int:
        raise NotImplementedError


def document() -> dict[str, Any]:
    """The OpenAPI document of the API, as `/openapi.json` serves it."""
    config = Config.model_validate(_EXAMPLE)
    return create_app(config, LiveView.from_config(config), _NoHistory()).openapi()


def render() -> str:
    """`document()` as the file holds it: indented, keys in the code's order, a final newline."""
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m api.openapi_export", description=__doc__)
    p.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    p.add_argument("--check", action="store_true", help="do not write; exit 1 if stale")
    args = p.parse_args(argv)
    text = render()
    current = args.path.read_text(encoding="utf-8") if args.path.exists() else None
    if args.check:
        if current != text:
            print(f"{args.path} is stale: run python -m api.openapi_export", file=sys.stderr)
            return 1
        return 0
    args.path.write_text(text, encoding="utf-8")
    print(f"wrote {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
