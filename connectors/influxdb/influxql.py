"""InfluxDB over HTTP, the parts shared by the sink and the reader: the configured HTTP
client (auth, TLS) and InfluxQL history reads on `/query`, which InfluxDB 1.x, 2.x (DBRP
mapping) and 3.x all answer (DESIGN.md, "InfluxDB schema").
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

import httpx

from connectors.common.tls import TlsConfig
from connectors.influxdb import spcread
from connectors.influxdb.config import InfluxConfig
from connectors.influxdb.lineprotocol import timestamp_ns
from core.spc import SpcLimitsChange, SpcPoint, SpcViolation
from core.types import CountDelta, MachineRef, MachineState, Quality, Sample, StateRecord, TagValue

__all__ = ["InfluxHistory", "InfluxQueryError", "http_client", "quote_ident", "quote_string"]

# The name it had before the move: operators filter on it.
log = logging.getLogger("connectors.influxql")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ssl_context(tls: TlsConfig | None) -> ssl.SSLContext | None:
    """The TLS context for `tls`, or None for plain HTTP / the system defaults."""
    if tls is None or not tls.enabled:
        return None
    ctx = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
    if tls.cert_file:
        ctx.load_cert_chain(tls.cert_file, tls.key_file)
    if tls.insecure_skip_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def http_client(config: InfluxConfig) -> httpx.AsyncClient:
    """An httpx client for /ping, /write and /query with the configured auth and TLS."""
    auth = None
    headers = {}
    if config.username:
        # Basic auth rather than u=/p= query parameters: keeps the password out of URLs
        # (and so out of proxy and access logs). InfluxDB 1.x accepts both.
        pw = config.password.get_secret_value() if config.password else ""
        auth = httpx.BasicAuth(config.username, pw)
    elif config.token:
        headers["Authorization"] = f"Token {config.token.get_secret_value()}"
    verify: ssl.SSLContext | bool = ssl_context(config.tls) or True
    return httpx.AsyncClient(
        base_url=config.url, auth=auth, headers=headers, verify=verify, timeout=config.timeout_s
    )


class InfluxQueryError(RuntimeError):
    """InfluxDB answered a query with an error."""


def quote_string(text: str) -> str:
    """An InfluxQL string literal: single quotes, with `\\` and `'` escaped."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_ident(text: str) -> str:
    """An InfluxQL identifier: double quotes, with `\\` and `"` escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _results(body: bytes) -> list[list[dict[str, Any]]]:
    """Per statement of a `/query` answer, its rows as dicts (with the tags of its
    series when grouped by tags); a statement's error raises."""
    out = []
    for result in json.loads(body).get("results", []):
        if "error" in result:
            raise InfluxQueryError(result["error"])
        rows = []
        for series in result.get("series", []):
            tags = series.get("tags") or {}
            rows += [tags | dict(zip(series["columns"], v, strict=True)) for v in series["values"]]
        out.append(rows)
    return out


def _limit(limit: int | None) -> str:
    return "" if limit is None else f" LIMIT {int(limit)}"


