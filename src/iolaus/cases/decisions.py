"""A reviewer's decision on a case, and everything that must happen with it.

Recording a decision is one unit: the ``decisions`` row, the actions in the outbox (and their
local effects, e.g. the community marked banned), the statements of reasons, the case leaving
the queue, the notifiers informed, the case event and the audit entry. It all runs on the
caller's connection, inside the caller's transaction (``engine.begin()``), so a failure at any
step (an invalid statement, an unknown community) leaves no half-decided case behind.

Action payloads are derived from the case here, not typed by the reviewer: the reviewer picks
*what* to do, the evidence says *to whom*.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from iolaus.actions.handlers import enqueue_actions
from iolaus.cases.store import mark_decided
from iolaus.legal.dsa import create_statements
from iolaus.model.cases import ActionKind, CaseStatus, Ground, UserRole
from iolaus.model.signals import Category
from iolaus.store import audit
from iolaus.store.tables import (
    attachment_hashes,
    attachments,
    cases,
    decisions,
    messages,
    reports,
    signals,
)
from iolaus.store.users import User

DECIDING_ROLES = frozenset({UserRole.REVIEWER, UserRole.ADMIN})
MAX_TARGETS = 500
"""Most message ids, hashes or accounts one action names; a webhook payload must stay small."""
MAX_BANNED_ACCOUNTS = 20
"""Account bans go to the most active flagged authors only: a community's bystanders are not
banned for being members."""


class DecisionError(ValueError):
    """A decision that cannot be recorded as given; the message says why, for the reviewer."""


def flagged_message_ids(conn: Connection, case: Any) -> list[int]:
    """The messages the case's signals and reports point at, newest first."""
    about = []
    if case.community_id is not None:
        about.append(signals.c.community_id == case.community_id)
    if case.account_id is not None:
        about.append(signals.c.account_id == case.account_id)
    found: set[int] = set(
        conn.execute(
            select(reports.c.message_id).where(
                reports.c.case_id == case.id, reports.c.message_id.is_not(None)
            )
        ).scalars()
    )
    for condition in about:
        found.update(
            conn.execute(
                select(signals.c.message_id).where(condition, signals.c.message_id.is_not(None))
            ).scalars()
        )
    return sorted(found, reverse=True)[:MAX_TARGETS]


def _flagged_authors(conn: Connection, message_ids: Sequence[int], case: Any) -> list[int]:
    """The most active authors of flagged messages, else the case's own account."""
    if message_ids:
        count = func.count().label("n")
        rows = conn.execute(
            select(messages.c.author_id, count)
            .where(messages.c.id.in_(message_ids))
            .group_by(messages.c.author_id)
            .order_by(count.desc(), messages.c.author_id)
            .limit(MAX_BANNED_ACCOUNTS)
        )
        authors = [r.author_id for r in rows]
        if authors:
            return authors
    return [case.account_id] if case.account_id is not None else []


def _media_hashes(conn: Connection, message_ids: Sequence[int]) -> list[str]:
    rows = conn.execute(
        select(attachment_hashes.c.sha256)
        .join(attachments, attachments.c.id == attachment_hashes.c.attachment_id)
        .where(attachments.c.message_id.in_(message_ids), attachment_hashes.c.sha256.is_not(None))
        .distinct()
    )
    return sorted(rows.scalars())[:MAX_TARGETS]


def action_payloads(
    conn: Connection, case: Any, kinds: Sequence[ActionKind]
) -> list[tuple[ActionKind, dict[str, Any]]]:
    """Each chosen action with the targets the case's evidence names; raises ``DecisionError``
    for an action the case gives no target for (a community ban of an account case, say)."""
    message_ids = flagged_message_ids(conn, case)
    chosen = []
    for kind in dict.fromkeys(kinds):  # each kind once, in the order given
        payload: dict[str, Any]
        if kind in (ActionKind.BAN_COMMUNITY, ActionKind.WATCH_SUCCESSORS):
            if case.community_id is None:
                raise DecisionError(f"{kind.value}: this case is not about a community")
            payload = {"community_id": case.community_id}
        elif kind is ActionKind.BAN_ACCOUNTS:
            account_ids = _flagged_authors(conn, message_ids, case)
            if not account_ids:
                raise DecisionError("ban_accounts: no flagged author or account in this case")
            payload = {"account_ids": account_ids}
        elif kind is ActionKind.REMOVE_CONTENT:
            if not message_ids:
                raise DecisionError("remove_content: no flagged message in this case")
            payload = {"message_ids": message_ids}
        elif kind is ActionKind.ADD_TO_BANK:
            hashes = _media_hashes(conn, message_ids)
            if not hashes:
                raise DecisionError("add_to_bank: no hashed media among the flagged messages")
            payload = {"sha256": hashes}
        else:  # preserve_evidence, report_ncmec: the case as a whole
            payload = {"case_id": case.id, "message_ids": message_ids}
        chosen.append((kind, payload))
    return chosen


