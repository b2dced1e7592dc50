"""Node ids in every textual form, with `nsu=<namespace uri>` resolved per connection.

A namespace index is only valid for one server run: servers may reorder their
namespace array on restart, so configs should name namespaces by URI and we resolve
them to indices at each connect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from asyncua import ua

from connectors.opcua.errors import NodeIdError

__all__ = ["NodeRef", "parse_node_ref", "to_nsu"]


@dataclass(frozen=True, slots=True)
class NodeRef:
    """A configured node id: the identifier part (`s=...`, `i=...`, `g=...`, `b=...`) and
    its namespace, by URI (`nsu=`) or by index (`ns=`, default 0)."""

    text: str
    identifier: str
    namespace_uri: str | None = None
    namespace_index: int = 0

    def resolve(self, namespaces: Sequence[str]) -> ua.NodeId:
        """The NodeId on a server whose namespace array is `namespaces`."""
        index = self.namespace_index
        if self.namespace_uri is not None:
            try:
                index = list(namespaces).index(self.namespace_uri)
            except ValueError:
                known = ", ".join(f"{i}: {u}" for i, u in enumerate(namespaces))
                raise NodeIdError(
                    f"{self.text}: the server has no namespace '{self.namespace_uri}' "
                    f"(it has {known})"
                ) from None
        try:
            return ua.NodeId.from_string(f"ns={index};{self.identifier}")
        except (ValueError, ua.UaError) as exc:
            raise NodeIdError(f"{self.text}: not a valid node id ({exc})") from None


def parse_node_ref(text: str) -> NodeRef:
    """Parse `ns=2;s=A`, `i=85`, `nsu=urn:x;s=A`, `ns=1;g=<guid>`, `ns=1;b=<base64>`."""
    head, sep, rest = text.partition(";")
    uri, index, ident = None, 0, text
    if sep and head.startswith("nsu="):
        uri, ident = head[4:], rest
    elif sep and head.startswith("ns="):
        if not head[3:].isdigit():
            raise NodeIdError(f"{text}: namespace index '{head[3:]}' is not a number")
        index, ident = int(head[3:]), rest
    ref = NodeRef(text, ident, uri, index)
    # Validate the identifier part now (against a dummy namespace) so bad config fails early.
    if uri is None:
        ref.resolve(())
    else:
        NodeRef(text, ident).resolve(())
    return ref


def to_nsu(node_id: ua.NodeId, namespaces: Sequence[str]) -> str:
    """`node_id` in the portable `nsu=<uri>;...` form (plain `i=...` for namespace 0)."""
    text = node_id.to_string()
    if node_id.NamespaceIndex == 0 or node_id.NamespaceIndex >= len(namespaces):
        return text
    ident = text.split(";", 1)[1] if text.startswith("ns=") else text
    return f"nsu={namespaces[node_id.NamespaceIndex]};{ident}"
