"""The worst history requests the API allows, while the gateway polls 200 machines.

    python -m bench.history_load --machines 200 --runs 3 --seconds 30

One rig (simulator farm, Mosquitto, probe: `bench.load.rig`) and one gateway, whose
embedded store is filled first with 92 days of the first machine's history (a state
change every 11 s, a count every 30 s, a 30-tag poll every 30 s). Then windows of
`--seconds` alternate, `--runs` of each: a baseline (no request) and one in which
clients ask, back to back, for the worst the limits allow (`api.limits` defaults):

- `states`: a 92-day `…/states` page (10,000 intervals, `max_rows`);
- `oee`: the figures of the range holding just under 250,000 rows (`max_history_rows`);
- `tag`: a tag downsampled over the range holding just under 250,000 values (a poll's
  30 values a second for the last 3 days: the store keeps raw values 7 days);

as many at once as `history_at_once` (2) lets run, one more waiting. The table gives,
per kind of window, the medians of the runs: the probe's poll jitter and latencies,
the gateway's CPU and peak RSS (and its history workers' peak RSS: they run the
requests in processes of their own, `api.offload`), and the requests answered with
their median time.
"""

from __future__ import annotations

import argparse
import json
import selectors
import socket
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.contenders import Running, gateway
from bench.endpoints import modbus_tags
from bench.load import rig
from bench.probe import Probe
from bench.procstat import Meter

__all__ = ["main"]

DAYS = 92
STATES = ("running", "idle", "fault", "setup")
STATE_EVERY_MS, COUNT_EVERY_MS, BATCH_EVERY_MS = 11_000, 30_000, 1_000
TAG_DAYS = 3  # within the store's tag retention (7 days by default)
ROW_CAP = 250_000  # api.limits.max_history_rows' default


def fill(store: Path, machine: str, tags: int, end: datetime) -> datetime:
    """92 days of `machine`'s states and counts and 3 days of its polls before `end`
    into the gateway's (not yet opened) store; returns the `from` of a range holding
    just under ROW_CAP states and counts."""
    from connectors.sqlite.schema import MIGRATIONS

    end_ms = int(end.timestamp() * 1000)
    start_ms = end_ms - DAYS * 86_400_000
    doc = json.dumps({t.name: [1, 192] for t in modbus_tags(tags)}, separators=(",", ":"))
    store.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(store) as conn:
        for script in MIGRATIONS:
            conn.executescript(script)
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
        conn.executemany(
            "INSERT INTO machine_state (machine, ts, state, code, previous, duration_s, "
            "reason_code, reason, seq) VALUES (?, ?, ?, 1, NULL, 11.0, NULL, NULL, 0)",
            ((machine, ts, STATES[i % 4])
             for i, ts in enumerate(range(start_ms, end_ms, STATE_EVERY_MS))),
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO production (machine, ts, total, good, reject, product) "
            "VALUES (?, ?, 3, 3, 0, NULL)",
            ((machine, ts) for ts in range(start_ms + 5_000, end_ms, COUNT_EVERY_MS)),
        )
        conn.executemany(
            "INSERT INTO tag_batch (machine, ts, tags) VALUES (?, ?, ?)",
            (
                (machine, ts, doc)
                for ts in range(end_ms - TAG_DAYS * 86_400_000, end_ms, BATCH_EVERY_MS)
            ),
        )
    per_day = 86_400_000 / STATE_EVERY_MS + 86_400_000 / COUNT_EVERY_MS
    return end - timedelta(days=(ROW_CAP - 1_000) / per_day)


def requests(machine: str, now: datetime, oee_from: datetime) -> dict[str, tuple[str, dict]]:
    """The worst request of each kind the default limits allow."""
    far = (now - timedelta(days=DAYS) + timedelta(minutes=10)).isoformat()
    tag_from = now - timedelta(milliseconds=(ROW_CAP - 1_000) * BATCH_EVERY_MS)
    return {
        "states": (f"/api/v1/machines/{machine}/states", {"from": far}),
        "oee": (f"/api/v1/machines/{machine}/oee", {"from": oee_from.isoformat()}),
        "tag": (
            f"/api/v1/machines/{machine}/tags/code",
            {"from": tag_from.isoformat(), "every": "1h"},
        ),
    }


