"""The registry of signal types, derived from the type classes (pytx's ``SignalTypeMapping``).

Everything that needs "which types are there" asks :data:`SIGNAL_TYPES`: the HMA API's type
list and index status, the types a photo or video upload yields, lookups by name, the CLI's
reading of a bare hash. The built-in types register through the same :meth:`SignalTypes.register`
as any other, which checks what would otherwise break far away: a name that is not a safe
storage key, a duplicate name or bare length, a type with no content type.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TypeVar

from iolaus.hashing.types.base import SignalType
from iolaus.hashing.types.content import ContentType
from iolaus.hashing.types.md5 import MD5, VIDEO_MD5
from iolaus.hashing.types.pdq import PDQ
from iolaus.hashing.types.sha256 import SHA256
from iolaus.model.banks import InvalidSignal

_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")

Kind = TypeVar("Kind", bound=SignalType)


class UnknownSignalType(InvalidSignal):
    """A signal type name no registered type has."""


class SignalTypes:
    """The registered types, in registration order (the order HMA lists them in)."""

    def __init__(self) -> None:
        self._by_name: dict[str, SignalType] = {}

    def register(self, kind: Kind) -> Kind:
        if not _NAME.fullmatch(kind.name):
            raise ValueError(f"signal type name {kind.name!r}: use lower_case letters and digits")
        if kind.name in self._by_name:
            raise ValueError(f"signal type {kind.name!r} is registered already")
        if not kind.content_types:
            raise ValueError(f"signal type {kind.name!r} declares no content type")
        if kind.bare_length is not None and any(
            other.bare_length == kind.bare_length for other in self
        ):
            raise ValueError(f"two signal types claim bare hashes of {kind.bare_length} chars")
        self._by_name[kind.name] = kind
        return kind

    def from_name(self, name: str) -> SignalType:
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownSignalType(f"unknown signal type {name!r}") from None

    def __iter__(self) -> Iterator[SignalType]:
        return iter(tuple(self._by_name.values()))

    def __len__(self) -> int:
        return len(self._by_name)

    def for_content(self, content: ContentType) -> tuple[SignalType, ...]:
        """The types Iolaus computes for a file of this content type, in registration order."""
        return tuple(kind for kind in self if kind.hashes_media and kind.applies_to(content))

    def for_bare(self, text: str) -> SignalType | None:
        """The type a hash written without its type is read as, by its length."""
        return next((kind for kind in self if kind.bare_length == len(text)), None)


SIGNAL_TYPES = SignalTypes()
for _kind in (PDQ, VIDEO_MD5, MD5, SHA256):
    SIGNAL_TYPES.register(_kind)


def by_name(signals: Mapping[SignalType, str]) -> dict[str, str]:
    """Signals keyed by type name, the form the store keeps them in."""
    return {kind.name: value for kind, value in signals.items()}