def _check(
    case: Any,
    reviewer: User,
    now: datetime,
    *,
    violation: bool,
    category: str | None,
    ground: Ground | None,
    legal_reference: str,
    terms_reference: str,
    explanation: str,
    actions: Sequence[ActionKind],
) -> None:
    if reviewer.role not in DECIDING_ROLES:
        raise DecisionError("only a reviewer or an admin may decide a case")
    if case is None:
        raise DecisionError("no such case")
    if case.status != CaseStatus.OPEN.value:
        raise DecisionError(f"case {case.id} is {case.status}, not open")
    if case.locked_by != reviewer.id or case.lock_expires_at is None or case.lock_expires_at <= now:
        raise DecisionError(f"take case {case.id} (lock it) before deciding it")
    if not explanation.strip():
        raise DecisionError("a decision needs an explanation")
    if not violation:
        if actions:
            raise DecisionError("a decision finding no violation takes no action")
        return
    if category not in {c.value for c in Category}:
        raise DecisionError("a violation needs a category")
    if ground is None:
        raise DecisionError("a violation needs a ground: illegal content or terms of service")
    if ground is Ground.ILLEGAL and not legal_reference.strip():
        raise DecisionError("illegal content needs a legal reference (the law it breaks)")
    if ground is Ground.TERMS and not terms_reference.strip():
        raise DecisionError("a terms-of-service ground needs the clause it breaks")


def record_decision(
    conn: Connection,
    case_id: int,
    reviewer: User,
    *,
    violation: bool,
    category: str | None,
    ground: Ground | None,
    legal_reference: str = "",
    terms_reference: str = "",
    explanation: str,
    actions: Sequence[ActionKind],
    now: datetime,
) -> int:
    """Decide an open case held by ``reviewer``; returns the decision id.

    Raises ``DecisionError`` (nothing written) for a wrong role, a case not open or not locked
    by this reviewer, or a decision missing its category, ground or reference; a statement of
    reasons that fails validation raises ``legal.dsa.StatementError`` and the caller's
    transaction must roll back.
    """
    case = conn.execute(select(cases).where(cases.c.id == case_id)).first()
    _check(
        case,
        reviewer,
        now,
        violation=violation,
        category=category,
        ground=ground,
        legal_reference=legal_reference,
        terms_reference=terms_reference,
        explanation=explanation,
        actions=actions,
    )
    # Claim the case with a conditional write first: of two racing submissions by the holder,
    # the second waits on this row and then finds it no longer open.
    claimed = conn.execute(
        update(cases)
        .where(
            cases.c.id == case_id,
            cases.c.status == CaseStatus.OPEN.value,
            cases.c.locked_by == reviewer.id,
        )
        .values(status=CaseStatus.DECIDED.value)
    ).rowcount
    if claimed != 1:
        raise DecisionError(f"case {case_id} was decided or released meanwhile")

    chosen = action_payloads(conn, case, actions)
    decision_id = int(
        conn.execute(
            decisions.insert()
            .values(
                case_id=case_id,
                reviewer_id=reviewer.id,
                violation=violation,
                category=category if violation else None,
                ground=ground.value if violation and ground else None,
                legal_reference=legal_reference.strip() or None,
                terms_reference=terms_reference.strip() or None,
                explanation=explanation.strip(),
                actions=json.dumps([{"kind": k.value, **p} for k, p in chosen]),
                automated_detection=bool(case.signals_count),
                decided_at=now,
            )
            .returning(decisions.c.id)
        ).scalar_one()
    )
    enqueue_actions(conn, decision_id, chosen, now)
    statements = create_statements(conn, decision_id, now=now) if violation else []
    actor = f"user:{reviewer.id}"
    mark_decided(conn, case_id, actor, now)
    conn.execute(
        update(reports)
        .where(reports.c.case_id == case_id, reports.c.notifier_informed_at.is_(None))
        .values(notifier_informed_at=now)
    )
    audit.record(
        conn,
        actor,
        "decision.recorded",
        f"case:{case_id}",
        decision_id=decision_id,
        violation=violation,
        category=category if violation else None,
        actions=[k.value for k, _ in chosen],
        statements=len(statements),
    )
    return decision_id
