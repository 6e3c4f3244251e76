"""Community risk: a community's signals, weighed into one score by their typed fields alone.

Which detector found a signal does not matter, only what it is: a signal with a bank reference
is known media; any other signal about a message counts toward its category's *rates and
shares*, so that a large server is not flagged for a few bad messages (strength grows with the
number of flagged messages, their share of all messages and the number of distinct members who
wrote them); a signal about a channel, the community or its links to other communities weighs
as a structural clue (names are chosen by the owners). Evidence items combine like independent
clues (noisy-OR): ``score = 1 − Π(1 − strength)``.

Bands: ``critical`` ≥ 0.85, ``high`` ≥ 0.6, ``watch`` ≥ 0.3, else ``low``. A missing signal never
clears a community: a low score means "nothing found", not "safe".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from iolaus.model.signals import BankRef, Scope, Signal

BANDS = (("critical", 0.85), ("high", 0.6), ("watch", 0.3), ("low", 0.0))
EXAMPLES = 3
# A structural finding's strength before severity and weight: a community's own name or links
# weigh more than one of its channels' names.
STRUCTURAL_BASE = {Scope.COMMUNITY: 0.6, Scope.NETWORK: 0.6, Scope.CHANNEL: 0.5}


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
    authors: set[int | None] = field(default_factory=set)
    severity: int = 0
    weight: float = 0.0
    explanation: str = ""
    examples: list[dict[str, str]] = field(default_factory=list)


def weigh(found: Iterable[Signal], messages: int) -> tuple[float, list[Reason]]:
    """The score and the reasons (strongest first) for a community's signals, ``messages``
    being how many messages it holds (message shares are computed against it)."""
    evidence: list[Reason] = []
    tallies: dict[str, _CategoryTally] = {}
    media: dict[str, tuple[int, set[int]]] = {}
    for signal in found:
        if signal.ref(BankRef) is not None:
            severity, attachments = media.get(signal.category.value, (0, set()))
            if signal.targets.attachment_id is not None:
                attachments.add(signal.targets.attachment_id)
            media[signal.category.value] = (max(severity, signal.severity), attachments)
        elif signal.scope is Scope.MESSAGE:
            _tally(tallies.setdefault(signal.category.value, _CategoryTally()), signal)
        else:
            evidence.append(_structural(signal))
    for category, tally in tallies.items():
        evidence.append(_message_reason(category, tally, messages))
    for category in sorted(media):
        evidence.append(_media_reason(category, *media[category]))
    score = 1.0 - math.prod(1.0 - r.strength for r in evidence)
    evidence.sort(key=lambda r: -r.strength)
    return score, evidence


def _structural(signal: Signal) -> Reason:
    """A community, channel or network finding: strength = base × severity/5 × weight."""
    return Reason(
        text=signal.explanation,
        strength=STRUCTURAL_BASE[signal.scope] * signal.severity / 5 * signal.score,
        category=signal.category.value,
        examples=[dict(signal.example)] if signal.example else [],
    )


def _tally(tally: _CategoryTally, signal: Signal) -> None:
    """Count a message finding toward its category; the strongest finding names the reason."""
    if signal.severity * signal.score > tally.severity * tally.weight:
        tally.severity, tally.weight = signal.severity, signal.score
        tally.explanation = signal.explanation.split(":")[0]
    message = signal.example.get("message")
    if not tally.examples or tally.examples[-1].get("message") != message:
        tally.messages += 1
        tally.authors.add(signal.targets.account_id)
        if len(tally.examples) < EXAMPLES:
            tally.examples.append(dict(signal.example))


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


def _media_reason(category: str, severity: int, attachments: set[int]) -> Reason:
    """Known media: each further matching attachment makes a mistake less likely."""
    count = len(attachments)
    return Reason(
        text=f"{count} attachment{'s' * (count != 1)} match known {category} media "
        f"in the hash banks",
        strength=severity / 5 * (1.0 - 0.35**count),
        category=category,
    )
