"""Configuration models of an OPC UA connection and its tags (a machine's `opcua:`;
`edge.config` assembles them into the whole configuration)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from core.config import Interval, Model, Offset, Scale, Timeout, check_order, within

__all__ = ["Deadband", "OpcUaAuth", "OpcUaConnection", "OpcUaSecurity", "OpcUaTag"]

_NODE_ID = re.compile(r"^(nsu=[^;]+;|ns=\d+;)?(i=\d+|s=.+|g=[0-9A-Fa-f-]{36}|b=[A-Za-z0-9+/=]*)$")


class Deadband(Model):
    """Report a value only when it moved by more than `value` (absolute units or % of range)."""

    type: Literal["absolute", "percent"] = "absolute"
    value: Annotated[float, within(0, 1e12)]

    @model_validator(mode="after")
    def _percent_of_range(self) -> Deadband:
        if self.type == "percent" and self.value > 100:
            raise ValueError(f"a percent deadband is 0 to 100 (of the EURange), not {self.value:g}")
        return self


class OpcUaTag(Model):
    """One OPC UA variable. `node` in any standard form; `nsu=` is resolved at each connect."""

    node: str = Field(description="e.g. ns=2;s=Press1.State, ns=3;i=1001, nsu=urn:plc;s=Speed")
    # OPC UA indexes arrays with an Int32.
    index: Annotated[int, within(0, 2**31 - 1)] | None = Field(
        default=None, description="element of an array value"
    )
    field: str | None = Field(default=None, description="field of a structure value")
    deadband: Deadband | None = None
    scale: Scale = 1.0
    offset: Offset = 0.0

    @field_validator("node")
    @classmethod
    def _node_id(cls, v: str) -> str:
        if not _NODE_ID.match(v.strip()):
            raise ValueError(
                f"'{v}' is not an OPC UA node id: write ns=2;s=Name, ns=2;i=1001, "
                "ns=2;g=<guid>, ns=2;b=<base64> or nsu=<namespace uri>;s=Name"
            )
        return v.strip()


SecurityPolicyName = Literal[
    "None", "Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"
]


class OpcUaSecurity(Model):
    """Secure channel. The gateway's own certificate is created once under
    `{gateway.data_dir}/pki/own/` and reused; server certificates must be in `trust_dir`
    (default `{gateway.data_dir}/pki/trusted/`) or match `server_fingerprint`."""

    policy: SecurityPolicyName = "None"
    mode: Literal["None", "Sign", "SignAndEncrypt"] | None = Field(
        default=None, description="default: None without a policy, else SignAndEncrypt"
    )
    trust_dir: Path | None = None
    server_fingerprint: str | None = Field(
        default=None,
        pattern=r"^[0-9A-Fa-f]{2}(:?[0-9A-Fa-f]{2}){31}$",
        description="SHA-256 of the server certificate (hex, colons optional) to trust",
    )
    certificate: Path | None = Field(default=None, description="own certificate (DER or PEM)")
    private_key: Path | None = Field(default=None, description="own private key (PEM)")

    @model_validator(mode="after")
    def _consistent(self) -> OpcUaSecurity:
        mode = self.effective_mode
        if (self.policy == "None") != (mode == "None"):
            raise ValueError(
                f"security policy {self.policy} needs mode "
                f"{'None' if self.policy == 'None' else 'Sign or SignAndEncrypt'} (got {mode})"
            )
        if (self.certificate is None) != (self.private_key is None):
            raise ValueError("set both `certificate` and `private_key`, or neither (generated)")
        return self

    @property
    def effective_mode(self) -> str:
        if self.mode is not None:
            return self.mode
        return "None" if self.policy == "None" else "SignAndEncrypt"


class OpcUaAuth(Model):
    """User identity: anonymous (nothing set), username/password, or an X.509 certificate."""

    username: str | None = None
    password: SecretStr | None = None
    certificate: Path | None = None
    private_key: Path | None = None

    @model_validator(mode="after")
    def _one_identity(self) -> OpcUaAuth:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together (password: ${OPCUA_PASSWORD})")
        if (self.certificate is None) != (self.private_key is None):
            raise ValueError("a user certificate needs its private_key")
        if self.username is not None and self.certificate is not None:
            raise ValueError("choose one identity: username/password or certificate")
        return self

    @property
    def kind(self) -> Literal["anonymous", "username", "certificate"]:
        if self.username is not None:
            return "username"
        return "certificate" if self.certificate is not None else "anonymous"


class OpcUaConnection(Model):
    """An OPC UA server, read by subscription (default) or by polling batched reads."""

    endpoint: str = Field(pattern=r"^opc\.tcp://[^/:]+(:\d+)?(/.*)?$")
    mode: Literal["subscription", "poll"] = "subscription"
    publishing_interval_s: Interval = 1.0
    sampling_interval_s: Annotated[float, within(0, 3600, "seconds")] | None = Field(
        default=None, description="default: the publishing interval; 0: the server's fastest"
    )
    queue_size: Annotated[int, within(1, 10_000)] = Field(
        default=10, description="server-side queue per monitored item"
    )
    deadband: Deadband | None = None
    poll_interval_s: Interval = 1.0
    max_nodes_per_read: Annotated[int, within(1, 100_000)] = 1000
    timestamp: Literal["source", "server", "gateway"] = Field(
        default="source",
        description="which time a sample carries; source falls back to server, then gateway",
    )
    security: OpcUaSecurity = OpcUaSecurity()
    auth: OpcUaAuth = OpcUaAuth()
    timeout_s: Timeout = 5.0
    session_timeout_s: Annotated[float, within(1, 3600, "seconds")] = 60.0
    watchdog_s: Interval = Field(default=2.0, description="how often the link is probed")
    backoff_initial_s: Interval = 0.5
    backoff_max_s: Interval = 30.0
    share_session: bool = Field(
        default=True,
        description="one session (and subscription) for every machine with the same "
        "endpoint and session settings; false: a session of its own",
    )

    @model_validator(mode="after")
    def _backoff_grows(self) -> OpcUaConnection:
        check_order(
            self.backoff_initial_s, "backoff_initial_s", self.backoff_max_s, "backoff_max_s"
        )
        return self
