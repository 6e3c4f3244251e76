"""Report intake over HTTP (DSA Art. 16): a public form anyone can use without an account, a JSON
API for reporters' tokens (trusted flaggers' notices get priority, Art. 22), and a secret link per
report to follow its status and decision.

The public pages have no login, so they defend themselves: a signed double-submit CSRF token
(an HMAC of a random cookie value, checked on submission), a per-address rate limit, a strict
CSP with no script at all, and autoescaped templates. An unknown reference and a wrong secret get
the same 404, so the status pages reveal nothing about which references exist.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from iolaus.cases import intake, store
from iolaus.cases.triage import TriagePolicy
from iolaus.config import REPORT_RATE_LIMIT, REPORT_STATUS_RATE_LIMIT, Settings
from iolaus.model.access import Role, Token
from iolaus.model.cases import TargetKind
from iolaus.web.auth import authenticate, bearer
from iolaus.web.ratelimit import RateLimit
from iolaus.web.settings import services

HERE = Path(__file__).parent
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
"""Pages load their stylesheet from this origin and nothing else; no script runs at all."""
CSRF_COOKIE = "iolaus_csrf"
CSRF_MAX_AGE = 2 * 3600
"""Seconds a form stays valid: long enough to write a careful notice."""
_NONCE = re.compile(r"[A-Za-z0-9_-]{43}")
_REFERENCE = re.compile(r"R-[A-Z0-9]{10}")
NOT_FOUND = "No report with this reference and secret."
REPORTER_ROLES = frozenset({Role.REPORTER, Role.ADMIN})


@dataclass
class ReportSettings:
    """What the report pages run with: rate limits as ``hits/seconds``, the key signing their
    CSRF tokens and the triage policy giving a report's case its deadline."""

    submit_limit: str = REPORT_RATE_LIMIT.default
    status_limit: str = REPORT_STATUS_RATE_LIMIT.default
    csrf_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    policy: TriagePolicy = field(default_factory=TriagePolicy)

    @classmethod
    def from_settings(cls, settings: Settings) -> ReportSettings:
        """Without ``IOLAUS_CSRF_KEY`` each process signs with its own random key, so forms
        served by one process fail on another: set it when several serve the forms."""
        key = settings.csrf_key
        return cls(
            submit_limit=settings.report_rate_limit,
            status_limit=settings.report_status_rate_limit,
            csrf_key=hashlib.sha256(key.encode()).digest() if key else secrets.token_bytes(32),
            policy=TriagePolicy.from_settings(settings),
        )


@dataclass
class _State:
    settings: ReportSettings
    submits: RateLimit
    lookups: RateLimit
    templates: Jinja2Templates


def _state(request: Request) -> _State:
    return request.app.state.reports


router = APIRouter(tags=["Reports"])


# -- protections -----------------------------------------------------------------------------------


def _client(request: Request) -> str:
    """The peer address. Behind a reverse proxy, run uvicorn with ``--proxy-headers`` and
    ``--forwarded-allow-ips`` so that this is the real client rather than the proxy."""
    return request.client.host if request.client else "unknown"


def _limit(limiter: RateLimit, request: Request) -> int | None:
    return limiter.hit(_client(request))


def _sign(key: bytes, nonce: str, issued: int) -> str:
    mac = hmac.new(key, f"{nonce}.{issued}".encode(), hashlib.sha256).hexdigest()
    return f"{issued}.{mac}"


def _csrf_ok(request: Request, token: str) -> bool:
    nonce = request.cookies.get(CSRF_COOKIE, "")
    issued, _, _mac = token.partition(".")
    if not _NONCE.fullmatch(nonce) or not issued.isdigit():
        return False
    if not 0 <= time.time() - int(issued) <= CSRF_MAX_AGE:
        return False
    expected = _sign(_state(request).settings.csrf_key, nonce, int(issued))
    return hmac.compare_digest(expected, token)


