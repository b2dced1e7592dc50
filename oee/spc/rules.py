"""Run rules: Western Electric 1–4 and Nelson 1–8, judged point by point in O(1).

Sources: Western Electric, Statistical Quality Control Handbook (1956), the four zone rules;
Nelson, L. S. (1984), "The Shewhart control chart — tests for special causes", J. Quality
Technology 16(4); Montgomery §5.3.6; the same conventions as R's qcc (R/rules.R).

Conventions (docs/SPC.md "Run rules"), on z = (value − centre)/σ of the plotted statistic:
- "beyond 3σ" (WE1, N1) is a point outside its control limits, strictly (value > UCL or
  value < LCL), so a point on a limit and a zero count under a clamped LCL are not;
- "beyond kσ" in the k-of-m rules is |z| > k strictly, on the side of the rule; the window
  must be full (m points since the last reset) and the point that completes it must itself
  be beyond, as in qcc;
- "on one side" means z > 0 or z < 0: a point exactly on the centre line breaks a run;
- "within 1σ" (N7) is |z| ≤ 1;
- trends (N3) and alternation (N4) compare plotted values; equal neighbours break them;
- N8 is Nelson's "8 in a row on both sides with none in zone C": all 8 beyond 1σ, with
  points on both sides among them;
- every point that completes a pattern reports it: a run of 10 on one side reports WE4 at
  its 8th, 9th and 10th points, each with the last 8 points.
`SPREAD` reports a spread point (MR, R or S) outside its own limits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from oee.spc.types import Point, RuleSet, Violation

__all__ = ["NAMES", "RuleTracker", "evaluate"]

NAMES = {
    "WE1": "1 point beyond 3σ",
    "WE2": "2 of 3 beyond 2σ on one side",
    "WE3": "4 of 5 beyond 1σ on one side",
    "WE4": "8 in a row on one side",
    "N1": "1 point beyond 3σ",
    "N2": "9 in a row on one side",
    "N3": "6 in a row steadily increasing or decreasing",
    "N4": "14 in a row alternating up and down",
    "N5": "2 of 3 beyond 2σ on one side",
    "N6": "4 of 5 beyond 1σ on one side",
    "N7": "15 in a row within 1σ",
    "N8": "8 in a row beyond 1σ on both sides",
    "SPREAD": "spread point beyond its limits",
}
_DEPTH = 15  # the longest pattern (N7)


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


class RuleTracker:
    """Judges points one at a time against a chart's run rules. O(1) per point: the last
    15 points in a ring buffer and the lengths of the current runs."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self._ids = [f"WE{r}" for r in sorted(rules.western_electric)] + [
            f"N{r}" for r in sorted(rules.nelson)
        ]
        self.reset()

    def reset(self) -> None:
        """Forget the history (after new limits: patterns start again)."""
        # (seq, z, value) of the last points, oldest first.
        self._ring: deque[tuple[int, float, float]] = deque(maxlen=_DEPTH)
        self._side = 0  # run on one side: its sign and length
        self._side_len = 0
        self._trend = 0  # run of equal-signed differences: its sign and length (points)
        self._trend_len = 0
        self._alt_len = 0  # points in the current alternating run
        self._last_diff = 0
        self._within = 0  # points in a row with |z| <= 1
        self._outside = 0  # points in a row with |z| > 1

    def add(self, seq: int, point: Point) -> list[Violation]:
        """Add the point numbered `seq`; the violations it completes, in rule order."""
        self._update(point)
        self._ring.append((seq, point.z, point.value))
        out = [v for rule in self._ids if (v := self._check(rule, seq, point)) is not None]
        if point.spread_beyond:
            out.append(Violation(rule="SPREAD", name=NAMES["SPREAD"], points=(seq,), side=None))
        return out

    def _update(self, point: Point) -> None:
        side = _sign(point.z)
        self._side_len = self._side_len + 1 if side and side == self._side else (1 if side else 0)
        self._side = side
        if self._ring:
            diff = _sign(point.value - self._ring[-1][2])
            self._trend_len = (
                self._trend_len + 1 if diff and diff == self._trend else (2 if diff else 1)
            )
            self._trend = diff
            alternates = diff and self._last_diff and diff == -self._last_diff
            self._alt_len = self._alt_len + 1 if alternates else (2 if diff else 1)
            self._last_diff = diff
        else:
            self._trend_len = self._alt_len = 1
        self._within = self._within + 1 if abs(point.z) <= 1 else 0
        self._outside = self._outside + 1 if abs(point.z) > 1 else 0

    def _last(self, k: int) -> tuple[int, ...]:
        ring = self._ring
        return tuple(ring[i][0] for i in range(len(ring) - k, len(ring)))

    def _k_of_m(
        self, k: int, m: int, sigma: float, point: Point
    ) -> tuple[tuple[int, ...], str] | None:
        side = _sign(point.z)
        if len(self._ring) < m or not abs(point.z) > sigma:
            return None
        window = [self._ring[i] for i in range(len(self._ring) - m, len(self._ring))]
        hits = tuple(s for s, z, _ in window if abs(z) > sigma and _sign(z) == side)
        return (hits, "+" if side > 0 else "-") if len(hits) >= k else None

    def _run(self, length: int, k: int) -> tuple[int, ...] | None:
        return self._last(k) if length >= k else None

    def _check(self, rule: str, seq: int, point: Point) -> Violation | None:
        side: str | None = "+" if point.z > 0 else "-" if point.z < 0 else None
        points: tuple[int, ...] | None = None
        if rule in ("WE1", "N1"):
            if point.zone.startswith("beyond"):
                points, side = (seq,), point.zone[-1]
        elif rule in ("WE2", "N5", "WE3", "N6"):
            k, m, sigma = (2, 3, 2.0) if rule in ("WE2", "N5") else (4, 5, 1.0)
            found = self._k_of_m(k, m, sigma, point)
            if found is not None:
                points, side = found
        elif rule in ("WE4", "N2"):
            points = self._run(self._side_len, 8 if rule == "WE4" else 9)
        elif rule == "N3":
            points = self._run(self._trend_len, 6)
            side = None if points is None else ("+" if self._trend > 0 else "-")
        elif rule == "N4":
            points, side = self._run(self._alt_len, 14), None
        elif rule == "N7":
            points, side = self._run(self._within, 15), None
        elif rule == "N8":
            points, side = self._both_sides(), None
        if points is None:
            return None
        return Violation(rule=rule, name=NAMES[rule], points=points, side=side)

    def _both_sides(self) -> tuple[int, ...] | None:
        if self._outside < 8:
            return None
        window = [self._ring[i] for i in range(len(self._ring) - 8, len(self._ring))]
        signs = {_sign(z) for _, z, _ in window}
        return tuple(s for s, _, _ in window) if signs == {1, -1} else None

    def state(self) -> dict[str, Any]:
        """The tracker's state, JSON-ready, for a checkpoint."""
        return {
            "western_electric": sorted(self.rules.western_electric),
            "nelson": sorted(self.rules.nelson),
            "ring": [list(r) for r in self._ring],
            "runs": [self._side, self._side_len, self._trend, self._trend_len, self._alt_len,
                     self._last_diff, self._within, self._outside],
        }  # fmt: skip

    @classmethod
    def from_state(cls, state: dict[str, Any], rules: RuleSet | None = None) -> RuleTracker:
        """A tracker restored from `state()`; `rules` (if given) replaces the saved rules."""
        saved = RuleSet(frozenset(state["western_electric"]), frozenset(state["nelson"]))
        tracker = cls(rules or saved)
        tracker._ring.extend((int(s), float(z), float(v)) for s, z, v in state["ring"])
        runs = [int(x) for x in state["runs"]]
        tracker._side, tracker._side_len, tracker._trend, tracker._trend_len = runs[:4]
        tracker._alt_len, tracker._last_diff, tracker._within, tracker._outside = runs[4:]
        return tracker


def evaluate(
    points: Sequence[Point], rules: RuleSet, seqs: Sequence[int] | None = None
) -> list[tuple[int, Violation]]:
    """The violations of a whole series (a Phase I baseline review, an API preview):
    (index into `points`, violation), the same as adding them one by one to a tracker.
    `seqs` numbers the points in the violations (default: their indexes)."""
    numbers = range(len(points)) if seqs is None else seqs
    if len(numbers) != len(points):
        raise ValueError(f"{len(numbers)} seqs for {len(points)} points")
    tracker = RuleTracker(rules)
    return [
        (i, v)
        for i, (seq, p) in enumerate(zip(numbers, points, strict=True))
        for v in tracker.add(seq, p)
    ]
