"""A batch of orders sent to `POST /api/v1/orders/import`: a JSON list of order objects,
or CSV (`text/csv`) with a header row of the order's field names. Every row is checked
(the schema `edge.config.orders.OrderIn`, a configured machine, an id once in the
batch, a change the book allows: `OrderActs.conflict`) and every problem listed as
`{row, field, message}`: the row is the line of the file (the header is line 1) or the
index in the JSON list. All or nothing: one bad row and nothing is taken."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection
from typing import Any

from pydantic import ValidationError

from edge.config.orders import OrderIn
from edge.engines.orders import OrderEngine
from oee.orders import WorkOrder

__all__ = ["COLUMNS", "Problem", "check_rows", "csv_rows", "json_rows"]

#: The CSV columns: the order's fields (id, product, quantity, due and machine needed).
COLUMNS = tuple(OrderIn.model_fields)
Problem = dict[str, Any]  # {row, field, message}
Rows = list[tuple[int, Any]]  # (row number, the order's fields as sent)


def _problem(row: int, field: str | None, message: str) -> Problem:
    return {"row": row, "field": field, "message": message}


def json_rows(body: bytes) -> tuple[Rows, list[Problem]]:
    """The items of a JSON list, numbered by index; or the one problem of the body."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return [], [_problem(0, None, f"the body is not JSON: {exc}")]
    if not isinstance(doc, list):
        return [], [_problem(0, None, "the body must be a JSON list of orders")]
    return list(enumerate(doc)), []


def csv_rows(body: bytes) -> tuple[Rows, list[Problem]]:
    """The records of a CSV file after its header, each numbered by the line it starts
    on (the header is line 1); an empty cell is a field not given. Unknown columns are
    a problem of line 1 and are not passed on."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [_problem(1, None, f"the file is not UTF-8: {exc}")]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return [], [_problem(1, None, "the file is empty: the first line names the columns")]
    names = [h.strip() for h in header]
    problems = [
        _problem(1, n, f"unknown column; the columns are {', '.join(COLUMNS)}")
        for n in names if n not in COLUMNS
    ]  # fmt: skip
    rows: Rows = []
    line = reader.line_num
    for record in reader:
        start, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in record):
            continue  # a blank line
        if len(record) > len(names):
            problems.append(_problem(start, None, f"{len(record)} cells, {len(names)} columns"))
            continue
        cells = {n: c.strip() for n, c in zip(names, record, strict=False) if n in COLUMNS}
        rows.append((start, {n: c for n, c in cells.items() if c}))
    return rows, problems


def _schema(row: int, item: Any, machines: Collection[str]) -> WorkOrder | list[Problem]:
    try:
        got = OrderIn.model_validate(item)
    except ValidationError as exc:
        return [
            _problem(row, ".".join(map(str, e["loc"])) or None,
                     str(e["msg"]).removeprefix("Value error, "))
            for e in exc.errors()
        ]  # fmt: skip
    if got.machine not in machines:
        known = ", ".join(sorted(machines))
        return [_problem(row, "machine", f"no machine '{got.machine}' (known: {known})")]
    return got.to_order()


def check_rows(rows: Rows, engine: OrderEngine) -> tuple[list[WorkOrder], list[Problem]]:
    """The orders of `rows` and every problem of them (module docs)."""
    orders: list[WorkOrder] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for row, item in rows:
        got = _schema(row, item, engine.machines)
        if isinstance(got, list):
            problems += got
            continue
        clash = engine.conflict(got)
        if got.id in seen:
            problems.append(_problem(row, "id", f"order {got.id} is also on row {seen[got.id]}"))
        elif clash is not None:
            problems.append(_problem(row, clash.field, clash.message))
        seen.setdefault(got.id, row)
        orders.append(got)
    return orders, problems