def _page(
    request: Request, name: str, context: dict[str, Any], status: int = 200, **headers: str
) -> HTMLResponse:
    response = _state(request).templates.TemplateResponse(
        request,
        name,
        context,
        status_code=status,
        headers={"Content-Security-Policy": PAGE_CSP, **headers},
    )
    return response


def csrf_form_page(
    request: Request,
    name: str,
    context: dict[str, Any],
    cookie_path: str,
    status: int = 200,
    **headers: str,
) -> HTMLResponse:
    """A public page carrying a form (the report form, the appeal forms): a fresh CSRF token
    bound to the visitor's cookie (set if missing), the cookie scoped to the path the form posts
    to, so that a browser sends it only where it is checked."""
    nonce = request.cookies.get(CSRF_COOKIE, "")
    if not _NONCE.fullmatch(nonce):
        nonce = secrets.token_urlsafe(32)
    context = {
        **context,
        "csrf_token": _sign(_state(request).settings.csrf_key, nonce, int(time.time())),
    }
    response = _page(request, name, context, status, **headers)
    response.set_cookie(
        CSRF_COOKIE,
        nonce,
        max_age=CSRF_MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=cookie_path,
    )
    return response


def _form_page(
    request: Request,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    **headers: str,
) -> HTMLResponse:
    """The report form, with the values typed so far and what is wrong with them."""
    context = {
        "values": values,
        "errors": errors,
        "kinds": list(TargetKind),
        "categories": intake.CATEGORY_LABELS,
    }
    return csrf_form_page(request, "report.html", context, "/report", status, **headers)


# -- the public form -------------------------------------------------------------------------------


@router.get("/report", response_class=HTMLResponse, include_in_schema=False)
def report_form(request: Request) -> HTMLResponse:
    return _form_page(request, {}, {})


class ReportForm(BaseModel):
    """The public form as posted: text fields only (the form takes no file). What is wrong with
    a notice is decided by ``intake.validate``, the same rules as the API's, field by field; the
    page shows each error next to its field, with the values typed so far. Read by the handler
    after the rate limit, rather than by FastAPI before it runs, so that a refused flood costs
    no parsing and no file is ever accepted."""

    target_kind: str | None = None
    target: str | None = None
    category: str | None = None
    explanation: str | None = None
    notifier_name: str | None = None
    notifier_email: str | None = None
    good_faith: str | None = None
    csrf_token: str | None = None

    @classmethod
    def read(cls, form: FormData) -> ReportForm:
        fields = {name: v for name in cls.model_fields if isinstance(v := form.get(name), str)}
        return cls.model_validate(fields)

    def values(self) -> dict[str, str]:
        """The notice's fields that were sent, to check and to show again."""
        return self.model_dump(exclude_none=True, exclude={"csrf_token"})


@router.post("/report", response_class=HTMLResponse, include_in_schema=False)
async def report_submit(request: Request) -> HTMLResponse:
    state = _state(request)
    wait = _limit(state.submits, request)
    if wait is not None:
        errors = {"form": f"Too many reports from your address; try again in {wait} seconds."}
        return _form_page(request, {}, errors, 429, **{"Retry-After": str(wait)})
    form = ReportForm.read(await request.form(max_files=0, max_fields=20))
    values = form.values()
    if form.csrf_token is None or not _csrf_ok(request, form.csrf_token):
        errors = {"form": "This form expired or was not sent from this site; please submit again."}
        return _form_page(request, values, errors, 400)
    try:
        report = intake.validate(values)
    except intake.InvalidReport as exc:
        return _form_page(request, values, exc.errors, 400)
    receipt = await run_in_threadpool(_store, request, report, "web", "public", False)
    view = await run_in_threadpool(_lookup, request, receipt.reference, receipt.secret)
    return _page(request, "report_status.html", {"report": view, "secret": receipt.secret}, 201)


def _store(
    request: Request, report: intake.ValidReport, source: str, actor: str, trusted: bool
) -> intake.Receipt:
    with services(request).engine.begin() as conn:
        return intake.submit(
            conn,
            report,
            source=source,
            actor=actor,
            trusted_flagger=trusted,
            policy=_state(request).settings.policy,
            now=services(request).clock(),
        )


