"""The durable outbox and its journal: every record a durable sink (MQTT, InfluxDB) is to
deliver is committed to one SQLite file (`queue.Outbox`) before the pipeline goes on, the
records of every durable sink of one emit and the normalisers' checkpoints in one
transaction (`journal.Journal`); each sink delivers its queue from there and acks what
was delivered.
"""

from core.records import Entry, Priority, Record, SinkDepth
from edge.outbox.journal import Journal, JournalStats
from edge.outbox.queue import Outbox, OutboxStats

__all__ = [
    "Entry",
    "Journal",
    "JournalStats",
    "Outbox",
    "OutboxStats",
    "Priority",
    "Record",
    "SinkDepth",
]
