"""The transactional outbox: an action is a row written in the same transaction as the decision
that orders it, so a decision is never recorded without its actions nor an action sent for a
decision that was rolled back. Delivery happens later, from the row, as often as needed.

A row's life: ``pending`` → claimed (a lease) → ``delivered``, or back to ``pending`` with a
later ``next_attempt_at`` (exponential backoff with jitter), or ``failed`` after a permanent
error or ``MAX_ATTEMPTS`` tries. Failed rows are kept and shown; ``retry`` puts them back.

Claiming is a lease, not a status: it adds one to ``attempts`` and pushes ``next_attempt_at``
past the claim's time-to-live. A dispatcher that dies between claim and delivery therefore
leaves a ``pending`` row that falls due again when the lease runs out, and it is sent again
with the same idempotency key (receivers deduplicate on it). ``attempts`` doubles as a fencing
token: a dispatcher whose lease expired cannot overwrite the outcome of the one that took over.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, and_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from iolaus.store import audit
from iolaus.store.tables import outbox

MAX_ATTEMPTS = 12
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)
CLAIM_TTL = timedelta(minutes=5)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class NotRetriable(Exception):
    """``retry`` was asked for a row that does not exist or has not failed."""


@dataclass(frozen=True)
class Claimed:
    """One action leased to one dispatcher; ``attempts`` is this attempt's number."""

    id: int
    decision_id: int | None
    kind: str
    payload: dict[str, Any]
    idempotency_key: str
    attempts: int
    created_at: datetime


def idempotency_key(decision_id: int | None, kind: str, target: str) -> str:
    """Stable across processes and retried transactions: the same decision, action and target
    always give the same key, which is what lets receivers drop a second delivery. Events that
    no decision caused (a case escalated) have no decision id and are keyed by their target."""
    material = json.dumps([decision_id, str(kind), target], separators=(",", ":"))
    return hashlib.sha256(material.encode()).hexdigest()


def canonical(payload: dict[str, Any]) -> str:
    """The payload as stored and hashed: sorted keys, no spaces; equal payloads, equal text."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def enqueue(
    conn: Connection,
    decision_id: int | None,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    *,
    target: str | None = None,
) -> int:
    """Add one action, due at once; returns its id. ``target`` names what the action is aimed
    at (default: the whole payload). Enqueueing the same decision, kind and target again
    inserts nothing and returns the existing row's id."""
    return insert_once(conn, decision_id, kind, payload, now, target=target)[0]


def insert_once(
    conn: Connection,
    decision_id: int | None,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    *,
    target: str | None = None,
) -> tuple[int, bool]:
    """Like ``enqueue``, also telling whether the row is new, so that local effects tied to an
    action run only the first time it is enqueued."""
    text = canonical(payload)
    key = idempotency_key(decision_id, kind, text if target is None else target)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(outbox)
        .values(
            decision_id=decision_id,
            kind=str(kind),
            payload=text,
            idempotency_key=key,
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(outbox.c.id)
    )
    new_id = conn.execute(statement).scalar_one_or_none()
    if new_id is not None:
        return int(new_id), True
    existing = conn.execute(select(outbox.c.id).where(outbox.c.idempotency_key == key))
    return int(existing.scalar_one()), False


