"""Reading the config file and its secret files, whatever they hold: bounded in size,
UTF-8 only, and YAML whose aliases cannot expand into millions of values.

A refusal says where (the file, the line) and never what (a secret's bytes stay out of
every message). The caps are far above a real configuration: the benchmark's 500
machines of 30 tags each are 0.95 MB and 145 000 values.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.error import MarkedYAMLError
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, SequenceNode

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_DEPTH",
    "MAX_SECRET_BYTES",
    "MAX_VALUES",
    "NotUtf8",
    "Refused",
    "TooLarge",
    "decode_utf8",
    "load_yaml",
    "read_limited",
    "size_text",
]

#: A config file larger than this is refused before it is parsed.
MAX_CONFIG_BYTES = 4 * 1024 * 1024
#: A `${file:…}` secret larger than this is refused (a password, a token, a key).
MAX_SECRET_BYTES = 64 * 1024
#: Values (scalars, lists, mappings) in the document once every alias is expanded: each
#: costs about a kilobyte on its way to the models, so this bounds memory (~300 MB).
MAX_VALUES = 300_000
#: Nesting levels; a config nests about 7 (machines[0].tags.speed.deadband.value).
MAX_DEPTH = 32

_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")


class TooLarge(Exception):
    """A file larger than the limit it was read with."""


class NotUtf8(Exception):
    """A file that is not UTF-8 text: where the first bad byte is, never which it is."""

    def __init__(self, line: int, column: int) -> None:
        super().__init__(f"line {line}, column {column}: not UTF-8 text")
        self.line, self.column = line, column


class Refused(MarkedYAMLError):
    """YAML that parses but is refused (an alias bomb, too many values, too deep)."""


def read_limited(path: Path, limit: int) -> bytes:
    """The bytes of `path`, never more than `limit` of them (whatever the file is, even
    /dev/zero). Raises OSError, or TooLarge."""
    with path.open("rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"{path} is larger than {limit} bytes")
    return data


def decode_utf8(data: bytes) -> str:
    """`data` as UTF-8 text. Raises NotUtf8 (whose message and cause hold none of the
    bytes: a UnicodeDecodeError's repr shows them all, and they may be a secret)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line_start = data.rfind(b"\n", 0, e.start) + 1
        column = len(data[line_start : e.start].decode("utf-8", errors="replace")) + 1
        line = data.count(b"\n", 0, e.start) + 1
    raise NotUtf8(line, column)


def size_text(limit: int) -> str:
    """`4 MiB`, `64 KiB`: a limit as people read it."""
    return f"{limit // 2**20} MiB" if limit >= 2**20 else f"{limit // 2**10} KiB"


def load_yaml(text: str) -> Any:
    """The one YAML document in `text`, as plain Python (a SafeLoader: no arbitrary
    objects). Raises yaml.YAMLError; `Refused` for a document too large or too deep."""
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


class _Loader(yaml.SafeLoader):
    """YAML 1.1 without base-60 numbers: unquoted `14:00` stays the text "14:00" (as in
    YAML 1.2), not the integer 840, so times of day need no quotes. Composing counts the
    values with every alias expanded, so "billion laughs" stops at the alias that would
    pass MAX_VALUES, in microseconds, instead of expanding in the models."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._values = 0
        self._depth = 0
        self._open: set[str] = set()  # anchors whose node is still being composed
        self._sizes: dict[int, int] = {}  # id(node) -> its values, aliases expanded

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            return self._alias(event, parent, index)
        self._count(1, event.start_mark, None)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            msg = f"nested deeper than {MAX_DEPTH} levels; a gateway's configuration nests far less"
            raise Refused(None, None, msg, event.start_mark)  # type: ignore[arg-type]
        if event.anchor is not None:
            self._open.add(event.anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open.discard(event.anchor or "")

    def _alias(self, event: AliasEvent, parent: Node | None, index: Any) -> Node | None:
        anchor, mark = event.anchor, event.start_mark  # a Python event: a yaml.error.Mark
        if anchor in self._open:
            msg = f"*{anchor} repeats the part that holds it; an alias repeats a finished part"
            raise Refused(None, None, msg, mark)  # type: ignore[arg-type]
        node = super().compose_node(parent, index)  # the anchored node, or an error
        if node is not None:
            self._count(self._size(node), mark, anchor)
        return node

    def _count(self, values: int, mark: Any, anchor: str | None) -> None:
        self._values += values
        if self._values <= MAX_VALUES:
            return
        if anchor is None:
            msg = f"the document holds more than {MAX_VALUES} values"
        else:
            msg = f"*{anchor} expands the document past {MAX_VALUES} values (nested aliases)"
        raise Refused(None, None, f"{msg}; a gateway's configuration holds far fewer", mark)

    def _size(self, node: Node) -> int:
        """Values in `node` with its aliases expanded (memoised: linear in the file)."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        size = 1
        if isinstance(node, SequenceNode):
            size += sum(self._size(child) for child in node.value)
        elif isinstance(node, MappingNode):
            size += sum(self._size(k) + self._size(v) for k, v in node.value)
        self._sizes[id(node)] = size
        return size


_Loader.yaml_implicit_resolvers = {
    first: ([("tag:yaml.org,2002:str", _SEXAGESIMAL)] if first in "+-0123456789" else [])
    + resolvers
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
