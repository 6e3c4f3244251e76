"""A toy signal type, as a plug-in would write one: a hash of normalised text, TLSH's place.

The whole of it is this module: a content type, a class, one instance. Registering the instance
(``SIGNAL_TYPES.register(TEXT_SHA1)``) is all it takes for the HMA API, the banks, the matcher,
the CLI and file exchanges to take it; the tests register it only while they run.
"""

from __future__ import annotations

import hashlib

from iolaus.hashing.types import ContentType, HexSignal

TEXT = ContentType("text")


class TextSha1Signal(HexSignal):
    name = "text_sha1"
    content_types = (TEXT,)
    examples = ("51c5ec01b9d749ff5d7469cbbffb4a9b943a6a49",)  # "an example phrase"
    hex_length = 40

    @staticmethod
    def hash_text(text: str) -> str:
        """Case and spacing do not change the hash (a real text type would be fuzzier)."""
        canonical = " ".join(text.casefold().split())
        return hashlib.sha1(canonical.encode(), usedforsecurity=False).hexdigest()


TEXT_SHA1 = TextSha1Signal()
