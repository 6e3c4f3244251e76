"""Reads behind the appeal pages (DSA Art. 20): the console's list of appeals, and what the
public pages look up to check an appellant's standing and to show an appeal to its holder."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from iolaus.store.digest import secret_digest
from iolaus.store.tables import accounts, appeals, decisions, reports, statements_of_reasons, users


def appeal_queue(conn: Connection, *, open_only: bool, limit: int) -> list[Row[Any]]:
    """Open appeals, oldest first, or decided ones, latest first; each row is the appeal with
    the contested decision's case, reviewer, category, ground, actions and time, and the name
    of the reviewer who decided the appeal (``appeal_reviewer``)."""
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
    return list(conn.execute(query.limit(limit)))


@dataclass(frozen=True)
class Addressee:
    """The decision a statement of reasons explains and the platform id of its account."""

    decision_id: int
    account: str


def statement_addressee(conn: Connection, puid: str) -> Addressee | None:
    row = conn.execute(
        select(statements_of_reasons.c.decision_id, accounts.c.external_id)
        .join(accounts, accounts.c.id == statements_of_reasons.c.account_id)
        .where(statements_of_reasons.c.puid == puid)
    ).first()
    return None if row is None else Addressee(row.decision_id, row.external_id)


def standing_decision(conn: Connection, reference: str) -> Row[Any] | None:
    """The decision a report's notifier would appeal: the latest not reversed on its case (the
    one the report's status page shows), or None before any decision."""
    case_id = conn.execute(
        select(reports.c.case_id).where(reports.c.reference == reference)
    ).scalar_one_or_none()
    if case_id is None:
        return None
    return conn.execute(
        select(decisions)
        .where(decisions.c.case_id == case_id, decisions.c.reversed_by_appeal_id.is_(None))
        .order_by(decisions.c.id.desc())
        .limit(1)
    ).first()


@dataclass(frozen=True)
class AppealView:
    """What the holder of an appeal's secret may see."""

    reference: str
    status: str
    filed_at: datetime
    decided_at: datetime | None
    outcome: str | None


def appeal_for_appellant(conn: Connection, reference: str, secret: str) -> AppealView | None:
    """An appeal's status and reasoned outcome, nothing about the reviewer or the other party.
    None for an unknown reference *or* a wrong secret."""
    row = conn.execute(
        select(
            appeals.c.reference,
            appeals.c.secret_hash,
            appeals.c.status,
            appeals.c.filed_at,
            appeals.c.decided_at,
            appeals.c.outcome,
        ).where(appeals.c.reference == reference)
    ).first()
    if row is None or not hmac.compare_digest(row.secret_hash, secret_digest(secret)):
        return None
    return AppealView(row.reference, row.status, row.filed_at, row.decided_at, row.outcome)
