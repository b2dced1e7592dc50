"""InfluxDB (v1, v2, 3.x): the sink (`sink`: line protocol through the durable outbox,
delivered by `drain`, one request and its verdict in `write`, refused lines in
`quarantine`), the codec (`lineprotocol`), the history reader over InfluxQL (`influxql`)
and the config model (`config`)."""
