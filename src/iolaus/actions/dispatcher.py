"""The dispatcher: claims due actions from the outbox, hands each to a transport, records the
outcome.

Each step commits on its own: the claim (a lease) before anything is sent, each outcome right
after its delivery. No transaction is held open across the network, and a process that dies at
any point loses nothing: an unrecorded delivery is simply sent again, with the same idempotency
key, once its lease runs out. Any number of dispatchers may run against one database.

``now`` and the transport are parameters so tests drive time and the network deterministically;
``run`` supplies the wall clock and loops until told to stop.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from iolaus.actions import outbox
from iolaus.actions.delivery import Outcome, Transport, Verdict
from iolaus.actions.outbox import CLAIM_TTL, MAX_ATTEMPTS, Claimed, OutboxStatus
from iolaus.cases import store as case_store
from iolaus.logs import get_logger
from iolaus.store import audit
from iolaus.store.tables import decisions
from iolaus.store.tables import outbox as outbox_table

log = get_logger(__name__)

ACTOR = "dispatcher"


@dataclass(frozen=True)
class DispatchResult:
    """What became of one claimed action; ``status`` is ``None`` when its lease had passed to
    another dispatcher before the outcome could be recorded (that one's outcome stands)."""

    id: int
    kind: str
    attempt: int
    status: OutboxStatus | None
    error: str | None


@dataclass
class DispatchReport:
    results: list[DispatchResult] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        return len(self.results)

    def count(self, status: OutboxStatus) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def delivered(self) -> int:
        return self.count(OutboxStatus.DELIVERED)

    @property
    def retrying(self) -> int:
        return self.count(OutboxStatus.PENDING)

    @property
    def failed(self) -> int:
        return self.count(OutboxStatus.FAILED)


def _send(transport: Transport, action: Claimed) -> Outcome:
    """A transport that raises is a bug, not a verdict on the action: retry it later. Only the
    exception's type is kept, since its text could quote a URL or a header."""
    try:
        return transport(action)
    except Exception as exc:
        log.error("transport.raised", error=type(exc).__name__, outbox_id=action.id)
        return Outcome(Verdict.RETRY, f"sender error: {type(exc).__name__}")


def dispatch_once(
    engine: Engine,
    now: datetime,
    transport: Transport,
    *,
    limit: int = 100,
    claim_ttl: timedelta = CLAIM_TTL,
    max_attempts: int = MAX_ATTEMPTS,
    rng: random.Random | None = None,
) -> DispatchReport:
    """Claim up to ``limit`` due actions and hand each to ``transport`` once."""
    with engine.begin() as conn:
        claimed = outbox.claim_due(conn, now, limit, ttl=claim_ttl)
    report = DispatchReport()
    for action in claimed:
        outcome = _send(transport, action)
        with engine.begin() as conn:
            status: OutboxStatus | None
            if outcome.verdict is Verdict.DELIVERED:
                outbox.mark_delivered(conn, action, now)
                status = OutboxStatus.DELIVERED
                if action.decision_id is not None:
                    _stamp_actioned(conn, action.decision_id, now)
            else:
                retry_at = (
                    now + outbox.backoff(action.attempts, rng)
                    if outcome.verdict is Verdict.RETRY
                    else None
                )
                status = outbox.mark_failed(
                    conn, action, outcome.error or "failed", retry_at, max_attempts=max_attempts
                )
                if status is OutboxStatus.FAILED:
                    audit.record(
                        conn,
                        ACTOR,
                        "action.failed",
                        f"outbox:{action.id}",
                        kind=action.kind,
                        attempts=action.attempts,
                    )
        report.results.append(
            DispatchResult(action.id, action.kind, action.attempts, status, outcome.error)
        )
    return report


def _stamp_actioned(conn: Connection, decision_id: int, now: datetime) -> None:
    """Once every action of a decision is delivered, its case is stamped ``actioned``: the last
    of the case's timestamps (received, triaged, viewed, decided, actioned)."""
    pending = conn.execute(
        select(func.count())
        .select_from(outbox_table)
        .where(outbox_table.c.decision_id == decision_id)
        .where(outbox_table.c.status != OutboxStatus.DELIVERED.value)
    ).scalar_one()
    if pending:
        return
    case_id = conn.execute(
        select(decisions.c.case_id).where(decisions.c.id == decision_id)
    ).scalar()
    if case_id is not None:
        case_store.mark_actioned(conn, int(case_id), ACTOR, now)


def run(
    engine: Engine,
    stop_event: threading.Event,
    interval: float,
    transport: Transport,
    *,
    limit: int = 100,
    on_report: Callable[[DispatchReport], None] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Dispatch until ``stop_event`` is set: a full batch is followed at once by the next, an
    incomplete one by a pause of ``interval`` seconds. Database errors (a restart, a failover)
    are logged and waited out rather than ending the loop."""
    while not stop_event.is_set():
        try:
            report = dispatch_once(engine, clock(), transport, limit=limit)
        except SQLAlchemyError as exc:
            log.warning("dispatch.pass_failed", error=type(exc).__name__)
            stop_event.wait(interval)
            continue
        if on_report is not None:
            on_report(report)
        if report.claimed < limit:
            stop_event.wait(interval)