class InfluxHistory:
    """HistoryReader and SpcHistory over InfluxQL `/query` (InfluxDB 1.x, 2.x with DBRP
    mapping, 3.x).

    With `machines`, queries also match site/area/line, so gateways sharing a database
    and reusing machine (or chart) ids do not see each other's history.
    """

    def __init__(self, config: InfluxConfig, machines: dict[str, MachineRef] | None = None):
        self._cfg = config
        self._machines = machines or {}
        self._http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def query(self, q: str) -> list[list[dict[str, Any]]]:
        """Run InfluxQL (`;`-separated statements): per statement, its rows as dicts
        (time in epoch ns). The answer is decoded in a worker thread: a long range is
        megabytes of JSON, which would hold the event loop (and the polls)."""
        if self._http is None:
            self._http = http_client(self._cfg)
        r = await self._http.get("/query", params={"db": self._cfg.database, "q": q, "epoch": "ns"})
        if r.status_code != 200:
            raise InfluxQueryError(f"HTTP {r.status_code}: {r.text.strip()[:300]}")
        return await asyncio.to_thread(_results, r.content)

    def _where(self, machine: str) -> str:
        conds = {"machine": machine}
        ref = self._machines.get(machine)
        if ref is not None:
            conds |= {"site": ref.site, "area": ref.area, "line": ref.line}
        return " AND ".join(f"{quote_ident(k)} = {quote_string(v)}" for k, v in conds.items())

    async def state_history(
        self, machine: str, start: datetime, end: datetime, limit: int | None = None
    ) -> list[StateRecord]:
        """State records with start <= ts < end (at most `limit`), after the last one
        before `start`.

        A reason stored as "" (cleared by a ReasonAssigned) reads as None, as does a
        planned kind stored as "" (a stop no longer counted as planned time).
        """
        where, s, e = self._where(machine), timestamp_ns(start), timestamp_ns(end)
        select = (
            'SELECT "state", "reason", "reason_code", "planned_kind", "planned_reason" '
            'FROM "machine_state"'
        )
        before, inside = await self.query(
            f"{select} WHERE {where} AND time < {s} ORDER BY time DESC LIMIT 1; "
            f"{select} WHERE {where} AND time >= {s} AND time < {e} ORDER BY time ASC"
            + _limit(limit)
        )
        records = []
        for row in before + inside:
            try:
                state = MachineState(row["state"])
            except ValueError:
                log.warning("InfluxDB: unknown state %r of %s ignored", row["state"], machine)
                continue
            reason, code = row.get("reason") or None, row.get("reason_code") or None
            kind = row.get("planned_kind") or None
            why = (row.get("planned_reason") or None) if kind else None
            records.append(StateRecord(machine, state, _time(row), reason, code, kind, why))
        return records

    async def count_history(
        self, machine: str, start: datetime, end: datetime, limit: int | None = None
    ) -> list[CountDelta]:
        """Count deltas with start <= ts < end (at most `limit`), oldest first (product
        None when absent)."""
        where, s, e = self._where(machine), timestamp_ns(start), timestamp_ns(end)
        (rows,) = await self.query(
            'SELECT "total", "good", "reject", "product" FROM "production" '
            f"WHERE {where} AND time >= {s} AND time < {e} ORDER BY time ASC" + _limit(limit)
        )
        return [
            CountDelta(
                machine, _time(r), r["total"], r["good"], r["reject"], r.get("product") or None
            )
            for r in rows
        ]

    async def tag_history(
        self, machine: str, tag: str, start: datetime, end: datetime, limit: int | None = None
    ) -> list[Sample]:
        """The raw values of one tag (stored with `publish_tags`), start <= ts < end,
        oldest first, at most `limit`. A point holds `value` (float; booleans are
        1.0/0.0) or `value_str`, or neither (a failed read, an empty string, a NaN):
        its value reads as None."""
        where, s, e = self._where(machine), timestamp_ns(start), timestamp_ns(end)
        (rows,) = await self.query(
            'SELECT "value", "value_str", "quality" FROM "tag" '
            f'WHERE {where} AND "tag" = {quote_string(tag)} '
            f"AND time >= {s} AND time < {e} ORDER BY time ASC" + _limit(limit)
        )
        return [Sample(tag, _value(r), _quality(r.get("quality")), _time(r)) for r in rows]

    async def history_rows(self, machine: str, start: datetime, end: datetime) -> int:
        """State changes and counts of `machine` with start <= ts < end (counted by
        InfluxDB: no row is sent)."""
        where, s, e = self._where(machine), timestamp_ns(start), timestamp_ns(end)
        span = f"WHERE {where} AND time >= {s} AND time < {e}"
        states, counts = await self.query(
            f'SELECT COUNT("state") FROM "machine_state" {span}; '
            f'SELECT COUNT("total") FROM "production" {span}'
        )
        return sum(int(r.get("count") or 0) for r in states + counts)

    async def _rows_of(self, q: str) -> list[dict[str, Any]]:
        """The rows of one query grouped by machine tags, of this gateway's machines."""
        (rows,) = await self.query(q)
        return list(filter(spcread.mine(self._machines.values()), rows))

    async def spc_points(
        self, chart: str, start: datetime, end: datetime, limit: int | None = None
    ) -> list[SpcPoint]:
        """The points of `chart` with start <= ts < end, oldest first; the latest `limit`
        of them when there are more."""
        q = spcread.points_query(quote_string(chart), timestamp_ns(start), timestamp_ns(end), limit)
        return spcread.points(chart, await self._rows_of(q), limit)

    async def spc_violations(
        self, chart: str, start: datetime, end: datetime, limit: int | None = None
    ) -> list[SpcViolation]:
        """The run-rule violations of `chart` with start <= ts < end, oldest first (the
        oldest `limit`, as the SQLite store)."""
        s, e = timestamp_ns(start), timestamp_ns(end)
        q = spcread.violations_query(quote_string(chart), s, e, limit)
        return spcread.violations(chart, await self._rows_of(q), limit)

    async def spc_limits_history(self, chart: str) -> list[SpcLimitsChange]:
        """Every change of `chart`'s limits, oldest first."""
        q = spcread.limits_query(quote_string(chart))
        return spcread.limits_changes(chart, await self._rows_of(q))


_QUALITY_OF = {q.code: q for q in Quality}


def _value(row: dict[str, Any]) -> TagValue:
    # `value` is a float field, but JSON writes 10.0 as 10: read it back as the float it is.
    value = row.get("value")
    return row.get("value_str") if value is None else float(value)


def _quality(code: Any) -> Quality:
    # A code the gateway never writes reads as bad rather than failing the whole answer.
    return _QUALITY_OF.get(code, Quality.BAD)


def _time(row: dict[str, Any]) -> datetime:
    """A row's `time` (epoch ns) as an aware UTC datetime, to the microsecond."""
    return _EPOCH + timedelta(microseconds=row["time"] // 1000)
