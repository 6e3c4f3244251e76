"""Public pages of the internal complaint-handling system (DSA Art. 20): both parties appeal online.

Art. 20(1) owes the complaint system, electronically and free of charge, to the affected account
*and* to the notifier, for six months. Neither has a login, so each proves standing with what
they were given:

- the notifier with the reference and secret of their report (``/report/status/{ref}/appeal``);
  the appellant recorded is the report reference;
- the affected account with the statement of reasons' identifier (``puid``) and their account's
  platform id, which must be the account the statement was addressed to (``/appeal``).

Either gets an appeal reference and a secret shown once, to follow the appeal at
``/appeal/status/{ref}?secret=…``. The pages reuse the report pages' defences (signed
double-submit CSRF, per-address rate limits, strict CSP, autoescaped templates): these are
unauthenticated forms that touch decisions. A wrong puid, account, reference or secret all get
one generic answer, so the forms cannot be used to learn which statements, accounts or appeals
exist; every attempt counts against the address's rate limit. Filing is audited by
``file_appeal`` (case event naming the appeal and decision only); nothing here logs the
appellant's identity or reasons, which are personal data.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from iolaus.legal.appeals import AppealError, _window_start, file_appeal
from iolaus.model.cases import APPEAL_WINDOW
from iolaus.model.clock import Clock, system_clock
from iolaus.store.read_models.appeals import (
    appeal_for_appellant,
    standing_decision,
    statement_addressee,
)
from iolaus.web.ratelimit import RateLimit
from iolaus.web.reports import (
    _REFERENCE,
    NOT_FOUND,
    Secret,
    _csrf_ok,
    _limit,
    _lookup,
    _page,
    csrf_form_page,
)
from iolaus.web.settings import services

_APPEAL_REFERENCE = re.compile(r"A-[A-Z0-9]{10}")
_PUID = r"^[A-Za-z0-9._:-]{1,128}$"
_ACCOUNT = r"^[0-9A-Za-z_-]{1,64}$"
MAX_REASON = 5000
MAX_SECRET = 100
REASON_NEEDED = f"Give your reasons, up to {MAX_REASON} characters."
APPEAL_NOT_FOUND = "No appeal with this reference and secret."
NO_STANDING = (
    "We could not match this statement identifier and account id. Check both against the "
    "statement of reasons you received."
)
"""One answer for an unknown statement, a wrong account, or both: nothing to enumerate."""
EXPIRED = "This form expired or was not sent from this site; please submit again."

router = APIRouter(tags=["Appeals"])


@dataclass
class _Limits:
    """Own budgets, so appeals and reports do not starve each other, at the reports' rates."""

    submits: RateLimit
    lookups: RateLimit
    clock: Clock


def _limits(request: Request) -> _Limits:
    return request.app.state.appeals


def _too_many(wait: int) -> str:
    return f"Too many requests from your address; try again in {wait} seconds."


def _status_link(reference: str, secret: str) -> str:
    return f"/appeal/status/{reference}?secret={secret}"


# -- the affected account --------------------------------------------------------------------------


def _account_form(
    request: Request, values: dict[str, str], error: str | None, status: int = 200, **headers: str
) -> HTMLResponse:
    context = {"mode": "account", "values": values, "error": error}
    return csrf_form_page(request, "appeal.html", context, "/appeal", status, **headers)


@router.get("/appeal", response_class=HTMLResponse, include_in_schema=False)
def appeal_form(request: Request) -> HTMLResponse:
    return _account_form(request, {}, None)


def _file_for_account(request: Request, puid: str, account: str, reason: str) -> tuple[str, str]:
    """File for the account named by the statement; ``AppealError(NO_STANDING)`` on any mismatch.

    The account id is compared in constant time so that a timing difference does not tell an
    existing puid with a wrong account from an unknown puid.
    """
    with services(request).engine.begin() as conn:
        found = statement_addressee(conn, puid)
        expected = found.account if found is not None else "\0"
        if not hmac.compare_digest(expected.encode(), account.encode()) or found is None:
            raise AppealError(NO_STANDING)
        return file_appeal(conn, found.decision_id, account, reason, _limits(request).clock())