class Asker:
    """Clients asking for the worst requests back to back, until stopped; each answer's
    kind, status and seconds."""

    def __init__(self, base: str, asks: dict[str, tuple[str, dict]], clients: int) -> None:
        self.base, self.asks, self.clients = base, asks, clients
        self.answers: list[tuple[str, int, float]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(clients)]

    def _run(self, i: int) -> None:
        kinds = list(self.asks)
        with httpx.Client(base_url=self.base, timeout=300) as http:
            n = i
            while not self._stop.is_set():
                kind = kinds[n % len(kinds)]
                path, params = self.asks[kind]
                t0 = time.monotonic()
                r = http.get(path, params=params)
                self.answers.append((kind, r.status_code, time.monotonic() - t0))
                n += 1

    def __enter__(self) -> Asker:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()


class Streams:
    """`n` clients of `GET /api/v1/events` on raw sockets, read and dropped by one
    thread (so the clients cost the box little): the bytes they got and how many were
    refused (503: `max_event_clients`)."""

    def __init__(self, base: str, n: int) -> None:
        self.host, _, port = base.removeprefix("http://").partition(":")
        self.port, self.n = int(port), n
        self.bytes = self.refused = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)
        self.answers: list[tuple[str, int, float]] = []  # (as Asker's: none)
        self.asks: dict[str, tuple[str, dict]] = {}

    def _open(self) -> list[socket.socket]:
        request = f"GET /api/v1/events HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode()
        socks = []
        for _ in range(self.n):
            s = socket.create_connection((self.host, self.port), timeout=5)
            s.sendall(request)
            s.setblocking(False)
            socks.append(s)
        return socks

    def _run(self) -> None:
        socks = self._open()
        first = {s: True for s in socks}
        with selectors.DefaultSelector() as sel:
            for s in socks:
                sel.register(s, selectors.EVENT_READ)
            while not self._stop.is_set():
                for key, _ in sel.select(0.2):
                    s = key.fileobj
                    assert isinstance(s, socket.socket)
                    data = s.recv(262_144)
                    if first.pop(s, False) and data.startswith(b"HTTP/1.1 503"):
                        self.refused += 1
                    if not data:
                        sel.unregister(s)
                    self.bytes += len(data)
        for s in socks:
            s.close()

    def __enter__(self) -> Streams:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join(30)


def window(
    kind: str, running: Running, probe: Probe, seconds: float, load: Asker | Streams | None
) -> dict[str, Any]:
    probe.window()
    with Meter([running.pid]) as meter:
        if load is None:
            time.sleep(seconds)
        else:
            with load:
                time.sleep(seconds)
    row: dict[str, Any] = {"window": kind, "cpu_pct": meter.cpu_pct}
    row |= {"rss_mb": meter.rss_max / 2**20, "workers_mb": workers_peak_mb(running.pid)}
    row |= probe.figures().summary()
    if isinstance(load, Streams):
        row |= {"streams_mb": load.bytes / 2**20, "refused": load.refused}
    asker = load if isinstance(load, Asker) else None
    if asker is not None:
        for name in asker.asks:
            times = [s for k, status, s in asker.answers if k == name and status == 200]
            row[f"{name}_n"] = len(times)
            row[f"{name}_s"] = statistics.median(times) if times else float("nan")
        row["errors"] = sum(1 for _, status, _ in asker.answers if status != 200)
    return row


def workers_peak_mb(pid: int) -> float:
    """The summed peak RSS (VmHWM) of the gateway's child processes: its history
    workers (`api.offload`), which come and go."""
    total = 0
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in children.read_text().split():
            status = Path(f"/proc/{child}/status")
            for line in status.read_text().splitlines() if status.exists() else []:
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return total / 1024


