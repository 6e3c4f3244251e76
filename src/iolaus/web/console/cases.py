"""Console pages for review: the case queue, a case's dossier, locking and deciding, appeals.

Reading is open to every role; locking and deciding to reviewers and admins; a notifier's contact
details to admins and legal only. Every page view and every action is audited. Chat text and
names reach the templates as plain strings (autoescaped); media are placeholders behind the
``media-shield`` class, since Iolaus keeps hashes and file names, never image bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, and_, func, or_, select

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
from iolaus.model.signals import Category, Scope
from iolaus.store import audit
from iolaus.store import signals as signal_store
from iolaus.store.digest import secret_digest
from iolaus.store.queries import list_communities
from iolaus.store.tables import (
    accounts,
    appeals,
    attachment_hashes,
    attachments,
    cases,
    channels,
    communities,
    community_risk,
    decisions,
    memberships,
    messages,
    reports,
    signals,
    statements_of_reasons,
    users,
)
from iolaus.store.users import Session
from iolaus.web.console.auth import SESSION_COOKIE, check_csrf, engine_of, require
from iolaus.web.console.pages import render_page

router = APIRouter(prefix="/console", include_in_schema=False)

DECIDERS = (UserRole.REVIEWER, UserRole.ADMIN)
REVEALERS = (UserRole.REVIEWER, UserRole.ADMIN, UserRole.LEGAL)
CONTACT_ROLES = frozenset({UserRole.ADMIN, UserRole.LEGAL})
PAGE_SIZE = 50
SIGNAL_SCAN_LIMIT = 20_000  # signals read for one case page; groups are built from these
SIGNAL_EXAMPLES = 3
SIGNAL_GROUPS = 30
CONTEXT_MESSAGES = 10
"""Flagged messages shown with their surroundings; the rest are counted, not shown."""
CONTEXT_AROUND = 2
RELATED = 5
E = TypeVar("E", bound=StrEnum)


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


def _usernames(conn: Connection, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = conn.execute(select(users.c.id, users.c.username).where(users.c.id.in_(wanted)))
    return {r.id: r.username for r in rows}


# -- media reveal: a per-session flag --------------------------------------------------------------


def _revealed(request: Request) -> set[tuple[str, int]]:
    """(session digest, case id) pairs whose reviewer chose to reveal media. Held in memory: it
    only changes a notice (there are no image bytes to unblur), so losing it on restart is safe."""
    state = request.app.state
    if not hasattr(state, "revealed_media"):
        state.revealed_media = set()
    found: set[tuple[str, int]] = state.revealed_media
    return found


def _session_key(request: Request) -> str:
    """The session as the database knows it: the stored digest of its cookie token."""
    return secret_digest(request.cookies.get(SESSION_COOKIE, ""))


# -- the queue -------------------------------------------------------------------------------------


@router.get("/queue")
def queue_page(
    request: Request, page: int = 0, session: Session = Depends(require())
) -> HTMLResponse:
    page = max(0, page)
    now = datetime.now(UTC)
    with engine_of(request).begin() as conn:
        items = queue(conn, PAGE_SIZE + 1, page * PAGE_SIZE, now=now)
        holders = _usernames(conn, {i.locked_by for i in items})
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


@dataclass
class SignalGroup:
    """Signals that found the same thing (one rule or one bank), with a few of the words."""

    category: str
    detector: str
    explanation: str
    severity: int
    score: float
    count: int = 0
    examples: list[str] = field(default_factory=list)


def _signal_groups(conn: Connection, case: QueueItem) -> list[SignalGroup]:
    """Signals grouped by what found them, read from their typed fields: the bank item, or the
    rule with the channel or protected persons its wording names. One row per finding reads
    faster than one row per wording; the explanation's words after its colon (the quoted terms,
    which differ from message to message) are kept for the first few."""
    found = signal_store.about(
        conn,
        community_id=case.community_id,
        account_id=case.account_id,
        limit=SIGNAL_SCAN_LIMIT,
    )
    groups: dict[tuple[Any, ...], SignalGroup] = {}
    for signal in found:
        channel = signal.targets.channel_id if signal.scope is Scope.CHANNEL else None
        key = (signal.category, signal.detector, signal.refs, channel, signal.protected)
        group = groups.get(key)
        if group is None:
            heading = signal.explanation.partition(": ")[0]
            group = groups[key] = SignalGroup(
                signal.category.value, signal.detector, heading, signal.severity, signal.score
            )
        group.count += 1
        group.score = max(group.score, signal.score)
        words = signal.explanation.partition(": ")[2]
        if words and len(group.examples) < SIGNAL_EXAMPLES and words not in group.examples:
            group.examples.append(words)
    ordered = sorted(groups.values(), key=lambda g: (-g.severity, -g.count))
    return ordered[:SIGNAL_GROUPS]


def _message_rows(conn: Connection, *conditions: Any, order: Any, limit: int) -> list[Any]:
    query = (
        select(
            messages.c.id,
            messages.c.channel_id,
            messages.c.content,
            messages.c.created_at,
            accounts.c.username.label("author"),
        )
        .join(accounts, accounts.c.id == messages.c.author_id)
        .where(*conditions)
        .order_by(*order)
        .limit(limit)
    )
    return list(conn.execute(query))


def _context(conn: Connection, flagged: list[int]) -> list[dict[str, Any]]:
    """Each shown flagged message with the messages just before and after it in its channel,
    its signals' explanations and its attachments (as placeholders)."""
    shown = flagged[:CONTEXT_MESSAGES]
    if not shown:
        return []
    explanations: dict[int, list[str]] = {}
    for message_id, text in conn.execute(
        select(signals.c.message_id, signals.c.explanation)
        .where(signals.c.message_id.in_(shown))
        .distinct()
    ):
        explanations.setdefault(message_id, []).append(text)
    media: dict[int, list[Any]] = {}
    for row in conn.execute(
        select(
            attachments.c.message_id,
            attachments.c.file_name,
            attachments.c.media_kind,
            attachments.c.size_bytes,
            attachment_hashes.c.sha256,
            attachment_hashes.c.pdq,
        )
        .outerjoin(attachment_hashes, attachment_hashes.c.attachment_id == attachments.c.id)
        .where(attachments.c.message_id.in_(shown))
        .order_by(attachments.c.id)
    ):
        media.setdefault(row.message_id, []).append(row)
    threads = []
    for target in _message_rows(
        conn, messages.c.id.in_(shown), order=[messages.c.id.desc()], limit=CONTEXT_MESSAGES
    ):
        channel_name = conn.execute(
            select(channels.c.name).where(channels.c.id == target.channel_id)
        ).scalar_one()
        same = messages.c.channel_id == target.channel_id
        earlier = or_(
            messages.c.created_at < target.created_at,
            and_(messages.c.created_at == target.created_at, messages.c.id < target.id),
        )
        later = or_(
            messages.c.created_at > target.created_at,
            and_(messages.c.created_at == target.created_at, messages.c.id > target.id),
        )
        before = _message_rows(
            conn,
            same,
            earlier,
            order=[messages.c.created_at.desc(), messages.c.id.desc()],
            limit=CONTEXT_AROUND,
        )
        after = _message_rows(
            conn, same, later, order=[messages.c.created_at, messages.c.id], limit=CONTEXT_AROUND
        )
        threads.append(
            {
                "channel": channel_name,
                "flagged_id": target.id,
                "messages": [*reversed(before), target, *after],
                "explanations": explanations.get(target.id, []),
                "media": media.get(target.id, []),
            }
        )
    return threads


