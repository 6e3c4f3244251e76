"""The HTTP app factory: HMA-compatible API, health checks, OpenAPI docs, security headers.

``create_app`` builds everything from an engine and the settings, so the CLI, tests and any ASGI
server get the same app; nothing is read from globals or the environment.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from iolaus import __version__
from iolaus.config import Settings
from iolaus.errors import IolausError
from iolaus.hashing.matcher import Matcher
from iolaus.model.clock import Clock, system_clock
from iolaus.web import appeals, batch, hma, reports
from iolaus.web.console import cases as console_cases
from iolaus.web.console import pages as console
from iolaus.web.middleware import BodyLimit, SecurityHeaders
from iolaus.web.settings import Services

STATIC = Path(__file__).resolve().parent / "static"
FORM_OVERHEAD = 1024 * 1024
"""Room above the file size cap for multipart headers and text fields."""

DESCRIPTION = """\
HMA / OpenMediaMatch-compatible hashing (`/h`), matching (`/m`) and curation (`/c`) API.
Every `/h`, `/m` and `/c` route needs `Authorization: Bearer <token>`; a token's role
(admin, curator, matcher, hasher) decides which route groups it opens.
Errors are `{"message": "…"}`."""


def _docs_page() -> tuple[bytes, str]:
    """Swagger UI's page and a CSP that admits its CDN files and, by hash, its one inline
    script; no other script can run on the page."""
    html = get_swagger_ui_html(openapi_url="/openapi.json", title="Iolaus API").body
    inline = re.findall(rb"<script>(.*?)</script>", bytes(html), flags=re.DOTALL)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in inline
    )
    cdn = "https://cdn.jsdelivr.net"
    csp = (
        f"default-src 'none'; script-src {cdn} {hashes}; style-src {cdn} 'unsafe-inline'; "
        "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return bytes(html), csp


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse({"message": exc.detail}, exc.status_code, headers=exc.headers)


async def _refusal(_request: Request, exc: Exception) -> JSONResponse:
    """A refusal no route turned into its own answer: its status and message, in the one shape
    every error of this API has (``{"message"}``). The message never holds a secret."""
    assert isinstance(exc, IolausError)
    return JSONResponse({"message": str(exc)}, exc.http_status)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """Bad parameters are 400 ``{"message"}`` as in HMA, not FastAPI's 422 list."""
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors()[:3]:
        where = ".".join(str(part) for part in error.get("loc", ())[1:])
        problems.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    return JSONResponse({"message": "invalid request: " + "; ".join(problems)}, 400)


def _add_health_routes(app: FastAPI, services: Services) -> None:
    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/status", status_code=302)

    @app.get("/status", response_class=PlainTextResponse, tags=["Health"])
    async def status() -> PlainTextResponse:
        """Readiness (HMA's texts): 200 once the index is loaded and current, else 503."""
        try:
            await run_in_threadpool(services.matcher.refresh)
        except SQLAlchemyError:
            return PlainTextResponse("INDEX-NOT-LOADED", 503)
        return PlainTextResponse("I-AM-ALIVE")

    @app.get("/status/live", response_class=PlainTextResponse, tags=["Health"])
    def live() -> PlainTextResponse:
        """Liveness: the process answers; nothing else is checked."""
        return PlainTextResponse("I-AM-ALIVE")


def _add_docs_route(app: FastAPI) -> None:
    html, csp = _docs_page()

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": csp})


def create_app(
    engine: Engine,
    settings: Settings | None = None,
    *,
    matcher: Matcher | None = None,
    clock: Clock = system_clock,
) -> FastAPI:
    """The API over ``engine``, run with ``settings`` (built once by the caller: ``iolaus
    serve`` passes the CLI's; default: the built-in defaults, never the environment).
    ``matcher`` defaults to a new in-memory one; ``clock`` gives every request's "now"."""
    settings = settings or Settings()
    services = Services(engine, matcher or Matcher(engine), settings, clock)
    app = FastAPI(
        title="Iolaus",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.services = services
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(IolausError, _refusal)
    _add_health_routes(app, services)
    _add_docs_route(app)
    for router in (*hma.routers, batch.router):
        app.include_router(router)
    console.register(app)
    console_cases.register(app, clock)
    reports.register(app, reports.ReportSettings.from_settings(settings))
    appeals.register(
        app, clock
    )  # after reports: it shares their templates, CSRF key and rate limits
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodyLimit, max_bytes=settings.max_file_size + FORM_OVERHEAD)
    app.add_middleware(SecurityHeaders)  # outermost: also covers the body limit's 413
    return app
