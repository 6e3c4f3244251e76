"""Which bank signals a hashed file yields, and how a command-line hash argument is read."""

from __future__ import annotations

import re

from iolaus.hashing.media import MediaHashes
from iolaus.hashing.types import FILE, SIGNAL_TYPES, SignalType

_TYPED = re.compile(r"^(?P<type>[a-z_0-9]+)[:=\s](?P<value>\S+)$")


def signals_of(media: MediaHashes) -> dict[SignalType, str]:
    """Bank signals of one file: every registered type's value for it (PDQ only for a photo
    whose quality allows matching, the video's MD5 as pytx's ``video_md5``), the hashes of the
    file's bytes first and then those of its content type, the order they are stored in."""
    ordered = sorted(SIGNAL_TYPES, key=lambda kind: not kind.applies_to(FILE))
    found = {kind: kind.hash_media(media) for kind in ordered}
    return {kind: value for kind, value in found.items() if value}


def frame_pdqs(media: MediaHashes) -> list[str]:
    """Usable PDQ hashes of a video's frames: each is matched against the PDQ banks."""
    return [f.pdq for f in media.frames if f.usable]


def parse_hash(text: str, default_type: str | None = None) -> tuple[SignalType, str]:
    """Read ``pdq:<hex>``, ``md5 <hex>``, or a bare hash whose type is given or implied by its
    length (a type's ``bare_length``: 64 hex → PDQ, 32 hex → MD5). A bare hash is lower-cased
    first; a typed one is validated as written (strict PDQ refuses upper case)."""
    match = _TYPED.match(text.strip())
    if match:
        kind = SIGNAL_TYPES.from_name(match["type"])
        return kind, kind.validate(match["value"])
    if default_type:
        kind = SIGNAL_TYPES.from_name(default_type)
        return kind, kind.validate(text)
    bare = text.strip()
    guess = SIGNAL_TYPES.for_bare(bare)
    if guess is None:
        raise ValueError(f"cannot tell the hash type of {text[:80]!r}: write TYPE:HASH")
    return guess, guess.validate(bare.lower())
