"""What detectors find: categories, severities and the signals they raise."""

from __future__ import annotations

from enum import StrEnum


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
