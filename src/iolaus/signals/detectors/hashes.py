"""Hash matching as a detector: a community's attachment hashes against the banks.

Matching is one batched lookup per signal type, with every bank rule applied (thresholds,
enable state, allow-lists; no coin flip: detection is not sampled). Each attachment's best match
per bank item is one signal. The same functions serve the moment a file is hashed
(:func:`media_queries` covers a video's frame hashes, which are never stored) and detection,
which re-reads the stored hashes, so an item banked after the import still finds its media.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select

from iolaus.hashing.matcher import Matcher
from iolaus.hashing.media import MediaHashes
from iolaus.hashing.signals import frame_pdqs, signals_of
from iolaus.hashing.types import PDQ
from iolaus.model.banks import Match
from iolaus.model.signals import SEVERITY, BankRef, Category, Scope, Signal, Targets
from iolaus.signals.detectors.base import CommunityScan, Detector, DetectorSetup
from iolaus.store.tables import attachment_hashes, attachments, channels, messages

Query = tuple[str, str]
"""(signal type, hash value)."""


class HashMatchDetector(Detector):
    """Attachments whose hashes are in a bank. Matches accumulate: one stays recorded after its
    bank item is withdrawn, as the evidence it was when found."""

    name = "hash_match"
    scope = Scope.MESSAGE
    cumulative = True

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher

    @classmethod
    def build(cls, setup: DetectorSetup) -> HashMatchDetector:
        return cls(setup.matcher)

    def detect(self, scan: CommunityScan) -> list[Signal]:
        rows = scan.conn.execute(
            select(
                attachment_hashes.c.attachment_id,
                attachment_hashes.c.pdq,
                attachment_hashes.c.pdq_quality,
                attachment_hashes.c.md5,
                attachment_hashes.c.sha256,
                attachment_hashes.c.video_frames,
                messages.c.id.label("message_id"),
                messages.c.channel_id,
                messages.c.author_id,
            )
            .join(attachments, attachments.c.id == attachment_hashes.c.attachment_id)
            .join(messages, messages.c.id == attachments.c.message_id)
            .join(channels, channels.c.id == messages.c.channel_id)
            .where(channels.c.community_id == scan.community.id)
            .where(attachment_hashes.c.error.is_(None))
            .order_by(attachment_hashes.c.attachment_id)
        ).all()
        if not rows:
            return []
        found = match(self.matcher, [_stored_queries(row) for row in rows])
        signals: list[Signal] = []
        for row, matches in zip(rows, found, strict=True):
            targets = Targets(
                scan.community.id, row.channel_id, row.message_id, row.attachment_id, row.author_id
            )
            signals.extend(match_signals(matches, targets))
        return signals


def media_queries(media: MediaHashes) -> list[Query]:
    """What a freshly hashed file is looked up by: its bank signals and its frames' PDQs."""
    queries = [(kind.name, value) for kind, value in signals_of(media).items()]
    return queries + [(PDQ.name, pdq) for pdq in frame_pdqs(media)]


def _stored_queries(row: Any) -> list[Query]:
    """What a stored hash row is looked up by: the row read back as its file's hashes, so the
    signal types decide as for a fresh file (frame hashes aside: they are not stored)."""
    media = MediaHashes(
        kind="video" if row.video_frames else "photo",
        format="",
        size=0,
        md5=row.md5,
        sha256=row.sha256,
        pdq=row.pdq,
        pdq_quality=row.pdq_quality,
    )
    return [(kind.name, value) for kind, value in signals_of(media).items()]


def match(matcher: Matcher, items: Sequence[Sequence[Query]]) -> list[list[Match]]:
    """Per item (the queries of one file), its positive matches, the closest per bank item;
    one lookup per signal type for all items."""
    by_type: dict[str, list[str]] = {}
    for queries in items:
        for signal_type, value in queries:
            by_type.setdefault(signal_type, []).append(value)
    results = {
        signal_type: iter(matcher.lookup(signal_type, values, bypass_coinflip=True))
        for signal_type, values in by_type.items()
    }
    matched: list[list[Match]] = []
    for queries in items:
        best: dict[tuple[str, int], Match] = {}
        for signal_type, _ in queries:
            for m in next(results[signal_type]).positive:
                key = (m.bank, m.content_id)
                if key not in best or m.distance < best[key].distance:
                    best[key] = m
        matched.append(list(best.values()))
    return matched


def match_signals(found: Iterable[Match], targets: Targets) -> list[Signal]:
    """One signal per bank item an attachment matched."""
    signals = []
    for m in found:
        category = Category(m.category)
        how = f"PDQ distance {m.distance}" if m.signal_type == "pdq" else f"exact {m.signal_type}"
        signals.append(
            Signal(
                detector=HashMatchDetector.name,
                key=f"{HashMatchDetector.name}:{targets.attachment_id}:{m.bank}:{m.content_id}",
                category=category,
                severity=SEVERITY[category],
                score=1.0 - m.distance / 64,
                scope=Scope.MESSAGE,
                refs=(BankRef(m.bank, m.signal_type, m.distance, m.content_id),),
                targets=targets,
                explanation=f"attachment matches item {m.content_id} of bank {m.bank} ({how})",
            )
        )
    return signals
