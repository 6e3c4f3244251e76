"""What a statement of reasons is made of: the mapping from Iolaus categories to the
database's categories and keywords, and the fixed templates that are the only source of its
free text (never the reviewer's notes, never a description of the imagery, never a name).

What each action restricts, and the sentence that says so, is the action kind's own
(``iolaus.actions.kinds``, its ``Restriction``).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from iolaus.actions.kinds import handlers
from iolaus.errors import IolausError
from iolaus.model.signals import Category

PUID_PREFIX = "iolaus-"


class StatementError(IolausError, ValueError):
    """A statement could not be built or failed validation; ``problems`` lists every reason."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        self.problems = list(problems)
        super().__init__(message + "".join(f"\n- {p}" for p in self.problems))


# -- mapping from Iolaus categories (legal.md 2.4, a design choice) -------------------------------


@dataclass(frozen=True)
class CategoryMapping:
    category: str
    keywords: tuple[str, ...]
    media: bool  # content types come from the media involved; else the content is text
    synthetic: bool  # add CONTENT_TYPE_SYNTHETIC_MEDIA
    finding: str  # completes "A human moderator assessed the content as …"; generic, no imagery


# The "…_AGAINST_WOMEN" variants are never chosen: they would state the victim's gender, which
# a statement must not reveal and a reviewer should not have to infer.
MAPPING: dict[Category, CategoryMapping] = {
    Category.CSAM: CategoryMapping(
        "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        ("KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",),
        media=True,
        synthetic=False,
        finding="child sexual abuse material",
    ),
    Category.NCII: CategoryMapping(
        "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        ("KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",),
        media=True,
        synthetic=False,
        finding="intimate imagery shared without the consent of the person depicted",
    ),
    Category.VOYEURISM: CategoryMapping(
        "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        ("KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",),
        media=True,
        synthetic=False,
        finding="intimate imagery recorded and shared without the consent of the person depicted",
    ),
    Category.SEXUAL_DEEPFAKE: CategoryMapping(
        "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        ("KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",),
        media=True,
        synthetic=True,
        finding="sexual synthetic imagery of a real person made or shared without their consent",
    ),
    Category.SEXTORTION: CategoryMapping(
        "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        ("KEYWORD_CYBER_HARASSMENT",),
        media=False,
        synthetic=False,
        finding="a threat to share intimate imagery in order to coerce the person depicted",
    ),
    Category.DOXXING: CategoryMapping(
        "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        ("KEYWORD_MISSING_PROCESSING_GROUND",),
        media=False,
        synthetic=False,
        finding="the publication of private information about a person without their consent",
    ),
    Category.SOLICITATION: CategoryMapping(
        "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        ("KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",),
        media=False,
        synthetic=False,
        finding="a request to obtain or exchange intimate imagery shared without consent",
    ),
    Category.BAN_EVASION: CategoryMapping(
        "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        (),
        media=False,
        synthetic=False,
        finding="an attempt to evade an earlier moderation decision",
    ),
}

MEDIA_CONTENT_TYPES = {
    "image": "CONTENT_TYPE_IMAGE",
    "video": "CONTENT_TYPE_VIDEO",
    "audio": "CONTENT_TYPE_AUDIO",
}

# -- templates: the only source of free text in a statement ---------------------------------------

ORIGIN = {
    "SOURCE_TRUSTED_FLAGGER": "The content was reported by a trusted flagger.",
    "SOURCE_ARTICLE_16": "The content was reported through the notice and action mechanism.",
    "SOURCE_TYPE_OTHER_NOTIFICATION": "The content was brought to the attention of the platform.",
    "SOURCE_VOLUNTARY": "The platform found the content through its own moderation.",
}
AUTOMATED = (
    "It was detected by automated means, a match against a list of known material or a "
    "detection rule."
)
FINDING = "A human moderator reviewed it and assessed it as {finding}."
ILLEGAL = (
    "A human moderator assessed the content as {finding}, which is unlawful under the legal "
    "ground cited."
)
TERMS = (
    "A human moderator assessed the content as {finding}, which the terms of service prohibit "
    "under the ground cited."
)
REDRESS = (
    "The decision can be contested free of charge through the internal complaint-handling "
    "system of the platform within six months, before a certified out-of-court dispute "
    "settlement body, or before a court."
)


def _measures() -> tuple[str, ...]:
    """The sentence of every registered action kind that restricts something, in order."""
    return tuple(h.restriction.measure for h in handlers() if h.restriction is not None)


def template_words() -> frozenset[str]:
    """Every word the templates can put in a statement (the measures of the kinds registered
    now included): a name made only of these cannot have come from the user's data."""
    return _words(_measures())


@cache
def _words(measure_texts: tuple[str, ...]) -> frozenset[str]:
    return frozenset(
        re.findall(
            r"\w+",
            " ".join(
                [
                    *ORIGIN.values(),
                    AUTOMATED,
                    FINDING,
                    ILLEGAL,
                    TERMS,
                    *measure_texts,
                    REDRESS,
                    *(m.finding for m in MAPPING.values()),
                ]
            ).lower(),
        )
    )


def new_puid() -> str:
    """An opaque platform unique id: random, so nothing about a user can be read from it."""
    return PUID_PREFIX + secrets.token_hex(16)
