"""The internal complaint-handling system (DSA Art. 20).

The affected account and the notifier may contest a decision for six months (``APPEAL_WINDOW``),
counted for a notifier from when they were informed of it (Art. 20(2)). The appellant gets a
reference and a secret shown once; only a SHA-256 of the secret is stored. A different human
than the one who decided must decide the appeal (Art. 20(6): not solely automated, and a review
by the same person is no review). A reversal is recorded on the decision and returns the
decision's actions so the caller can dispatch their undoing; this module touches no platform.

Filing and deciding are case events, each with its audit-log entry (``record_event``). They name
the appeal and the decision only: the appellant's identity and reasons are personal data and
stay in the ``appeals`` row.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from iolaus.cases.store import record_event
from iolaus.errors import IolausError
from iolaus.legal.dsa import banned_account_ids, decision_actions
from iolaus.model.cases import APPEAL_WINDOW, CaseEvent
from iolaus.store.digest import secret_digest
from iolaus.store.tables import accounts, appeals, cases, decisions, reports, users

_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


class AppealError(IolausError, ValueError):
    """An appeal that cannot be filed or decided; the message says why."""


def _window_start(conn: Connection, decision: Any, appellant: str) -> datetime:
    """When the appellant's six months start, or raise if they may not appeal this decision.

    An affected account is informed by the statement of reasons, due when the decision takes
    effect; a notifier when told the outcome of their notice (Art. 16(5)).
    """
    case = conn.execute(select(cases).where(cases.c.id == decision.case_id)).one()
    affected = banned_account_ids(decision, case)
    if case.account_id is not None:
        affected.add(case.account_id)
    external_ids = conn.execute(
        select(accounts.c.external_id).where(accounts.c.id.in_(affected))
    ).scalars()
    if appellant in set(external_ids):
        return decision.decided_at
    notice = conn.execute(
        select(reports.c.notifier_informed_at).where(
            reports.c.case_id == case.id, reports.c.reference == appellant
        )
    ).one_or_none()
    if notice is None:
        raise AppealError(
            f"only an affected account or a notifier of the case may appeal decision {decision.id}"
        )
    informed = notice.notifier_informed_at
    return max(decision.decided_at, informed) if informed else decision.decided_at


def file_appeal(
    conn: Connection, decision_id: int, appellant: str, reason: str, now: datetime
) -> tuple[str, str]:
    """File a complaint against a decision; returns ``(reference, secret)``, the secret once.

    ``appellant`` is the affected account's platform id or the reference of the notifier's
    report. Raises ``AppealError`` outside the window, for anyone else, for a decision already
    reversed, or while another appeal of the same appellant is open.
    """
    if not reason.strip():
        raise AppealError("an appeal needs a reason")
    decision = conn.execute(select(decisions).where(decisions.c.id == decision_id)).one_or_none()
    if decision is None:
        raise AppealError(f"no decision {decision_id}")
    if decision.reversed_by_appeal_id is not None:
        raise AppealError(f"decision {decision_id} was already reversed")
    start = _window_start(conn, decision, appellant)
    if now > start + APPEAL_WINDOW:
        raise AppealError(
            f"the appeal window of decision {decision_id} closed on "
            f"{(start + APPEAL_WINDOW).date().isoformat()}"
        )
    pending = conn.execute(
        select(appeals.c.id).where(
            appeals.c.decision_id == decision_id,
            appeals.c.appellant == appellant,
            appeals.c.status == "open",
        )
    ).first()
    if pending is not None:
        raise AppealError(f"an appeal of decision {decision_id} by this appellant is open")

    reference = "A-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(10))
    secret = secrets.token_urlsafe(24)
    appeal_id = conn.execute(
        insert(appeals)
        .values(
            decision_id=decision_id,
            reference=reference,
            secret_hash=secret_digest(secret),
            appellant=appellant,
            reason=reason,
            status="open",
            filed_at=now,
        )
        .returning(appeals.c.id)
    ).scalar_one()
    record_event(
        conn,
        decision.case_id,
        CaseEvent.APPEALED,
        f"appeal:{reference}",
        now,
        appeal_id=appeal_id,
        decision_id=decision_id,
    )
    return reference, secret


def decide_appeal(
    conn: Connection,
    appeal_id: int,
    reviewer_id: int,
    reverse: bool,
    outcome: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """Decide an open appeal; returns the actions to undo (empty unless reversed).

    ``outcome`` is the reasoned decision sent to the complainant (Art. 20(5)). Raises
    ``AppealError`` if the appeal is not open, the reviewer is unknown or disabled, or the
    reviewer is the one who took the decision.
    """
    if not outcome.strip():
        raise AppealError("an appeal decision needs a reasoned outcome")
    appeal = conn.execute(select(appeals).where(appeals.c.id == appeal_id)).one_or_none()
    if appeal is None:
        raise AppealError(f"no appeal {appeal_id}")
    if appeal.status != "open":
        raise AppealError(f"appeal {appeal_id} was already decided ({appeal.status})")
    reviewer = conn.execute(select(users).where(users.c.id == reviewer_id)).one_or_none()
    if reviewer is None or reviewer.disabled_at is not None:
        raise AppealError(f"no active reviewer {reviewer_id}")
    decision = conn.execute(select(decisions).where(decisions.c.id == appeal.decision_id)).one()
    if decision.reviewer_id == reviewer_id:
        raise AppealError("an appeal must be decided by someone other than the original reviewer")

    status = "reversed" if reverse else "upheld"
    conn.execute(
        update(appeals)
        .where(appeals.c.id == appeal_id)
        .values(status=status, reviewer_id=reviewer_id, decided_at=now, outcome=outcome)
    )
    if reverse:
        conn.execute(
            update(decisions)
            .where(decisions.c.id == decision.id)
            .values(reversed_by_appeal_id=appeal_id)
        )
    record_event(
        conn,
        decision.case_id,
        CaseEvent.APPEAL_DECIDED,
        f"user:{reviewer_id}",
        now,
        appeal_id=appeal_id,
        decision_id=decision.id,
        status=status,
    )
    return decision_actions(decision) if reverse else []
