"""The ``opcua:`` part of a scenario (and its CLI overrides), validated.

Validation collects messages with field paths (``opcua.security[1]: ...``) and never
raises; `simulators.scenario` turns them into a ScenarioError. Nothing here imports
the rest of the simulator, so the scenario module can depend on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_OPCUA_PORT = 4840
DEFAULT_NAMESPACE_URI = "urn:oee-edge:simulator"
ENDPOINT_PATH = "/oee-edge/sim"
APPLICATION_URI = "urn:oee-edge:simulator:server"
# Namespaces 0 and 1 of every server: registering one of these again would not add one.
_RESERVED_URIS = ("http://opcfoundation.org/UA/", APPLICATION_URI)
DUMMY_NAMESPACE = "urn:oee-edge:dummy:{}"

# Policy name (as in OPC UA's policy URIs) -> the modes it is offered with.
POLICIES = ("Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss")
MODES = ("Sign", "SignAndEncrypt")
ALL_SECURITY = ("None", *(f"{p}:{m}" for p in POLICIES for m in MODES))

_KEYS = {
    "port",
    "namespace_uri",
    "extra_namespaces",
    "security",
    "trust_clients",
    "allow_anonymous",
    "users",
    "user_certificates",
}
_MACHINE_KEYS = {"enabled"}


@dataclass(frozen=True)
class OpcuaSettings:
    """How the OPC UA server of a scenario is set up (documented in docs/simulator.md)."""

    port: int = DEFAULT_OPCUA_PORT
    namespace_uri: str = DEFAULT_NAMESPACE_URI
    # Registered before the simulator namespace, in this order: moves its index.
    extra_namespaces: tuple[str, ...] = ()
    # "None" or "Policy:Mode", expanded and de-duplicated, in the order given.
    security: tuple[str, ...] = ("None",)
    trust_clients: bool = False
    allow_anonymous: bool = True
    users: Mapping[str, str] = field(default_factory=dict)
    user_certificates: tuple[Path, ...] = ()

    @property
    def secured(self) -> bool:
        """True when any endpoint signs (so the server needs its certificate)."""
        return any(s != "None" for s in self.security)


@dataclass(frozen=True)
class MachineOpcua:
    """Per-machine ``opcua:`` settings."""

    enabled: bool = True  # false: the machine is served over Modbus only


def parse_opcua(data: Any, errors: list[str], base_dir: Path | None = None) -> OpcuaSettings | None:
    """Validate a scenario's top-level ``opcua`` mapping (None/absent = defaults).

    Relative ``user_certificates`` paths are resolved against `base_dir`.
    """
    return merge_opcua(OpcuaSettings(), data, errors, base_dir)


def merge_opcua(
    base: OpcuaSettings,
    overrides: Any,
    errors: list[str],
    base_dir: Path | None = None,
    *,
    namespace_shift: int = 0,
) -> OpcuaSettings | None:
    """`base` with validated `overrides` (same keys as the YAML) applied.

    Scalars and ``security`` replace; ``users`` are added (same name: new password);
    ``extra_namespaces`` and ``user_certificates`` are appended. `namespace_shift`
    appends that many ``urn:oee-edge:dummy:K`` namespaces (K from 1).
    """
    before = len(errors)
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, Mapping):
        errors.append(f"opcua: must be a mapping (got {type(overrides).__name__})")
        return None
    for key in overrides:
        if key not in _KEYS:
            errors.append(f"opcua.{key}: unknown field")
    values = _fields(overrides, errors, base_dir)
    if not isinstance(namespace_shift, int) or namespace_shift < 0:
        errors.append(f"opcua namespace shift: must be >= 0 (got {namespace_shift})")
        namespace_shift = 0
    dummies = tuple(DUMMY_NAMESPACE.format(k) for k in range(1, namespace_shift + 1))
    settings = replace(
        base,
        **{k: v for k, v in values.items() if k not in ("users", "extra", "certs")},
        users={**base.users, **values.get("users", {})},
        extra_namespaces=base.extra_namespaces + values.get("extra", ()) + dummies,
        user_certificates=base.user_certificates + values.get("certs", ()),
    )
    if len(errors) == before:  # cross-checks on valid fields only, or they mislead
        _check_consistent(settings, errors)
    return settings if len(errors) == before else None


def parse_machine_opcua(data: Any, path: str, errors: list[str]) -> MachineOpcua:
    """Validate a machine's ``opcua`` mapping."""
    if data is None:
        return MachineOpcua()
    if not isinstance(data, Mapping):
        errors.append(f"{path}: must be a mapping (got {type(data).__name__})")
        return MachineOpcua()
    for key in data:
        if key not in _MACHINE_KEYS:
            errors.append(f"{path}.{key}: unknown field")
    return MachineOpcua(enabled=_bool(data, "enabled", True, path, errors))


