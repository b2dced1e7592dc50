"""Configuration models of a Modbus TCP connection and its tags (a machine's `modbus:`
and `tags:`; `edge.config` assembles them into the whole configuration)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, model_validator

from core.config import Model

__all__ = ["DataType", "ModbusConnection", "ModbusTag", "RegisterTable", "WordOrder"]


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
    address: int = Field(ge=0, le=65536)
    type: DataType = DataType.UINT16
    order: WordOrder = WordOrder.ABCD
    bit: int | None = Field(default=None, ge=0, le=15)
    length: int | None = Field(default=None, ge=1, le=123, description="registers, for strings")
    scale: float = 1.0
    offset: float = 0.0

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
    port: int = Field(default=502, ge=1, le=65535)
    unit_id: int = Field(default=1, ge=0, le=255)
    timeout_s: float = Field(default=2.0, gt=0)
    poll_interval_s: float = Field(default=1.0, gt=0)
    poll_phase: float | None = Field(
        default=None,
        ge=0,
        lt=1,
        description="where in the interval the polls fall (0..1, from the wall-clock "
        "multiples); default: the Modbus machines spread over 20 slots, so their reads "
        "do not all queue up at once",
    )
    addressing: Literal[0, 1] = Field(
        default=0, description="1 if the addresses in `tags` are 1-based (as in many PLC manuals)"
    )
    max_registers_per_read: int = Field(default=125, ge=1, le=125)
    max_bits_per_read: int = Field(default=2000, ge=1, le=2000)
    max_gap: int = Field(
        default=16, ge=0, description="unused registers a read may span to join two tags"
    )
    backoff_initial_s: float = Field(default=0.5, gt=0)
    backoff_max_s: float = Field(default=30.0, gt=0)
