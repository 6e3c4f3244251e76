"""A reviewer's decision on a case, and everything that must happen with it.

Recording a decision is one unit: the ``decisions`` row, what its subscribers do with the
``DecisionRecorded`` event (the actions in the outbox with their local effects, the statements
of reasons), the case leaving the queue, the notifiers informed, the case event and the audit
entry. It all runs on the caller's connection, inside the caller's transaction
(``engine.begin()``), so a failure at any step (an invalid statement, an unknown community, a
subscriber that raises) leaves no half-decided case behind.

Action payloads are derived from the case by each action kind, not typed by the reviewer: the
reviewer picks *what* to do, the evidence says *to whom*.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from iolaus.actions.kinds import MAX_TARGETS, CaseEvidence, InvalidAction, derive, handler_for
from iolaus.cases.events import DecisionRecorded, decision_recorded
from iolaus.cases.store import mark_decided
from iolaus.errors import IolausError
from iolaus.model.cases import CaseStatus, Ground, UserRole
from iolaus.model.signals import Category
from iolaus.store import audit
from iolaus.store.tables import cases, decisions, reports, signals
from iolaus.store.users import User

DECIDING_ROLES = frozenset({UserRole.REVIEWER, UserRole.ADMIN})


class DecisionError(IolausError, ValueError):
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


def action_payloads(
    conn: Connection, case: Any, kinds: Sequence[str]
) -> list[tuple[str, dict[str, Any]]]:
    """Each chosen action with the targets the case's evidence names, found by its kind;
    raises ``DecisionError`` for an action the case gives no target for (a community ban of an
    account case, say)."""
    evidence = CaseEvidence(
        case_id=case.id,
        community_id=case.community_id,
        account_id=case.account_id,
        message_ids=tuple(flagged_message_ids(conn, case)),
    )
    try:
        return derive(conn, evidence, kinds)
    except InvalidAction as exc:
        raise DecisionError(str(exc)) from None


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
    actions: Sequence[str],
) -> None:
    for kind in actions:
        try:
            handler_for(kind)
        except InvalidAction as exc:
            raise DecisionError(str(exc)) from None
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
    actions: Sequence[str],
    now: datetime,
) -> int:
    """Decide an open case held by ``reviewer``; returns the decision id.

    Raises ``DecisionError`` (nothing written) for a wrong role, a case not open or not locked
    by this reviewer, an unknown action kind, or a decision missing its category, ground or
    reference. ``actions`` are kind names (``iolaus.actions.kinds``). Whatever a subscriber of
    ``DecisionRecorded`` raises propagates (a statement of reasons that fails validation raises
    ``legal.dsa.StatementError``) and the caller's transaction must roll back.
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

    assert case is not None  # _check refused a missing case
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
                actions=json.dumps([{"kind": k, **p} for k, p in chosen]),
                automated_detection=bool(case.signals_count),
                decided_at=now,
            )
            .returning(decisions.c.id)
        ).scalar_one()
    )
    notes = decision_recorded.publish(
        conn,
        DecisionRecorded(
            decision_id=decision_id,
            case_id=case_id,
            violation=violation,
            category=category if violation else None,
            ground=ground if violation else None,
            actions=tuple(chosen),
            reviewer_id=reviewer.id,
            decided_at=now,
        ),
    )
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
        actions=[k for k, _ in chosen],
        **notes,
    )
    return decision_id
