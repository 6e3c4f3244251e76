"""Console pages for review: the case queue, a case's dossier, locking and deciding, appeals.

Reading is open to every role; locking and deciding to reviewers and admins; a notifier's contact
details to admins and legal only. Every page view and every action is audited. Chat text and
names reach the templates as plain strings (autoescaped); media are placeholders behind the
``media-shield`` class, since Iolaus keeps hashes and file names, never image bytes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from iolaus.actions.kinds import kind_names
from iolaus.cases.decisions import DecisionError, flagged_message_ids, record_decision
from iolaus.cases.store import (
    CaseLocked,
    QueueItem,
    events,
    get_case,
    lock,
    mark_viewed,
    queue,
    record_event,
)
from iolaus.legal.appeals import AppealError, decide_appeal
from iolaus.legal.dsa import StatementError, decision_actions
from iolaus.model.cases import CaseEvent, CaseStatus, Ground, UserRole
from iolaus.model.clock import Clock, system_clock
from iolaus.model.signals import Category
from iolaus.store import audit
from iolaus.store.media_reveals import toggle_reveal
from iolaus.store.read_models.appeals import appeal_queue
from iolaus.store.read_models.case_dossier import case_dossier
from iolaus.store.read_models.reviewers import usernames
from iolaus.store.users import Session
from iolaus.web.console.auth import check_csrf, engine_of, require
from iolaus.web.console.forms import AppealDecisionForm, CsrfForm, DecisionForm
from iolaus.web.console.pages import render_page

router = APIRouter(prefix="/console", include_in_schema=False)

DECIDERS = (UserRole.REVIEWER, UserRole.ADMIN)
REVEALERS = (UserRole.REVIEWER, UserRole.ADMIN, UserRole.LEGAL)
CONTACT_ROLES = frozenset({UserRole.ADMIN, UserRole.LEGAL})
PAGE_SIZE = 50


def _now(request: Request) -> datetime:
    """Now, by the clock ``register`` was given: deadlines, locks and stamps all read it."""
    clock: Clock = request.app.state.console_clock
    return clock()


def _actor(session: Session) -> str:
    return f"user:{session.user.username}"


def countdown(seconds: float) -> str:
    """A deadline as a reviewer reads it at a glance: "due in 43 min", "overdue 2 h 5 min"."""
    minutes = int(abs(seconds) // 60)
    if minutes < 60:
        span = f"{minutes} min"
    elif minutes < 48 * 60:
        span = f"{minutes // 60} h {minutes % 60} min"
    else:
        span = f"{minutes // 1440} d {minutes % 1440 // 60} h"
    return f"due in {span}" if seconds >= 0 else f"overdue {span}"


# -- the queue -------------------------------------------------------------------------------------


@router.get("/queue")
def queue_page(
    request: Request, page: int = 0, session: Session = Depends(require())
) -> HTMLResponse:
    page = max(0, page)
    now = _now(request)
    with engine_of(request).begin() as conn:
        items = queue(conn, PAGE_SIZE + 1, page * PAGE_SIZE, now=now)
        holders = usernames(conn, [i.locked_by for i in items])
        audit.record(conn, _actor(session), "console.view", "queue", page=page)
    return render_page(
        request,
        "console/queue.html",
        session=session,
        items=items[:PAGE_SIZE],
        holders=holders,
        page=page,
        more=len(items) > PAGE_SIZE,
        countdown=countdown,
    )


# -- the case dossier ------------------------------------------------------------------------------


def _case_page(
    request: Request,
    conn: Connection,
    session: Session,
    case: QueueItem,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    dossier = case_dossier(conn, case, flagged_message_ids(conn, case), viewer_id=session.user.id)
    return render_page(
        request,
        "console/case.html",
        status,
        session=session,
        case=case,
        open=dossier.status == CaseStatus.OPEN.value,
        can_decide=session.user.role in DECIDERS,
        can_reveal=session.user.role in REVEALERS,
        show_contact=session.user.role in CONTACT_ROLES,
        countdown=countdown,
        categories=list(Category),
        grounds=list(Ground),
        action_kinds=kind_names(),
        error=error,
        community=dossier.community,
        risk=dossier.risk,
        signal_groups=dossier.signal_groups,
        flagged_total=dossier.flagged_total,
        threads=dossier.threads,
        related=dossier.related,
        reports=dossier.reports,
        decisions=dossier.decisions,
        actions_of=decision_actions,
        holder=dossier.holder,
        revealed=dossier.revealed,
        events=events(conn, case.id),
    )


def _case_or_404(conn: Connection, case_id: int, now: datetime) -> QueueItem:
    case = get_case(conn, case_id, now=now)
    if case is None:
        raise HTTPException(404, "no such case")
    return case


@router.get("/cases/{case_id}")
def case_page(
    request: Request, case_id: int, session: Session = Depends(require())
) -> HTMLResponse:
    with engine_of(request).begin() as conn:
        now = _now(request)
        case = _case_or_404(conn, case_id, now)
        mark_viewed(conn, case_id, _actor(session), now)
        return _case_page(request, conn, session, case)


@router.post("/cases/{case_id}/lock")
def take_case(
    request: Request,
    case_id: int,
    form: Annotated[CsrfForm, Form()],
    session: Session = Depends(require(*DECIDERS)),
) -> Response:
    check_csrf(session, form.csrf_token)
    engine = engine_of(request)
    try:
        with engine.begin() as conn:
            now = _now(request)
            _case_or_404(conn, case_id, now)
            lock(conn, case_id, session.user.id, now)
    except CaseLocked:
        with engine.begin() as conn:
            audit.record(conn, _actor(session), "case.lock_refused", f"case:{case_id}")
            case = _case_or_404(conn, case_id, _now(request))
            message = "Another reviewer holds this case, or it is no longer open."
            return _case_page(request, conn, session, case, error=message, status=409)
    return RedirectResponse(f"/console/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/reveal")
def reveal_media(
    request: Request,
    case_id: int,
    form: Annotated[CsrfForm, Form()],
    session: Session = Depends(require(*REVEALERS)),
) -> Response:
    check_csrf(session, form.csrf_token)
    with engine_of(request).begin() as conn:
        now = _now(request)
        _case_or_404(conn, case_id, now)
        if toggle_reveal(conn, session.user.id, case_id, now):
            record_event(conn, case_id, CaseEvent.MEDIA_REVEALED, _actor(session), now)
        else:
            audit.record(conn, _actor(session), "case.media_shielded", f"case:{case_id}")
    return RedirectResponse(f"/console/cases/{case_id}#media", status_code=303)


@router.post("/cases/{case_id}/decide")
def decide_case(
    request: Request,
    case_id: int,
    form: Annotated[DecisionForm, Form()],
    session: Session = Depends(require(*DECIDERS)),
) -> Response:
    check_csrf(session, form.csrf_token)
    engine = engine_of(request)
    try:
        kinds = form.action_kinds()
        chosen_ground = form.chosen_ground()
        with engine.begin() as conn:
            _case_or_404(conn, case_id, _now(request))
            record_decision(
                conn,
                case_id,
                session.user,
                violation=form.violation == "yes",
                category=form.category or None,
                ground=chosen_ground,
                legal_reference=form.legal_reference,
                terms_reference=form.terms_reference,
                explanation=form.explanation,
                actions=kinds,
                now=_now(request),
            )
    except (DecisionError, StatementError) as exc:
        with engine.begin() as conn:
            audit.record(conn, _actor(session), "case.decision_refused", f"case:{case_id}")
            case = _case_or_404(conn, case_id, _now(request))
            return _case_page(request, conn, session, case, error=str(exc), status=409)
    return RedirectResponse(f"/console/cases/{case_id}#decisions", status_code=303)


# -- appeals ---------------------------------------------------------------------------------------


def _appeals_page(
    request: Request,
    conn: Connection,
    session: Session,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render_page(
        request,
        "console/appeals.html",
        status,
        session=session,
        pending=appeal_queue(conn, open_only=True, limit=PAGE_SIZE),
        decided=appeal_queue(conn, open_only=False, limit=PAGE_SIZE),
        can_decide=session.user.role in DECIDERS,
        show_contact=session.user.role in CONTACT_ROLES,
        undo=decision_actions,
        error=error,
    )


@router.get("/appeals")
def appeals_page(request: Request, session: Session = Depends(require())) -> HTMLResponse:
    with engine_of(request).begin() as conn:
        audit.record(conn, _actor(session), "console.view", "appeals")
        return _appeals_page(request, conn, session)


@router.post("/appeals/{appeal_id}/decide")
def decide_appeal_form(
    request: Request,
    appeal_id: int,
    form: Annotated[AppealDecisionForm, Form()],
    session: Session = Depends(require(*DECIDERS)),
) -> Response:
    check_csrf(session, form.csrf_token)
    engine = engine_of(request)
    try:
        with engine.begin() as conn:
            undo = decide_appeal(
                conn, appeal_id, session.user.id, form.reverse == "yes", form.outcome, _now(request)
            )
            if undo:
                # Nothing is dispatched yet: the undoing is shown on the appeals page, by hand.
                audit.record(
                    conn,
                    _actor(session),
                    "appeal.actions_to_undo",
                    f"appeal:{appeal_id}",
                    kinds=[a["kind"] for a in undo],
                )
    except AppealError as exc:
        with engine.begin() as conn:
            audit.record(conn, _actor(session), "appeal.decision_refused", f"appeal:{appeal_id}")
            return _appeals_page(request, conn, session, error=str(exc), status=409)
    return RedirectResponse("/console/appeals", status_code=303)


def register(app: FastAPI, clock: Clock = system_clock) -> None:
    """Mount the review pages; ``pages.register`` must have run (it answers LoginRequired).
    Called again (tests with a fixed clock), it only replaces the clock."""
    app.state.console_clock = clock
    if not getattr(app.state, "console_cases_routes", False):
        app.include_router(router)
        app.state.console_cases_routes = True
