"""Hash banks: named lists of hashes of known abusive media, as HMA and pytx model them.

A bank item's signals are keyed by signal type name (``pdq``, ``md5``…); what each type is and
does lives in :mod:`iolaus.hashing.types`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from iolaus.errors import IolausError
from iolaus.model.signals import Category

BANK_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
PDQ_MAX_THRESHOLD = 31  # exact matching is guaranteed up to this distance (PDQ's confident match)
NOTE_MAX = 255


class InvalidSignal(IolausError, ValueError):
    """A hash string that is not of its signal type's form."""


class InvalidBank(IolausError, ValueError):
    """A bank name or setting that cannot be accepted."""


def check_bank_name(name: str) -> str:
    if not BANK_NAME.match(name) or len(name) > 255:
        raise InvalidBank(
            f"invalid bank name {name!r}: use upper-case letters, digits and _ (e.g. NCII_VICTIMS)"
        )
    return name


@dataclass(frozen=True)
class Bank:
    id: int
    name: str
    category: Category
    pdq_threshold: int
    is_allowlist: bool
    enabled_ratio: float
    description: str | None
    created_at: datetime
    size: int = 0

    @property
    def enabled(self) -> bool:
        return self.enabled_ratio > 0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "category": self.category.value,
            "pdq_threshold": self.pdq_threshold,
            "is_allowlist": self.is_allowlist,
            "matching_enabled_ratio": self.enabled_ratio,
            "description": self.description,
            "size": self.size,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class BankContent:
    """One item of a bank: a piece of media known by one or more hashes."""

    id: int
    bank: str
    signals: dict[str, str]
    disable_until_ts: int = 1
    note: str | None = None
    content_ref: str | None = None
    content_uri: str | None = None
    original_media_uri: str | None = None
    metadata: dict[str, Any] | None = None
    source: str = "manual"
    created_at: datetime | None = None
    collab: dict[str, list[str]] = field(default_factory=dict)

    def enabled_at(self, now_ts: float) -> bool:
        """HMA's rule: 0 disabled, 1 enabled, any other value enabled once that time passes."""
        if self.disable_until_ts == 0:
            return False
        return self.disable_until_ts == 1 or now_ts >= self.disable_until_ts


@dataclass(frozen=True)
class Match:
    """A stored hash within its bank's threshold of a query."""

    bank: str
    content_id: int
    signal_type: str
    value: str
    distance: int
    category: str
    is_allowlist: bool = False
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "bank": self.bank,
            "content_id": self.content_id,
            "signal_type": self.signal_type,
            "distance": self.distance,
            "category": self.category,
            "allowlist": self.is_allowlist,
        }
