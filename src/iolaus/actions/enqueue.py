"""Writing a decision's actions to the outbox, as a subscriber to ``DecisionRecorded``.

Each action is a row written in the decision's transaction, together with its kind's local
effects on the store (the community marked banned), so that a decision and its effects commit
or roll back together. Delivery happens later, through a transport (``dispatcher``): the
platform does the banning and the removing; Iolaus records what it ordered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from iolaus.actions import outbox
from iolaus.actions.kinds import handler_for
from iolaus.cases.events import DecisionRecorded


def enqueue_actions(
    conn: Connection,
    decision_id: int,
    actions: Iterable[tuple[str, Mapping[str, Any]]],
    now: datetime,
) -> list[int]:
    """Write a decision's actions to the outbox and apply their local effects, in the caller's
    (the decision's) transaction; returns the outbox ids in order. Calling it again for the
    same decision and actions adds nothing and applies nothing twice."""
    ids = []
    for kind, raw in actions:
        handler = handler_for(kind)
        payload = handler.prepare(conn, dict(raw))
        action_id, created = outbox.insert_once(
            conn, decision_id, handler.kind, payload, now, target=handler.target(payload)
        )
        if created:
            handler.apply(conn, decision_id, payload, now)
        ids.append(action_id)
    return ids


def on_decision_recorded(conn: Connection, event: DecisionRecorded) -> None:
    """The subscriber: a decision's actions are enqueued as it is recorded."""
    enqueue_actions(conn, event.decision_id, event.actions, event.decided_at)
