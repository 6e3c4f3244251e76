"""Hashing attachments whose files came with an export, and matching them against the banks.

DiscordChatExporter run with ``--media`` replaces attachment URLs by paths relative to the export
file. Such files are hashed where they lie (never copied), their hashes stored on the attachment,
and every bank match recorded as a signal on the message and its community. Paths are untrusted:
one that leads outside the export's folder is refused, never opened.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from iolaus.hashing.matcher import Matcher
from iolaus.hashing.media import MediaError, MediaHashes, hash_file
from iolaus.hashing.signals import frame_pdqs, signals_of
from iolaus.hashing.types import PDQ, SIGNAL_TYPES
from iolaus.model.banks import Match
from iolaus.model.ingest import MediaCounts
from iolaus.model.signals import SEVERITY, Category
from iolaus.store.tables import attachment_hashes, attachments, channels, messages, signals

DETECTOR = "hash_match"


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
        found = _matches(matcher, media)
        if found:
            counts.matched += 1
            _record_signals(conn, row, found, now)
    return counts


def _matches(matcher: Matcher, media: MediaHashes) -> list[Match]:
    found: dict[tuple[str, int], Match] = {}
    queries = [(kind.name, value) for kind, value in signals_of(media).items()]
    queries += [(PDQ.name, pdq) for pdq in frame_pdqs(media)]
    for signal_type, value in queries:
        for match in matcher.lookup(signal_type, [value], bypass_coinflip=True)[0].positive:
            key = (match.bank, match.content_id)
            if key not in found or match.distance < found[key].distance:
                found[key] = match
    return list(found.values())


def _record_signals(conn: Connection, row: Row[Any], found: list[Match], now: datetime) -> None:
    keys = [f"{DETECTOR}:{row.id}:{m.bank}:{m.content_id}" for m in found]
    existing = set(
        conn.execute(select(signals.c.dedupe_key).where(signals.c.dedupe_key.in_(keys))).scalars()
    )
    values = []
    for key, match in zip(keys, found, strict=True):
        if key in existing:
            continue
        category = Category(match.category)
        how = SIGNAL_TYPES.from_name(match.signal_type).match_text(match.distance)
        values.append(
            {
                "dedupe_key": key,
                "detector": DETECTOR,
                "category": category.value,
                "severity": SEVERITY[category],
                "score": 1.0 - match.distance / 64,
                "explanation": (
                    f"attachment matches item {match.content_id} of bank {match.bank} ({how})"
                ),
                "details": json.dumps(
                    {
                        "bank": match.bank,
                        "content_id": match.content_id,
                        "signal_type": match.signal_type,
                        "distance": match.distance,
                    }
                ),
                "community_id": row.community_id,
                "channel_id": row.channel_id,
                "message_id": row.message_id,
                "attachment_id": row.id,
                "account_id": row.author_id,
                "created_at": now,
            }
        )
    if values:
        conn.execute(insert(signals), values)
