"""Detection of communities: every registered detector run on each, the signals stored, and the
community's risk weighed from them (:mod:`iolaus.signals.risk`).

Detectors run narrowest scope first, each seeing the signals of those before it. A cumulative
detector's stored signals join this run's (a hash match found at import stays evidence); the
others' replace their previous run's. Shadow rules are evaluated and counted but weigh nothing
and record no signal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, insert, select

from iolaus.hashing.matcher import Matcher
from iolaus.signals.config import DetectionConfig
from iolaus.signals.detect import TextEngine
from iolaus.signals.detectors import (
    CommunityInfo,
    CommunityScan,
    Detector,
    DetectorSetup,
    registered,
)
from iolaus.signals.risk import CommunityRisk, band_of, weigh
from iolaus.signals.watchlist import load_watchlist
from iolaus.store import signals as signal_store
from iolaus.store.tables import communities, community_risk

NSFW_LEVELS = frozenset({"explicit", "age_restricted"})


def default_detector(conn: Connection, config: DetectionConfig | None = None) -> TextEngine:
    """The text engine for ``config`` (default: built-in rules and lexicon) with the
    database's current watch list."""
    config = config or DetectionConfig.default()
    return TextEngine(config.rules, config.lexicon, load_watchlist(conn))


def scan_communities(
    engine: Engine,
    *,
    detector: TextEngine | None = None,
    config: DetectionConfig | None = None,
    community_ids: Iterable[int] | None = None,
    matcher: Matcher | None = None,
    persist: bool = True,
    progress: Callable[[str], None] | None = None,
) -> list[CommunityRisk]:
    """Score communities (all, or the given ones), most risky first; store scores and signals.

    The text rules use ``detector`` (a text engine) if given, else one built from ``config``
    (the operator's rules and lexicon; default: the built-in ones). Bank matches use
    ``matcher`` (default: a new one on ``engine``)."""
    config = config or DetectionConfig.default()
    with engine.connect() as conn:
        text = detector or default_detector(conn, config)
        setup = DetectorSetup(engine, config, text, matcher or Matcher(engine))
        query = select(communities.c.id).order_by(communities.c.id)
        if community_ids is not None:
            query = query.where(communities.c.id.in_(list(community_ids)))
        ids = list(conn.execute(query).scalars())
    detectors = [cls.build(setup) for cls in registered()]
    results = []
    for community_id in ids:
        with engine.begin() as conn:
            risk = _scan_one(conn, detectors, community_id, persist)
        if progress:
            progress(risk.name)
        results.append(risk)
    results.sort(key=lambda r: (-r.score, r.name))
    return results


def _scan_one(
    conn: Connection, detectors: list[Detector], community_id: int, persist: bool
) -> CommunityRisk:
    row = conn.execute(select(communities).where(communities.c.id == community_id)).one()
    info = CommunityInfo(
        row.id, row.external_id, row.name, row.description, row.nsfw_level in NSFW_LEVELS
    )
    scan = CommunityScan(conn, info, datetime.now(UTC))
    replaced = 0
    for detector in detectors:
        found = list(detector.detect(scan))
        if detector.cumulative:
            stored = signal_store.of_community(conn, community_id, detector.name)
            known = {s.key for s in stored}
            fresh = [s for s in found if s.key not in known]
            if persist:
                signal_store.add(conn, fresh, scan.now)
            scan.found.extend(stored + fresh)
        else:
            if persist:
                signal_store.replace(conn, community_id, detector.name, found, scan.now)
            replaced += len(found)
            scan.found.extend(found)
    score, reasons = weigh(scan.found, scan.totals["messages"])
    stats = {**scan.totals, "shadow_rules": dict(scan.shadow), "signals": replaced}
    risk = CommunityRisk(
        community_id, info.external_id, info.name, score, band_of(score), reasons, stats
    )
    if persist:
        _persist_risk(conn, risk, scan.now)
    return risk


def _persist_risk(conn: Connection, risk: CommunityRisk, now: datetime) -> None:
    """Replace the community's stored score with this scan's."""
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
