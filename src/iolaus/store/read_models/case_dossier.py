"""The console's case dossier: everything a reviewer's case page shows, read in one transaction.

The case itself (with its deadline countdown) comes from the domain's ``get_case``, and the
messages it points at from ``flagged_message_ids``; this module reads the rest: the community
and its risk, signals grouped by what found them, the flagged messages in their channel with
their media as placeholders (Iolaus keeps hashes and file names, never image bytes), the
communities sharing members, the reports, the decisions with their statements of reasons, who
holds the case and whether this reviewer revealed its media. Text is returned as stored; the
templates escape it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Row, and_, func, or_, select

from iolaus.model.signals import Scope
from iolaus.store import signals as signal_store
from iolaus.store.media_reveals import is_revealed
from iolaus.store.queries import CommunityOverview, list_communities
from iolaus.store.read_models.reviewers import usernames
from iolaus.store.tables import (
    accounts,
    attachment_hashes,
    attachments,
    cases,
    channels,
    communities,
    community_risk,
    decisions,
    memberships,
    messages,
    reports,
    signals,
    statements_of_reasons,
    users,
)

SIGNAL_SCAN_LIMIT = 20_000  # signals read for one case page; groups are built from these
SIGNAL_EXAMPLES = 3
SIGNAL_GROUPS = 30
CONTEXT_MESSAGES = 10
"""Flagged messages shown with their surroundings; the rest are counted, not shown."""
CONTEXT_AROUND = 2
RELATED = 5
RISK_REASONS = 10


class CaseRef(Protocol):
    """What the dossier needs to know of a case (the domain's ``QueueItem`` has it)."""

    @property
    def id(self) -> int: ...
    @property
    def community_id(self) -> int | None: ...
    @property
    def account_id(self) -> int | None: ...
    @property
    def locked_by(self) -> int | None: ...


@dataclass
class SignalGroup:
    """Signals that found the same thing (one rule or one bank), with a few of the words."""

    category: str
    detector: str
    explanation: str
    severity: int
    score: float
    count: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Risk:
    """The community's last computed risk and the reasons the scorer gave, strongest first."""

    score: float
    band: str
    computed_at: datetime
    reasons: list[dict[str, Any]]


@dataclass(frozen=True)
class ChatLine:
    id: int
    channel_id: int
    content: str
    created_at: datetime
    author: str


@dataclass(frozen=True)
class MediaPlaceholder:
    """An attachment as the page shows it: what it was and its hashes, never its bytes."""

    file_name: str
    media_kind: str | None
    size_bytes: int | None
    sha256: str | None
    pdq: str | None


@dataclass(frozen=True)
class ContextThread:
    """One flagged message with its neighbours in the channel, why it was flagged, its media."""

    channel: str
    flagged_id: int
    messages: list[ChatLine]
    explanations: list[str]
    media: list[MediaPlaceholder]


@dataclass(frozen=True)
class RelatedCommunity:
    id: int
    name: str
    status: str
    shared: int


@dataclass(frozen=True)
class CaseReport:
    """A notice merged into the case; the notifier's contact is for the roles allowed to see it."""

    reference: str
    category: str
    target_kind: str
    target: str
    explanation: str
    received_at: datetime
    trusted_flagger: bool
    notifier_name: str | None
    notifier_email: str | None


@dataclass(frozen=True)
class DecisionRecord:
    """A decision (its row, with the reviewer's name as ``reviewer``) and its statements."""

    row: Row[Any]
    statements: list[dict[str, Any]]


@dataclass(frozen=True)
class CaseDossier:
    status: str
    community: CommunityOverview | None
    risk: Risk | None
    signal_groups: list[SignalGroup]
    flagged_total: int
    threads: list[ContextThread]
    related: list[RelatedCommunity]
    reports: list[CaseReport]
    decisions: list[DecisionRecord]
    holder: str | None
    revealed: bool


def case_dossier(
    conn: Connection, case: CaseRef, flagged: list[int], *, viewer_id: int
) -> CaseDossier:
    """Everything the case page shows about ``case``, with ``flagged`` (newest first) as the
    messages to show in context, for the reviewer ``viewer_id``; read in the caller's
    transaction."""
    summary = list_communities(conn, case.community_id) if case.community_id is not None else []
    return CaseDossier(
        status=str(conn.execute(select(cases.c.status).where(cases.c.id == case.id)).scalar_one()),
        community=summary[0] if summary else None,
        risk=_risk(conn, case.community_id),
        signal_groups=_signal_groups(conn, case),
        flagged_total=len(flagged),
        threads=_context(conn, flagged),
        related=_related(conn, case.community_id),
        reports=_reports(conn, case.id),
        decisions=_decisions(conn, case.id),
        holder=usernames(conn, [case.locked_by]).get(case.locked_by or 0),
        revealed=is_revealed(conn, viewer_id, case.id),
    )


def _risk(conn: Connection, community_id: int | None) -> Risk | None:
    if community_id is None:
        return None
    row = conn.execute(
        select(community_risk).where(community_risk.c.community_id == community_id)
    ).first()
    if row is None:
        return None
    reasons = json.loads(row.reasons)[:RISK_REASONS]
    return Risk(row.score, row.band, row.computed_at, reasons)


def _signal_groups(conn: Connection, case: CaseRef) -> list[SignalGroup]:
    """Signals grouped by what found them, read from their typed fields: the bank item, or the
    rule with the channel or protected persons its wording names. One row per finding reads
    faster than one row per wording; the explanation's words after its colon (the quoted terms,
    which differ from message to message) are kept for the first few."""
    found = signal_store.about(
        conn,
        community_id=case.community_id,
        account_id=case.account_id,
        limit=SIGNAL_SCAN_LIMIT,
    )
    groups: dict[tuple[Any, ...], SignalGroup] = {}
    for signal in found:
        channel = signal.targets.channel_id if signal.scope is Scope.CHANNEL else None
        key = (signal.category, signal.detector, signal.refs, channel, signal.protected)
        group = groups.get(key)
        if group is None:
            heading = signal.explanation.partition(": ")[0]
            group = groups[key] = SignalGroup(
                signal.category.value, signal.detector, heading, signal.severity, signal.score
            )
        group.count += 1
        group.score = max(group.score, signal.score)
        words = signal.explanation.partition(": ")[2]
        if words and len(group.examples) < SIGNAL_EXAMPLES and words not in group.examples:
            group.examples.append(words)
    ordered = sorted(groups.values(), key=lambda g: (-g.severity, -g.count))
    return ordered[:SIGNAL_GROUPS]


def _chat_lines(conn: Connection, *conditions: Any, order: Any, limit: int) -> list[ChatLine]:
    query = (
        select(
            messages.c.id,
            messages.c.channel_id,
            messages.c.content,
            messages.c.created_at,
            accounts.c.username.label("author"),
        )
        .join(accounts, accounts.c.id == messages.c.author_id)
        .where(*conditions)
        .order_by(*order)
        .limit(limit)
    )
    rows = conn.execute(query)
    return [ChatLine(r.id, r.channel_id, r.content, r.created_at, r.author) for r in rows]


def _context(conn: Connection, flagged: list[int]) -> list[ContextThread]:
    """Each shown flagged message with the messages just before and after it in its channel,
    its signals' explanations and its attachments (as placeholders)."""
    shown = flagged[:CONTEXT_MESSAGES]
    if not shown:
        return []
    explanations: dict[int, list[str]] = {}
    for message_id, text in conn.execute(
        select(signals.c.message_id, signals.c.explanation)
        .where(signals.c.message_id.in_(shown))
        .distinct()
    ):
        explanations.setdefault(message_id, []).append(text)
    media: dict[int, list[MediaPlaceholder]] = {}
    for row in conn.execute(
        select(
            attachments.c.message_id,
            attachments.c.file_name,
            attachments.c.media_kind,
            attachments.c.size_bytes,
            attachment_hashes.c.sha256,
            attachment_hashes.c.pdq,
        )
        .outerjoin(attachment_hashes, attachment_hashes.c.attachment_id == attachments.c.id)
        .where(attachments.c.message_id.in_(shown))
        .order_by(attachments.c.id)
    ):
        media.setdefault(row.message_id, []).append(
            MediaPlaceholder(row.file_name, row.media_kind, row.size_bytes, row.sha256, row.pdq)
        )
    threads = []
    for target in _chat_lines(
        conn, messages.c.id.in_(shown), order=[messages.c.id.desc()], limit=CONTEXT_MESSAGES
    ):
        channel_name = conn.execute(
            select(channels.c.name).where(channels.c.id == target.channel_id)
        ).scalar_one()
        same = messages.c.channel_id == target.channel_id
        earlier = or_(
            messages.c.created_at < target.created_at,
            and_(messages.c.created_at == target.created_at, messages.c.id < target.id),
        )
        later = or_(
            messages.c.created_at > target.created_at,
            and_(messages.c.created_at == target.created_at, messages.c.id > target.id),
        )
        before = _chat_lines(
            conn,
            same,
            earlier,
            order=[messages.c.created_at.desc(), messages.c.id.desc()],
            limit=CONTEXT_AROUND,
        )
        after = _chat_lines(
            conn, same, later, order=[messages.c.created_at, messages.c.id], limit=CONTEXT_AROUND
        )
        threads.append(
            ContextThread(
                channel=channel_name,
                flagged_id=target.id,
                messages=[*reversed(before), target, *after],
                explanations=explanations.get(target.id, []),
                media=media.get(target.id, []),
            )
        )
    return threads


def _related(conn: Connection, community_id: int | None) -> list[RelatedCommunity]:
    """The communities sharing the most members with this one (successors, mirrors, networks)."""
    if community_id is None:
        return []
    mine, theirs = memberships.alias("mine"), memberships.alias("theirs")
    shared = func.count().label("shared")
    rows = conn.execute(
        select(communities.c.id, communities.c.name, communities.c.status, shared)
        .select_from(mine)
        .join(theirs, theirs.c.account_id == mine.c.account_id)
        .join(communities, communities.c.id == theirs.c.community_id)
        .where(mine.c.community_id == community_id, theirs.c.community_id != community_id)
        .group_by(communities.c.id, communities.c.name, communities.c.status)
        .order_by(shared.desc(), communities.c.id)
        .limit(RELATED)
    )
    return [RelatedCommunity(r.id, r.name, r.status, r.shared) for r in rows]


def _reports(conn: Connection, case_id: int) -> list[CaseReport]:
    rows = conn.execute(select(reports).where(reports.c.case_id == case_id).order_by(reports.c.id))
    return [
        CaseReport(
            reference=r.reference,
            category=r.category,
            target_kind=r.target_kind,
            target=r.target,
            explanation=r.explanation,
            received_at=r.received_at,
            trusted_flagger=r.trusted_flagger,
            notifier_name=r.notifier_name,
            notifier_email=r.notifier_email,
        )
        for r in rows
    ]


def _decisions(conn: Connection, case_id: int) -> list[DecisionRecord]:
    rows = conn.execute(
        select(decisions, users.c.username.label("reviewer"))
        .outerjoin(users, users.c.id == decisions.c.reviewer_id)
        .where(decisions.c.case_id == case_id)
        .order_by(decisions.c.id)
    ).all()
    found = []
    for row in rows:
        bodies = conn.execute(
            select(statements_of_reasons.c.body)
            .where(statements_of_reasons.c.decision_id == row.id)
            .order_by(statements_of_reasons.c.id)
        ).scalars()
        found.append(DecisionRecord(row, [json.loads(b) for b in bodies]))
    return found
