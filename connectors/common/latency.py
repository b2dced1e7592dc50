"""A fixed-bucket latency histogram cheap enough for the poll loop (a Prometheus histogram
without `prometheus_client`).

500 machines polled every second leave ~35 µs per tag for everything, so an observation
is one `bisect` into a constant tuple and two additions (~0.3 µs); `/metrics` does the
cumulative sums when it is scraped. Single-threaded by design: the event loop owns it.
"""

from __future__ import annotations

from bisect import bisect_left

__all__ = ["POLL_BUCKETS_S", "LatencyHistogram"]

# Upper bounds (seconds) from 1 ms (one loopback request) to 5 s (a device timing out).
POLL_BUCKETS_S: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)  # fmt: skip


class LatencyHistogram:
    """Counts of observations per bucket (`le` inclusive, as Prometheus defines it) and
    their sum; the last count is the +Inf bucket's own."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...] = POLL_BUCKETS_S) -> None:
        if list(bounds) != sorted(set(bounds)):
            raise ValueError(f"bucket bounds must be strictly increasing: {bounds}")
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        """Record one duration. `bisect_left` puts a value equal to a bound in that bound's
        bucket (`le` means less than or equal)."""
        self.counts[bisect_left(self.bounds, seconds)] += 1
        self.sum += seconds

    @property
    def count(self) -> int:
        """Observations so far."""
        return sum(self.counts)

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, observations at or below it) per bucket, ending with +Inf."""
        out: list[tuple[float, int]] = []
        total = 0
        for bound, n in zip((*self.bounds, float("inf")), self.counts, strict=True):
            total += n
            out.append((bound, total))
        return out