def parse_security(specs: Any, path: str, errors: list[str]) -> tuple[str, ...]:
    """Expand ``None`` / ``all`` / ``Policy`` (both modes) / ``Policy:Mode`` specs."""
    if isinstance(specs, str):
        specs = [specs]
    if not isinstance(specs, list) or not specs:
        errors.append(f"{path}: must be a non-empty list of security policies")
        return ()
    out: list[str] = []
    for i, spec in enumerate(specs):
        for item in _expand(spec, f"{path}[{i}]", errors):
            if item not in out:
                out.append(item)
    return tuple(out)


def _expand(spec: Any, path: str, errors: list[str]) -> tuple[str, ...]:
    if spec == "all":
        return ALL_SECURITY
    if spec == "None":
        return ("None",)
    policy, _, mode = str(spec).partition(":")
    if policy in POLICIES and (mode in MODES or not mode):
        return tuple(f"{policy}:{m}" for m in MODES if m == mode or not mode)
    choices = ", ".join(("None", "all", *POLICIES))
    errors.append(
        f"{path}: must be one of {choices}, optionally with :Sign or :SignAndEncrypt (got {spec!r})"
    )
    return ()


def _fields(data: Mapping[str, Any], errors: list[str], base_dir: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "port" in data:
        port = data["port"]
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            errors.append(f"opcua.port: must be an integer 0..65535 (got {port!r})")
        out["port"] = port
    if "namespace_uri" in data:
        out["namespace_uri"] = _uri(data["namespace_uri"], "opcua.namespace_uri", errors)
    if "extra_namespaces" in data:
        out["extra"] = _list(data, "extra_namespaces", errors, _uri)
    if "security" in data:
        out["security"] = parse_security(data["security"], "opcua.security", errors)
    for key in ("trust_clients", "allow_anonymous"):
        if key in data:
            out[key] = _bool(data, key, False, "opcua", errors)
    if "users" in data:
        out["users"] = _users(data["users"], errors)
    if "user_certificates" in data:
        certs = _list(data, "user_certificates", errors, _uri)
        out["certs"] = tuple(_cert_path(c, base_dir, errors) for c in certs)
    return out


def _list(data: Mapping[str, Any], key: str, errors: list[str], item: Any) -> tuple[Any, ...]:
    value = data[key]
    if not isinstance(value, list):
        errors.append(f"opcua.{key}: must be a list (got {type(value).__name__})")
        return ()
    return tuple(item(v, f"opcua.{key}[{i}]", errors) for i, v in enumerate(value))


def _uri(value: Any, path: str, errors: list[str]) -> str:
    if not isinstance(value, str) or not value:
        errors.append(f"{path}: must be a non-empty string (got {value!r})")
        return ""
    return value


def _bool(data: Mapping[str, Any], key: str, default: bool, path: str, errors: list[str]) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        errors.append(f"{path}.{key}: must be true or false (got {value!r})")
        return default
    return value


def _users(value: Any, errors: list[str]) -> dict[str, str]:
    if not isinstance(value, Mapping):
        errors.append("opcua.users: must be a mapping of user name to password")
        return {}
    users: dict[str, str] = {}
    for name, password in value.items():
        if not isinstance(name, str) or not name or not isinstance(password, str):
            errors.append(f"opcua.users.{name}: name and password must be strings")
        else:
            users[name] = password
    return users


def _cert_path(value: str, base_dir: Path | None, errors: list[str]) -> Path:
    path = Path(value)
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    if value and not path.is_file():
        errors.append(f"opcua.user_certificates: {path}: no such file")
    return path


def _check_consistent(s: OpcuaSettings, errors: list[str]) -> None:
    uris = [*_RESERVED_URIS, *s.extra_namespaces, s.namespace_uri]
    if len(set(uris)) != len(uris):
        errors.append(
            "opcua.extra_namespaces: namespace URIs must be unique and differ from "
            f"namespace_uri and {', '.join(_RESERVED_URIS)}"
        )
    if not (s.allow_anonymous or s.users or s.user_certificates):
        errors.append("opcua.allow_anonymous: false needs users or user_certificates")
    if s.trust_clients and not s.secured:
        errors.append(
            "opcua.trust_clients: needs a security policy other than None "
            "(clients present certificates only on secured channels)"
        )
    if s.user_certificates and not s.secured:
        errors.append(
            "opcua.user_certificates: need a security policy other than None "
            "(the user token is signed)"
        )
