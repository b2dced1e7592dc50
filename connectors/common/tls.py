"""TLS for a client connection (MQTT, InfluxDB): its config model."""

from __future__ import annotations

from pathlib import Path

from core.config import Model

__all__ = ["TlsConfig"]


class TlsConfig(Model):
    """TLS for a client connection. With none of the files set, the system CA store is used."""

    enabled: bool = True
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure_skip_verify: bool = False
