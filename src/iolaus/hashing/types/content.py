"""Content types: what a signal is computed from (python-threatexchange's ``ContentType``).

A signal type declares the content types it applies to; the signal types of a content type are
derived from those declarations, never listed per content type. Content types nest: every photo
and every video is also a file, so a hash of a file's bytes (MD5, SHA-256) declares ``FILE`` once
and applies to both.
"""

from __future__ import annotations

from dataclasses import dataclass

from iolaus.hashing.media import MediaHashes


@dataclass(frozen=True)
class ContentType:
    name: str
    within: ContentType | None = None
    """The broader content type this one is a kind of (a photo is a file)."""

    def is_a(self, other: ContentType) -> bool:
        """True for ``other`` itself and every content type this one lies within."""
        return self == other or (self.within is not None and self.within.is_a(other))


FILE = ContentType("file")
"""Any file, as bytes: the content of the cryptographic hashes."""

PHOTO = ContentType("photo", within=FILE)
VIDEO = ContentType("video", within=FILE)

MEDIA_CONTENT: dict[str, ContentType] = {c.name: c for c in (PHOTO, VIDEO)}
"""The content types a file can turn out to be (``MediaHashes.kind``): HMA's upload fields."""


def content_of(media: MediaHashes) -> ContentType:
    return MEDIA_CONTENT[media.kind]