class AccountAppealForm(BaseModel):
    """The affected account's appeal as posted (text fields, stripped); read after the rate
    limit, like the report form."""

    puid: str = ""
    account: str = ""
    reason: str = ""
    csrf_token: str | None = None

    @classmethod
    def read(cls, form: FormData) -> AccountAppealForm:
        fields = {k: v.strip() for k in cls.model_fields if isinstance(v := form.get(k), str)}
        return cls.model_validate(fields)

    def values(self) -> dict[str, str]:
        return self.model_dump(include={"puid", "account", "reason"})

    def problem(self) -> str | None:
        """What to tell the appellant about the fields, or None when they can be checked
        against the statements: the reason first, then one answer for any malformed id."""
        try:
            AccountAppeal.model_validate(self.values())
        except ValidationError as exc:
            if any(error["loc"] == ("reason",) for error in exc.errors()):
                return REASON_NEEDED
            return NO_STANDING
        return None


class AccountAppeal(BaseModel):
    """A well-formed appeal: a reason, and ids shaped as statements and platforms write them."""

    puid: str = Field(pattern=_PUID)
    account: str = Field(pattern=_ACCOUNT)
    reason: str = Field(min_length=1, max_length=MAX_REASON)


@router.post("/appeal", response_class=HTMLResponse, include_in_schema=False)
async def appeal_submit(request: Request) -> HTMLResponse:
    wait = _limit(_limits(request).submits, request)
    if wait is not None:
        return _account_form(request, {}, _too_many(wait), 429, **{"Retry-After": str(wait)})
    form = AccountAppealForm.read(await request.form(max_files=0, max_fields=10))
    sent = form.values()
    if form.csrf_token is None or not _csrf_ok(request, form.csrf_token):
        return _account_form(request, sent, EXPIRED, 400)
    problem = form.problem()
    if problem is not None:
        return _account_form(request, sent, problem, 400)
    try:
        reference, secret = await run_in_threadpool(
            _file_for_account, request, form.puid, form.account, form.reason
        )
    except AppealError as exc:
        return _account_form(request, sent, _explain(exc), 400)
    return _filed(request, reference, secret)


def _explain(exc: AppealError) -> str:
    """The refusal in the appellant's words, without the internal decision ids ``file_appeal``
    puts in its messages for operators."""
    message = str(exc)
    if message in (NO_STANDING, NOT_FOUND) or "no decision to appeal" in message:
        return message
    if closed := re.search(r"window .* closed on (\S+)", message):
        return f"The six-month appeal window closed on {closed.group(1)}; no appeal is possible."
    if "already reversed" in message:
        return "This decision was already reversed on appeal."
    if "is open" in message:
        return "You already have an open appeal of this decision; follow it with its link."
    if "needs a reason" in message:
        return REASON_NEEDED
    return NO_STANDING


def _filed(request: Request, reference: str, secret: str) -> HTMLResponse:
    context = {
        "appeal": None,
        "filed": reference,
        "secret": secret,
        "link": _status_link(reference, secret),
    }
    return _page(request, "appeal_status.html", context, 201)


# -- the notifier ----------------------------------------------------------------------------------


@dataclass
class _NotifierCase:
    """What the notifier's appeal form needs: the decision to contest and its window."""

    decision_id: int | None
    closes_at: datetime | None


def _notifier_case(conn: Connection, reference: str) -> _NotifierCase:
    """The decision a notifier would appeal (the latest not reversed, as the status page shows)."""
    decision = standing_decision(conn, reference)
    if decision is None:
        return _NotifierCase(None, None)
    return _NotifierCase(decision.id, _window_start(conn, decision, reference) + APPEAL_WINDOW)


def _notifier_view(
    request: Request, reference: str, secret: str
) -> tuple[Any, _NotifierCase] | None:
    report = _lookup(request, reference, secret)
    if report is None:
        return None
    with services(request).engine.connect() as conn:
        return report, _notifier_case(conn, reference)


def _notifier_form(
    request: Request,
    reference: str,
    secret: str,
    error: str | None = None,
    reason: str = "",
    status: int = 200,
    **headers: str,
) -> HTMLResponse:
    found = _notifier_view(request, reference, secret)
    if found is None:
        return _page(request, "appeal.html", {"mode": "missing", "error": NOT_FOUND}, 404)
    report, case = found
    now = _limits(request).clock()
    context = {
        "mode": "notifier",
        "report": report,
        "secret": secret,
        "error": error,
        "values": {"reason": reason},
        "decided": case.decision_id is not None,
        "closes_at": case.closes_at,
        "open": case.closes_at is not None and now <= case.closes_at,
    }
    return csrf_form_page(request, "appeal.html", context, "/report", status, **headers)


@router.get(
    "/report/status/{reference}/appeal", response_class=HTMLResponse, include_in_schema=False
)
def notifier_appeal_form(request: Request, reference: str, secret: Secret = "") -> HTMLResponse:
    wait = _limit(_limits(request).lookups, request)
    if wait is not None:
        return _page(request, "appeal.html", {"mode": "missing", "error": _too_many(wait)}, 429)
    return _notifier_form(request, reference, secret)


