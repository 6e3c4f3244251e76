"""Hashing offered media files, and matching the hashes against the banks.

DiscordChatExporter run with ``--media`` replaces attachment URLs by paths relative to the export
file; the export source offers those files (``local_path`` keeps them inside the export's
folder: a path that leads outside is refused, never opened). The hashing subscriber hashes each
where it lies (never copied), stores the hashes on the attachment, and records every bank match
as a signal on the message and its community.

Matching is the hash detector's (:mod:`iolaus.signals.detectors.hashes`); it runs here too, on the
freshly hashed file, because a video's frame hashes exist only now and the import reports how
many files matched.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, bindparam, insert, select

from iolaus.hashing.matcher import Matcher
from iolaus.hashing.media import MediaError, MediaHashes, hash_file
from iolaus.ingest.subscribers import register_media_subscriber
from iolaus.model.clock import Clock
from iolaus.model.events import MediaOffered
from iolaus.model.ingest import MediaCounts
from iolaus.model.signals import Targets
from iolaus.signals.detectors.hashes import match, match_signals, media_queries
from iolaus.store import signals as signal_store
from iolaus.store.mirror import StoredAttachment
from iolaus.store.tables import attachment_hashes


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

    def __init__(self, _engine: Engine, clock: Clock, matcher: Matcher) -> None:
        self._matcher = matcher  # loads its index only if some media is offered
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
    a = attachment
    targets = Targets(a.community_id, a.channel_id, a.message_id, a.id, a.author_id)
    found = match_signals(match(matcher, [media_queries(media)])[0], targets)
    if found:
        signal_store.add(conn, found, now)
    return bool(found)


register_media_subscriber("hashing", HashingSubscriber)
