"""The few exceptions the OPC UA connector raises; asyncua's own stop at this boundary."""

from __future__ import annotations


class OpcUaError(Exception):
    """Something about an OPC UA server or node that a person has to fix or wait out."""


class OpcUaConnectError(OpcUaError):
    """The endpoint cannot be reached, or the session could not be opened."""


class OpcUaTrustError(OpcUaError):
    """A certificate is not trusted: the server's by us, or ours by the server."""


class OpcUaAuthError(OpcUaError):
    """The server refused the user identity (wrong password, unknown certificate...)."""


class NodeIdError(OpcUaError):
    """A node id that cannot be parsed or resolved on this server."""
