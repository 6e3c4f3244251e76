"""Triage: which case an item joins, how urgent that case is, and when it escalates.

Priority is an integer level, so that cases of equal weight tie and the queue can serve the
oldest first among them (``store.QUEUE_ORDER``)::

    1000 × csam + 100 × severity + 50 × trusted flagger + 10 × reach level + volume level

Reach level is the number of digits of the community's member count (0–5, so 100,000+ members
is the top), volume level is ⌊log₂ items⌋ (reports + signals, capped at 9). Everything but CSAM
adds at most 500 + 50 + 50 + 9 = 609 < 1000, so any open CSAM case outranks every other case,
whatever its reach, source or volume.

Deadlines never move later: an item merged into a case can only bring its deadline closer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from iolaus.actions.outbox import enqueue
from iolaus.cases import store
from iolaus.config import CASE_DEADLINES, CASE_ESCALATE_BEFORE, Settings
from iolaus.model.cases import CaseEvent, CaseStatus, SubjectKind
from iolaus.model.signals import SEVERITY, Category
from iolaus.store.tables import accounts, cases, communities, community_risk, reports, signals

ESCALATED_EVENT = "case_escalated"
"""Webhook kind sent when a case nears its deadline (besides the decisions' action kinds)."""

CSAM_TIER = 1000
KNOWN_CATEGORIES = frozenset(c.value for c in Category)
RISK_BANDS = ("high", "critical")
"""Community risk bands that open a case without waiting for a report."""


@dataclass(frozen=True)
class TriagePolicy:
    """Deadlines per category and how early a case escalates; defaults from the settings
    table (``IOLAUS_CASE_DEADLINES``, ``IOLAUS_CASE_ESCALATE_BEFORE``)."""

    deadlines: Mapping[Category, timedelta] = field(
        default_factory=lambda: CASE_DEADLINES.default.by_category
    )
    other_deadline: timedelta = CASE_DEADLINES.default.other
    escalate_before: float = CASE_ESCALATE_BEFORE.default
    """A case escalates once this fraction of its category's deadline is left (CSAM: 15 min)."""

    def deadline(self, category: Category) -> timedelta:
        return self.deadlines.get(category, self.other_deadline)

    def margin(self, category: Category) -> timedelta:
        return self.deadline(category) * self.escalate_before

    @classmethod
    def from_settings(cls, settings: Settings) -> TriagePolicy:
        """The operator's ``IOLAUS_CASE_DEADLINES`` and ``IOLAUS_CASE_ESCALATE_BEFORE``, parsed
        and checked when the settings were loaded. Every entry point that opens, merges or
        escalates cases passes this one policy, or a detection merge would undo the deadline
        a report was given."""
        deadlines = settings.case_deadlines
        return cls(
            deadlines=deadlines.by_category,
            other_deadline=deadlines.other,
            escalate_before=settings.case_escalate_before,
        )


DEFAULT_POLICY = TriagePolicy()


def urgency(category: Category) -> tuple[bool, int]:
    """Sort key of a category: CSAM above everything, then severity."""
    return category is Category.CSAM, SEVERITY[category]


def priority(category: Category, *, members: int, trusted: bool, items: int) -> float:
    """The case's queue level (see the module docstring for the formula and its bounds)."""
    reach = min(5, len(str(members)) if members > 0 else 0)
    volume = min(9, int(math.log2(items))) if items > 0 else 0
    level = CSAM_TIER * (category is Category.CSAM) + 100 * SEVERITY[category]
    return float(level + 50 * trusted + 10 * reach + volume)


@dataclass(frozen=True)
class Subject:
    """What a case is about; ``key`` identifies it across reports (``community:12``,
    ``account:7``, ``media:<sha256>``, or a platform id not yet mirrored)."""

    kind: SubjectKind
    key: str
    community_id: int | None = None
    account_id: int | None = None


def merge(
    conn: Connection,
    subject: Subject,
    category: Category,
    *,
    now: datetime,
    actor: str,
    trusted: bool = False,
    new_reports: int = 0,
    signals_count: int | None = None,
    policy: TriagePolicy = DEFAULT_POLICY,
    **details: Any,
) -> int:
    """Put an item into the open case about ``subject`` (creating it) and re-triage the case;
    returns the case id. ``signals_count``, when given, replaces the case's count (signals are
    recomputed by each scan); reports add up."""
    row = store.open_case(conn, subject.key)
    members = store.members(conn, subject.community_id)
    if row is None:
        try:
            # A savepoint: if another transaction opened the case meanwhile, the unique index
            # on open subjects refuses this insert and the item merges into that case instead.
            with conn.begin_nested():
                return _open(
                    conn,
                    subject,
                    category,
                    now,
                    actor,
                    trusted,
                    new_reports,
                    signals_count,
                    members,
                    policy,
                    details,
                )
        except IntegrityError:
            row = store.open_case(conn, subject.key)
            assert row is not None

    current = Category(row.category)
    if urgency(category) > urgency(current):
        current = category
    n_reports = row.reports_count + new_reports
    n_signals = row.signals_count if signals_count is None else signals_count
    is_trusted = row.trusted_flagger or trusted
    values = {
        "category": current.value,
        "severity": SEVERITY[current],
        "priority": priority(
            current, members=members, trusted=is_trusted, items=n_reports + n_signals
        ),
        "deadline_at": min(row.deadline_at, now + policy.deadline(category)),
    }
    conn.execute(
        update(cases)
        .where(cases.c.id == row.id)
        .values(
            reports_count=n_reports,
            signals_count=n_signals,
            trusted_flagger=is_trusted,
            community_id=row.community_id or subject.community_id,
            account_id=row.account_id or subject.account_id,
            **values,
        )
    )
    kind = CaseEvent.REPORT_MERGED if new_reports else CaseEvent.SIGNAL_MERGED
    store.record_event(conn, row.id, kind, actor, now, **details, **values)
    return int(row.id)


def _open(
    conn: Connection,
    subject: Subject,
    category: Category,
    now: datetime,
    actor: str,
    trusted: bool,
    new_reports: int,
    signals_count: int | None,
    members: int,
    policy: TriagePolicy,
    details: dict[str, Any],
) -> int:
    """Create the open case about ``subject`` with its first item; returns its id."""
    n_signals = signals_count or 0
    values = {
        "category": category.value,
        "severity": SEVERITY[category],
        "priority": priority(
            category, members=members, trusted=trusted, items=new_reports + n_signals
        ),
        "deadline_at": now + policy.deadline(category),
    }
    case_id = conn.execute(
        insert(cases)
        .values(
            subject_kind=subject.kind.value,
            subject_key=subject.key,
            community_id=subject.community_id,
            account_id=subject.account_id,
            status=CaseStatus.OPEN.value,
            reports_count=new_reports,
            signals_count=n_signals,
            trusted_flagger=trusted,
            received_at=now,
            triaged_at=now,
            **values,
        )
        .returning(cases.c.id)
    ).scalar_one()
    store.record_event(
        conn, case_id, CaseEvent.RECEIVED, actor, now, subject=subject.key, **details
    )
    store.record_event(conn, case_id, CaseEvent.TRIAGED, store.SYSTEM_ACTOR, now, **values)
    return int(case_id)


def escalate_due(
    engine: Engine, now: datetime | None = None, *, policy: TriagePolicy = DEFAULT_POLICY
) -> list[store.QueueItem]:
    """Escalate every open case whose deadline is within its category's margin: flag it, record
    an ``escalated`` event and queue a ``case_escalated`` webhook. Each case escalates once;
    returns the cases escalated."""
    now = now or datetime.now(UTC)
    horizon = now + max(policy.margin(c) for c in Category)
    escalated = []
    with engine.begin() as conn:
        due = conn.execute(
            select(cases.c.id, cases.c.category, cases.c.deadline_at).where(
                cases.c.status == CaseStatus.OPEN.value,
                cases.c.escalated_at.is_(None),
                cases.c.deadline_at <= horizon,
            )
        ).all()
        for case_id, category, deadline_at in due:
            if deadline_at - policy.margin(Category(category)) > now:
                continue
            done = conn.execute(
                update(cases)
                .where(cases.c.id == case_id, cases.c.escalated_at.is_(None))
                .values(escalated_at=now)
            ).rowcount
            if done == 1:
                left = int((deadline_at - now).total_seconds())
                store.record_event(
                    conn, case_id, CaseEvent.ESCALATED, store.SYSTEM_ACTOR, now, seconds_left=left
                )
                item = store.get_case(conn, case_id, now=now)
                assert item is not None
                escalated.append(item)
                # Alert through the same signed, retried webhooks as decisions' actions.
                enqueue(
                    conn,
                    None,
                    ESCALATED_EVENT,
                    {
                        "case_id": case_id,
                        "category": category,
                        "deadline_at": deadline_at.isoformat(),
                        "seconds_left": left,
                        "community_id": item.community_id,
                    },
                    now,
                    target=f"case:{case_id}",
                )
    return escalated


def _risk_category(reasons: str) -> Category | None:
    """The most urgent category named by a risk score's reasons (for a community whose rule
    signals are gone but whose score is still high)."""
    found = []
    for reason in json.loads(reasons):
        if reason.get("category") in KNOWN_CATEGORIES:
            found.append(Category(reason["category"]))
    return max(found, key=urgency, default=None)


def open_cases_from_signals(
    engine: Engine, now: datetime | None = None, *, policy: TriagePolicy = DEFAULT_POLICY
) -> list[int]:
    """Open or refresh a case for every active community rated high or critical, so that
    detected communities wait in the queue before anyone reports them; returns the case ids.

    Running it again changes nothing unless the community's signals changed. A community whose
    case was decided after its latest score is left alone until a new scan rates it again."""
    now = now or datetime.now(UTC)
    touched = []
    with engine.begin() as conn:
        rated = conn.execute(
            select(community_risk.c.community_id, community_risk.c.band)
            .add_columns(community_risk.c.reasons, community_risk.c.computed_at)
            .join(communities, communities.c.id == community_risk.c.community_id)
            .where(community_risk.c.band.in_(RISK_BANDS), communities.c.status == "active")
            .order_by(community_risk.c.community_id)
        ).all()
        for community_id, band, reasons, computed_at in rated:
            decided = conn.execute(
                select(func.count()).where(
                    cases.c.community_id == community_id,
                    cases.c.status != CaseStatus.OPEN.value,
                    cases.c.decided_at >= computed_at,
                )
            ).scalar_one()
            if decided:
                continue
            counts: dict[str, int] = dict(
                conn.execute(
                    select(signals.c.category, func.count())
                    .where(signals.c.community_id == community_id)
                    .group_by(signals.c.category)
                ).all()
            )
            known = [Category(c) for c in counts if c in KNOWN_CATEGORIES]
            category = max(known, key=urgency, default=None) or _risk_category(reasons)
            if category is None:
                continue
            total = sum(counts.values())
            key = f"community:{community_id}"
            row = store.open_case(conn, key)
            if (
                row is not None
                and row.signals_count == total
                and urgency(category) <= urgency(Category(row.category))
            ):
                continue
            touched.append(
                merge(
                    conn,
                    Subject(SubjectKind.COMMUNITY, key, community_id=community_id),
                    category,
                    now=now,
                    actor=store.SYSTEM_ACTOR,
                    signals_count=total,
                    policy=policy,
                    band=band,
                )
            )
    return touched


_UNRESOLVED = {
    "community-ext:": (SubjectKind.COMMUNITY, communities, "community_id", "community"),
    "account-ext:": (SubjectKind.ACCOUNT, accounts, "account_id", "account"),
}


def adopt_mirrored_subjects(
    engine: Engine, now: datetime | None = None, *, policy: TriagePolicy = DEFAULT_POLICY
) -> list[int]:
    """Give cases about a community or account that was not mirrored when it was reported
    (``community-ext:<platform id>``) their stored subject, now that an import brought it: the
    case is re-keyed, or merged into the open case that detection already opened for it.
    Returns the ids of the cases that now hold those reports."""
    now = now or datetime.now(UTC)
    adopted = []
    with engine.begin() as conn:
        for prefix, (kind, table, column, label) in _UNRESOLVED.items():
            pending = conn.execute(
                select(cases.c.id, cases.c.subject_key, cases.c.category, cases.c.reports_count)
                .where(cases.c.status == CaseStatus.OPEN.value)
                .where(cases.c.subject_key.like(f"{prefix}%"))
            ).all()
            for case_id, key, category, n_reports in pending:
                external = key[len(prefix) :]
                found = (
                    conn.execute(select(table.c.id).where(table.c.external_id == external).limit(2))
                    .scalars()
                    .all()
                )
                if len(found) != 1:  # not mirrored yet, or ambiguous across platforms
                    continue
                stored_id = int(found[0])
                subject = Subject(kind, f"{label}:{stored_id}", **{column: stored_id})
                target = store.open_case(conn, subject.key)
                if target is None:
                    conn.execute(
                        update(cases)
                        .where(cases.c.id == case_id)
                        .values(subject_key=subject.key, **{column: stored_id})
                    )
                    target_id = case_id
                else:
                    target_id = merge(
                        conn,
                        subject,
                        Category(category),
                        now=now,
                        actor=store.SYSTEM_ACTOR,
                        new_reports=n_reports,
                        policy=policy,
                        merged_case=case_id,
                    )
                    conn.execute(
                        update(cases)
                        .where(cases.c.id == case_id)
                        .values(status=CaseStatus.CLOSED.value)
                    )
                conn.execute(
                    update(reports)
                    .where(reports.c.case_id == case_id)
                    .values(case_id=target_id, **{column: stored_id})
                )
                store.record_event(
                    conn,
                    target_id,
                    CaseEvent.SUBJECT_RESOLVED,
                    store.SYSTEM_ACTOR,
                    now,
                    subject=subject.key,
                    from_case=case_id,
                )
                adopted.append(target_id)
    return adopted
