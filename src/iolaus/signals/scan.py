"""Community risk: every detector's findings about a community, weighed into one score.

A community is scored on its name, its channels' names and topics, its messages and its media.
Message findings count as *rates and shares*, not raw counts, so that a large server is not
flagged for a few bad messages: each category's strength grows with the number of flagged
messages, their share of all messages and the number of distinct members who wrote them.
Evidence items combine like independent clues (noisy-OR): ``score = 1 − Π(1 − strength)``.

Bands: ``critical`` ≥ 0.85, ``high`` ≥ 0.6, ``watch`` ≥ 0.3, else ``low``. Shadow rules are
evaluated and counted but weigh nothing and record no signal. A missing signal never clears a
community: a low score means "nothing found", not "safe".
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select

from iolaus.model.signals import SEVERITY, Category
from iolaus.signals.config import DetectionConfig
from iolaus.signals.detect import Detector, Finding
from iolaus.signals.watchlist import load_watchlist
from iolaus.store.tables import (
    attachments,
    channels,
    communities,
    community_risk,
    messages,
    signals,
)

BANDS = (("critical", 0.85), ("high", 0.6), ("watch", 0.3), ("low", 0.0))
RULE_DETECTOR = "rules"
EXAMPLES = 3
SYSTEM_KINDS = frozenset(
    {"GuildMemberJoin", "ChannelPinnedMessage", "ThreadCreated", "RecipientAdd"}
)


def band_of(score: float) -> str:
    return next(name for name, floor in BANDS if score >= floor)


@dataclass
class Reason:
    """One clue, strongest first in a community's list, with examples a reviewer can open."""

    text: str
    strength: float
    category: str
    examples: list[dict[str, str]] = field(default_factory=list)


@dataclass
class CommunityRisk:
    community_id: int
    external_id: str
    name: str
    score: float
    band: str
    reasons: list[Reason]
    stats: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = round(self.score, 4)
        return data


@dataclass
class _CategoryTally:
    messages: int = 0
    authors: set[int] = field(default_factory=set)
    severity: int = 0
    weight: float = 0.0
    explanation: str = ""
    examples: list[dict[str, str]] = field(default_factory=list)


def default_detector(conn: Connection, config: DetectionConfig | None = None) -> Detector:
    """The text detector for ``config`` (default: built-in rules and lexicon) with the
    database's current watch list."""
    config = config or DetectionConfig.default()
    return Detector(config.rules, config.lexicon, load_watchlist(conn))


def scan_communities(
    engine: Engine,
    *,
    detector: Detector | None = None,
    config: DetectionConfig | None = None,
    community_ids: Iterable[int] | None = None,
    persist: bool = True,
    progress: Callable[[str], None] | None = None,
) -> list[CommunityRisk]:
    """Score communities (all, or the given ones), most risky first; store scores and signals.

    Detection uses ``detector`` if given, else one built from ``config`` (the operator's rules
    and lexicon; default: the built-in ones)."""
    with engine.connect() as conn:
        detector = detector or default_detector(conn, config)
        query = select(communities.c.id).order_by(communities.c.id)
        if community_ids is not None:
            query = query.where(communities.c.id.in_(list(community_ids)))
        ids = list(conn.execute(query).scalars())
    results = []
    for community_id in ids:
        with engine.begin() as conn:
            risk = _scan_one(conn, detector, community_id, persist)
        if progress:
            progress(risk.name)
        results.append(risk)
    results.sort(key=lambda r: (-r.score, r.name))
    return results


