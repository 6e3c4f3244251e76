"""Case and report storage: the open-case lookup, the reviewer queue, locks and the timestamps of
every step (received → triaged → viewed → decided → actioned).

Every case transition writes a ``case_events`` row *and* an audit-log entry in the caller's
transaction, so the history of a case can never disagree with what happened to it. Audit details
carry identifiers and categories only, never a notifier's name or e-mail.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Connection, func, insert, or_, select, update

from iolaus.errors import Conflict
from iolaus.model.cases import LOCK_DURATION, CaseEvent, CaseStatus, ReportStatus
from iolaus.store import audit
from iolaus.store.digest import secret_digest
from iolaus.store.tables import case_events, cases, communities, decisions, memberships, reports

SYSTEM_ACTOR = "system"


class CaseLocked(Conflict, RuntimeError):
    """Another reviewer holds the case; two people must not decide the same case at once."""


def record_event(
    conn: Connection, case_id: int, kind: CaseEvent, actor: str, at: datetime, **details: Any
) -> None:
    """One step of a case, in its own history and in the audit log."""
    conn.execute(
        insert(case_events).values(
            case_id=case_id,
            kind=kind.value,
            at=at,
            actor=actor,
            details=json.dumps(details, default=str, sort_keys=True) if details else None,
        )
    )
    audit.record(conn, actor, f"case.{kind.value}", f"case:{case_id}", **details)


def open_case(conn: Connection, subject_key: str) -> Any | None:
    """The open case about ``subject_key``, if any (there is at most one: intake merges)."""
    return conn.execute(
        select(cases)
        .where(cases.c.subject_key == subject_key, cases.c.status == CaseStatus.OPEN.value)
        .order_by(cases.c.id)
        .limit(1)
    ).first()


def members(conn: Connection, community_id: int | None) -> int:
    """A community's reach: how many accounts are known to be in it."""
    if community_id is None:
        return 0
    query = select(func.count()).where(memberships.c.community_id == community_id)
    return int(conn.execute(query).scalar_one())


# -- the queue -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    """One open case as a reviewer's queue shows it, with its deadline countdown."""

    id: int
    subject_kind: str
    subject_key: str
    community_id: int | None
    community_name: str | None
    account_id: int | None
    category: str
    severity: int
    priority: float
    reports_count: int
    signals_count: int
    trusted_flagger: bool
    received_at: datetime
    deadline_at: datetime
    seconds_left: float
    escalated_at: datetime | None
    locked_by: int | None
    lock_expires_at: datetime | None

    @property
    def overdue(self) -> bool:
        return self.seconds_left < 0


QUEUE_ORDER = (cases.c.priority.desc(), cases.c.received_at, cases.c.id)
"""Highest priority first; within a priority level, the oldest case first."""


def _queue_item(row: Any, now: datetime) -> QueueItem:
    return QueueItem(
        id=row.id,
        subject_kind=row.subject_kind,
        subject_key=row.subject_key,
        community_id=row.community_id,
        community_name=row.community_name,
        account_id=row.account_id,
        category=row.category,
        severity=row.severity,
        priority=row.priority,
        reports_count=row.reports_count,
        signals_count=row.signals_count,
        trusted_flagger=row.trusted_flagger,
        received_at=row.received_at,
        deadline_at=row.deadline_at,
        seconds_left=(row.deadline_at - now).total_seconds(),
        escalated_at=row.escalated_at,
        locked_by=row.locked_by if row.lock_expires_at and row.lock_expires_at > now else None,
        lock_expires_at=row.lock_expires_at,
    )


def _case_query() -> Any:
    return select(cases, communities.c.name.label("community_name")).outerjoin(
        communities, communities.c.id == cases.c.community_id
    )


def queue(
    conn: Connection, limit: int = 50, offset: int = 0, *, now: datetime | None = None
) -> list[QueueItem]:
    """Open cases by priority (CSAM always first), oldest first within a level."""
    now = now or datetime.now(UTC)
    rows = conn.execute(
        _case_query()
        .where(cases.c.status == CaseStatus.OPEN.value)
        .order_by(*QUEUE_ORDER)
        .limit(limit)
        .offset(offset)
    )
    return [_queue_item(row, now) for row in rows]


def get_case(conn: Connection, case_id: int, *, now: datetime | None = None) -> QueueItem | None:
    row = conn.execute(_case_query().where(cases.c.id == case_id)).first()
    return None if row is None else _queue_item(row, now or datetime.now(UTC))


# -- locks -----------------------------------------------------------------------------------------


