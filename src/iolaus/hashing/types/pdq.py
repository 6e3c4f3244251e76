"""PDQ, Meta's open photo similarity hash: 256 bits, compared by Hamming distance.

Validation is strict, as in pytx: exactly 64 lower-case hex digits (upper case from a user is
refused; exchanges lower-case their lists before validating, see ``exchanges.base.to_signal``).
A match is within the bank's threshold, itself at most :data:`PDQ_MAX_THRESHOLD` (31, PDQ's
confident-match distance), which is also the radius the multi-index-hashing index searches.
"""

from __future__ import annotations

from typing import Any

from iolaus.hashing.index import PdqIndex
from iolaus.hashing.media import MediaHashes
from iolaus.hashing.pdq import pdq_distance
from iolaus.hashing.types.base import HexSignal
from iolaus.hashing.types.content import PHOTO
from iolaus.model.banks import PDQ_MAX_THRESHOLD


class PdqSignal(HexSignal):
    name = "pdq"
    content_types = (PHOTO,)
    examples = ("ad9e156853e1b6ef3e7b14214c9cb36be415fa6c0dae8c5592ee3888cec39afb",)
    hashes_media = True
    hex_length = 64
    bare_length = 64
    index_cls = PdqIndex
    max_distance = PDQ_MAX_THRESHOLD

    def canonical(self, value: str) -> str:
        return value

    def distance(self, left: str, right: str) -> int:
        return pdq_distance(left, right)

    def matches_at(self, distance: int, bank_threshold: int) -> bool:
        return distance <= bank_threshold

    def distance_text(self, distance: int) -> str:
        return str(distance)

    def distance_detail(self, distance: int) -> dict[str, Any]:
        return {"distance": distance}

    def match_text(self, distance: int) -> str:
        return f"PDQ distance {distance}"

    def hash_of(self, media: MediaHashes) -> str | None:
        """A photo too plain for PDQ (quality under 50) has no usable hash."""
        return media.pdq if media.pdq and media.pdq_usable else None


PDQ = PdqSignal()
