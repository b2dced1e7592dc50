"""oee-edge: the daemon: its configuration (`config`), command line (`cli`), logs
(`logs`), pipeline (`pipeline`), engines (`engines`) and durable outbox (`outbox`)."""

__version__ = "0.1.0"
