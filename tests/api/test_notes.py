"""A shift's hand-over notes (`GET`/`PUT /api/v1/shifts/{date}/{name}/notes`), through a
real Gateway and SQLite store: kept per shift instance of the line's calendar, the
previous text kept by the audit; a shift that does not exist is a 404."""

from __future__ import annotations

import httpx

from connectors.sqlite.store import SqliteStore
from core.types import ShiftNote
from edge.config import NOTE_MAX_CHARS
from tests.api.conftest import NOW

EARLY = "/api/v1/shifts/2026-11-03/early/notes"
SHIFT = {
    "id": "2026-11-03/early",
    "name": "early",
    "date": "2026-11-03",
    "start": "2026-11-03T06:00:00.000Z",
    "end": "2026-11-03T14:00:00.000Z",
}


async def test_notes_are_written_read_and_replaced(
    plant_client: httpx.AsyncClient, plant_store: SqliteStore
) -> None:
    empty = (await plant_client.get(EARLY)).json()
    assert empty == {
        "line": "line1",
        "shift": SHIFT,
        "timezone": "UTC",
        "text": "",
        "by": None,
        "ts": None,
        "previous_text": None,
    }
    r = await plant_client.put(EARLY, json={"text": "Die 4 worn, change at 10:00"})
    assert r.status_code == 200, r.text
    written = {
        "line": "line1",
        "shift": SHIFT,
        "timezone": "UTC",
        "text": "Die 4 worn, change at 10:00",
        "by": "loopback",
        "ts": "2026-11-03T08:00:00.000Z",
        "previous_text": None,
    }
    assert r.json() == written
    assert (await plant_client.get(EARLY)).json() == written
    r = await plant_client.put(EARLY, json={"text": "Die 4 changed"})
    assert (r.json()["text"], r.json()["previous_text"]) == (
        "Die 4 changed",
        "Die 4 worn, change at 10:00",
    )
    # The store's reader (the shift report reads it), and the audit.
    assert await plant_store.note("press", "line1", "2026-11-03/early") == ShiftNote(
        "line1", "press", "2026-11-03/early", "Die 4 changed", NOW, "loopback",
        "Die 4 worn, change at 10:00",
    )  # fmt: skip
    audit = (await plant_client.get("/api/v1/audit")).json()
    assert [(a["action"], a["line"], a["target"], a["old"], a["new"]) for a in audit] == [
        ("notes", "line1", "2026-11-03/early", None, {"text": "Die 4 worn, change at 10:00"}),
        ("notes", "line1", "2026-11-03/early", {"text": "Die 4 worn, change at 10:00"},
         {"text": "Die 4 changed"}),
    ]  # fmt: skip
    # Another line's notes of the same shift are its own.
    other = await plant_client.get(EARLY, params={"line": "line2"})
    assert (other.json()["line"], other.json()["text"]) == ("line2", "")


async def test_notes_refusals_say_why(plant_client: httpx.AsyncClient) -> None:
    cases = [
        (
            "/api/v1/shifts/2026-11-03/late/notes",
            {},
            404,
            {
                "detail": "no shift 'late' starts on 2026-11-03 in the calendar of line line1; "
                "shifts: early",
                "known": ["early"],
            },
        ),
        (
            "/api/v1/shifts/2026-13-03/early/notes",
            {},
            422,
            {
                "detail": "'2026-13-03/early' is not a shift: write its local start date and "
                "name, e.g. 2026-12-06/late"
            },
        ),
        (
            EARLY,
            {"line": "line9"},
            404,
            {
                "detail": "unknown line 'line9'; known lines: line1, line2",
                "known": ["line1", "line2"],
            },
        ),
    ]
    for url, params, status, expected in cases:
        r = await plant_client.get(url, params=params)
        assert (r.status_code, r.json()) == (status, expected), url
    r = await plant_client.put(EARLY, json={"text": "x" * (NOTE_MAX_CHARS + 1)})
    assert r.status_code == 422
    assert (await plant_client.put(EARLY, json={"text": "x" * NOTE_MAX_CHARS})).status_code == 200
