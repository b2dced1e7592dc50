"""The HTTP webhook sink: each alarm change POSTed as JSON through the durable outbox."""
