"""API key check for `/api/v1` and `/metrics`.

With `api.api_key` set, a request must carry `Authorization: Bearer KEY` or
`X-API-Key: KEY`. Without a key the config already forces a loopback bind, so the
check is off. `/health`, `/ready` and the dashboard page never need a key.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

# auto_error=False: a missing header is our 401 (not FastAPI's 403), and declaring both
# schemes gives /docs an "Authorize" button for either form.
_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer API_KEY")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: API_KEY")


def key_matches(expected: str, offered: str | None) -> bool:
    """Constant-time comparison, so response timing does not leak the key prefix."""
    if not offered:
        return False
    return hmac.compare_digest(expected.encode(), offered.encode())


async def require_api_key(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> None:
    """FastAPI dependency: 401 unless the configured key (if any) was presented."""
    secret = request.app.state.ctx.config.api.api_key
    if secret is None:
        return
    expected = secret.get_secret_value()
    offered = [bearer.credentials if bearer else None, header]
    # Evaluate both so the time taken does not depend on which header was sent.
    results = [key_matches(expected, o) for o in offered]
    if not any(results):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing or wrong API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'",
            headers={"WWW-Authenticate": "Bearer"},
        )