def _scan_one(
    conn: Connection, detector: Detector, community_id: int, persist: bool
) -> CommunityRisk:
    community = conn.execute(select(communities).where(communities.c.id == community_id)).one()
    now = datetime.now(UTC)
    evidence: list[Reason] = []
    new_signals: list[dict[str, Any]] = []
    shadow: dict[str, int] = defaultdict(int)

    def record(finding: Finding, key: str, **where: Any) -> bool:
        if finding.rule.mode == "shadow":
            shadow[finding.rule.name] += 1
            return False
        new_signals.append(_signal_row(finding, key, community_id, now, **where))
        return True

    nsfw = community.nsfw_level in {"explicit", "age_restricted"}
    features, view = detector.community_features(community.name, community.description, nsfw)
    for finding in detector.evaluate("community", features, view, community=community.name):
        if record(finding, f"g{community_id}"):
            evidence.append(_structural(finding, 0.6))

    channel_context: dict[int, dict[str, Any]] = {}
    for row in conn.execute(select(channels).where(channels.c.community_id == community_id)):
        features, view = detector.channel_features(row.name, row.topic, row.category, row.nsfw)
        features["display"] = f"#{row.name}"
        channel_context[row.id] = features
        for finding in detector.evaluate("channel", features, view, channel=f"#{row.name}"):
            if record(finding, f"c{row.id}", channel_id=row.id):
                evidence.append(_structural(finding, 0.5, channel=f"#{row.name}"))

    tallies, totals = _scan_messages(conn, detector, community_id, channel_context, record)
    for category, tally in tallies.items():
        evidence.append(_message_reason(category, tally, totals["messages"]))
    evidence.extend(_hash_reasons(conn, community_id))

    score = 1.0 - math.prod(1.0 - r.strength for r in evidence)
    evidence.sort(key=lambda r: -r.strength)
    stats = {**totals, "shadow_rules": dict(shadow), "signals": len(new_signals)}
    risk = CommunityRisk(
        community_id, community.external_id, community.name, score, band_of(score), evidence, stats
    )
    if persist:
        _persist(conn, risk, new_signals, now)
    return risk


def _scan_messages(
    conn: Connection,
    detector: Detector,
    community_id: int,
    channel_context: dict[int, dict[str, Any]],
    record: Callable[..., bool],
) -> tuple[dict[str, _CategoryTally], dict[str, int]]:
    files = (
        select(attachments.c.message_id, func.count().label("n"))
        .group_by(attachments.c.message_id)
        .subquery()
    )
    matched = (
        select(signals.c.message_id, func.count().label("n"))
        .where(signals.c.detector == "hash_match")
        .where(signals.c.community_id == community_id)
        .group_by(signals.c.message_id)
        .subquery()
    )
    rows = conn.execute(
        select(
            messages.c.id,
            messages.c.external_id,
            messages.c.channel_id,
            messages.c.author_id,
            messages.c.kind,
            messages.c.content,
            func.coalesce(files.c.n, 0).label("files"),
            func.coalesce(matched.c.n, 0).label("matches"),
        )
        .join(channels, channels.c.id == messages.c.channel_id)
        .outerjoin(files, files.c.message_id == messages.c.id)
        .outerjoin(matched, matched.c.message_id == messages.c.id)
        .where(channels.c.community_id == community_id)
        .order_by(messages.c.id)
        .execution_options(yield_per=2000)  # streamed: a community may hold millions
    )
    tallies: dict[str, _CategoryTally] = {}
    totals = {"messages": 0, "authors": 0, "flagged_messages": 0}
    authors: set[int] = set()
    for row in rows:
        if row.kind in SYSTEM_KINDS:
            continue
        totals["messages"] += 1
        authors.add(row.author_id)
        channel = channel_context.get(row.channel_id, {})
        _, found = detector.message(
            row.content, channel, attachments=row.files, hash_matches=row.matches
        )
        flagged = False
        for finding in found:
            if not record(
                finding,
                f"m{row.id}",
                channel_id=row.channel_id,
                message_id=row.id,
                account_id=row.author_id,
            ):
                continue
            flagged = True
            tally = tallies.setdefault(finding.rule.category.value, _CategoryTally())
            if finding.rule.severity * finding.rule.weight > tally.severity * tally.weight:
                tally.severity, tally.weight = finding.rule.severity, finding.rule.weight
                tally.explanation = finding.explanation.split(":")[0]
            if not tally.examples or tally.examples[-1]["message"] != row.external_id:
                tally.messages += 1
                tally.authors.add(row.author_id)
                if len(tally.examples) < EXAMPLES:
                    tally.examples.append(
                        {
                            "message": row.external_id,
                            "channel": str(channel.get("display", "")),
                            "terms": ", ".join(finding.terms),
                        }
                    )
        totals["flagged_messages"] += flagged
    totals["authors"] = len(authors)
    return tallies, totals


