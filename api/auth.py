"""API keys and their scopes, for `/api/v1` and `/metrics`.

The keys are `api.keys` (each `read` or `admin`) and `api.api_key` (one admin key named
"default"). A request sends one as `Authorization: Bearer KEY` (or `X-API-Key: KEY`).
`read` may call every GET; `admin` also the changes (`require_admin`). Without any key
configured the config already forces a loopback bind, so every check is off.
`/health`, `/ready` and the dashboard page never need a key.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from edge.config import ApiConfig, ApiKeyConfig

# auto_error=False: a missing header is our 401 (not FastAPI's 403), and declaring both
# schemes gives /docs an "Authorize" button for either form.
_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer API_KEY")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: API_KEY")

UNAUTHORIZED = "missing or wrong API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"


def forbidden(key: ApiKeyConfig) -> str:
    """The 403 detail of a read key on a route that changes something."""
    return f"API key '{key.name}' has the read scope; this route needs an admin key"


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


async def require_admin(
    key: Annotated[ApiKeyConfig | None, Depends(require_api_key)],
) -> None:
    """FastAPI dependency of the routes that change something: 403 for a read key."""
    if key is not None and key.scope != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=forbidden(key))


async def admin_name(
    key: Annotated[ApiKeyConfig | None, Depends(require_api_key)],
) -> str:
    """FastAPI dependency of a change that records who made it: the admin key's name
    (403 for a read key); "loopback" on an API without keys, which serves loopback only."""
    await require_admin(key)
    return "loopback" if key is None else key.name
