"""Jittered exponential backoff, shared by every connector's reconnect loop."""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    """Jittered exponential backoff between ``initial`` and ``maximum`` seconds."""

    def __init__(self, initial: float, maximum: float, rng: random.Random | None = None) -> None:
        self.initial, self.maximum = initial, max(initial, maximum)
        self._rng = rng or random.Random()
        self._attempt = 0

    def next(self) -> float:
        """The delay before the next attempt; each call doubles the base delay."""
        base = min(self.maximum, self.initial * 2.0 ** min(self._attempt, 62))
        self._attempt += 1
        # +-20 % jitter so that gateways restarted together do not reconnect in step.
        return min(self.maximum, max(self.initial, base * self._rng.uniform(0.8, 1.2)))

    def reset(self) -> None:
        """Back to ``initial`` after a success."""
        self._attempt = 0
