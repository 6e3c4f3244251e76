"""What a signal (hash) type is: one class owns everything Iolaus does with one kind of hash.

The shape is python-threatexchange's ``SignalType``: a stable name, the content types it
applies to, validation to a canonical string, comparison with its match rule, the index that
serves it, how it is computed from a hashed file, and how its distances are written. Code
outside the type modules asks the type (``kind.validate(v)``, ``kind.uses_index``,
``kind.distance_text(d)``) and never branches on which type it holds, so a new hash (vPDQ, TMK,
TLSH) is one module plus its registration in :mod:`iolaus.hashing.types.registry`.

The base class describes an exact-match type (the MD5 family): equal strings match, at
distance 0. Similarity hashes override :meth:`SignalType.distance`, :meth:`SignalType.matches_at`
and the distance texts.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any, ClassVar, NamedTuple

from iolaus.hashing.index import PdqIndex
from iolaus.hashing.media import MediaHashes
from iolaus.hashing.types.content import ContentType, content_of
from iolaus.model.banks import InvalidSignal

_HEX = re.compile(r"[0-9a-f]+")


class Comparison(NamedTuple):
    """Two hashes compared: whether they match under the type's own rule, and how far apart."""

    match: bool
    distance: int


class SignalType(ABC):
    """One hash type. Subclasses are stateless; each module registers one instance."""

    name: ClassVar[str]
    """pytx's name for the type: stored in the database and spoken on the HMA API, so stable."""

    content_types: ClassVar[tuple[ContentType, ...]]
    """What the type is computed from (usually one content type)."""

    examples: ClassVar[tuple[str, ...]]
    """Valid values in canonical form, for tests and demos (pytx's ``get_examples``)."""

    hashes_media: ClassVar[bool] = False
    """Iolaus computes this type from a hashed file (:meth:`hash_of`). When False its values
    come only from clients and exchanges (PhotoDNA, say), and an upload does not list it."""

    bare_length: ClassVar[int | None] = None
    """A hash of this many characters given without a type is read as this type (the CLI's
    shorthand: 64 → pdq, 32 → md5). At most one registered type claims each length."""

    index_cls: ClassVar[type[PdqIndex] | None] = None
    """The in-memory index that serves lookups; None: the store's own exact-match index."""

    max_distance: ClassVar[int] = 0
    """The largest distance that can count as a match: the index radius and
    :meth:`compare`'s threshold. A bank's own threshold may only tighten it."""

    @property
    def uses_index(self) -> bool:
        return self.index_cls is not None

    def applies_to(self, content: ContentType) -> bool:
        return any(content.is_a(c) for c in self.content_types)

    @abstractmethod
    def validate(self, value: str) -> str:
        """The canonical form of ``value``; InvalidSignal when it is not a hash of this type."""

    def distance(self, left: str, right: str) -> int:
        """Distance between two canonical values: 0 when equal, 1 otherwise (pytx's rule)."""
        return 0 if left == right else 1

    def matches_at(self, distance: int, bank_threshold: int) -> bool:
        """Whether a hit this far from the query counts in a bank with this PDQ threshold."""
        return distance == 0

    def compare(self, left: str, right: str) -> Comparison:
        """Two canonical values compared at the type's widest match distance."""
        distance = self.distance(left, right)
        return Comparison(self.matches_at(distance, self.max_distance), distance)

    def distance_text(self, distance: int) -> str:
        """A lookup distance as HMA prints it: "-" for exact-match types, as pytx does."""
        return "-"

    def distance_detail(self, distance: int) -> dict[str, Any]:
        """The details HMA's ``/m/compare`` gives with a result: none for exact types."""
        return {}

    def match_text(self, distance: int) -> str:
        """How a match reads in a signal's explanation."""
        return f"exact {self.name}"

    def hash_media(self, media: MediaHashes) -> str | None:
        """This type's value for a hashed file; None when Iolaus does not compute the type, the
        file is not of its content types, or the value cannot be matched on."""
        if not (self.hashes_media and self.applies_to(content_of(media))):
            return None
        return self.hash_of(media)

    def hash_of(self, media: MediaHashes) -> str | None:
        """The value for a file of one of this type's content types (types that declare
        ``hashes_media`` say how)."""
        raise NotImplementedError(f"{self.name} declares hashes_media but no hash_of")

    def __repr__(self) -> str:
        return f"<signal type {self.name}>"


class HexSignal(SignalType):
    """A hash written as a fixed number of lower-case hex digits."""

    hex_length: ClassVar[int]

    def canonical(self, value: str) -> str:
        """The text validated. By default trimmed and lower-cased: digests are written in either
        case by many tools, and the same digest must be one stored value."""
        return value.strip().lower()

    def validate(self, value: str) -> str:
        text = self.canonical(value)
        if len(text) != self.hex_length or not _HEX.fullmatch(text):
            raise InvalidSignal(f"invalid {self.name} hash: expected {self.hex_length} hex digits")
        return text