def _structural(finding: Finding, base: float, channel: str = "") -> Reason:
    """A community or channel finding: names are chosen by the owners, so they weigh heavily."""
    rule = finding.rule
    examples = [{"channel": channel, "terms": ", ".join(finding.terms)}] if channel else []
    return Reason(
        text=finding.explanation,
        strength=base * rule.severity / 5 * rule.weight,
        category=rule.category.value,
        examples=examples,
    )


# Message evidence: how much a category's flagged messages weigh depends on how many there are
# (volume), what share of the community they are (density: a few bad messages in a big server
# weigh little) and how many members wrote them (spread: one troll is not a community).
DENSITY_SHARE = 0.04  # at this share of all messages, density is full
SPREAD_AUTHORS = 3  # at this many distinct authors, spread is full
VOLUME_SCALE = 2.0  # effective messages for 1 − 1/e of the ceiling
CONCENTRATION_SHARE = 0.1  # at this share, flagged messages count double (they are the topic)


def _message_reason(category: str, tally: _CategoryTally, total: int) -> Reason:
    """Strength = ceiling × (1 − exp(−n_eff / VOLUME_SCALE)), where the ceiling is the strongest
    rule's severity × weight and n_eff the flagged messages discounted by density and spread, and
    counted up to twice when they are a large share of a (small) community's talk."""
    share = tally.messages / max(total, 1)
    density = min(1.0, share / DENSITY_SHARE)
    members = len(tally.authors)
    spread = 0.5 + 0.5 * min(1.0, members / SPREAD_AUTHORS)
    concentration = 1.0 + min(1.0, share / CONCENTRATION_SHARE)
    effective = tally.messages * density * spread * concentration
    ceiling = tally.severity / 5 * tally.weight
    strength = ceiling * (1.0 - math.exp(-effective / VOLUME_SCALE))
    text = (
        f"{tally.messages} message{'s' * (tally.messages != 1)} ({share:.1%}) by {members} "
        f"member{'s' * (members != 1)}: {tally.explanation}"
    )
    return Reason(text, strength, category, tally.examples)


def _hash_reasons(conn: Connection, community_id: int) -> list[Reason]:
    rows = conn.execute(
        select(signals.c.category, func.count(func.distinct(signals.c.attachment_id)))
        .where(signals.c.community_id == community_id)
        .where(signals.c.detector == "hash_match")
        .group_by(signals.c.category)
    ).all()
    reasons = []
    for category, count in rows:
        severity = SEVERITY[Category(category)]
        reasons.append(
            Reason(
                text=f"{count} attachment{'s' * (count != 1)} match known {category} media "
                f"in the hash banks",
                strength=severity / 5 * (1.0 - 0.35**count),
                category=category,
            )
        )
    return reasons


def _signal_row(
    finding: Finding, key: str, community_id: int, now: datetime, **where: Any
) -> dict[str, Any]:
    rule = finding.rule
    return {
        "dedupe_key": f"{RULE_DETECTOR}:{rule.name}:{key}",
        "detector": RULE_DETECTOR,
        "category": rule.category.value,
        "severity": rule.severity,
        "score": rule.weight,
        "explanation": finding.explanation,
        "details": json.dumps(
            {"rule": rule.name, "terms": list(finding.terms), "protected": list(finding.protected)},
            ensure_ascii=False,
        ),
        "community_id": community_id,
        "channel_id": where.get("channel_id"),
        "message_id": where.get("message_id"),
        "attachment_id": None,
        "account_id": where.get("account_id"),
        "created_at": now,
    }


def _persist(
    conn: Connection, risk: CommunityRisk, new_signals: list[dict[str, Any]], now: datetime
) -> None:
    """Replace this community's rule signals and score with the current scan's."""
    conn.execute(
        delete(signals)
        .where(signals.c.community_id == risk.community_id)
        .where(signals.c.detector == RULE_DETECTOR)
    )
    for start in range(0, len(new_signals), 1000):
        conn.execute(insert(signals), new_signals[start : start + 1000])
    conn.execute(delete(community_risk).where(community_risk.c.community_id == risk.community_id))
    conn.execute(
        insert(community_risk).values(
            community_id=risk.community_id,
            score=risk.score,
            band=risk.band,
            reasons=json.dumps([asdict(r) for r in risk.reasons], ensure_ascii=False),
            stats=json.dumps(risk.stats),
            computed_at=now,
        )
    )
