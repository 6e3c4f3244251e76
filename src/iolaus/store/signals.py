"""Signals in the store: typed :class:`~iolaus.model.signals.Signal` objects in, typed out.

What fired (rule, bank item, linked community) is kept in the ``refs`` JSON column and the
quoted words in ``details``, so that readers group and weigh signals by those fields rather
than by parsing the explanation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, insert, or_, select

from iolaus.model.signals import Category, Scope, Signal, Targets, refs_from_json, refs_to_json
from iolaus.store.tables import signals

_BATCH = 1000


def _row(signal: Signal, now: datetime) -> dict[str, Any]:
    t = signal.targets
    return {
        "dedupe_key": signal.key,
        "detector": signal.detector,
        "category": signal.category.value,
        "severity": signal.severity,
        "score": signal.score,
        "scope": signal.scope.value,
        "refs": refs_to_json(signal.refs),
        "explanation": signal.explanation,
        "details": {
            "terms": list(signal.terms),
            "protected": list(signal.protected),
            "example": dict(signal.example),
        },
        "community_id": t.community_id,
        "channel_id": t.channel_id,
        "message_id": t.message_id,
        "attachment_id": t.attachment_id,
        "account_id": t.account_id,
        "created_at": now,
    }


def _signal(row: Any) -> Signal:
    details = row.details or {}
    return Signal(
        detector=row.detector,
        key=row.dedupe_key,
        category=Category(row.category),
        severity=row.severity,
        score=row.score,
        scope=Scope(row.scope),
        refs=refs_from_json(row.refs or ()),
        targets=Targets(
            row.community_id, row.channel_id, row.message_id, row.attachment_id, row.account_id
        ),
        explanation=row.explanation,
        terms=tuple(details.get("terms", ())),
        protected=tuple(details.get("protected", ())),
        example=details.get("example", {}),
    )


def _insert(conn: Connection, found: Sequence[Signal], now: datetime) -> None:
    rows = [_row(s, now) for s in found]
    for start in range(0, len(rows), _BATCH):
        conn.execute(insert(signals), rows[start : start + _BATCH])


def add(conn: Connection, found: Sequence[Signal], now: datetime) -> list[Signal]:
    """Store the signals not stored yet (by key); returns those it stored."""
    keys = [s.key for s in found]
    existing: set[str] = set()
    for start in range(0, len(keys), _BATCH):
        chunk = keys[start : start + _BATCH]
        existing.update(
            conn.execute(
                select(signals.c.dedupe_key).where(signals.c.dedupe_key.in_(chunk))
            ).scalars()
        )
    fresh = [s for s in found if s.key not in existing]
    _insert(conn, fresh, now)
    return fresh


def replace(
    conn: Connection, community_id: int, detector: str, found: Sequence[Signal], now: datetime
) -> None:
    """Make ``found`` the community's only signals from ``detector``."""
    conn.execute(
        delete(signals)
        .where(signals.c.community_id == community_id)
        .where(signals.c.detector == detector)
    )
    _insert(conn, found, now)


def of_community(conn: Connection, community_id: int, detector: str) -> list[Signal]:
    """The community's stored signals from ``detector``, oldest first."""
    rows = conn.execute(
        select(signals)
        .where(signals.c.community_id == community_id)
        .where(signals.c.detector == detector)
        .order_by(signals.c.id)
    )
    return [_signal(row) for row in rows]


def about(
    conn: Connection, *, community_id: int | None, account_id: int | None, limit: int
) -> list[Signal]:
    """Signals about a community or an account (either), most severe first, at most ``limit``."""
    conditions: list[ColumnElement[bool]] = []
    if community_id is not None:
        conditions.append(signals.c.community_id == community_id)
    if account_id is not None:
        conditions.append(signals.c.account_id == account_id)
    if not conditions:
        return []
    rows = conn.execute(
        select(signals)
        .where(or_(*conditions))
        .order_by(signals.c.severity.desc(), signals.c.id)
        .limit(limit)
    )
    return [_signal(row) for row in rows]
