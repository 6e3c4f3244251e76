"""Which bank signals a hashed file yields, and how a command-line hash argument is read."""

from __future__ import annotations

import re

from iolaus.hashing.media import MediaHashes
from iolaus.model.banks import SignalType, normalise_signal

_TYPED = re.compile(r"^(?P<type>[a-z_0-9]+)[:=\s](?P<value>\S+)$")


def signals_of(media: MediaHashes) -> dict[SignalType, str]:
    """Bank signals of one file: PDQ for a photo whose quality allows matching, the video's
    MD5 as pytx's ``video_md5``, and MD5/SHA-256 of the bytes (NCMEC shares both)."""
    found: dict[SignalType, str] = {SignalType.MD5: media.md5, SignalType.SHA256: media.sha256}
    if media.kind == "photo" and media.pdq and media.pdq_usable:
        found[SignalType.PDQ] = media.pdq
    if media.kind == "video":
        found[SignalType.VIDEO_MD5] = media.md5
    return found


def frame_pdqs(media: MediaHashes) -> list[str]:
    """Usable PDQ hashes of a video's frames: each is matched against the PDQ banks."""
    return [f.pdq for f in media.frames if f.usable]


def parse_hash(text: str, default_type: str | None = None) -> tuple[SignalType, str]:
    """Read ``pdq:<hex>``, ``md5 <hex>``, or a bare hash whose type is given or implied by length
    (64 hex → PDQ, 32 hex → MD5)."""
    match = _TYPED.match(text.strip())
    if match:
        return normalise_signal(match["type"], match["value"])
    if default_type:
        return normalise_signal(default_type, text)
    guess = {64: "pdq", 32: "md5"}.get(len(text.strip()))
    if guess is None:
        raise ValueError(f"cannot tell the hash type of {text[:80]!r}: write TYPE:HASH")
    return normalise_signal(guess, text.strip().lower() if guess == "pdq" else text)