def _file_for_notifier(
    request: Request, reference: str, secret: str, reason: str
) -> tuple[str, str]:
    """File for the notifier; ``AppealError(NOT_FOUND)`` for a wrong reference or secret."""
    if _lookup(request, reference, secret) is None:
        raise AppealError(NOT_FOUND)
    with services(request).engine.begin() as conn:
        case = _notifier_case(conn, reference)
        if case.decision_id is None:
            raise AppealError("There is no decision to appeal yet.")
        return file_appeal(conn, case.decision_id, reference, reason, _limits(request).clock())


class NotifierAppealForm(BaseModel):
    """The notifier's appeal as posted: the report's secret (one longer than any issued counts
    as none) and the reason, stripped; read after the rate limit, like the report form."""

    secret: str = ""
    reason: str = ""
    csrf_token: str | None = None

    @classmethod
    def read(cls, form: FormData) -> NotifierAppealForm:
        secret, reason, csrf = (form.get(k) for k in ("secret", "reason", "csrf_token"))
        return cls(
            secret=secret if isinstance(secret, str) and len(secret) <= MAX_SECRET else "",
            reason=reason.strip() if isinstance(reason, str) else "",
            csrf_token=csrf if isinstance(csrf, str) else None,
        )


@router.post(
    "/report/status/{reference}/appeal", response_class=HTMLResponse, include_in_schema=False
)
async def notifier_appeal_submit(request: Request, reference: str) -> HTMLResponse:
    wait = _limit(_limits(request).submits, request)
    if wait is not None:
        context = {"mode": "missing", "error": _too_many(wait)}
        return _page(request, "appeal.html", context, 429, **{"Retry-After": str(wait)})
    form = NotifierAppealForm.read(await request.form(max_files=0, max_fields=10))
    secret, reason = form.secret, form.reason
    if not _REFERENCE.fullmatch(reference) or not secret:
        return _page(request, "appeal.html", {"mode": "missing", "error": NOT_FOUND}, 404)
    if form.csrf_token is None or not _csrf_ok(request, form.csrf_token):
        return _notifier_form(request, reference, secret, EXPIRED, reason, 400)
    if not reason or len(reason) > MAX_REASON:
        return _notifier_form(request, reference, secret, REASON_NEEDED, reason, 400)
    try:
        appeal = await run_in_threadpool(_file_for_notifier, request, reference, secret, reason)
    except AppealError as exc:
        if str(exc) == NOT_FOUND:
            return _page(request, "appeal.html", {"mode": "missing", "error": NOT_FOUND}, 404)
        return _notifier_form(request, reference, secret, _explain(exc), reason, 400)
    return _filed(request, *appeal)


# -- following an appeal ---------------------------------------------------------------------------


@router.get("/appeal/status/{reference}", response_class=HTMLResponse, include_in_schema=False)
def appeal_status_page(request: Request, reference: str, secret: Secret = "") -> HTMLResponse:
    wait = _limit(_limits(request).lookups, request)
    if wait is not None:
        context = {"appeal": None, "message": _too_many(wait)}
        return _page(request, "appeal_status.html", context, 429, **{"Retry-After": str(wait)})
    view = None
    if _APPEAL_REFERENCE.fullmatch(reference) and secret:
        with services(request).engine.connect() as conn:
            view = appeal_for_appellant(conn, reference, secret)
    if view is None:
        return _page(
            request, "appeal_status.html", {"appeal": None, "message": APPEAL_NOT_FOUND}, 404
        )
    return _page(request, "appeal_status.html", {"appeal": view})


def register(app: FastAPI, clock: Clock | None = None) -> None:
    """Add the appeal pages to ``app``, after ``reports.register``: they share its templates,
    CSRF key and rate-limit settings. ``clock`` is for tests (the appeal window is six months)."""
    if not hasattr(app.state, "reports"):
        raise RuntimeError("register the report pages (iolaus.web.reports) before the appeals")
    settings, engine = app.state.reports.settings, app.state.services.engine
    clock = clock or system_clock
    app.state.appeals = _Limits(
        RateLimit.parse(settings.submit_limit, engine, "appeal.submit", clock),
        RateLimit.parse(settings.status_limit, engine, "appeal.status", clock),
        clock,
    )
    if not getattr(app.state, "appeals_routes", False):  # called again: settings only
        app.include_router(router)
        app.state.appeals_routes = True
