"""oee-edge: the daemon (config, data types, normaliser, pipeline, CLI)."""

__version__ = "0.1.0"
