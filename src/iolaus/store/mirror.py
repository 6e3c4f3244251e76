"""Applies what sources saw (``iolaus.model.events``) to the store, idempotently, in batches.

This writer is the one sink of every source. Platform ids are natural keys, so replaying a
source changes nothing. Conflicts between two observations of the same object are settled by
observation time (an export's ``exportedAt``, an event's platform time): the newest observation
wins, ties keep what is stored, so importing several overlapping exports in any order, any
number of times, converges to the same state. An edited message is updated in place and its
previous text kept in ``message_revisions``; a deleted one is kept and marked.

One ``MirrorWriter`` works inside one transaction (one unit of a source, e.g. one export file):
the caller commits or rolls back the whole of it. In that same transaction ``finish`` queues
every community the unit touched for detection (``store.pending``), so no commit ever leaves
written data that detection will not see.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, insert, select, update

from iolaus.errors import NotFound
from iolaus.model.events import (
    ChannelRef,
    ChannelSeen,
    CommunityRef,
    CommunitySeen,
    Event,
    MediaOffered,
    MemberSeen,
    MessageDeleted,
    MessageEdited,
    MessageSeen,
)
from iolaus.model.ingest import EntityCounts, empty_counts
from iolaus.model.platform import Account, Channel, Community, Message
from iolaus.store import pending
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

BATCH_SIZE = 2000
"""Messages written per ``executemany``: large enough to amortise each round trip, small enough
to keep memory flat."""
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
_MESSAGE = (
    select(messages.c.id, messages.c.content, messages.c.edited_at, messages.c.observed_at)
    .where(messages.c.channel_id == bindparam("channel_id"))
    .where(messages.c.external_id == bindparam("message"))
)
_ATTACHMENT = (
    select(attachments.c.id, messages.c.id.label("message_id"), messages.c.author_id)
    .join(messages, messages.c.id == attachments.c.message_id)
    .where(messages.c.channel_id == bindparam("channel_id"))
    .where(messages.c.external_id == bindparam("message"))
    .where(attachments.c.external_id == bindparam("attachment"))
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


class UnknownParent(NotFound):
    """An event names a community or channel that neither its unit nor the store holds."""


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    """Where an offered attachment sits in the store, for the media subscribers."""

    id: int
    message_id: int
    channel_id: int
    community_id: int
    author_id: int


class MirrorWriter:
    """Batched, idempotent application of one unit's events inside one transaction.

    Messages are buffered per channel and written ``BATCH_SIZE`` at a time through the driver's
    ``executemany``; any other event first flushes the buffer, so events apply in the order the
    source gave them. ``counted`` holds keys of communities, channels and accounts already
    counted by earlier units of the same run, so that one community spread over twenty channel
    files is reported once; keys this writer counts are in ``newly_counted`` for the caller to
    merge on commit. ``queued_at`` is the time the touched communities are queued for detection.
    """

    def __init__(
        self, conn: Connection, counted: set[tuple[str, str]], *, queued_at: datetime
    ) -> None:
        self.conn = conn
        self.counts: dict[str, EntityCounts] = empty_counts()
        self.newly_counted: set[tuple[str, str]] = set()
        self.touched: set[int] = set()
        """Row ids of the communities this unit wrote to (queued for detection on finish)."""
        self._queued_at = queued_at
        self._counted = counted
        self._platforms: dict[str, int] = {}
        self._communities: dict[CommunityRef, int] = {}
        self._channels: dict[ChannelRef, tuple[int, int]] = {}
        self._account_ids: dict[int, dict[str, int]] = {}  # by platform row id
        self._names: dict[tuple[int, str, str], datetime] = {}
        self._members: dict[tuple[int, int], list[Any]] = {}
        self._buffer: list[Message] = []
        self._buffer_key: tuple[ChannelRef, datetime] | None = None

    def _count(self, entity: str, key: str, outcome: str) -> None:
        marker = (entity, key)
        if marker in self._counted or marker in self.newly_counted:
            return
        self.newly_counted.add(marker)
        setattr(self.counts[entity], outcome, getattr(self.counts[entity], outcome) + 1)

    # -- events ------------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Write one event (a message may wait in the batch buffer until ``flush``)."""
        if type(event) is MessageSeen:  # the hot path: one per message, no dispatch
            key = (event.channel, event.observed_at)
            if key != self._buffer_key:
                self.flush()
                self._buffer_key = key
            self._buffer.append(event.message)
            if len(self._buffer) >= BATCH_SIZE:
                self.flush()
            return
        self.flush()
        if isinstance(event, CommunitySeen):
            self._community(event.community, event.observed_at)
        elif isinstance(event, ChannelSeen):
            self._channel(event.community, event.channel, event.observed_at)
        elif isinstance(event, MemberSeen):
            self._member(event)
        elif isinstance(event, MessageEdited):
            self._edit(event)
        elif isinstance(event, MessageDeleted):
            self._delete(event)
        else:
            raise TypeError(f"MirrorWriter.apply cannot write {type(event).__name__}")

    def flush(self) -> None:
        """Write the buffered messages."""
        if self._buffer_key is None or not self._buffer:
            return
        channel, observed_at = self._buffer_key
        batch, self._buffer = self._buffer, []
        self._messages(channel, batch, observed_at)

    def attachment(self, offer: MediaOffered) -> StoredAttachment | None:
        """The stored attachment an offer is about (after writing what came before it), or
        None if no message of that channel holds it."""
        self.flush()
        community_id, channel_id = self._channel_ids(offer.channel)
        row = self.conn.execute(
            _ATTACHMENT,
            {
                "channel_id": channel_id,
                "message": offer.message_external_id,
                "attachment": offer.attachment_external_id,
            },
        ).first()
        if row is None:
            return None
        return StoredAttachment(
            id=int(row.id),
            message_id=int(row.message_id),
            channel_id=channel_id,
            community_id=community_id,
            author_id=int(row.author_id),
        )

    # -- natural keys to row ids ---------------------------------------------------------------

    def _platform_id(self, name: str) -> int:
        found = self._platforms.get(name)
        if found is None:
            found = self._platforms[name] = platform_id(self.conn, name)
        return found

    def _community_id(self, ref: CommunityRef) -> int:
        found = self._communities.get(ref)
        if found is None:
            found = self.conn.execute(
                select(communities.c.id)
                .where(communities.c.platform_id == self._platform_id(ref.platform))
                .where(communities.c.external_id == ref.external_id)
            ).scalar()
            if found is None:
                raise UnknownParent(
                    f"community {ref.external_id} ({ref.platform}) is not stored: "
                    "its community-seen event must come first"
                )
            found = self._communities[ref] = int(found)
        self.touched.add(found)
        return found

    def _channel_ids(self, ref: ChannelRef) -> tuple[int, int]:
        found = self._channels.get(ref)
        if found is None:
            community_id = self._community_id(ref.community)
            channel_id = self.conn.execute(
                select(channels.c.id)
                .where(channels.c.community_id == community_id)
                .where(channels.c.external_id == ref.external_id)
            ).scalar()
            if channel_id is None:
                raise UnknownParent(
                    f"channel {ref.external_id} of community {ref.community.external_id} is "
                    "not stored: its channel-seen event must come first"
                )
            found = self._channels[ref] = (community_id, int(channel_id))
        return found

    # -- communities and channels ------------------------------------------------------------

    def _community(self, community: Community, observed_at: datetime) -> int:
        """Row id of ``community``, inserted or refreshed from a newer observation."""
        ref = CommunityRef(community.platform, community.external_id)
        platform = self._platform_id(community.platform)
        values = {
            "name": community.name,
            "description": community.description,
            "icon_url": community.icon_url,
            "nsfw_level": community.nsfw_level.value,
        }
        row = self.conn.execute(
            select(communities.c.id, communities.c.observed_at, *(communities.c[k] for k in values))
            .where(communities.c.platform_id == platform)
            .where(communities.c.external_id == community.external_id)
        ).first()
        if row is None:
            new_id = self.conn.execute(
                insert(communities)
                .values(
                    platform_id=platform,
                    external_id=community.external_id,
                    status=community.status.value,
                    observed_at=observed_at,
                    **values,
                )
                .returning(communities.c.id)
            ).scalar_one()
            self._count("communities", community.external_id, "new")
            found = int(new_id)
        else:
            outcome = self._refresh(communities, row, values, observed_at)
            self._count("communities", community.external_id, outcome)
            found = int(row.id)
        self._communities[ref] = found
        self.touched.add(found)
        return found

    def _channel(self, community: CommunityRef, channel: Channel, observed_at: datetime) -> int:
        """Row id of ``channel`` in its community (already seen), inserted or refreshed."""
        community_id = self._community_id(community)
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
            found = int(new_id)
        else:
            self._count("channels", key, self._refresh(channels, row, values, observed_at))
            found = int(row.id)
        self._channels[ChannelRef(community, channel.external_id)] = (community_id, found)
        return found

    def _refresh(self, table: Any, row: Any, values: dict[str, Any], observed_at: datetime) -> str:
        if observed_at <= row.observed_at:
            return "unchanged"
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        self.conn.execute(
            update(table).where(table.c.id == row.id).values(observed_at=observed_at, **changed)
        )
        return "updated" if changed else "unchanged"

    # -- accounts ----------------------------------------------------------------------------

    def _accounts(
        self, platform: int, found: dict[str, Account], observed_at: datetime
    ) -> dict[str, int]:
        """Insert or refresh ``found``; returns the row ids of the platform's accounts so far."""
        account_ids = self._account_ids.setdefault(platform, {})
        missing = [ext for ext in found if ext not in account_ids]
        if not missing:
            return account_ids
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
                .where(cols.platform_id == platform)
                .where(cols.external_id.in_(bindparam("ids", expanding=True))),
                {"ids": list(chunk)},
            ).all()
            for row in rows:
                values = _account_values(found[row.external_id])
                outcome = self._refresh(accounts, row, values, observed_at)
                self._count("accounts", row.external_id, outcome)
                account_ids[row.external_id] = int(row.id)
        new = [ext for ext in missing if ext not in account_ids]
        if new:
            inserted = self.conn.execute(
                insert(accounts).returning(cols.id, cols.external_id),
                [
                    {
                        "platform_id": platform,
                        "external_id": ext,
                        "observed_at": observed_at,
                        **_account_values(found[ext]),
                    }
                    for ext in new
                ],
            ).all()
            for row in inserted:
                account_ids[row.external_id] = int(row.id)
                self._count("accounts", row.external_id, "new")
        for ext in missing:
            account = found[ext]
            account_id = account_ids[ext]
            self._names[(account_id, "username", account.username)] = observed_at
            if account.display_name and account.display_name != account.username:
                self._names[(account_id, "display", account.display_name)] = observed_at
        return account_ids

    # -- messages ----------------------------------------------------------------------------

    def _messages(
        self,
        channel: ChannelRef,
        batch: Sequence[Message],
        observed_at: datetime,
    ) -> None:
        """Insert or refresh a batch of one channel's messages, their authors and attachments."""
        if not batch:
            return
        community_id, channel_id = self._channel_ids(channel)
        platform = self._platform_id(channel.community.platform)
        account_ids = self._accounts(
            platform, {m.author.external_id: m.author for m in batch}, observed_at
        )
        self._memberships(community_id, account_ids, batch)

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
                        "author_id": account_ids[m.author.external_id],
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

    # -- members, edits, deletions ---------------------------------------------------------------

    def _member(self, event: MemberSeen) -> None:
        community_id = self._community_id(event.community)
        platform = self._platform_id(event.community.platform)
        account_ids = self._accounts(
            platform, {event.account.external_id: event.account}, event.observed_at
        )
        key = (community_id, account_ids[event.account.external_id])
        at = event.observed_at
        seen = self._members.get(key)
        if seen is None:
            self._members[key] = [at, at, event.roles]
            return
        seen[0] = min(seen[0], at)
        if at >= seen[1]:
            seen[1], seen[2] = at, event.roles

    def _edit(self, event: MessageEdited) -> None:
        """New text for a stored message, if newer than what is stored; an edit of a message
        never mirrored (older than the mirror) has nothing to apply to and is skipped."""
        _, channel_id = self._channel_ids(event.channel)
        row = self.conn.execute(
            _MESSAGE, {"channel_id": channel_id, "message": event.message_external_id}
        ).first()
        if row is None:
            return
        counts = self.counts["messages"]
        if event.edited_at <= row.observed_at or event.content == row.content:
            counts.unchanged += 1
            return
        counts.updated += 1
        self.conn.execute(
            insert(message_revisions).values(
                message_id=row.id,
                content=row.content,
                edited_at=row.edited_at,
                superseded_at=event.edited_at,
            )
        )
        self.conn.execute(
            update(messages)
            .where(messages.c.id == row.id)
            .values(content=event.content, edited_at=event.edited_at, observed_at=event.edited_at)
        )

    def _delete(self, event: MessageDeleted) -> None:
        """Mark a stored message deleted (once: the first deletion time is kept)."""
        _, channel_id = self._channel_ids(event.channel)
        marked = self.conn.execute(
            update(messages)
            .where(messages.c.channel_id == channel_id)
            .where(messages.c.external_id == event.message_external_id)
            .where(messages.c.deleted_at.is_(None))
            .values(deleted_at=event.deleted_at)
        ).rowcount
        self.counts["messages"].updated += marked

    # -- memberships and name history ----------------------------------------------------------

    def _memberships(
        self, community_id: int, account_ids: dict[str, int], batch: Sequence[Message]
    ) -> None:
        for m in batch:
            key = (community_id, account_ids[m.author.external_id])
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
        """Flush what was accumulated over the unit (buffered messages, memberships, account
        name history) and queue the communities it touched for detection."""
        self.flush()
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
        pending.queue(self.conn, self.touched, self._queued_at)


def _account_values(account: Account) -> dict[str, Any]:
    return {
        "username": account.username,
        "display_name": account.display_name,
        "discriminator": account.discriminator,
        "is_bot": account.is_bot,
        "avatar_url": account.avatar_url,
    }
