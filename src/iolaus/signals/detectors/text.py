"""The text rules as a detector: a community's name and description, its channels' names and
topics, and its messages, read by the :class:`~iolaus.signals.detect.TextEngine`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select

from iolaus.model.signals import BankRef, RuleRef, Scope, Signal, Targets
from iolaus.signals.detect import Finding, TextEngine
from iolaus.signals.detectors.base import CommunityScan, Detector, DetectorSetup
from iolaus.store.tables import attachments, channels, messages

# Join, leave and pin notices are written by the platform, not by members: not counted.
SYSTEM_KINDS = frozenset(
    {"GuildMemberJoin", "ChannelPinnedMessage", "ThreadCreated", "RecipientAdd"}
)


class TextRulesDetector(Detector):
    """Every live rule that fires on the community, a channel or a message is one signal;
    shadow rules are only counted (``scan.shadow``)."""

    name = "rules"
    scope = Scope.COMMUNITY

    def __init__(self, engine: TextEngine) -> None:
        self.engine = engine

    @classmethod
    def build(cls, setup: DetectorSetup) -> TextRulesDetector:
        return cls(setup.text)

    def detect(self, scan: CommunityScan) -> Iterator[Signal]:
        community = scan.community
        engine = self.engine
        features, view = engine.community_features(
            community.name, community.description, community.nsfw
        )
        for finding in engine.evaluate("community", features, view, community=community.name):
            if self._live(scan, finding):
                yield _signal(finding, Scope.COMMUNITY, f"g{community.id}", Targets(community.id))

        context: dict[int, dict[str, Any]] = {}
        for row in scan.conn.execute(
            select(channels).where(channels.c.community_id == community.id)
        ):
            features, view = engine.channel_features(row.name, row.topic, row.category, row.nsfw)
            display = features["display"] = f"#{row.name}"
            context[row.id] = features
            for finding in engine.evaluate("channel", features, view, channel=display):
                if self._live(scan, finding):
                    example = {"channel": display, "terms": ", ".join(finding.terms)}
                    targets = Targets(community.id, row.id)
                    yield _signal(finding, Scope.CHANNEL, f"c{row.id}", targets, example)

        yield from self._messages(scan, context)

    def _messages(
        self, scan: CommunityScan, context: dict[int, dict[str, Any]]
    ) -> Iterator[Signal]:
        community_id = scan.community.id
        # Message rules may count a message's hash matches: the matcher has run before.
        matches = Counter(
            s.targets.message_id
            for s in scan.found
            if s.targets.message_id is not None and s.ref(BankRef) is not None
        )
        files = (
            select(attachments.c.message_id, func.count().label("n"))
            .group_by(attachments.c.message_id)
            .subquery()
        )
        rows = scan.conn.execute(
            select(
                messages.c.id,
                messages.c.external_id,
                messages.c.channel_id,
                messages.c.author_id,
                messages.c.kind,
                messages.c.content,
                func.coalesce(files.c.n, 0).label("files"),
            )
            .join(channels, channels.c.id == messages.c.channel_id)
            .outerjoin(files, files.c.message_id == messages.c.id)
            .where(channels.c.community_id == community_id)
            .order_by(messages.c.id)
            .execution_options(yield_per=2000)  # streamed: a community may hold millions
        )
        totals = scan.totals
        authors: set[int] = set()
        for row in rows:
            if row.kind in SYSTEM_KINDS:
                continue
            totals["messages"] += 1
            authors.add(row.author_id)
            channel = context.get(row.channel_id, {})
            _, found = self.engine.message(
                row.content, channel, attachments=row.files, hash_matches=matches[row.id]
            )
            flagged = False
            for finding in found:
                if not self._live(scan, finding):
                    continue
                flagged = True
                example = {
                    "message": row.external_id,
                    "channel": str(channel.get("display", "")),
                    "terms": ", ".join(finding.terms),
                }
                targets = Targets(community_id, row.channel_id, row.id, None, row.author_id)
                yield _signal(finding, Scope.MESSAGE, f"m{row.id}", targets, example)
            totals["flagged_messages"] += flagged
        totals["authors"] = len(authors)

    @staticmethod
    def _live(scan: CommunityScan, finding: Finding) -> bool:
        """False for a shadow rule, which is counted instead of recorded."""
        if finding.rule.mode == "shadow":
            scan.shadow[finding.rule.name] += 1
            return False
        return True


def _signal(
    finding: Finding,
    scope: Scope,
    where: str,
    targets: Targets,
    example: dict[str, str] | None = None,
) -> Signal:
    rule = finding.rule
    return Signal(
        detector=TextRulesDetector.name,
        key=f"{TextRulesDetector.name}:{rule.name}:{where}",
        category=rule.category,
        severity=rule.severity,
        score=rule.weight,
        scope=scope,
        refs=(RuleRef(rule.name),),
        targets=targets,
        explanation=finding.explanation,
        terms=finding.terms,
        protected=finding.protected,
        example=example or {},
    )
