"""Serve a scenario's machines over Modbus TCP (pymodbus 3.16 SimDevice API).

One listening socket per port: machines without their own ``port`` share the
scenario's port, one unit id each. A background task advances the models on the
wall clock (``sim_t = elapsed wall seconds * time_scale``, or the time since the
scenario's ``epoch``: see `simulators.clock`). A request re-encodes its machine's
registers (16 live ones + its ``extra_tags``) only if the model has moved since they
were last encoded, and copies that image into the device's register list (pymodbus'
``action`` hook): encoding every machine at every tick cost more than serving the
reads (7 % of a core for 250 machines nobody read).

Usage::

    async with serve_modbus(load_scenario("demo"), port=0) as sim:
        print(sim.host, sim.port)          # the actual bound port
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from simulators.clock import SimClock
from simulators.lifecycle import serving
from simulators.registers import (
    LIVE_COUNT,
    PART_RECORD_COUNT,
    PART_RECORD_START,
    TEST_PATTERN,
    TEST_PATTERN_START,
    coil_word,
    machine_registers,
    part_record,
)
from simulators.scenario import MachineSpec, Scenario

UPDATE_INTERVAL_S = 0.05
_BIT_FCS = {1, 2, 5, 15}


@dataclass
class _Image:
    """The encoded registers of one machine, as its model stood at `sim_t`."""

    holding: list[int] = field(default_factory=lambda: [0] * LIVE_COUNT)
    bits: int = 0
    record: list[int] = field(default_factory=lambda: [0] * PART_RECORD_COUNT)  # 136-139
    sim_t: float = -1.0  # before any model time: not encoded yet


@dataclass(frozen=True)
class Endpoint:
    """Where one machine is served."""

    machine_id: str
    unit_id: int
    host: str
    port: int


class ModbusSimulator:
    """A running simulator: models, bound ports and the clock that drives them."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.models = {m.id: scenario.model(m.id) for m in scenario.machines}
        self._images = {m.id: _Image() for m in scenario.machines}
        self._servers: dict[int | None, ModbusTcpServer] = {}
        self.endpoints: list[Endpoint] = []
        self._clock = SimClock(scenario.time_scale, scenario.epoch)
        self.refresh()

    @property
    def host(self) -> str:
        """The address the servers listen on."""
        return self.scenario.host

    @property
    def port(self) -> int:
        """The bound scenario port (the first machine's port if all have their own)."""
        if None in self._servers:
            return _bound_port(self._servers[None])
        return self.endpoints[0].port

    @property
    def ports(self) -> dict[str, int]:
        """Bound port per machine id."""
        return {e.machine_id: e.port for e in self.endpoints}

    def sim_time(self) -> float:
        """Simulated seconds since the simulator started (or since the epoch)."""
        return self._clock()

    def refresh(self) -> None:
        """Advance every model to the current sim time (its registers are re-encoded
        when next read)."""
        sim_t = self.sim_time()
        for model in self.models.values():
            model.advance_to(sim_t)

    def _image(self, machine_id: str) -> _Image:
        """The machine's registers as its model stands, encoded at most once per step
        of the model (a machine read 10 times between two ticks is encoded once)."""
        model = self.models[machine_id]
        image = self._images[machine_id]
        if image.sim_t != model.sim_t:
            snap = model.snapshot()
            image.holding = machine_registers(snap, model.params.extra_tags)
            image.bits = coil_word(snap)
            image.record = part_record(snap)
            image.sim_t = snap.sim_t
        return image

    async def start(self) -> None:
        """Bind one server per port; raise OSError if a port cannot be bound."""
        groups: dict[int | None, list[MachineSpec]] = {}
        for spec in self.scenario.machines:
            groups.setdefault(spec.port, []).append(spec)
        for own_port, specs in groups.items():
            port = self.scenario.port if own_port is None else own_port
            devices = [self._device(s) for s in specs] + [_unknown_unit_device()]
            server = ModbusTcpServer(devices, address=(self.scenario.host, port))
            if not await server.listen():
                raise OSError(f"cannot listen on {self.scenario.host}:{port}")
            self._servers[own_port] = server
            bound = _bound_port(server)
            self.endpoints += [Endpoint(s.id, s.unit_id, self.host, bound) for s in specs]

    async def stop(self) -> None:
        """Close every listening socket and connection."""
        for server in self._servers.values():
            await server.shutdown()
        self._servers.clear()

    async def run_clock(self, interval_s: float = UPDATE_INTERVAL_S) -> None:
        """Advance the models every `interval_s` wall seconds, forever."""
        while True:
            self.refresh()
            await asyncio.sleep(interval_s)

    def _device(self, spec: MachineSpec) -> SimDevice:
        async def action(
            func_code: int,
            _start: int,
            _address: int,
            _count: int,
            registers: list[int],
            _values: list[int] | list[bool] | None,
        ) -> ExcCodes | None:
            # Both blocks start at address 0, so index 0 is register/coil-word 0. One
            # image per request: the values of one read come from one model snapshot.
            image = self._image(spec.id)
            if func_code in _BIT_FCS:
                registers[0] = image.bits
            else:
                registers[0 : len(image.holding)] = image.holding
                if len(registers) > PART_RECORD_START:  # the holding registers' list
                    end = PART_RECORD_START + PART_RECORD_COUNT
                    registers[PART_RECORD_START:end] = image.record
            return None

        blocks = _register_blocks(LIVE_COUNT + spec.params.extra_tags)
        return SimDevice(id=spec.unit_id, simdata=blocks, action=action)


