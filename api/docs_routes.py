"""`/docs`: the OpenAPI document in Swagger UI, served by the gateway itself.

FastAPI's own page loads Swagger UI from a CDN, so on a plant network without internet
it showed nothing, and it runs an inline script, which the Content-Security-Policy of
every answer (`api.guard.SECURITY_HEADERS`) forbids. Here Swagger UI's files come from
the pinned `fastapi-offline` package (pyproject.toml), and the page and its start
script from this module, all under `/docs/`. The URLs are relative, so the page also
works behind a reverse proxy under a path. Like the live page, it needs no key: it holds
no data, and the document (`/openapi.json`) names no key, host or machine.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from api.context import ApiError

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_SWAGGER = files("fastapi_offline") / "static"
_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}
# The pinned files do not change while the process runs.
_CACHE = {"Cache-Control": "public, max-age=3600"}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>oee-edge API</title>
<link rel="icon" href="docs/favicon.png" type="image/png">
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/start.js"></script>
</body>
</html>
"""

# What FastAPI's page runs inline, as a file the CSP allows. No validator badge: it
# would send the document to a public web service.
_START = """window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
});
"""


@router.get("/docs")
async def docs_page() -> HTMLResponse:
    """Swagger UI over `/openapi.json`."""
    return HTMLResponse(_PAGE, headers={"Cache-Control": "no-cache"})


@router.get("/docs/start.js")
async def docs_start() -> Response:
    return Response(_START, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@cache
def _asset(name: str) -> bytes:
    return (_SWAGGER / name).read_bytes()


@router.get("/docs/{name}")
async def docs_asset(name: str) -> Response:
    """One of Swagger UI's files (only those listed: no paths)."""
    media = _TYPES.get(name)
    if media is None:
        raise ApiError(404, f"no docs asset '{name}'")
    return Response(_asset(name), media_type=media, headers=_CACHE)
