"""Modbus TCP frames of the four read functions, and the checks every answer must pass.

A request is an MBAP header (transaction id, protocol id 0, length, unit id) and a PDU
(function code, start, count). Only function codes 1-4 can be built here: the gateway
never writes to a PLC. An answer is data only if it fits its request exactly: same
unit id and function code, a byte count that matches both the count asked for and the
bytes that came. Anything else is a `BadAnswer` naming what did not fit; a header that
is not Modbus TCP at all is `BadFrame` (the stream cannot be trusted any further).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = [
    "HEADER_SIZE",
    "READ_FUNCTIONS",
    "BadAnswer",
    "BadFrame",
    "DeviceException",
    "Header",
    "ReadCall",
    "check_answer",
    "exception_name",
    "parse_header",
]

HEADER_SIZE = 7  # transaction id, protocol id, length (2 bytes each), unit id
READ_FUNCTIONS = {1: "coils", 2: "discrete inputs", 3: "registers", 4: "registers"}
_MAX_LENGTH = 254  # unit id + the largest PDU (253 bytes)
_MAX_COUNT = {1: 2000, 2: 2000, 3: 125, 4: 125}
_HEADER = struct.Struct(">HHHB")
_REQUEST = struct.Struct(">HHHBBHH")
_EXCEPTIONS = {
    1: "illegal_function",
    2: "illegal_address",
    3: "illegal_value",
    4: "device_failure",
    5: "acknowledge",
    6: "device_busy",
    7: "negative_acknowledge",
    8: "memory_parity_error",
    10: "gateway_path_unavailable",
    11: "gateway_no_response",
}


class BadAnswer(ValueError):
    """An answer that does not fit its request (the reason is the message)."""


class BadFrame(BadAnswer):
    """Bytes that are no Modbus TCP header: the rest of the stream cannot be framed."""


class DeviceException(Exception):
    """The device answered with a Modbus exception (`code`), e.g. 2: illegal address."""

    def __init__(self, code: int) -> None:
        super().__init__(f"exception {exception_name(code)}")
        self.code = code


@dataclass(frozen=True, slots=True)
class ReadCall:
    """One read request: `count` coils, inputs or registers of function `fc` from `start`."""

    unit: int
    fc: int
    start: int
    count: int

    def __post_init__(self) -> None:
        # Read functions only, within the protocol's limits: a bug here must not reach a PLC.
        if self.fc not in READ_FUNCTIONS:
            raise ValueError(f"function code {self.fc} is not a read")
        if not (1 <= self.count <= _MAX_COUNT[self.fc] and 0 <= self.start <= 0xFFFF):
            raise ValueError(f"cannot read {self.count} from {self.start}")
        if not 0 <= self.unit <= 0xFF:
            raise ValueError(f"unit id {self.unit} is not a byte")

    def encode(self, tid: int) -> bytes:
        """The request's bytes with transaction id `tid`."""
        return _REQUEST.pack(tid, 0, 6, self.unit, self.fc, self.start, self.count)

    @property
    def byte_count(self) -> int:
        """The byte count a correct answer carries."""
        return (self.count + 7) // 8 if self.fc in (1, 2) else 2 * self.count


@dataclass(frozen=True, slots=True)
class Header:
    """An answer's MBAP header; `rest` bytes (the PDU) follow it."""

    tid: int
    unit: int
    rest: int


def parse_header(raw: bytes, offset: int = 0) -> Header:
    """The header of the frame at `offset` of `raw` (at least `HEADER_SIZE` bytes from
    there); BadFrame if these bytes cannot be one."""
    tid, protocol, length, unit = _HEADER.unpack_from(raw, offset)
    if protocol != 0:
        raise BadFrame(f"protocol id 0x{protocol:04X}, expected 0 (not Modbus TCP?)")
    if not 2 <= length <= _MAX_LENGTH:
        raise BadFrame(f"frame length {length}, expected 2..{_MAX_LENGTH}")
    return Header(tid, unit, length - 1)


def check_answer(call: ReadCall, unit: int, pdu: bytes) -> list[int] | list[bool]:
    """The values of an answer to `call` (registers, or bits for coils/inputs).

    Raises DeviceException for an exception answer to this very request, BadAnswer for
    anything that does not fit it.
    """
    if unit != call.unit:
        raise BadAnswer(f"unit id {unit}, expected {call.unit}")
    if not pdu:
        raise BadAnswer("no function code")
    fc = pdu[0]
    if fc == call.fc | 0x80:
        if len(pdu) != 2:
            raise BadAnswer(f"exception answer of {len(pdu)} bytes, expected 2")
        raise DeviceException(pdu[1])
    if fc != call.fc:
        raise BadAnswer(f"function code {fc}, expected {call.fc}")
    if len(pdu) < 2:
        raise BadAnswer("no byte count")
    count, data = pdu[1], pdu[2:]
    if count != len(data):
        raise BadAnswer(f"byte count {count} but {len(data)} data bytes")
    if count != call.byte_count:
        what = READ_FUNCTIONS[call.fc]
        raise BadAnswer(f"byte count {count}, expected {call.byte_count} for {call.count} {what}")
    if call.fc in (1, 2):
        return [bool(data[i >> 3] >> (i & 7) & 1) for i in range(call.count)]
    return list(struct.unpack(f">{call.count}H", data))


def exception_name(code: int) -> str:
    """A Modbus exception code with its name, e.g. ``2 (illegal_address)``."""
    name = _EXCEPTIONS.get(code)
    return f"{code} ({name})" if name else str(code)