COLUMNS = [
    ("jitter_p99_ms", "poll jitter p99 ms", "{:.1f}"),
    ("jitter_max_ms", "jitter max ms", "{:.1f}"),
    ("tags_p50_ms", "tags p50 ms", "{:.1f}"),
    ("tags_p99_ms", "tags p99 ms", "{:.1f}"),
    ("values_per_s", "values/s", "{:,.0f}"),
    ("cpu_pct", "CPU % of a core", "{:.0f}"),
    ("rss_mb", "peak RSS MB", "{:.0f}"),
    ("workers_mb", "workers' peak RSS MB", "{:.0f}"),
    ("states_n", "states pages", "{:.0f}"),
    ("states_s", "states s", "{:.2f}"),
    ("oee_n", "OEE ranges", "{:.0f}"),
    ("oee_s", "OEE s", "{:.2f}"),
    ("tag_n", "tag ranges", "{:.0f}"),
    ("tag_s", "tag s", "{:.2f}"),
    ("errors", "not 200", "{:.0f}"),
    ("streams_mb", "streams MB", "{:.1f}"),
    ("refused", "streams refused", "{:.0f}"),
]


def table(rows: list[dict[str, Any]], machines: int) -> str:
    head = ["window", *(c[1] for c in COLUMNS)]
    runs = len({r["run"] for r in rows})
    out = [f"{machines} machines, modbus, 30 tags every 1 s; medians of "
           f"{runs} runs of each window", "",
           "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]  # fmt: skip
    for kind in dict.fromkeys(r["window"] for r in rows):
        mine = [r for r in rows if r["window"] == kind]
        cells = []
        for key, _, fmt in COLUMNS:
            values = [r[key] for r in mine if key in r and r[key] == r[key]]
            cells.append(fmt.format(statistics.median(values)) if values else "")
        out.append(f"| {kind} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.history_load", description=__doc__)
    p.add_argument("--machines", type=int, default=200)
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--warmup", type=float, default=20.0)
    p.add_argument("--clients", type=int, default=3, help="2 run at once, 1 waits (default)")
    p.add_argument("--json", type=Path, help="also write every window's figures here")
    p.add_argument("--only", default=None, help="comma-separated kinds: states,oee,tag")
    p.add_argument("--streams", type=int, default=0, help="also windows with N event streams")
    args = p.parse_args(argv)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="oee-bench-history-") as tmp:
        workdir = Path(tmp)
        with rig("modbus", args.machines, 30, 1.0, workdir) as (setting, probe):
            machine = setting.load.machines[0].id
            now = datetime.now(UTC)
            oee_from = fill(workdir / "gateway-data" / "oee.sqlite", machine, 30, now)
            with gateway(setting) as running:
                time.sleep(args.warmup)
                base = running_base(workdir)
                asks = requests(machine, datetime.now(UTC), oee_from)
                if args.only:
                    asks = {k: v for k, v in asks.items() if k in args.only.split(",")}
                kinds = ["baseline", "history"] + (["streams"] if args.streams else [])
                for run in range(args.runs):
                    for kind in kinds:
                        load = {
                            "baseline": None,
                            "history": Asker(base, asks, args.clients),
                            "streams": Streams(base, args.streams),
                        }[kind]
                        row = window(kind, running, probe, args.seconds, load)
                        row["run"] = run
                        rows.append(row)
                        print(json.dumps(row), file=sys.stderr, flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    print(table(rows, args.machines))
    return 0


def running_base(workdir: Path) -> str:
    """The gateway's API address, from the config `bench.contenders.gateway` wrote."""
    import yaml

    config = yaml.safe_load((workdir / "gateway.yaml").read_text())
    return f"http://127.0.0.1:{config['api']['port']}"


if __name__ == "__main__":
    sys.exit(main())
