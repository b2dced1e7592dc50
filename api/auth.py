"""API keys and their scopes, for `/api/v1` and `/metrics`.

The keys are `api.keys` (each `read`, `operate` or `admin`) and `api.api_key` (one admin
key named "default"). A request sends one as `Authorization: Bearer KEY` (or `X-API-Key:
KEY`). `read` may call every GET; `operate` also what an operator does at the line
(`OPERATE_PATHS`: a stop's reason, scrap, the product, shift notes, acknowledging an
alarm, SPC readings by hand, orders put, imported or deleted and an order started,
paused, resumed or ended); `admin` every change (`require_admin`). Which scope a
request needs is decided from its method and path alone (`required_scope`), by the guard
before any body is read and again by the route. Without any key configured the config
already forces a loopback bind, so every check is off.
`/health`, `/ready` and the dashboard page never need a key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from edge.config import ApiConfig, ApiKeyConfig

# auto_error=False: a missing header is our 401 (not FastAPI's 403), and declaring both
# schemes gives /docs an "Authorize" button for either form.
_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer API_KEY")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: API_KEY")

UNAUTHORIZED = "missing or wrong API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"


Scope = Literal["read", "operate", "admin"]
_RANK: dict[str, int] = {"read": 0, "operate": 1, "admin": 2}
_READS = frozenset({"GET", "HEAD"})

#: The changes an operator at the line may make with an `operate` key (full paths, one
#: pattern per kind of change); every other change needs an `admin` key.
OPERATE_PATHS: tuple[re.Pattern[str], ...] = (
    re.compile(r"/api/v1/machines/[^/]+/stops/[^/]+/(reason|planned)"),
    re.compile(r"/api/v1/machines/[^/]+/(scrap|product)"),
    re.compile(r"/api/v1/shifts/.+/notes"),
    re.compile(r"/api/v1/alarms/[^/]+/ack"),
    re.compile(r"/api/v1/spc/charts/[^/]+/measurements"),
    re.compile(r"/api/v1/orders(/import|/[^/]+)?"),
    re.compile(r"/api/v1/machines/[^/]+/order"),
)


def required_scope(method: str, path: str) -> Scope:
    """The scope a request needs: `read` for GET/HEAD, `operate` for `OPERATE_PATHS`,
    else `admin`."""
    if method in _READS:
        return "read"
    if any(p.fullmatch(path) for p in OPERATE_PATHS):
        return "operate"
    return "admin"


def allows(key: ApiKeyConfig, needed: Scope) -> bool:
    """Whether `key`'s scope covers `needed` (admin > operate > read)."""
    return _RANK[key.scope] >= _RANK[needed]


def forbidden(key: ApiKeyConfig, needed: Scope = "admin") -> str:
    """The 403 detail of a key whose scope is below what the route needs."""
    wanted = "an admin key" if needed == "admin" else "an operate or admin key"
    return f"API key '{key.name}' has the {key.scope} scope; this route needs {wanted}"


def offered(authorization: str | None, x_api_key: str | None) -> list[str | None]:
    """The keys a request offers: the credentials of `Authorization: Bearer KEY` (the
    scheme in any case, as HTTPBearer reads it) and `X-API-Key`."""
    scheme, credentials = get_authorization_scheme_param(authorization)
    bearer = credentials if scheme.lower() == "bearer" and credentials else None
    return [bearer, x_api_key]


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def key_matches(expected: str, offered: str | None) -> bool:
    """Constant-time comparison of equal-length digests, so the response time leaks
    neither a prefix nor the length of a key."""
    if not offered:
        return False
    return hmac.compare_digest(_digest(expected), _digest(offered))


def find_key(api: ApiConfig, offered: list[str | None]) -> ApiKeyConfig | None:
    """The configured key among `offered`, if any. Every key is compared with every
    offered value (no early exit), so the time taken does not tell which one matched."""
    found = None
    for key in api.all_keys():
        secret = key.key.get_secret_value()
        for value in offered:
            if key_matches(secret, value) and found is None:
                found = key
    return found


async def require_api_key(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> ApiKeyConfig | None:
    """FastAPI dependency (read scope): 401 unless a configured key was presented; the
    key presented (None when the API has no keys)."""
    api: ApiConfig = request.app.state.ctx.config.api
    if not api.all_keys():
        return None
    key = find_key(api, [bearer.credentials if bearer else None, header])
    if key is None:
        challenge = {"WWW-Authenticate": "Bearer"}
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=UNAUTHORIZED, headers=challenge)
    return key


def _check(key: ApiKeyConfig | None, needed: Scope) -> str:
    """The key's name if its scope covers `needed` (403 otherwise); "loopback" on an API
    without keys, which serves loopback only."""
    if key is None:
        return "loopback"
    if not allows(key, needed):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=forbidden(key, needed))
    return key.name


async def require_admin(
    key: Annotated[ApiKeyConfig | None, Depends(require_api_key)],
) -> None:
    """FastAPI dependency of the routes only an admin may call: 403 for a lower scope."""
    _check(key, "admin")


async def admin_name(
    key: Annotated[ApiKeyConfig | None, Depends(require_api_key)],
) -> str:
    """FastAPI dependency of an admin change that records who made it: the key's name."""
    return _check(key, "admin")


async def require_operate(
    key: Annotated[ApiKeyConfig | None, Depends(require_api_key)],
) -> None:
    """FastAPI dependency of an operator's change: 403 for a read key."""
    _check(key, "operate")


async def operator_name(
    key: Annotated[ApiKeyConfig | None, Depends(require_api_key)],
) -> str:
    """FastAPI dependency of an operator's change that records who made it (audit): the
    key's name (an operate or admin key), "loopback" without keys."""
    return _check(key, "operate")
