"""Helpers shared by the connectors (and by the daemon's journal and the API): jittered
backoff, logging an outage once, bounded gathers, the poll-duration histogram, TLS,
RFC 3339 timestamps and the OEE details document the sinks write."""
