"""Hashing attachments whose files came with an export, and matching them against the banks.

DiscordChatExporter run with ``--media`` replaces attachment URLs by paths relative to the export
file. Such files are hashed where they lie (never copied), their hashes stored on the attachment,
and every bank match recorded as a signal on the message and its community. Paths are untrusted:
one that leads outside the export's folder is refused, never opened.

Matching is the hash detector's (:mod:`iolaus.signals.detectors.hashes`); it runs here too, on the
freshly hashed file, because a video's frame hashes exist only now and the import reports how
many files matched.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, insert, select

from iolaus.hashing.matcher import Matcher
from iolaus.hashing.media import MediaError, hash_file
from iolaus.model.ingest import MediaCounts
from iolaus.model.signals import Targets
from iolaus.signals.detectors.hashes import match, match_signals, media_queries
from iolaus.store import signals as signal_store
from iolaus.store.tables import attachment_hashes, attachments, channels, messages


def local_path(root: Path, url: str) -> Path | None:
    """The file an attachment URL names inside ``root``, or None (remote URL or escaping path)."""
    if "://" in url or not url or "\x00" in url:
        return None
    candidate = Path(url.replace("\\", "/"))
    if not candidate.is_absolute():
        candidate = root / candidate
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(root.resolve()) or not resolved.is_file():
        return None
    return resolved


def hash_channel_media(
    conn: Connection, channel_id: int, root: Path, matcher: Matcher
) -> MediaCounts:
    """Hash and match this channel's not-yet-hashed local attachments (idempotent)."""
    counts = MediaCounts()
    rows = conn.execute(
        select(
            attachments.c.id,
            attachments.c.url,
            attachments.c.file_name,
            messages.c.id.label("message_id"),
            messages.c.channel_id,
            messages.c.author_id,
            channels.c.community_id,
        )
        .join(messages, messages.c.id == attachments.c.message_id)
        .join(channels, channels.c.id == messages.c.channel_id)
        .outerjoin(attachment_hashes, attachment_hashes.c.attachment_id == attachments.c.id)
        .where(messages.c.channel_id == channel_id)
        .where(attachment_hashes.c.attachment_id.is_(None))
        .where(attachments.c.url.not_like("http%://%"))
    ).all()
    for row in rows:
        path = local_path(root, row.url)
        now = datetime.now(UTC)
        if path is None:
            continue
        try:
            media = hash_file(path)
        except (MediaError, OSError) as exc:
            counts.refused += 1
            conn.execute(
                insert(attachment_hashes).values(
                    attachment_id=row.id, error=str(exc)[:500], hashed_at=now
                )
            )
            continue
        counts.hashed += 1
        conn.execute(
            insert(attachment_hashes).values(
                attachment_id=row.id,
                pdq=media.pdq if media.pdq_usable else None,
                pdq_quality=media.pdq_quality,
                md5=media.md5,
                sha256=media.sha256,
                video_frames=len(media.frames) or None,
                hashed_at=now,
            )
        )
        targets = Targets(row.community_id, row.channel_id, row.message_id, row.id, row.author_id)
        found = match_signals(match(matcher, [media_queries(media)])[0], targets)
        if found:
            counts.matched += 1
            signal_store.add(conn, found, now)
    return counts
