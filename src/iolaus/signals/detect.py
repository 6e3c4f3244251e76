"""From text to findings: normalise, look up the lexicon and the watch list, compute each
scope's named features, and run the rules of that scope.

Feature values for lexicon categories are the *sum of the weights* of the terms found (a common
word such as "leak" weighs little, "revenge porn" weighs much), so rules can say ``ncii >= 0.5``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from iolaus.signals.lexicon import Hit, Lexicon
from iolaus.signals.normalise import Normalised, normalise, skeleton
from iolaus.signals.rules import (
    LEXICON_KINDS,
    SCOPES,
    Condition,
    Rule,
    RuleSet,
    fails_at_zero,
)
from iolaus.signals.watchlist import Watchlist

ADULT_MARKERS = ("🔞", "18+", "+18", "nsfw", "18 plus")
MAX_QUOTED_TERMS = 5
# Built once rather than per message (see TextView.weights and TextEngine.message_features).
_ZERO_WEIGHTS = dict.fromkeys(LEXICON_KINDS, 0.0)
_CHANNEL_KINDS = tuple((f"channel_{kind}", kind) for kind in LEXICON_KINDS)


@dataclass(frozen=True)
class Finding:
    """A rule that fired, with the human explanation a reviewer checks in seconds.

    The explanation and the quoted words are built on first use: quoting the original words
    costs a second normalisation pass, which a caller that only needs the decision (counting
    shadow rules, the throughput benchmark) never pays."""

    rule: Rule
    view: TextView
    values: Mapping[str, Any]

    @property
    def terms(self) -> tuple[str, ...]:
        return self.view.quoted_terms

    @property
    def protected(self) -> tuple[str, ...]:
        return tuple(self.view.protected)

    @cached_property
    def explanation(self) -> str:
        return self.rule.explanation(
            {
                **self.values,
                "terms": ", ".join(f"«{t}»" for t in self.terms) or "—",
                "protected": ", ".join(self.protected) or "—",
            }
        )


@dataclass
class TextView:
    """One text looked at: its normal form, lexicon hits and protected-person mentions."""

    normalised: Normalised
    hits: list[Hit]
    protected: list[str]

    def weights(self, prefix: str = "") -> dict[str, float]:
        if prefix:
            sums = dict.fromkeys((prefix + k for k in LEXICON_KINDS), 0.0)
            for hit in self.hits:
                sums[prefix + hit.category] += hit.weight
            return sums
        # The common case (every scope's features) copies a ready-made dict of zeros: it runs
        # for every message with a hit, where building the keys each time showed in profiles.
        sums = _ZERO_WEIGHTS.copy()
        for hit in self.hits:
            sums[hit.category] += hit.weight
        return sums

    @cached_property
    def quoted_terms(self) -> tuple[str, ...]:
        """The original words behind the hits (``t.r.1.b`` rather than ``trib``), at most five.

        Offsets back to the original cost a second normalisation pass, so they are computed
        once, and only for texts on which a rule fired."""
        if not self.hits:
            return ()
        original, offsets = self.normalised.original, self.normalised.offsets()
        quoted: list[str] = []
        for hit in self.hits:
            words = original[offsets[hit.start] : offsets[hit.end - 1] + 1] or hit.term
            if words not in quoted:
                quoted.append(words)
            if len(quoted) == MAX_QUOTED_TERMS:
                break
        return tuple(quoted)


@dataclass
class TextEngine:
    """Rules, lexicon and watch list, loaded once and applied to any number of texts."""

    rules: RuleSet
    lexicon: Lexicon
    watchlist: Watchlist = field(default_factory=lambda: Watchlist(()))

    def view(self, text: str | None) -> TextView:
        normalised = normalise(text or "")
        if not normalised.text:
            return TextView(normalised, [], [])
        if not self.watchlist:
            return TextView(normalised, self.lexicon.find(normalised), [])
        # The lexicon and the watch list both match on the skeleton: computed once, for both.
        key = skeleton(normalised.text)
        hits = self.lexicon.find(normalised, key=key)
        return TextView(normalised, hits, self.watchlist.mentioned(normalised.text, key=key))

    def __post_init__(self) -> None:
        # Rules are compiled once per scope (see rules.Program); ``rules`` is not reassigned.
        self._programs = {scope: self.rules.program(scope) for scope in SCOPES}
        self._needs_evidence = all(_needs_evidence(r) for r in self._programs["message"].rules)

    # -- features per scope ----------------------------------------------------------------

    def channel_features(
        self, name: str, topic: str | None, category: str | None, nsfw: bool
    ) -> tuple[dict[str, Any], TextView]:
        view = self.view(f"{name}\n{topic or ''}")
        features: dict[str, Any] = view.weights()
        features.update(
            name=self.view(name).normalised.text,
            topic=normalise(topic or "").text,
            category_name=normalise(category or "").text,
            nsfw=nsfw,
            adult_marker=_adult(name) or _adult(category) or _adult(topic),
            protected_mentions=len(view.protected),
        )
        return features, view

    def community_features(
        self, name: str, description: str | None, nsfw: bool
    ) -> tuple[dict[str, Any], TextView]:
        view = self.view(f"{name}\n{description or ''}")
        features: dict[str, Any] = view.weights()
        features.update(
            name=normalise(name).text,
            description=normalise(description or "").text,
            nsfw=nsfw,
            adult_marker=_adult(name) or _adult(description),
        )
        return features, view

    def message_features(
        self,
        view: TextView,
        channel: Mapping[str, Any],
        *,
        attachments: int = 0,
        media_attachments: int = 0,
        hash_matches: int = 0,
    ) -> dict[str, Any]:
        features: dict[str, Any] = view.weights()
        features.update(
            text=view.normalised.text,
            attachments=attachments,
            media_attachments=media_attachments,
            hash_matches=hash_matches,
            protected_mentions=len(view.protected),
            channel_nsfw=bool(channel.get("nsfw")) or bool(channel.get("adult_marker")),
            channel_name=channel.get("name", ""),
        )
        get = channel.get
        for feature, kind in _CHANNEL_KINDS:
            features[feature] = get(kind, 0.0)
        return features

    # -- evaluation ------------------------------------------------------------------------

    def evaluate(
        self, scope: str, features: Mapping[str, Any], view: TextView, **context: str
    ) -> list[Finding]:
        fired = self._programs[scope].fired(features)
        if not fired:
            return []
        values = {**features, **context}
        return [Finding(rule, view, values) for rule in fired]

    def message(
        self, text: str, channel: Mapping[str, Any] | None = None, **counts: int
    ) -> tuple[TextView, list[Finding]]:
        """Findings for one message (``iolaus rules test`` and the scan both come here)."""
        view = self.view(text)
        if self._needs_evidence and not (view.hits or view.protected or counts.get("hash_matches")):
            return view, []  # every message rule needs a term, a mention or a match
        features = self.message_features(view, channel or {}, **counts)
        return view, self.evaluate(
            "message", features, view, channel=str((channel or {}).get("display", ""))
        )


_EVIDENCE = frozenset((*LEXICON_KINDS, "protected_mentions", "hash_matches"))


def _is_evidence(condition: Condition) -> bool:
    """A condition on a term, mention or match feature that cannot hold while it is zero."""
    return condition.feature in _EVIDENCE and fails_at_zero(condition)


def _needs_evidence(rule: Rule) -> bool:
    """True when the rule cannot fire on a message without a term, a mention or a match:
    then messages with none of those skip rule evaluation (most messages, by far)."""
    return any(_is_evidence(c) for c in rule.all) or bool(
        rule.any and all(_is_evidence(c) for c in rule.any)
    )


def _adult(text: str | None) -> bool:
    if not text:
        return False
    lowered = text.lower()
    return any(marker in lowered for marker in ADULT_MARKERS)
