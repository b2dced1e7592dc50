"""The embedded SQLite store, used when no InfluxDB is configured: the sink and history
reader (`store`), its schema, migrations and row codec (`schema`), retention (`retention`),
the WAL file both it and the outbox open (`file`) and the config model (`config`)."""
