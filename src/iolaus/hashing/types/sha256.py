"""SHA-256 of a file's bytes: the exact-match hash NCMEC shares alongside MD5 (pytx drops it)."""

from __future__ import annotations

from iolaus.hashing.media import MediaHashes
from iolaus.hashing.types.base import HexSignal
from iolaus.hashing.types.content import FILE


class Sha256Signal(HexSignal):
    name = "sha256"
    content_types = (FILE,)
    examples = ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",)
    hashes_media = True
    hex_length = 64

    def hash_of(self, media: MediaHashes) -> str | None:
        return media.sha256


SHA256 = Sha256Signal()