def lock(conn: Connection, case_id: int, user_id: int, now: datetime) -> datetime:
    """Give an open case to one reviewer until ``LOCK_DURATION`` passes; returns the expiry.

    One conditional UPDATE decides, so two reviewers racing for a case cannot both win. The holder
    may lock again to extend; anyone else gets :class:`CaseLocked` until the lock expires."""
    expires = now + LOCK_DURATION
    free = or_(
        cases.c.locked_by.is_(None),
        cases.c.locked_by == user_id,
        cases.c.lock_expires_at.is_(None),
        cases.c.lock_expires_at <= now,
    )
    done = conn.execute(
        update(cases)
        .where(cases.c.id == case_id, cases.c.status == CaseStatus.OPEN.value, free)
        .values(locked_by=user_id, lock_expires_at=expires)
    ).rowcount
    if done != 1:
        raise CaseLocked(f"case {case_id} is not open or is locked by another reviewer")
    record_event(conn, case_id, CaseEvent.LOCKED, f"user:{user_id}", now, until=expires)
    return expires


def unlock(conn: Connection, case_id: int, user_id: int, now: datetime) -> bool:
    """Release the holder's lock early; False when ``user_id`` did not hold it."""
    done = conn.execute(
        update(cases)
        .where(cases.c.id == case_id, cases.c.locked_by == user_id)
        .values(locked_by=None, lock_expires_at=None)
    ).rowcount
    if done == 1:
        record_event(conn, case_id, CaseEvent.UNLOCKED, f"user:{user_id}", now)
    return done == 1


# -- timestamps ------------------------------------------------------------------------------------


def _stamp(
    conn: Connection, case_id: int, column: Column[Any], kind: CaseEvent, actor: str, at: datetime
) -> bool:
    """Set a step's timestamp the first time it happens; every occurrence is still an event (who
    viewed a case, and when, is part of its history). Returns whether this was the first."""
    first = (
        conn.execute(
            update(cases).where(cases.c.id == case_id, column.is_(None)).values({column.key: at})
        ).rowcount
        == 1
    )
    record_event(conn, case_id, kind, actor, at)
    return first


def mark_viewed(conn: Connection, case_id: int, actor: str, now: datetime) -> bool:
    return _stamp(conn, case_id, cases.c.first_viewed_at, CaseEvent.VIEWED, actor, now)


def mark_decided(conn: Connection, case_id: int, actor: str, now: datetime) -> bool:
    """Decide the case: it leaves the queue, its lock is released, its reports follow it."""
    first = _stamp(conn, case_id, cases.c.decided_at, CaseEvent.DECIDED, actor, now)
    conn.execute(
        update(cases)
        .where(cases.c.id == case_id)
        .values(status=CaseStatus.DECIDED.value, locked_by=None, lock_expires_at=None)
    )
    decided = ReportStatus.DECIDED.value
    conn.execute(update(reports).where(reports.c.case_id == case_id).values(status=decided))
    return first


def mark_actioned(conn: Connection, case_id: int, actor: str, now: datetime) -> bool:
    return _stamp(conn, case_id, cases.c.actioned_at, CaseEvent.ACTIONED, actor, now)


def events(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(case_events).where(case_events.c.case_id == case_id).order_by(case_events.c.id)
    )
    return [
        {
            "kind": r.kind,
            "at": r.at,
            "actor": r.actor,
            "details": json.loads(r.details) if r.details else {},
        }
        for r in rows
    ]


# -- a notifier's view of their report -------------------------------------------------------------


def report_for_notifier(conn: Connection, reference: str, secret: str) -> dict[str, Any] | None:
    """What the holder of a report's secret may see: its progress and the decision, nothing about
    other reports or the reviewers. None for an unknown reference *or* a wrong secret, so the
    answer does not reveal which references exist."""
    row = conn.execute(
        select(
            reports.c.reference,
            reports.c.secret_hash,
            reports.c.target_kind,
            reports.c.category,
            reports.c.status,
            reports.c.received_at,
            reports.c.trusted_flagger,
            reports.c.notifier_informed_at,
            cases.c.id.label("case_id"),
            cases.c.triaged_at,
            cases.c.decided_at,
        )
        .outerjoin(cases, cases.c.id == reports.c.case_id)
        .where(reports.c.reference == reference)
    ).first()
    if row is None or not hmac.compare_digest(row.secret_hash, secret_digest(secret)):
        return None
    decision = None
    if row.case_id is not None and row.decided_at is not None:
        found = conn.execute(
            select(decisions)
            .where(decisions.c.case_id == row.case_id, decisions.c.reversed_by_appeal_id.is_(None))
            .order_by(decisions.c.id.desc())
            .limit(1)
        ).first()
        if found is not None:
            decision = {
                "violation": found.violation,
                "category": found.category,
                "ground": found.ground,
                "actions": json.loads(found.actions),
                "decided_at": found.decided_at,
            }
    return {
        "reference": row.reference,
        "target_kind": row.target_kind,
        "category": row.category,
        "status": row.status,
        "trusted_flagger": row.trusted_flagger,
        "received_at": row.received_at,
        "triaged_at": row.triaged_at,
        "decided_at": row.decided_at,
        "notifier_informed_at": row.notifier_informed_at,
        "decision": decision,
    }
