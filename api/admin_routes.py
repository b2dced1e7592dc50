"""`POST /api/v1/config/reload` (admin): re-read the gateway's config file and apply it.

A valid file restarts the pipeline in place (the running gateway stops as on SIGTERM, its
outbox flushed, and a new one starts with the new config; `seq` goes on from the
checkpoints); the API keeps serving. An invalid file is a 422 listing every problem as
`oee-edge check` prints it, and changes nothing; a changed `api` section is a 409 (only a
restart of the process can apply it), and changes nothing either.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse
from pydantic import Field

from api.context import ADMIN, ApiError, Ctx, admin_docs, v1_router
from api.schemas import Out
from edge.config.loading import ConfigError
from edge.config.reload import RestartNeeded

router = v1_router(machine_routes=False)


class ReloadOut(Out):
    """The configuration now running."""

    gateway: str
    machines: list[str] = Field(description="every machine's id, in the file's order")
    added: list[str] = Field(description="machines the previous configuration did not have")
    removed: list[str] = Field(description="machines that are gone")


class IssueOut(Out):
    path: str = Field(description="the field, e.g. machines[1].modbus.port; empty: the file")
    message: str


class InvalidConfigOut(Out):
    """The file's problems; the running configuration is unchanged."""

    detail: str
    errors: list[IssueOut]


@router.post(
    "/config/reload",
    tags=["admin"],
    dependencies=ADMIN,
    responses={
        **admin_docs(
            e409="The `api` section changed: only a restart applies it; nothing was changed",
            e413="A body larger than `api.limits.max_body_bytes` (the route takes none)",
            e503="The gateway was not started from a config file (`oee-edge run -c FILE`)",
        ),
        422: {"model": InvalidConfigOut, "description": "Invalid file; nothing was changed"},
    },
)
async def reload_config(ctx: Ctx) -> ReloadOut:
    """Re-read the config file the gateway was started with; when it is valid, restart
    the pipeline with it (as SIGHUP does). Answers once the new gateway runs."""
    if ctx.reloader is None:
        raise ApiError(503, "no config file to reload: the gateway runs without `-c FILE`")
    try:
        config = await ctx.reloader.reload()
    except ConfigError as exc:
        raise InvalidConfig(exc) from exc
    except RestartNeeded as exc:
        raise ApiError(409, str(exc)) from exc
    before = {m.id for m in ctx.config.machines}
    after = [m.id for m in config.machines]
    return ReloadOut(
        gateway=config.gateway.id,
        machines=after,
        added=[m for m in after if m not in before],
        removed=[m.id for m in ctx.config.machines if m.id not in after],
    )


class InvalidConfig(ApiError):
    """A 422 whose body lists every problem of the file (`InvalidConfigOut`)."""

    def __init__(self, exc: ConfigError) -> None:
        detail = (
            f"{exc.source}: {len(exc.issues)} problem(s) in the configuration; "
            "the running configuration is unchanged"
        )
        super().__init__(422, detail)
        self.errors = [IssueOut(path=i.path, message=i.message) for i in exc.issues]

    def response(self) -> JSONResponse:
        body = InvalidConfigOut(detail=self.detail, errors=self.errors)
        return JSONResponse(body.model_dump(), status_code=self.status)
