"""The FastAPI application factory: no work happens at import time (STYLE.md rule 13)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from backtestr.data.store import Store
from backtestr.errors import BacktestrError
from backtestr.server.errors import error_response
from backtestr.server.jobs import JobRegistry
from backtestr.server.replay import replay_router
from backtestr.server.routes_data import data_router
from backtestr.server.routes_runs import runs_router, strategies_router
from backtestr.server.security import AccessGuard
from backtestr.server.settings import ServerSettings
from backtestr.server.store_access import StoreAccess
from backtestr.server.warmup import start_warm_up

__all__ = ["create_app"]

_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>BackTestr</title>
<p>The BackTestr frontend is not built. From a source checkout run <code>./dev web</code>.</p>"""


def create_app(settings: ServerSettings) -> FastAPI:
    """Build the web application for ``settings``.

    The data home is opened (and locked) when the application starts serving and closed when it
    stops, so building the object has no side effects.

    Examples
    --------
    >>> import uvicorn                                                    # doctest: +SKIP
    >>> settings = ServerSettings(home=Path("~/bt"), port=8765)           # doctest: +SKIP
    >>> uvicorn.run(create_app(settings), host=settings.host, port=settings.port)  # doctest: +SKIP
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        access = StoreAccess(Store.open(settings.home))
        app.state.store = access
        app.state.warm_up = start_warm_up()  # the first chart must not wait for numba
        try:
            yield
        finally:
            app.state.warm_up.join()
            access.close()

    app = FastAPI(
        title="BackTestr",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.jobs = JobRegistry()

    @app.exception_handler(BacktestrError)
    async def domain_error(request: Request, error: BacktestrError) -> JSONResponse:
        status, body = error_response(error)
        return JSONResponse(body, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'][1:])}: {item['msg']}"
            for item in error.errors()
        )
        body = {"error": "ConfigError", "message": f"Invalid request: {problems}."}
        return JSONResponse(body, status_code=400)

    app.include_router(data_router())
    app.include_router(runs_router())
    app.include_router(strategies_router())
    app.include_router(replay_router())
    _mount_frontend(app, settings)
    app.add_middleware(UploadLimit, max_bytes=settings.max_upload_bytes)
    app.add_middleware(AccessGuard, settings=settings)
    return app


def _mount_frontend(app: FastAPI, settings: ServerSettings) -> None:
    index = settings.static_dir / "index.html"

    @app.get("/", include_in_schema=False, response_model=None)
    def home() -> Response:
        if not index.is_file():
            return HTMLResponse(_NOT_BUILT, status_code=503)
        return FileResponse(index, headers={"cache-control": "no-store"})

    assets = settings.static_dir / "assets"
    if assets.is_dir():
        app.mount("/assets", StaticFiles(directory=assets), name="assets")


class UploadLimit:
    """Refuse request bodies over the limit before reading them (413), or without a length (411).

    Browsers always send ``Content-Length`` with a form upload; demanding it lets us refuse a
    too-large file up front instead of spooling it to disk first.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            headers = dict(scope["headers"])
            length = headers.get(b"content-length")
            if length is None or not length.isdigit():
                await _plain(send, 411, "Send the upload with a Content-Length header.")
                return
            if int(length) > self.max_bytes + 64 * 1024:  # room for the form's own fields
                await _plain(
                    send, 413, f"The file is larger than the {self.max_bytes:,} bytes allowed."
                )
                return
        await self.app(scope, receive, send)


async def _plain(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": "UploadRefused", "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
