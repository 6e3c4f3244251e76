"""What detectors find: categories, severities, scopes and the typed signals they raise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, TypeVar


class Category(StrEnum):
    """Harm categories, in the design's vocabulary; CSAM always comes first in triage."""

    CSAM = "csam"
    NCII = "ncii"
    VOYEURISM = "voyeurism"
    SEXUAL_DEEPFAKE = "sexual_deepfake"
    SEXTORTION = "sextortion"
    DOXXING = "doxxing"
    SOLICITATION = "solicitation"
    BAN_EVASION = "ban_evasion"


# Severity on a 1–5 scale, used for triage order; a hash match carries its category's severity.
SEVERITY: dict[Category, int] = {
    Category.CSAM: 5,
    Category.NCII: 4,
    Category.SEXUAL_DEEPFAKE: 4,
    Category.SEXTORTION: 4,
    Category.VOYEURISM: 4,
    Category.DOXXING: 3,
    Category.BAN_EVASION: 3,
    Category.SOLICITATION: 3,
}


class Scope(StrEnum):
    """What a finding is about, narrowest first: one message (or its attachment), a channel, a
    whole community, or a community seen against others (a banned one's successor)."""

    MESSAGE = "message"
    CHANNEL = "channel"
    COMMUNITY = "community"
    NETWORK = "network"


@dataclass(frozen=True)
class RuleRef:
    """The text rule that fired."""

    name: str


@dataclass(frozen=True)
class BankRef:
    """The bank item a hash matched, by which signal type and at what distance."""

    bank: str
    signal_type: str
    distance: int
    content_id: int


@dataclass(frozen=True)
class CommunityRef:
    """Another community this finding links to (a banned community's successor, say)."""

    community_id: int


Ref = RuleRef | BankRef | CommunityRef
"""What fired: a rule, a bank item or a linked community."""

R = TypeVar("R", RuleRef, BankRef, CommunityRef)


@dataclass(frozen=True)
class Targets:
    """The stored rows a signal is about (row ids, not platform ids)."""

    community_id: int | None = None
    channel_id: int | None = None
    message_id: int | None = None
    attachment_id: int | None = None
    account_id: int | None = None


@dataclass(frozen=True)
class Signal:
    """One finding of one detector, typed so that nothing downstream parses its text.

    ``key`` makes the finding unique (storing it twice is a no-op); ``example`` is what a
    reviewer opens to check it (message id, channel shown as ``#name``, the quoted words)."""

    detector: str
    key: str
    category: Category
    severity: int
    score: float
    scope: Scope
    refs: tuple[Ref, ...]
    targets: Targets
    explanation: str
    terms: tuple[str, ...] = ()
    protected: tuple[str, ...] = ()
    example: Mapping[str, str] = field(default_factory=dict)

    def ref(self, kind: type[R]) -> R | None:
        """The first reference of the given kind, if any."""
        return next((r for r in self.refs if isinstance(r, kind)), None)


_REF_KINDS: dict[str, type[RuleRef | BankRef | CommunityRef]] = {
    "rule": RuleRef,
    "bank": BankRef,
    "community": CommunityRef,
}
_KIND_OF = {cls: kind for kind, cls in _REF_KINDS.items()}


def refs_to_json(refs: Sequence[Ref]) -> list[dict[str, Any]]:
    """References as JSON objects, each tagged with its ``kind``."""
    return [{"kind": _KIND_OF[type(ref)], **asdict(ref)} for ref in refs]


def refs_from_json(data: Sequence[Mapping[str, Any]]) -> tuple[Ref, ...]:
    """The inverse of :func:`refs_to_json`; a kind this code does not know is an error."""
    refs: list[Ref] = []
    for item in data:
        fields = dict(item)
        kind = fields.pop("kind")
        if kind not in _REF_KINDS:
            raise ValueError(f"unknown signal reference kind {kind!r}")
        refs.append(_REF_KINDS[kind](**fields))
    return tuple(refs)
