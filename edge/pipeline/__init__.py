"""The pipeline: connector -> `SampleBatch` -> normaliser -> events -> engines ->
journal/outbox -> sinks and the live view.

`gateway` runs it (one task group); `components` builds its parts from the config
through explicit registries (sources, sinks, engines); `normaliser` turns a machine's raw
tags into state changes and counts, `checkpoint` keeps its state across restarts; `live`
is the view the API reads; `telemetry` the gateway's own figures for /metrics.
"""