def _related(conn: Connection, community_id: int | None) -> list[Any]:
    """The communities sharing the most members with this one (successors, mirrors, networks)."""
    if community_id is None:
        return []
    mine, theirs = memberships.alias("mine"), memberships.alias("theirs")
    shared = func.count().label("shared")
    return list(
        conn.execute(
            select(communities.c.id, communities.c.name, communities.c.status, shared)
            .select_from(mine)
            .join(theirs, theirs.c.account_id == mine.c.account_id)
            .join(communities, communities.c.id == theirs.c.community_id)
            .where(mine.c.community_id == community_id, theirs.c.community_id != community_id)
            .group_by(communities.c.id, communities.c.name, communities.c.status)
            .order_by(shared.desc(), communities.c.id)
            .limit(RELATED)
        )
    )


def _decisions(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(decisions, users.c.username.label("reviewer"))
        .outerjoin(users, users.c.id == decisions.c.reviewer_id)
        .where(decisions.c.case_id == case_id)
        .order_by(decisions.c.id)
    ).all()
    found = []
    for row in rows:
        bodies = conn.execute(
            select(statements_of_reasons.c.body)
            .where(statements_of_reasons.c.decision_id == row.id)
            .order_by(statements_of_reasons.c.id)
        ).scalars()
        found.append(
            {
                "row": row,
                "actions": decision_actions(row),
                "statements": [json.loads(b) for b in bodies],
            }
        )
    return found


