"""Read models for the CLI and the web layer: what is stored, summarised per community."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from iolaus.store.tables import (
    accounts,
    attachments,
    channels,
    communities,
    community_risk,
    memberships,
    messages,
    platforms,
)


@dataclass(frozen=True)
class CommunityOverview:
    """One line of ``iolaus communities``."""

    id: int
    platform: str
    external_id: str
    name: str
    status: str
    members: int
    channels: int
    messages: int
    attachments: int
    first_activity: datetime | None
    last_activity: datetime | None
    risk_score: float | None = None
    risk_band: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("first_activity", "last_activity"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


@dataclass(frozen=True)
class ChannelOverview:
    id: int
    external_id: str
    name: str
    category: str | None
    kind: str
    topic: str | None
    messages: int
    last_activity: datetime | None


@dataclass(frozen=True)
class MemberOverview:
    account_id: int
    external_id: str
    username: str
    display_name: str | None
    roles: list[str]
    messages: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class CommunityDetail:
    overview: CommunityOverview
    channels: list[ChannelOverview]
    top_members: list[MemberOverview]

    def to_json(self) -> dict[str, Any]:
        def plain(obj: Any) -> dict[str, Any]:
            return {
                k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(obj).items()
            }

        return {
            "community": self.overview.to_json(),
            "channels": [plain(c) for c in self.channels],
            "top_members": [plain(m) for m in self.top_members],
        }


def _message_stats() -> Any:
    return (
        select(
            channels.c.community_id.label("community_id"),
            func.count(messages.c.id).label("messages"),
            func.min(messages.c.created_at).label("first_activity"),
            func.max(messages.c.created_at).label("last_activity"),
        )
        .select_from(messages.join(channels, messages.c.channel_id == channels.c.id))
        .group_by(channels.c.community_id)
        .subquery()
    )


def _count_by_community(column: Any, table: Any, join: Any | None = None) -> Any:
    source = table if join is None else join
    return (
        select(column.label("community_id"), func.count().label("n"))
        .select_from(source)
        .group_by(column)
        .subquery()
    )


def list_communities(conn: Connection, community_id: int | None = None) -> list[CommunityOverview]:
    """Every community with its sizes, activity span and risk: riskiest first, then busiest."""
    stats = _message_stats()
    members = _count_by_community(memberships.c.community_id, memberships)
    chans = _count_by_community(channels.c.community_id, channels)
    files = _count_by_community(
        channels.c.community_id,
        attachments,
        attachments.join(messages, attachments.c.message_id == messages.c.id).join(
            channels, messages.c.channel_id == channels.c.id
        ),
    )
    query = (
        select(
            communities.c.id,
            platforms.c.name.label("platform"),
            communities.c.external_id,
            communities.c.name,
            communities.c.status,
            func.coalesce(members.c.n, 0).label("members"),
            func.coalesce(chans.c.n, 0).label("channels"),
            func.coalesce(stats.c.messages, 0).label("messages"),
            func.coalesce(files.c.n, 0).label("attachments"),
            stats.c.first_activity,
            stats.c.last_activity,
            community_risk.c.score.label("risk_score"),
            community_risk.c.band.label("risk_band"),
        )
        .select_from(communities)
        .join(platforms, platforms.c.id == communities.c.platform_id)
        .outerjoin(stats, stats.c.community_id == communities.c.id)
        .outerjoin(members, members.c.community_id == communities.c.id)
        .outerjoin(chans, chans.c.community_id == communities.c.id)
        .outerjoin(files, files.c.community_id == communities.c.id)
        .outerjoin(community_risk, community_risk.c.community_id == communities.c.id)
        .order_by(
            func.coalesce(community_risk.c.score, -1.0).desc(),
            func.coalesce(stats.c.messages, 0).desc(),
            communities.c.id,
        )
    )
    if community_id is not None:
        query = query.where(communities.c.id == community_id)
    result = []
    for row in conn.execute(query):
        result.append(CommunityOverview(**row._asdict()))
    return result


def find_community_id(conn: Connection, ref: str) -> int | None:
    """Resolve a community given by its platform id or by Iolaus's own row id."""
    conditions = [communities.c.external_id == ref]
    if ref.isdigit() and len(ref) < 12:
        conditions.append(communities.c.id == int(ref))
    rows = conn.execute(
        select(communities.c.id, communities.c.external_id).where(or_(*conditions))
    ).all()
    for row in rows:  # a platform id match wins over a row id match
        if row.external_id == ref:
            return int(row.id)
    return int(rows[0].id) if rows else None


def community_detail(conn: Connection, community_id: int, top: int = 10) -> CommunityDetail | None:
    """A community's channels and most active members."""
    overview = list_communities(conn, community_id)
    if not overview:
        return None
    per_channel = (
        select(
            messages.c.channel_id,
            func.count(messages.c.id).label("n"),
            func.max(messages.c.created_at).label("last"),
        )
        .group_by(messages.c.channel_id)
        .subquery()
    )
    chans = [
        ChannelOverview(
            id=row.id,
            external_id=row.external_id,
            name=row.name,
            category=row.category,
            kind=row.kind,
            topic=row.topic,
            messages=row.n or 0,
            last_activity=row.last,
        )
        for row in conn.execute(
            select(channels, per_channel.c.n, per_channel.c.last)
            .outerjoin(per_channel, per_channel.c.channel_id == channels.c.id)
            .where(channels.c.community_id == community_id)
            .order_by(channels.c.category, channels.c.name, channels.c.id)
        )
    ]
    counts = (
        select(messages.c.author_id, func.count(messages.c.id).label("n"))
        .join(channels, messages.c.channel_id == channels.c.id)
        .where(channels.c.community_id == community_id)
        .group_by(messages.c.author_id)
        .subquery()
    )
    members = [
        MemberOverview(
            account_id=row.account_id,
            external_id=row.external_id,
            username=row.username,
            display_name=row.display_name,
            roles=json.loads(row.roles or "[]"),
            messages=row.n or 0,
            first_seen=row.first_seen_at,
            last_seen=row.last_seen_at,
        )
        for row in conn.execute(
            select(
                memberships.c.account_id,
                memberships.c.roles,
                memberships.c.first_seen_at,
                memberships.c.last_seen_at,
                accounts.c.external_id,
                accounts.c.username,
                accounts.c.display_name,
                counts.c.n,
            )
            .join(accounts, accounts.c.id == memberships.c.account_id)
            .outerjoin(counts, counts.c.author_id == memberships.c.account_id)
            .where(memberships.c.community_id == community_id)
            .order_by(func.coalesce(counts.c.n, 0).desc(), accounts.c.username)
            .limit(top)
        )
    ]
    return CommunityDetail(overview=overview[0], channels=chans, top_members=members)
