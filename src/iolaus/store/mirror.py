"""Writes platform objects into the store idempotently, in batches.

Platform ids are natural keys, so replaying a source changes nothing. Conflicts between two
observations of the same object are settled by observation time (an export's ``exportedAt``, an
event's receive time): the newest observation wins, ties keep what is stored, so importing
several overlapping exports in any order, any number of times, converges to the same state.
An edited message is updated in place and its previous text kept in ``message_revisions``.

One ``MirrorWriter`` works inside one transaction (one source file): the caller commits or
rolls back the whole of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, insert, select, update

from iolaus.model.ingest import EntityCounts, empty_counts
from iolaus.model.platform import Account, Channel, Community, Message
from iolaus.store.bulk import insert_rows
from iolaus.store.tables import (
    account_names,
    accounts,
    attachments,
    channels,
    communities,
    memberships,
    message_revisions,
    messages,
    platforms,
)
from iolaus.store.upsert import earliest, latest, upsert

SELECT_CHUNK = 500  # bound on IN (…) lists: well under SQLite's and PostgreSQL's parameter limits


# Statements built once, values bound per call: a statement built per batch with its IN list
# inlined keeps its values alive in SQLAlchemy's caches, and costs a compile each time.
_EXISTING_MESSAGES = (
    select(
        messages.c.id,
        messages.c.external_id,
        messages.c.content,
        messages.c.edited_at,
        messages.c.is_pinned,
        messages.c.observed_at,
    )
    .where(messages.c.channel_id == bindparam("channel_id"))
    .where(messages.c.external_id.in_(bindparam("ids", expanding=True)))
)
_MESSAGE_IDS = (
    select(messages.c.id, messages.c.external_id)
    .where(messages.c.channel_id == bindparam("channel_id"))
    .where(messages.c.external_id.in_(bindparam("ids", expanding=True)))
)
_KNOWN_ATTACHMENTS = select(attachments.c.message_id, attachments.c.external_id).where(
    attachments.c.message_id.in_(bindparam("ids", expanding=True))
)


def _chunks(items: Sequence[Any], size: int = SELECT_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def platform_id(conn: Connection, name: str) -> int:
    """Row id of a platform, created on first use."""
    found = conn.execute(select(platforms.c.id).where(platforms.c.name == name)).scalar()
    if found is not None:
        return int(found)
    return int(
        conn.execute(insert(platforms).values(name=name).returning(platforms.c.id)).scalar_one()
    )


class MirrorWriter:
    """Batched, idempotent writes of one source's objects inside one transaction.

    ``counted`` holds keys of communities, channels and accounts already counted by earlier
    files of the same run, so that one community spread over twenty channel files is reported
    once; keys this writer counts are in ``newly_counted`` for the caller to merge on commit.
    """

    def __init__(self, conn: Connection, platform: str, counted: set[tuple[str, str]]) -> None:
        self.conn = conn
        self.platform_id = platform_id(conn, platform)
        self.counts: dict[str, EntityCounts] = empty_counts()
        self.newly_counted: set[tuple[str, str]] = set()
        self._counted = counted
        self._account_ids: dict[str, int] = {}
        self._names: dict[tuple[int, str, str], datetime] = {}
        self._members: dict[tuple[int, int], list[Any]] = {}

    def _count(self, entity: str, key: str, outcome: str) -> None:
        marker = (entity, key)
        if marker in self._counted or marker in self.newly_counted:
            return
        self.newly_counted.add(marker)
        setattr(self.counts[entity], outcome, getattr(self.counts[entity], outcome) + 1)

    # -- communities and channels ------------------------------------------------------------

    def community(self, community: Community, observed_at: datetime) -> int:
        """Row id of ``community``, inserted or refreshed from a newer observation."""
        values = {
            "name": community.name,
            "description": community.description,
            "icon_url": community.icon_url,
            "nsfw_level": community.nsfw_level.value,
        }
        row = self.conn.execute(
            select(communities.c.id, communities.c.observed_at, *(communities.c[k] for k in values))
            .where(communities.c.platform_id == self.platform_id)
            .where(communities.c.external_id == community.external_id)
        ).first()
        if row is None:
            new_id = self.conn.execute(
                insert(communities)
                .values(
                    platform_id=self.platform_id,
                    external_id=community.external_id,
                    status=community.status.value,
                    observed_at=observed_at,
                    **values,
                )
                .returning(communities.c.id)
            ).scalar_one()
            self._count("communities", community.external_id, "new")
            return int(new_id)
        outcome = self._refresh(communities, row, values, observed_at)
        self._count("communities", community.external_id, outcome)
        return int(row.id)

    def channel(self, community_id: int, channel: Channel, observed_at: datetime) -> int:
        """Row id of ``channel`` in its community, inserted or refreshed."""
        values = {
            "name": channel.name,
            "kind": channel.kind,
            "topic": channel.topic,
            "category_external_id": channel.category_external_id,
            "category": channel.category,
            "nsfw": channel.nsfw,
        }
        row = self.conn.execute(
            select(channels.c.id, channels.c.observed_at, *(channels.c[k] for k in values))
            .where(channels.c.community_id == community_id)
            .where(channels.c.external_id == channel.external_id)
        ).first()
        key = f"{community_id}/{channel.external_id}"
        if row is None:
            new_id = self.conn.execute(
                insert(channels)
                .values(
                    community_id=community_id,
                    external_id=channel.external_id,
                    observed_at=observed_at,
                    **values,
                )
                .returning(channels.c.id)
            ).scalar_one()
            self._count("channels", key, "new")
            return int(new_id)
        self._count("channels", key, self._refresh(channels, row, values, observed_at))
        return int(row.id)

    def _refresh(self, table: Any, row: Any, values: dict[str, Any], observed_at: datetime) -> str:
        if observed_at <= row.observed_at:
            return "unchanged"
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        self.conn.execute(
            update(table).where(table.c.id == row.id).values(observed_at=observed_at, **changed)
        )
        return "updated" if changed else "unchanged"

    # -- accounts ----------------------------------------------------------------------------

    def _accounts(self, found: dict[str, Account], observed_at: datetime) -> None:
        missing = [ext for ext in found if ext not in self._account_ids]
        if not missing:
            return
        cols = accounts.c
        for chunk in _chunks(missing):
            rows = self.conn.execute(
                select(
                    cols.id,
                    cols.external_id,
                    cols.username,
                    cols.display_name,
                    cols.discriminator,
                    cols.is_bot,
                    cols.avatar_url,
                    cols.observed_at,
                )
                .where(cols.platform_id == self.platform_id)
                .where(cols.external_id.in_(bindparam("ids", expanding=True))),
                {"ids": list(chunk)},
            ).all()
            for row in rows:
                values = _account_values(found[row.external_id])
                outcome = self._refresh(accounts, row, values, observed_at)
                self._count("accounts", row.external_id, outcome)
                self._account_ids[row.external_id] = int(row.id)
        new = [ext for ext in missing if ext not in self._account_ids]
        if new:
            inserted = self.conn.execute(
                insert(accounts).returning(cols.id, cols.external_id),
                [
                    {
                        "platform_id": self.platform_id,
                        "external_id": ext,
                        "observed_at": observed_at,
                        **_account_values(found[ext]),
                    }
                    for ext in new
                ],
            ).all()
            for row in inserted:
                self._account_ids[row.external_id] = int(row.id)
                self._count("accounts", row.external_id, "new")
        for ext in missing:
            account = found[ext]
            account_id = self._account_ids[ext]
            self._names[(account_id, "username", account.username)] = observed_at
            if account.display_name and account.display_name != account.username:
                self._names[(account_id, "display", account.display_name)] = observed_at

    # -- messages ----------------------------------------------------------------------------

    def messages(
        self, community_id: int, channel_id: int, batch: Sequence[Message], observed_at: datetime
    ) -> None:
        """Insert or refresh a batch of one channel's messages, their authors and attachments."""
        if not batch:
            return
        self._accounts({m.author.external_id: m.author for m in batch}, observed_at)
        self._memberships(community_id, batch)

        latest_by_id = {m.external_id: m for m in batch}  # a file may repeat a message
        ids = list(latest_by_id)
        existing: dict[str, Any] = {}
        for chunk in _chunks(ids):
            for row in self.conn.execute(
                _EXISTING_MESSAGES, {"channel_id": channel_id, "ids": list(chunk)}
            ):
                existing[row.external_id] = row
        counts = self.counts["messages"]
        counts.unchanged += len(batch) - len(ids)

        new = [m for ext, m in latest_by_id.items() if ext not in existing]
        if new:
            insert_rows(
                self.conn,
                messages,
                [
                    {
                        "channel_id": channel_id,
                        "external_id": m.external_id,
                        "author_id": self._account_ids[m.author.external_id],
                        "kind": m.kind,
                        "content": m.content,
                        "created_at": m.created_at,
                        "edited_at": m.edited_at,
                        "is_pinned": m.is_pinned,
                        "reply_to_external_id": m.reply_to_external_id,
                        "observed_at": observed_at,
                    }
                    for m in new
                ],
            )
            counts.new += len(new)
            with_files = [m for m in new if m.attachments]
            if with_files:
                row_ids = self._message_ids(channel_id, [m.external_id for m in with_files])
                self._insert_attachments(
                    [(row_ids[m.external_id], a) for m in with_files for a in m.attachments]
                )
        if existing:
            self._refresh_messages(existing, latest_by_id, observed_at)

    def _message_ids(self, channel_id: int, external_ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _chunks(external_ids):
            found.update(
                (row.external_id, int(row.id))
                for row in self.conn.execute(
                    _MESSAGE_IDS, {"channel_id": channel_id, "ids": list(chunk)}
                )
            )
        return found

    def _refresh_messages(
        self, existing: dict[str, Any], incoming: dict[str, Message], observed_at: datetime
    ) -> None:
        counts = self.counts["messages"]
        changed: list[dict[str, Any]] = []
        revisions: list[dict[str, Any]] = []
        for ext, row in existing.items():
            message = incoming[ext]
            newer = observed_at > row.observed_at
            differs = (
                row.content != message.content
                or row.edited_at != message.edited_at
                or row.is_pinned != message.is_pinned
            )
            if not (newer and differs):
                counts.unchanged += 1
                continue
            counts.updated += 1
            changed.append(
                {
                    "row_id": row.id,
                    "content": message.content,
                    "edited_at": message.edited_at,
                    "is_pinned": message.is_pinned,
                    "observed_at": observed_at,
                }
            )
            if row.content != message.content:
                revisions.append(
                    {
                        "message_id": row.id,
                        "content": row.content,
                        "edited_at": row.edited_at,
                        "superseded_at": message.edited_at or observed_at,
                    }
                )
        if changed:
            self.conn.execute(
                update(messages)
                .where(messages.c.id == bindparam("row_id"))
                .values(
                    content=bindparam("content"),
                    edited_at=bindparam("edited_at"),
                    is_pinned=bindparam("is_pinned"),
                    observed_at=bindparam("observed_at"),
                ),
                changed,
            )
        if revisions:
            self.conn.execute(insert(message_revisions), revisions)
        # Attachments can appear on an existing message (an export made with more options).
        ids_by_row = {int(row.id): incoming[ext] for ext, row in existing.items()}
        known: set[tuple[int, str]] = set()
        row_ids = list(ids_by_row)
        for chunk in _chunks(row_ids):
            known.update(
                (int(r.message_id), r.external_id)
                for r in self.conn.execute(_KNOWN_ATTACHMENTS, {"ids": list(chunk)})
            )
        fresh = []
        for row_id, message in ids_by_row.items():
            for attachment in message.attachments:
                if (row_id, attachment.external_id) in known:
                    self.counts["attachments"].unchanged += 1
                else:
                    fresh.append((row_id, attachment))
        self._insert_attachments(fresh)

    def _insert_attachments(self, items: list[tuple[int, Any]]) -> None:
        if not items:
            return
        seen: set[tuple[int, str]] = set()
        rows = []
        for message_id, a in items:
            if (message_id, a.external_id) in seen:
                self.counts["attachments"].unchanged += 1
                continue
            seen.add((message_id, a.external_id))
            rows.append(
                {
                    "message_id": message_id,
                    "external_id": a.external_id,
                    "file_name": a.file_name,
                    "size_bytes": a.size_bytes,
                    "content_type": a.content_type,
                    "media_kind": a.media_kind.value,
                    "url": a.url,
                }
            )
        insert_rows(self.conn, attachments, rows)
        self.counts["attachments"].new += len(rows)

    # -- memberships and name history ----------------------------------------------------------

    def _memberships(self, community_id: int, batch: Sequence[Message]) -> None:
        for m in batch:
            key = (community_id, self._account_ids[m.author.external_id])
            seen = self._members.get(key)
            if seen is None:
                self._members[key] = [m.created_at, m.created_at, m.author_roles]
                continue
            if m.created_at < seen[0]:
                seen[0] = m.created_at
            if m.created_at >= seen[1]:
                seen[1] = m.created_at
                seen[2] = m.author_roles

    def finish(self) -> None:
        """Flush what was accumulated over the file: memberships and account name history."""
        t = memberships
        upsert(
            self.conn,
            t,
            [
                {
                    "community_id": community_id,
                    "account_id": account_id,
                    "first_seen_at": first,
                    "last_seen_at": last,
                    "roles": json.dumps(list(roles), ensure_ascii=False),
                }
                for (community_id, account_id), (first, last, roles) in self._members.items()
            ],
            ("community_id", "account_id"),
            lambda excluded: {
                "first_seen_at": earliest(self.conn, t.c.first_seen_at, excluded.first_seen_at),
                "last_seen_at": latest(self.conn, t.c.last_seen_at, excluded.last_seen_at),
                "roles": case(
                    (excluded.last_seen_at >= t.c.last_seen_at, excluded.roles), else_=t.c.roles
                ),
            },
        )
        n = account_names
        upsert(
            self.conn,
            n,
            [
                {
                    "account_id": account_id,
                    "kind": kind,
                    "name": name,
                    "first_seen_at": seen,
                    "last_seen_at": seen,
                }
                for (account_id, kind, name), seen in self._names.items()
            ],
            ("account_id", "kind", "name"),
            lambda excluded: {
                "first_seen_at": earliest(self.conn, n.c.first_seen_at, excluded.first_seen_at),
                "last_seen_at": latest(self.conn, n.c.last_seen_at, excluded.last_seen_at),
            },
        )


def _account_values(account: Account) -> dict[str, Any]:
    return {
        "username": account.username,
        "display_name": account.display_name,
        "discriminator": account.discriminator,
        "is_bot": account.is_bot,
        "avatar_url": account.avatar_url,
    }
