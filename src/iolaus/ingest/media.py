"""Hashing offered media files, and matching the hashes against the banks.

DiscordChatExporter run with ``--media`` replaces attachment URLs by paths relative to the export
file; the export source offers those files (``local_path`` keeps them inside the export's
folder: a path that leads outside is refused, never opened). The hashing subscriber hashes each
where it lies (never copied), stores the hashes on the attachment, and records every bank match
as a signal on the message and its community.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, bindparam, insert, select

from iolaus.hashing.matcher import Matcher
from iolaus.hashing.media import MediaError, MediaHashes, hash_file
from iolaus.hashing.signals import frame_pdqs, signals_of
from iolaus.ingest.subscribers import register_media_subscriber
from iolaus.model.banks import Match, SignalType
from iolaus.model.clock import Clock
from iolaus.model.events import MediaOffered
from iolaus.model.ingest import MediaCounts
from iolaus.model.signals import SEVERITY, Category
from iolaus.store.mirror import StoredAttachment
from iolaus.store.tables import attachment_hashes, signals

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


class HashingSubscriber:
    """The first media subscriber: hash each offered file once and match it against the banks.

    Two separable steps: ``_hash`` stores the attachment's hashes (or why the file was refused)
    in ``attachment_hashes``; ``_match`` looks the hashes up in the banks and records a signal
    per match. An attachment already hashed (or refused) is skipped, so a replay reads nothing.
    """

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._matcher = Matcher(engine)  # loads its index only if some media is offered
        self._clock = clock

    def receive(
        self, conn: Connection, attachment: StoredAttachment, offer: MediaOffered
    ) -> MediaCounts:
        counts = MediaCounts()
        if conn.execute(_HASHED, {"id": attachment.id}).first() is not None:
            return counts
        now = self._clock()
        media = _hash(conn, attachment, offer.path, now)
        if media is None:
            counts.refused += 1
            return counts
        counts.hashed += 1
        if _match(conn, attachment, media, self._matcher, now):
            counts.matched += 1
        return counts


_HASHED = select(attachment_hashes.c.attachment_id).where(
    attachment_hashes.c.attachment_id == bindparam("id")
)


def _hash(
    conn: Connection, attachment: StoredAttachment, path: Path, now: datetime
) -> MediaHashes | None:
    """Hash the file and store its hashes on the attachment; None (and the reason stored) if
    the file is refused."""
    try:
        media = hash_file(path)
    except (MediaError, OSError) as exc:
        conn.execute(
            insert(attachment_hashes).values(
                attachment_id=attachment.id, error=str(exc)[:500], hashed_at=now
            )
        )
        return None
    conn.execute(
        insert(attachment_hashes).values(
            attachment_id=attachment.id,
            pdq=media.pdq if media.pdq_usable else None,
            pdq_quality=media.pdq_quality,
            md5=media.md5,
            sha256=media.sha256,
            video_frames=len(media.frames) or None,
            hashed_at=now,
        )
    )
    return media


def _match(
    conn: Connection,
    attachment: StoredAttachment,
    media: MediaHashes,
    matcher: Matcher,
    now: datetime,
) -> bool:
    """Record a signal for every bank item the hashes match; whether any did."""
    found = _matches(matcher, media)
    if found:
        _record_signals(conn, attachment, found, now)
    return bool(found)


def _matches(matcher: Matcher, media: MediaHashes) -> list[Match]:
    found: dict[tuple[str, int], Match] = {}
    queries = [(kind.value, value) for kind, value in signals_of(media).items()]
    queries += [(SignalType.PDQ.value, pdq) for pdq in frame_pdqs(media)]
    for signal_type, value in queries:
        for match in matcher.lookup(signal_type, [value], bypass_coinflip=True)[0].positive:
            key = (match.bank, match.content_id)
            if key not in found or match.distance < found[key].distance:
                found[key] = match
    return list(found.values())


def _record_signals(
    conn: Connection, row: StoredAttachment, found: list[Match], now: datetime
) -> None:
    keys = [f"{DETECTOR}:{row.id}:{m.bank}:{m.content_id}" for m in found]
    existing = set(
        conn.execute(select(signals.c.dedupe_key).where(signals.c.dedupe_key.in_(keys))).scalars()
    )
    values = []
    for key, match in zip(keys, found, strict=True):
        if key in existing:
            continue
        category = Category(match.category)
        how = (
            f"PDQ distance {match.distance}"
            if match.signal_type == "pdq"
            else (f"exact {match.signal_type}")
        )
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


register_media_subscriber("hashing", HashingSubscriber)
