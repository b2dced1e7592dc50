"""Configuration models of a Modbus TCP connection and its tags (a machine's `modbus:`
and `tags:`; `edge.config` assembles them into the whole configuration)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from core.config import Interval, Model, Offset, Port, Scale, Timeout, check_order, within

__all__ = [
    "LAST_ADDRESS",
    "DataType",
    "ModbusConnection",
    "ModbusTag",
    "RegisterTable",
    "WordOrder",
]

#: The last register (and coil) of the Modbus address space, 0-based.
LAST_ADDRESS = 65535


class RegisterTable(StrEnum):
    HOLDING = "holding"
    INPUT = "input"
    COIL = "coil"
    DISCRETE = "discrete"

    @property
    def is_bit(self) -> bool:
        return self in (RegisterTable.COIL, RegisterTable.DISCRETE)

    @property
    def function_code(self) -> int:
        """The Modbus function that reads this table (1-4; the gateway only reads)."""
        return _READ_FUNCTION[self.value]


_READ_FUNCTION = {"coil": 1, "discrete": 2, "holding": 3, "input": 4}


class DataType(StrEnum):
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    UINT64 = "uint64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    BIT = "bit"  # one bit of a register (with `bit`), or a coil / discrete input
    STRING = "string"

    @property
    def words(self) -> int:
        return {"int32": 2, "uint32": 2, "float32": 2, "int64": 4, "uint64": 4, "float64": 4}.get(
            self.value, 1
        )


class WordOrder(StrEnum):
    """Byte order of a multi-register value, letters naming bytes from most significant.

    ABCD big-endian (Modbus default), DCBA little-endian, BADC bytes swapped within each
    word, CDAB words swapped (common on Schneider/Siemens 32-bit values).
    """

    ABCD = "ABCD"
    DCBA = "DCBA"
    BADC = "BADC"
    CDAB = "CDAB"


class ModbusTag(Model):
    """One value read from a Modbus device."""

    table: RegisterTable = RegisterTable.HOLDING
    # 65536 is the last register in 1-based addressing; `span_problem` checks the span.
    address: Annotated[int, within(0, 65536)]
    type: DataType = DataType.UINT16
    order: WordOrder = WordOrder.ABCD
    bit: Annotated[int, within(0, 15)] | None = None
    length: Annotated[int, within(1, 123, "registers")] | None = Field(
        default=None, description="registers, for strings"
    )
    scale: Scale = 1.0
    offset: Offset = 0.0

    @model_validator(mode="before")
    @classmethod
    def _bit_tables_hold_bits(cls, data: Any) -> Any:
        bit_table = isinstance(data, dict) and data.get("table") in ("coil", "discrete")
        if bit_table and data.setdefault("type", "bit") != "bit":
            raise ValueError(
                f"a {data['table']} holds single bits: use type: bit (not {data['type']})"
            )
        return data

    @model_validator(mode="after")
    def _check_shape(self) -> ModbusTag:
        if self.type is DataType.STRING and self.length is None:
            raise ValueError("a string tag needs `length` (number of registers, 2 chars each)")
        if self.type is DataType.BIT and not self.table.is_bit and self.bit is None:
            raise ValueError("type: bit on a register needs `bit` (0 = least significant)")
        return self

    @property
    def words(self) -> int:
        """Registers (or bits, for coils/discrete inputs) this tag spans."""
        if self.table.is_bit:
            return 1
        if self.type is DataType.STRING:
            assert self.length is not None
            return self.length
        return self.type.words


class ModbusConnection(Model):
    """A Modbus TCP device (one unit id behind one host:port)."""

    host: str
    port: Port = 502
    unit_id: Annotated[int, within(0, 255)] = 1
    timeout_s: Timeout = 2.0
    poll_interval_s: Interval = 1.0
    poll_phase: float | None = Field(
        default=None,
        ge=0,
        lt=1,
        description="where in the interval the polls fall (0..1, from the wall-clock "
        "multiples); default: the Modbus machines spread over up to 20 slots (one per 25 "
        "machines), so their reads do not all queue up at once",
    )
    addressing: Literal[0, 1] = Field(
        default=0, description="1 if the addresses in `tags` are 1-based (as in many PLC manuals)"
    )
    max_registers_per_read: Annotated[int, within(1, 125, "registers")] = 125
    max_bits_per_read: Annotated[int, within(1, 2000, "bits")] = 2000
    max_gap: Annotated[int, within(0, 65535, "registers")] = Field(
        default=16, description="unused registers a read may span to join two tags"
    )
    backoff_initial_s: Interval = 0.5
    backoff_max_s: Interval = 30.0

    @model_validator(mode="after")
    def _backoff_grows(self) -> ModbusConnection:
        check_order(
            self.backoff_initial_s, "backoff_initial_s", self.backoff_max_s, "backoff_max_s"
        )
        return self

    def span_problem(self, tag: ModbusTag) -> str | None:
        """Why `tag` cannot be read over this connection (None: it can): address 0 in
        1-based addressing, a span past register 65535, more than one read may carry."""
        start = tag.address - self.addressing
        limit = self.max_bits_per_read if tag.table.is_bit else self.max_registers_per_read
        if start < 0:
            return "address 0 does not exist with 1-based addressing (addressing: 1)"
        if start + tag.words - 1 > LAST_ADDRESS:
            end = LAST_ADDRESS + self.addressing  # the last address as the tags write it
            if tag.words == 1:
                return f"{tag.address} is past the last Modbus address {end}"
            return (
                f"a {tag.type.value} at {tag.address} spans {tag.words} registers, past the "
                f"last Modbus address {end}: its address can be {end - tag.words + 1} at most"
            )
        if tag.words > limit:
            return f"spans {tag.words} registers, more than one read allows ({limit})"
        return None
