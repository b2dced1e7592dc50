"""The gateway's configuration: one YAML file, validated by pydantic models.

This package is the configuration's one face: every model of the file is importable from
here (`from edge.config import Config, MachineConfig, MqttConfig`). They are defined where
they belong: a connector's own section beside its code (`connectors.modbus.config`,
`connectors.opcua.config`, `connectors.mqtt.config`, `connectors.influxdb.config`,
`connectors.sqlite.config`, TLS in `connectors.common.tls`), the root and outbox in
`edge.config.models`, a machine in `edge.config.machine` (its rules, counters and
products in `edge.config.rules`), the OEE model (calendars, lines, reasons, windows) in
`edge.config.oee`, the HTTP API's in `edge.config.api`. Reading a file (`${ENV}`
secrets, errors that name the field path) is `edge.config.loading`; re-reading it while
running is `edge.config.reload`.
"""

from connectors.common.tls import TlsConfig
from connectors.influxdb.config import InfluxConfig
from connectors.modbus.config import DataType, ModbusConnection, ModbusTag, RegisterTable, WordOrder
from connectors.mqtt.config import MqttConfig
from connectors.opcua.config import (
    Deadband,
    OpcUaAuth,
    OpcUaConnection,
    OpcUaSecurity,
    OpcUaTag,
    SecurityPolicyName,
)
from connectors.sqlite.config import SqliteConfig
from edge.config.alarms import AlarmRuleConfig, AlarmsConfig
from edge.config.api import ApiConfig, ApiKeyConfig, ApiLimits
from edge.config.machine import MachineConfig, TagConfig
from edge.config.models import Config, GatewayConfig, OutboxConfig
from edge.config.oee import (
    CALENDAR_WINDOWS,
    DEFAULT_CALENDAR,
    STOP_STATES,
    BreakConfig,
    CalendarConfig,
    LineConfig,
    OeeConfig,
    PlannedConfig,
    ReasonConfig,
    ShiftConfig,
    parse_duration,
    window_seconds,
)
from edge.config.operator import NOTE_MAX_CHARS, ScrapReasonConfig
from edge.config.orders import ChangeoverStandard, OrderIn, OrdersConfig
from edge.config.rules import (
    BoolRule,
    CodeMapRule,
    CounterConfig,
    CounterRule,
    CountersConfig,
    ProductConfig,
    StateRule,
)
from edge.config.spc import ChartConfig, SpcConfig
from edge.config.targets import LineTargetsConfig, TargetsConfig

__all__ = [
    "ChangeoverStandard",
    "OrderIn",
    "OrdersConfig",
    "LineTargetsConfig",
    "TargetsConfig",
    "AlarmRuleConfig",
    "AlarmsConfig",
    "CALENDAR_WINDOWS",
    "DEFAULT_CALENDAR",
    "STOP_STATES",
    "NOTE_MAX_CHARS",
    "ScrapReasonConfig",
    "ChartConfig",
    "SpcConfig",
    "ApiConfig",
    "ApiKeyConfig",
    "ApiLimits",
    "BoolRule",
    "BreakConfig",
    "CalendarConfig",
    "CodeMapRule",
    "Config",
    "CounterConfig",
    "CounterRule",
    "CountersConfig",
    "DataType",
    "Deadband",
    "GatewayConfig",
    "InfluxConfig",
    "LineConfig",
    "MachineConfig",
    "ModbusConnection",
    "ModbusTag",
    "MqttConfig",
    "OeeConfig",
    "OpcUaAuth",
    "OpcUaConnection",
    "OpcUaSecurity",
    "OpcUaTag",
    "OutboxConfig",
    "PlannedConfig",
    "ProductConfig",
    "ReasonConfig",
    "RegisterTable",
    "SecurityPolicyName",
    "ShiftConfig",
    "SqliteConfig",
    "StateRule",
    "TagConfig",
    "TlsConfig",
    "WordOrder",
    "parse_duration",
    "window_seconds",
]