def _dossier(
    request: Request, conn: Connection, session: Session, case: QueueItem
) -> dict[str, Any]:
    """Everything the case page shows, read in the caller's transaction."""
    summary = list_communities(conn, case.community_id) if case.community_id is not None else []
    risk = None
    if case.community_id is not None:
        risk = conn.execute(
            select(community_risk).where(community_risk.c.community_id == case.community_id)
        ).first()
    flagged = flagged_message_ids(conn, case)
    contact = session.user.role in CONTACT_ROLES
    return {
        "community": summary[0] if summary else None,
        "risk": risk,
        "reasons": json.loads(risk.reasons)[:10] if risk is not None else [],
        "signal_groups": _signal_groups(conn, case),
        "flagged_total": len(flagged),
        "threads": _context(conn, flagged),
        "related": _related(conn, case.community_id),
        "events": events(conn, case.id),
        "reports": list(
            conn.execute(select(reports).where(reports.c.case_id == case.id).order_by(reports.c.id))
        ),
        "show_contact": contact,
        "decisions": _decisions(conn, case.id),
        "holder": _usernames(conn, {case.locked_by}).get(case.locked_by or 0),
        "revealed": (_session_key(request), case.id) in _revealed(request),
    }


def _case_page(
    request: Request,
    conn: Connection,
    session: Session,
    case: QueueItem,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render_page(
        request,
        "console/case.html",
        status,
        session=session,
        case=case,
        open=_status(conn, case.id) == CaseStatus.OPEN.value,
        can_decide=session.user.role in DECIDERS,
        can_reveal=session.user.role in REVEALERS,
        countdown=countdown,
        categories=list(Category),
        grounds=list(Ground),
        action_kinds=kind_names(),
        error=error,
        **_dossier(request, conn, session, case),
    )


def _status(conn: Connection, case_id: int) -> str:
    return str(conn.execute(select(cases.c.status).where(cases.c.id == case_id)).scalar_one())


def _case_or_404(conn: Connection, case_id: int) -> QueueItem:
    case = get_case(conn, case_id)
    if case is None:
        raise HTTPException(404, "no such case")
    return case


@router.get("/cases/{case_id}")
def case_page(
    request: Request, case_id: int, session: Session = Depends(require())
) -> HTMLResponse:
    with engine_of(request).begin() as conn:
        case = _case_or_404(conn, case_id)
        mark_viewed(conn, case_id, _actor(session), datetime.now(UTC))
        return _case_page(request, conn, session, case)


@router.post("/cases/{case_id}/lock")
def take_case(
    request: Request,
    case_id: int,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    session: Session = Depends(require(*DECIDERS)),
) -> Response:
    check_csrf(session, csrf_token)
    engine = engine_of(request)
    try:
        with engine.begin() as conn:
            _case_or_404(conn, case_id)
            lock(conn, case_id, session.user.id, datetime.now(UTC))
    except CaseLocked:
        with engine.begin() as conn:
            audit.record(conn, _actor(session), "case.lock_refused", f"case:{case_id}")
            case = _case_or_404(conn, case_id)
            message = "Another reviewer holds this case, or it is no longer open."
            return _case_page(request, conn, session, case, error=message, status=409)
    return RedirectResponse(f"/console/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/reveal")
def reveal_media(
    request: Request,
    case_id: int,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    session: Session = Depends(require(*REVEALERS)),
) -> Response:
    check_csrf(session, csrf_token)
    key = (_session_key(request), case_id)
    revealed = _revealed(request)
    with engine_of(request).begin() as conn:
        _case_or_404(conn, case_id)
        if key in revealed:
            revealed.discard(key)
            audit.record(conn, _actor(session), "case.media_shielded", f"case:{case_id}")
        else:
            revealed.add(key)
            record_event(
                conn, case_id, CaseEvent.MEDIA_REVEALED, _actor(session), datetime.now(UTC)
            )
    return RedirectResponse(f"/console/cases/{case_id}#media", status_code=303)


def _parse(enum: type[E], values: list[str]) -> list[E]:
    try:
        return [enum(v) for v in values]
    except ValueError:
        raise DecisionError(f"unknown {enum.__name__} in the form") from None


@router.post("/cases/{case_id}/decide")
def decide_case(
    request: Request,
    case_id: int,
    violation: Annotated[str, Form(max_length=3)] = "",
    category: Annotated[str, Form(max_length=32)] = "",
    ground: Annotated[str, Form(max_length=16)] = "",
    legal_reference: Annotated[str, Form(max_length=500)] = "",
    terms_reference: Annotated[str, Form(max_length=500)] = "",
    explanation: Annotated[str, Form(max_length=5000)] = "",
    actions: Annotated[list[str] | None, Form()] = None,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    session: Session = Depends(require(*DECIDERS)),
) -> Response:
    check_csrf(session, csrf_token)
    engine = engine_of(request)
    try:
        chosen_ground = _parse(Ground, [ground])[0] if ground else None
        with engine.begin() as conn:
            _case_or_404(conn, case_id)
            record_decision(
                conn,
                case_id,
                session.user,
                violation=violation == "yes",
                category=category or None,
                ground=chosen_ground,
                legal_reference=legal_reference,
                terms_reference=terms_reference,
                explanation=explanation,
                actions=actions or [],
                now=datetime.now(UTC),
            )
    except (DecisionError, StatementError) as exc:
        with engine.begin() as conn:
            audit.record(conn, _actor(session), "case.decision_refused", f"case:{case_id}")
            case = _case_or_404(conn, case_id)
            return _case_page(request, conn, session, case, error=str(exc), status=409)
    return RedirectResponse(f"/console/cases/{case_id}#decisions", status_code=303)


# -- appeals ---------------------------------------------------------------------------------------


def _appeal_rows(conn: Connection, *, open_only: bool) -> list[Any]:
    decided_by = users.alias("decided_by")
    query = (
        select(
            appeals,
            decisions.c.case_id,
            decisions.c.reviewer_id.label("original_reviewer_id"),
            decisions.c.category,
            decisions.c.ground,
            decisions.c.actions,
            decisions.c.decided_at.label("decision_at"),
            decided_by.c.username.label("appeal_reviewer"),
        )
        .join(decisions, decisions.c.id == appeals.c.decision_id)
        .outerjoin(decided_by, decided_by.c.id == appeals.c.reviewer_id)
    )
    if open_only:
        query = query.where(appeals.c.status == "open").order_by(appeals.c.filed_at)
    else:
        query = query.where(appeals.c.status != "open").order_by(appeals.c.decided_at.desc())
    return list(conn.execute(query.limit(PAGE_SIZE)))


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
        pending=_appeal_rows(conn, open_only=True),
        decided=_appeal_rows(conn, open_only=False),
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
    outcome: Annotated[str, Form(max_length=5000)] = "",
    reverse: Annotated[str, Form(max_length=3)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    session: Session = Depends(require(*DECIDERS)),
) -> Response:
    check_csrf(session, csrf_token)
    engine = engine_of(request)
    try:
        with engine.begin() as conn:
            undo = decide_appeal(
                conn, appeal_id, session.user.id, reverse == "yes", outcome, datetime.now(UTC)
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


def register(app: FastAPI) -> None:
    """Mount the review pages; ``pages.register`` must have run (it answers LoginRequired)."""
    app.include_router(router)
