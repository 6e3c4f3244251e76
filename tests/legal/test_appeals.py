"""Appeals (DSA Art. 20): who may appeal, for how long, who may decide, what a reversal returns."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import Connection, Engine, select, update

from iolaus.legal.appeals import AppealError, decide_appeal, file_appeal
from iolaus.legal.dsa import StatementError, create_statements
from iolaus.model.cases import APPEAL_WINDOW
from iolaus.store.digest import secret_digest
from iolaus.store.tables import appeals, audit_log, case_events, decisions, reports
from tests.legal.test_dsa import DECIDED, Seeded, seed

ACCOUNT = "111111111111111111"  # the platform id seed() gives the case's account
ACTIONS = [{"kind": "remove_content"}, {"kind": "ban_accounts"}]


def _events(conn: Connection, case_id: int) -> list[str]:
    return list(
        conn.execute(
            select(case_events.c.kind)
            .where(case_events.c.case_id == case_id)
            .order_by(case_events.c.id)
        ).scalars()
    )


def _seeded(conn: Connection) -> Seeded:
    return seed(conn, actions=ACTIONS)


def test_affected_account_appeals_within_six_months(engine: Engine) -> None:
    with engine.begin() as conn:
        seeded = _seeded(conn)
        reference, secret = file_appeal(
            conn, seeded.decision_id, ACCOUNT, "This was not me.", DECIDED + timedelta(days=3)
        )
        row = conn.execute(select(appeals)).one()
        events = _events(conn, seeded.case_id)
        logged = conn.execute(select(audit_log)).all()
    assert reference.startswith("A-") and row.reference == reference
    assert row.secret_hash == secret_digest(secret) and secret not in row.secret_hash
    assert row.status == "open" and row.appellant == ACCOUNT
    assert events == ["appealed"]
    assert [r.action for r in logged] == ["case.appealed"]
    assert all(ACCOUNT not in (r.details or "") + r.actor for r in logged)
    assert all("not me" not in (r.details or "") for r in logged)


def test_window_is_six_months_from_the_decision(engine: Engine) -> None:
    with engine.begin() as conn:
        seeded = _seeded(conn)
        with pytest.raises(AppealError, match=r"appeal window .* closed"):
            file_appeal(
                conn,
                seeded.decision_id,
                ACCOUNT,
                "late",
                DECIDED + APPEAL_WINDOW + timedelta(seconds=1),
            )
        file_appeal(conn, seeded.decision_id, ACCOUNT, "just in time", DECIDED + APPEAL_WINDOW)
    assert timedelta(days=182) <= APPEAL_WINDOW


def test_notifier_window_starts_when_informed(engine: Engine) -> None:
    late = DECIDED + APPEAL_WINDOW + timedelta(days=10)
    with engine.begin() as conn:
        seeded = _seeded(conn)
        conn.execute(
            update(reports)
            .where(reports.c.reference == seeded.report_reference)
            .values(notifier_informed_at=DECIDED + timedelta(days=30))
        )
        with pytest.raises(AppealError, match="window"):
            file_appeal(conn, seeded.decision_id, ACCOUNT, "late", late)
        assert seeded.report_reference is not None
        file_appeal(conn, seeded.decision_id, seeded.report_reference, "Not enough was done.", late)


def test_only_the_affected_account_or_a_notifier_may_appeal(engine: Engine) -> None:
    with engine.begin() as conn:
        seeded = _seeded(conn)
        with pytest.raises(AppealError, match="only an affected account or a notifier"):
            file_appeal(conn, seeded.decision_id, "999", "me too", DECIDED)
        with pytest.raises(AppealError, match="needs a reason"):
            file_appeal(conn, seeded.decision_id, ACCOUNT, "  ", DECIDED)
        with pytest.raises(AppealError, match="no decision"):
            file_appeal(conn, seeded.decision_id + 100, ACCOUNT, "why", DECIDED)
        file_appeal(conn, seeded.decision_id, ACCOUNT, "first", DECIDED)
        with pytest.raises(AppealError, match="is open"):
            file_appeal(conn, seeded.decision_id, ACCOUNT, "again", DECIDED)


def test_the_original_reviewer_may_not_decide_the_appeal(engine: Engine) -> None:
    with engine.begin() as conn:
        seeded = _seeded(conn)
        file_appeal(conn, seeded.decision_id, ACCOUNT, "unfair", DECIDED)
        appeal_id = conn.execute(select(appeals.c.id)).scalar_one()
        with pytest.raises(AppealError, match="someone other than the original reviewer"):
            decide_appeal(conn, appeal_id, seeded.reviewer_id, True, "Reversed.", DECIDED)
        with pytest.raises(AppealError, match="no active reviewer"):
            decide_appeal(conn, appeal_id, 9999, True, "Reversed.", DECIDED)
        undo = decide_appeal(
            conn, appeal_id, seeded.second_reviewer_id, False, "The decision stands.", DECIDED
        )
        row = conn.execute(select(appeals)).one()
        decision = conn.execute(select(decisions)).one()
        with pytest.raises(AppealError, match="already decided"):
            decide_appeal(conn, appeal_id, seeded.second_reviewer_id, True, "x", DECIDED)
    assert undo == []
    assert row.status == "upheld" and row.reviewer_id == seeded.second_reviewer_id
    assert row.outcome == "The decision stands." and row.decided_at == DECIDED
    assert decision.reversed_by_appeal_id is None


def test_reversal_returns_the_actions_to_undo(engine: Engine) -> None:
    later = DECIDED + timedelta(days=2)
    with engine.begin() as conn:
        seeded = _seeded(conn)
        file_appeal(conn, seeded.decision_id, ACCOUNT, "unfair", DECIDED)
        appeal_id = conn.execute(select(appeals.c.id)).scalar_one()
        undo = decide_appeal(
            conn, appeal_id, seeded.second_reviewer_id, True, "The match was wrong.", later
        )
        decision = conn.execute(select(decisions)).one()
        events = _events(conn, seeded.case_id)
        logged = conn.execute(select(audit_log).order_by(audit_log.c.id)).all()
        with pytest.raises(AppealError, match="already reversed"):
            file_appeal(conn, seeded.decision_id, seeded.report_reference or "", "x", later)
        with pytest.raises(StatementError, match="reversed on appeal"):
            create_statements(conn, seeded.decision_id)
    assert undo == ACTIONS
    assert decision.reversed_by_appeal_id == appeal_id
    assert events == ["appealed", "appeal_decided"]
    decided = logged[-1]
    assert decided.action == "case.appeal_decided"
    assert decided.actor == f"user:{seeded.second_reviewer_id}"
    assert json.loads(decided.details) == {
        "appeal_id": appeal_id,
        "decision_id": seeded.decision_id,
        "status": "reversed",
    }