def _register_blocks(
    live_count: int,
) -> tuple[list[SimData], list[SimData], list[SimData], list[SimData]]:
    """Coils, discrete inputs, holding and input registers of one machine.

    Addresses outside these blocks (holding 16..99, 140.., input 16.., coils 16..)
    are invalid, so pymodbus answers exception 02. All read-only: the gateway
    never writes, and a write must not be silently overwritten by the next update.
    """

    def bits() -> list[SimData]:
        # Non-shared blocks use bit addressing in 16-bit words: coils 0..15.
        return [SimData(0, values=[False] * 16, datatype=DataType.BITS, readonly=True)]

    def live() -> SimData:
        return SimData(0, values=[0] * live_count, datatype=DataType.REGISTERS, readonly=True)

    pattern = SimData(
        TEST_PATTERN_START,
        values=list(TEST_PATTERN),
        datatype=DataType.REGISTERS,
        readonly=True,
    )
    record = SimData(
        PART_RECORD_START,
        values=[0] * PART_RECORD_COUNT,
        datatype=DataType.REGISTERS,
        readonly=True,
    )
    return (bits(), bits(), [live(), pattern, record], [live()])


def _unknown_unit_device() -> SimDevice:
    """Catch-all (id 0) for unit ids no machine has: exception 0x0B, like a gateway."""

    async def no_such_unit(*_args: object) -> ExcCodes:
        return ExcCodes.GATEWAY_NO_RESPONSE

    block = SimData(0, count=65536, datatype=DataType.REGISTERS)
    return SimDevice(id=0, simdata=[block], action=no_such_unit)


def _bound_port(server: ModbusTcpServer) -> int:
    # pymodbus keeps the listening asyncio.Server as its "transport".
    listener = server.transport
    if not isinstance(listener, asyncio.Server):
        raise RuntimeError("modbus server is not listening")
    return int(listener.sockets[0].getsockname()[1])


@asynccontextmanager
async def serve_modbus(
    scenario: Scenario,
    *,
    port: int | None = None,
    time_scale: float | None = None,
    update_interval_s: float = UPDATE_INTERVAL_S,
    epoch: float | None = None,
) -> AsyncIterator[ModbusSimulator]:
    """Serve `scenario` until the block exits; yields the running ModbusSimulator.

    `port` / `time_scale` / `epoch` override the scenario's (port 0 picks a free port;
    read the actual one from ``sim.port`` / ``sim.ports``). Sim time 0 is entry, or
    the `epoch` (Unix seconds; ScenarioError if it is in the future).
    """
    overridden = scenario.with_overrides(port=port, time_scale=time_scale, epoch=epoch)
    sim = ModbusSimulator(overridden)
    async with serving(sim, update_interval_s):
        yield sim
