"""Adding an action kind is one module plus its registration: the example ``quarantine_channel``
flows from a reviewer's decision to the outbox, through a transport, and into the statement of
reasons with its own DSA wording."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from iolaus.actions import kinds
from iolaus.actions.delivery import Outcome, Verdict
from iolaus.actions.dispatcher import dispatch_once
from iolaus.actions.outbox import Claimed
from iolaus.cases.decisions import record_decision
from iolaus.legal.dsa import validate_statement
from iolaus.model.cases import Ground
from iolaus.store.tables import cases, statements_of_reasons
from iolaus.store.tables import outbox as outbox_table
from tests.actions.quarantine_channel import QuarantineChannel
from tests.cases.open_case import NOW, seed_open_case


class RecordingTransport:
    """A transport that delivers by remembering: what the dispatcher handed it, in order."""

    def __init__(self) -> None:
        self.delivered: list[Claimed] = []

    def __call__(self, action: Claimed) -> Outcome:
        self.delivered.append(action)
        return Outcome(Verdict.DELIVERED)

    def close(self) -> None:
        return None


@pytest.fixture
def quarantine() -> Iterator[QuarantineChannel]:
    handler = QuarantineChannel()
    kinds.register(handler)
    yield handler
    kinds.unregister(handler.kind)


def test_a_new_kind_flows_from_decision_to_transport_and_statement(
    engine: Engine, quarantine: QuarantineChannel
) -> None:
    assert kinds.kind_names()[-1] == "quarantine_channel"  # the console's form offers it
    with engine.begin() as conn:
        case = seed_open_case(conn)
        record_decision(
            conn,
            case.case_id,
            case.reviewer,
            violation=True,
            category="ncii",
            ground=Ground.ILLEGAL,
            legal_reference="Art. 226-2-1 Code pénal (FR)",
            explanation="shared without consent",
            actions=["quarantine_channel", "remove_content"],
            now=NOW,
        )
    with engine.connect() as conn:
        queued = conn.execute(select(outbox_table).order_by(outbox_table.c.id)).all()
        bodies = [
            json.loads(b) for b in conn.execute(select(statements_of_reasons.c.body)).scalars()
        ]
    assert [r.kind for r in queued] == ["quarantine_channel", "remove_content"]
    assert json.loads(queued[0].payload) == {"channel_ids": sorted(case.channel_ids)}

    transport = RecordingTransport()
    report = dispatch_once(engine, NOW, transport)
    assert report.delivered == 2
    assert [a.kind for a in transport.delivered] == ["quarantine_channel", "remove_content"]
    with engine.connect() as conn:
        actioned = conn.execute(select(cases.c.actioned_at).where(cases.c.id == case.case_id))
        assert actioned.scalar_one() == NOW

    # One statement, for the uploader; the registry's order puts removal first.
    assert len(bodies) == 1 and validate_statement(bodies[0]) == []
    assert bodies[0]["decision_visibility"] == [
        "DECISION_VISIBILITY_CONTENT_REMOVED",
        "DECISION_VISIBILITY_CONTENT_DISABLED",
    ]
    assert (
        "The content was removed. The channel where it was shared was quarantined."
        in bodies[0]["decision_facts"]
    )


def test_a_kind_alone_restricting_something_is_owed_a_statement(
    sqlite_engine: Engine, quarantine: QuarantineChannel
) -> None:
    with sqlite_engine.begin() as conn:
        case = seed_open_case(conn)
        record_decision(
            conn,
            case.case_id,
            case.reviewer,
            violation=True,
            category="ncii",
            ground=Ground.TERMS,
            terms_reference="Terms, section 4",
            explanation="shared without consent",
            actions=["quarantine_channel"],
            now=NOW,
        )
        body = json.loads(conn.execute(select(statements_of_reasons.c.body)).scalar_one())
    assert body["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    assert "decision_account" not in body and "decision_provision" not in body


def test_an_unregistered_kind_is_unknown_again(quarantine: QuarantineChannel) -> None:
    kinds.unregister(quarantine.kind)
    with pytest.raises(kinds.InvalidAction, match="unknown action"):
        kinds.handler_for("quarantine_channel")
    kinds.register(quarantine)  # for the fixture's own unregister