def _lookup(request: Request, reference: str, secret: str) -> dict[str, Any] | None:
    if not _REFERENCE.fullmatch(reference) or not secret:
        return None
    with services(request).engine.connect() as conn:
        return store.report_for_notifier(conn, reference, secret)


Secret = Annotated[str, Query(max_length=100, description="The secret given with the reference")]


@router.get("/report/status/{reference}", response_class=HTMLResponse, include_in_schema=False)
def report_status_page(request: Request, reference: str, secret: Secret = "") -> HTMLResponse:
    wait = _limit(_state(request).lookups, request)
    if wait is not None:
        context = {"report": None, "message": f"Too many requests; try again in {wait} seconds."}
        return _page(request, "report_status.html", context, 429, **{"Retry-After": str(wait)})
    view = _lookup(request, reference, secret)
    if view is None:
        return _page(request, "report_status.html", {"report": None, "message": NOT_FOUND}, 404)
    return _page(request, "report_status.html", {"report": view, "secret": None})


# -- the API --------------------------------------------------------------------------------------


def reporter_access(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Token:
    token = authenticate(request, credentials)
    if token.role not in REPORTER_ROLES:
        raise HTTPException(403, f"role '{token.role}' may not file reports")
    return token


class ReportBody(BaseModel):
    """A notice (DSA Art. 16(2)); checked field by field by the same rules as the public form."""

    target_kind: str = Field(description="community, channel, message, account or media")
    target: str = Field(description="A Discord link, platform id(s) or, for media, a SHA-256")
    category: str = Field(description="csam, ncii, voyeurism, sexual_deepfake, sextortion, …")
    explanation: str = Field(description="Why the content is illegal or abusive")
    notifier_name: str | None = None
    notifier_email: str | None = None
    good_faith: bool = Field(description="Must be true: the notice is accurate and complete")


def _refused(exc: intake.InvalidReport) -> JSONResponse:
    return JSONResponse({"message": f"invalid report: {exc}", "errors": exc.errors}, 400)


def _too_many(wait: int) -> JSONResponse:
    message = f"too many requests; retry in {wait} seconds"
    return JSONResponse({"message": message}, 429, headers={"Retry-After": str(wait)})


@router.post("/api/reports", status_code=201, response_model=None)
def file_report(
    request: Request, body: ReportBody, token: Annotated[Token, Depends(reporter_access)]
) -> dict[str, Any] | JSONResponse:
    """File a notice; returns its reference and the secret that follows it (shown once)."""
    try:
        report = intake.validate(body.model_dump())
    except intake.InvalidReport as exc:
        return _refused(exc)
    trusted = token.prioritised_for(report.category.value)
    receipt = _store(request, report, f"api:{token.name}", token.actor, trusted)
    return {
        "reference": receipt.reference,
        "secret": receipt.secret,
        "status_url": f"/report/status/{receipt.reference}?secret={receipt.secret}",
        "received_at": receipt.received_at.isoformat(),
        "trusted_flagger": trusted,
    }


@router.get("/api/reports/{reference}", response_model=None)
def report_status(request: Request, reference: str, secret: Secret = "") -> Any:
    """A report's progress and decision, for the holder of its secret (no token needed)."""
    wait = _limit(_state(request).lookups, request)
    if wait is not None:
        return _too_many(wait)
    view = _lookup(request, reference, secret)
    if view is None:
        raise HTTPException(404, NOT_FOUND)
    return view


def register(app: FastAPI, settings: ReportSettings) -> None:
    """Add the report pages and API to ``app``; called again (tests with other rate limits), it
    only replaces the settings."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True
    )
    engine, clock = app.state.services.engine, app.state.services.clock
    app.state.reports = _State(
        settings,
        RateLimit.parse(settings.submit_limit, engine, "report.submit", clock),
        RateLimit.parse(settings.status_limit, engine, "report.status", clock),
        Jinja2Templates(env=environment),
    )
    if not getattr(app.state, "reports_routes", False):
        app.include_router(router)
        app.state.reports_routes = True