def claim_due(
    conn: Connection, now: datetime, limit: int = 100, *, ttl: timedelta = CLAIM_TTL
) -> list[Claimed]:
    """Lease up to ``limit`` pending rows due at ``now``, oldest due first.

    PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` then an UPDATE of exactly those rows, so
    concurrent dispatchers split the due rows instead of queueing behind each other. (A single
    ``UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)`` may lease more than
    ``n`` rows there: the planner is free to re-run the subquery.) SQLite has no row locks: one
    conditional ``UPDATE … WHERE id IN (SELECT … LIMIT n) AND <still due> RETURNING`` takes the
    write lock before it reads, so two dispatchers never lease the same row, and no read
    snapshot is held that a concurrent writer could invalidate. Commit promptly: the lease only
    protects the row once it is committed.
    """
    due = and_(outbox.c.status == OutboxStatus.PENDING, outbox.c.next_attempt_at <= now)
    candidates = (
        select(outbox.c.id).where(due).order_by(outbox.c.next_attempt_at, outbox.c.id).limit(limit)
    )
    chosen: Any
    if conn.dialect.name == "postgresql":
        chosen = list(conn.scalars(candidates.with_for_update(skip_locked=True)))
        if not chosen:
            return []
    else:
        chosen = candidates.scalar_subquery()
    statement = (
        update(outbox)
        .where(outbox.c.id.in_(chosen), due)
        .values(attempts=outbox.c.attempts + 1, next_attempt_at=now + ttl)
        .returning(
            outbox.c.id,
            outbox.c.decision_id,
            outbox.c.kind,
            outbox.c.payload,
            outbox.c.idempotency_key,
            outbox.c.attempts,
            outbox.c.created_at,
        )
    )
    claimed = [
        Claimed(
            id=row.id,
            decision_id=row.decision_id,
            kind=row.kind,
            payload=json.loads(row.payload),
            idempotency_key=row.idempotency_key,
            attempts=row.attempts,
            created_at=row.created_at,
        )
        for row in conn.execute(statement)
    ]
    return sorted(claimed, key=lambda c: c.id)


def mark_delivered(conn: Connection, claim: Claimed, now: datetime) -> None:
    """Delivered is final whoever held the lease: the receiver has the event."""
    conn.execute(
        update(outbox)
        .where(outbox.c.id == claim.id, outbox.c.status != OutboxStatus.DELIVERED)
        .values(status=OutboxStatus.DELIVERED, delivered_at=now)
    )


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Delay after the ``attempts``-th failure: doubling from ``BACKOFF_BASE`` up to
    ``BACKOFF_CAP``, then a random half of it taken off so that actions that failed together
    (a receiver outage) do not all come back in the same second."""
    step = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, min(attempts - 1, 30)))
    return step * (0.5 + 0.5 * (rng or random).random())


def mark_failed(
    conn: Connection,
    claim: Claimed,
    error: str,
    next_attempt_at: datetime | None,
    *,
    max_attempts: int = MAX_ATTEMPTS,
) -> OutboxStatus | None:
    """Record a failed attempt: ``pending`` again at ``next_attempt_at``, or ``failed`` when it
    is ``None`` (a permanent error) or the attempts are used up. Returns the new status, or
    ``None`` when the lease had already passed to another dispatcher (nothing is changed)."""
    status = (
        OutboxStatus.FAILED
        if next_attempt_at is None or claim.attempts >= max_attempts
        else OutboxStatus.PENDING
    )
    values: dict[str, Any] = {"status": status, "last_error": error[:2000]}
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    result = conn.execute(
        update(outbox)
        .where(
            outbox.c.id == claim.id,
            outbox.c.status == OutboxStatus.PENDING,
            outbox.c.attempts == claim.attempts,
        )
        .values(**values)
    )
    return status if result.rowcount == 1 else None


def retry(conn: Connection, action_id: int, now: datetime, actor: str) -> None:
    """Put a failed action back in the queue by hand, due now with a fresh count of attempts
    (the last error stays visible until the next attempt replaces it)."""
    result = conn.execute(
        update(outbox)
        .where(outbox.c.id == action_id, outbox.c.status == OutboxStatus.FAILED)
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now)
    )
    if result.rowcount != 1:
        exists = conn.execute(select(outbox.c.status).where(outbox.c.id == action_id)).first()
        if exists is None:
            raise NotRetriable(f"no action {action_id}")
        raise NotRetriable(f"action {action_id} is {exists.status}, not failed")
    audit.record(conn, actor, "action.retry", f"outbox:{action_id}")


def list_actions(
    conn: Connection, status: OutboxStatus | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Most recent first, as plain data for the CLI and the console."""
    query = select(outbox).order_by(outbox.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(outbox.c.status == status)
    return [
        {
            "id": row.id,
            "decision_id": row.decision_id,
            "kind": row.kind,
            "status": row.status,
            "attempts": row.attempts,
            "next_attempt_at": row.next_attempt_at.isoformat(),
            "last_error": row.last_error,
            "created_at": row.created_at.isoformat(),
            "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
            "idempotency_key": row.idempotency_key,
            "payload": json.loads(row.payload),
        }
        for row in conn.execute(query)
    ]
