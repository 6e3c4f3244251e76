"""Recording a decision publishes ``DecisionRecorded`` inside the decision's transaction: the
built-in subscribers (the outbox, the statements of reasons) run first, a subscriber added by a
plug-in sees the decision on the same connection, and one that raises rolls everything back."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select

from iolaus.actions import enqueue
from iolaus.cases.decisions import DecisionError, record_decision
from iolaus.cases.events import DecisionRecorded, decision_recorded
from iolaus.legal.dsa import statements
from iolaus.model.cases import Ground
from iolaus.store.tables import (
    audit_log,
    cases,
    communities,
    decisions,
    outbox,
    statements_of_reasons,
)
from tests.cases.open_case import NOW, OpenCase, seed_open_case

SRC = Path(__file__).resolve().parents[2] / "src" / "iolaus"


def decide(conn: Connection, case: OpenCase, actions: list[str], **changes: Any) -> int:
    values: dict[str, Any] = {
        "violation": True,
        "category": "ncii",
        "ground": Ground.ILLEGAL,
        "legal_reference": "Art. 226-2-1 Code pénal (FR)",
        "explanation": "shared without consent",
        "actions": actions,
        "now": NOW,
    }
    return record_decision(conn, case.case_id, case.reviewer, **{**values, **changes})


def count(conn: Connection, table: Any) -> int:
    return conn.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def seen() -> Iterator[list[tuple[DecisionRecorded, Mapping[str, Any]]]]:
    """A subscriber for the test: records each event with the decision row it finds on the
    connection it is given (so only inside the decision's transaction)."""
    found: list[tuple[DecisionRecorded, Mapping[str, Any]]] = []

    def subscriber(conn: Connection, event: DecisionRecorded) -> None:
        row = conn.execute(select(decisions).where(decisions.c.id == event.decision_id)).one()
        queued = count(conn, outbox)
        found.append((event, {"row": row, "queued": queued}))

    decision_recorded.subscribe(subscriber)
    yield found
    decision_recorded.unsubscribe(subscriber)


def test_the_built_in_subscribers_run_first_and_in_order() -> None:
    assert decision_recorded.subscribers()[:2] == (
        enqueue.on_decision_recorded,
        statements.on_decision_recorded,
    )


def test_a_subscriber_receives_the_event_inside_the_transaction(
    engine: Engine, seen: list[tuple[DecisionRecorded, Mapping[str, Any]]]
) -> None:
    with engine.begin() as conn:
        case = seed_open_case(conn)
        decision_id = decide(conn, case, ["ban_community", "remove_content"])
    assert len(seen) == 1
    event, found = seen[0]
    assert event == DecisionRecorded(
        decision_id=decision_id,
        case_id=case.case_id,
        violation=True,
        category="ncii",
        ground=Ground.ILLEGAL,
        actions=(
            ("ban_community", {"community_id": case.community_id}),
            ("remove_content", {"message_ids": sorted(case.message_ids, reverse=True)}),
        ),
        reviewer_id=case.reviewer.id,
        decided_at=NOW,
    )
    assert found["row"].case_id == case.case_id  # the uncommitted decision, on the same conn
    assert found["queued"] == 2  # after the built-in outbox subscriber
    with engine.connect() as conn:
        entry = conn.execute(
            select(audit_log.c.details).where(audit_log.c.action == "decision.recorded")
        ).scalar_one()
    # The statements subscriber's note reaches the decision's audit entry, as before.
    assert json.loads(entry)["statements"] == 1


def test_a_subscriber_that_raises_rolls_the_decision_back(engine: Engine) -> None:
    def refuse(conn: Connection, event: DecisionRecorded) -> None:
        raise RuntimeError("the evidence vault is unreachable")

    with engine.begin() as conn:
        case = seed_open_case(conn)
    decision_recorded.subscribe(refuse)
    try:
        with pytest.raises(RuntimeError, match="vault"), engine.begin() as conn:
            decide(conn, case, ["ban_community", "remove_content"])
    finally:
        decision_recorded.unsubscribe(refuse)
    with engine.connect() as conn:
        assert count(conn, decisions) == count(conn, outbox) == 0
        assert count(conn, statements_of_reasons) == 0
        status = conn.execute(select(cases.c.status).where(cases.c.id == case.case_id))
        assert status.scalar_one() == "open"
        banned = conn.execute(
            select(communities.c.status).where(communities.c.id == case.community_id)
        )
        assert banned.scalar_one() == "active"


def test_an_unknown_action_kind_is_refused(engine: Engine) -> None:
    with engine.begin() as conn:
        case = seed_open_case(conn)
        with pytest.raises(DecisionError, match="unknown action 'launch_missiles'"):
            decide(conn, case, ["remove_content", "launch_missiles"])
        assert count(conn, decisions) == 0


def test_an_action_without_a_target_is_refused_for_the_reviewer(engine: Engine) -> None:
    with engine.begin() as conn:
        case = seed_open_case(conn, with_community=False)
        with pytest.raises(DecisionError, match="ban_community: this case is not about a"):
            decide(conn, case, ["ban_community"])


def test_no_violation_publishes_without_statements(
    engine: Engine, seen: list[tuple[DecisionRecorded, Mapping[str, Any]]]
) -> None:
    with engine.begin() as conn:
        case = seed_open_case(conn)
        decide(conn, case, [], violation=False, category=None, ground=None)
        assert count(conn, statements_of_reasons) == 0
    event, _ = seen[0]
    assert not event.violation and event.actions == () and event.ground is None


def _imports(package: str) -> set[str]:
    found: set[str] = set()
    for path in (SRC / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
    return found


def test_cases_does_not_import_legal() -> None:
    """Statements of reasons subscribe to decisions; deciding knows nothing of them."""
    assert not {m for m in _imports("cases") if m.startswith("iolaus.legal")}
