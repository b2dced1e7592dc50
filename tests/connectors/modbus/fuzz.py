"""Shared settings of the Modbus property tests (the fuzz target).

`make test` runs each property with `OEE_FUZZ_EXAMPLES` examples (default 200, a few
seconds); `make fuzz` runs the same properties with many more and prints Hypothesis'
statistics. A failure prints the smallest input that shows it; Hypothesis keeps it in
`.hypothesis/` and tries it first next time.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("OEE_FUZZ_EXAMPLES", "200"))

fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a loaded machine must not turn a slow example into a failure
    suppress_health_check=[HealthCheck.too_slow],
)
