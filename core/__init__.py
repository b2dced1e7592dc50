"""What every stage of the pipeline speaks, shared by `edge/`, `connectors/` and `api/`:
the data types (`core.types`: samples, events), the outbox's records (`core.records`),
the stage interfaces (`core.interfaces`) and the base of the config models
(`core.config`). It imports nothing of ours but `oee`, so a connector can use it without
importing the daemon.
"""
