"""Checking a statement against the Transparency Database's rules (legal.md 2.2) and for
personal data: before a statement is stored, and again before it is exported, because a
rejected batch stores nothing and a statement with personal data must never leave.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any
from urllib.parse import urlparse

from iolaus.legal.dsa.enums import COUNTRY_CODES, ENUMS, LANGUAGE_CODES
from iolaus.legal.dsa.model import template_words

# -- personal data ---------------------------------------------------------------------------------

FREE_TEXT_FIELDS = (
    "decision_visibility_other",
    "decision_monetary_other",
    "illegal_content_legal_ground",
    "illegal_content_explanation",
    "incompatible_content_ground",
    "incompatible_content_explanation",
    "content_type_other",
    "category_specification_other",
    "decision_facts",
    "source_identity",
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_HANDLE = re.compile(r"(?<![\w.+-])@!?[\w.-]{2,}")
_PLATFORM_ID = re.compile(r"(?<!\d)\d{15,}(?!\d)")  # Discord snowflakes are 17 to 20 digits


def personal_data_problems(body: Mapping[str, Any], names: Iterable[str] = ()) -> list[str]:
    """Free-text fields holding an e-mail address, an @handle, a platform id or one of ``names``.

    A name of fewer than three characters, or made only of words the templates use, is not
    looked for: it cannot have come from the user's data and would reject every statement.
    """
    words = template_words()
    wanted = [
        n.strip()
        for n in names
        if n and len(n.strip()) >= 3 and not set(re.findall(r"\w+", n.lower())) <= words
    ]
    problems = []
    for field in FREE_TEXT_FIELDS:
        text = body.get(field)
        if not isinstance(text, str):
            continue
        if _EMAIL.search(text):
            problems.append(f"{field}: contains an e-mail address (personal data)")
        if _HANDLE.search(text):
            problems.append(f"{field}: contains an @handle (personal data)")
        if _PLATFORM_ID.search(text):
            problems.append(f"{field}: contains a platform id (personal data)")
        for name in wanted:
            if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE):
                problems.append(f"{field}: contains the name of an account (personal data)")
                break
    return problems


# -- validation (legal.md 2.2) ---------------------------------------------------------------

REQUIRED = (
    "decision_ground",
    "content_type",
    "category",
    "content_date",
    "application_date",
    "decision_facts",
    "source_type",
    "automated_detection",
    "automated_decision",
    "puid",
)
_DECISION_FIELDS = (
    "decision_visibility",
    "decision_monetary",
    "decision_provision",
    "decision_account",
)
_ENUM = {
    "decision_monetary": "DECISION_MONETARIES",
    "decision_provision": "DECISION_PROVISIONS",
    "decision_account": "DECISION_ACCOUNTS",
    "account_type": "ACCOUNT_TYPES",
    "decision_ground": "DECISION_GROUNDS",
    "category": "STATEMENT_CATEGORIES",
    "source_type": "SOURCE_TYPES",
    "automated_detection": "AUTOMATED_DETECTIONS",
    "automated_decision": "AUTOMATED_DECISIONS",
    "incompatible_content_illegal": "INCOMPATIBLE_CONTENT_ILLEGALS",
}
_ENUM_ARRAYS = {
    "decision_visibility": "DECISION_VISIBILITIES",
    "content_type": "CONTENT_TYPES",
    "category_addition": "STATEMENT_CATEGORIES",
    "category_specification": "KEYWORDS",
}
_MAX_LENGTH = {
    "decision_visibility_other": 500,
    "decision_monetary_other": 500,
    "decision_ground_reference_url": 500,
    "illegal_content_legal_ground": 500,
    "illegal_content_explanation": 2000,
    "incompatible_content_ground": 500,
    "incompatible_content_explanation": 2000,
    "content_type_other": 500,
    "category_specification_other": 500,
    "decision_facts": 5000,
    "source_identity": 500,
    "puid": 500,
}
_END_DATES = (
    "end_date_visibility_restriction",
    "end_date_monetary_restriction",
    "end_date_service_restriction",
    "end_date_account_restriction",
)
_LAST_DATE = date(2038, 1, 1)
_DATE_RANGES = {
    "content_date": (date(2000, 1, 1), _LAST_DATE),
    "application_date": (date(2020, 1, 1), _LAST_DATE),
    **{field: (None, _LAST_DATE) for field in _END_DATES},
}
_STRINGS = (*_MAX_LENGTH, "content_language")
KNOWN_FIELDS = frozenset(
    [
        *REQUIRED,
        *_DECISION_FIELDS,
        *_ENUM,
        *_ENUM_ARRAYS,
        *_MAX_LENGTH,
        *_DATE_RANGES,
        "territorial_scope",
        "content_language",
        "content_id",
        "content_id_ean",
    ]
)
_PUID = re.compile(r"[A-Za-z0-9_-]+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EAN13 = re.compile(r"\d{13}")


def _present(body: Mapping[str, Any], field: str) -> bool:
    """Absent, null, an empty string and an empty list all count as not given, as in Laravel."""
    return body.get(field) not in (None, "", [])


# (field, condition, required when the condition holds). The database silently drops a
# conditional field whose condition does not hold, so a statement carrying one would not say
# what its author meant: that is reported too.
_CONDITIONAL = (
    ("decision_visibility_other", "decision_visibility contains DECISION_VISIBILITY_OTHER", True),
    ("decision_monetary_other", "decision_monetary is DECISION_MONETARY_OTHER", True),
    ("content_type_other", "content_type contains CONTENT_TYPE_OTHER", True),
    ("illegal_content_legal_ground", "decision_ground is DECISION_GROUND_ILLEGAL_CONTENT", True),
    ("illegal_content_explanation", "decision_ground is DECISION_GROUND_ILLEGAL_CONTENT", True),
    (
        "incompatible_content_ground",
        "decision_ground is DECISION_GROUND_INCOMPATIBLE_CONTENT",
        True,
    ),
    (
        "incompatible_content_explanation",
        "decision_ground is DECISION_GROUND_INCOMPATIBLE_CONTENT",
        True,
    ),
    (
        "incompatible_content_illegal",
        "decision_ground is DECISION_GROUND_INCOMPATIBLE_CONTENT",
        False,
    ),
    ("category_specification_other", "category_specification contains KEYWORD_OTHER", False),
    ("source_identity", "source_type is not SOURCE_VOLUNTARY", False),
    ("content_id", "content_type contains CONTENT_TYPE_PRODUCT", False),
    ("content_id_ean", "content_type contains CONTENT_TYPE_PRODUCT", False),
)


def _conditions(body: Mapping[str, Any]) -> dict[str, bool]:
    """Whether each condition of ``_CONDITIONAL`` holds for ``body``."""

    def contains(field: str, item: str) -> bool:
        value = body.get(field)
        return isinstance(value, list) and item in value

    ground = body.get("decision_ground")
    return {
        "decision_visibility contains DECISION_VISIBILITY_OTHER": contains(
            "decision_visibility", "DECISION_VISIBILITY_OTHER"
        ),
        "decision_monetary is DECISION_MONETARY_OTHER": body.get("decision_monetary")
        == "DECISION_MONETARY_OTHER",
        "content_type contains CONTENT_TYPE_OTHER": contains("content_type", "CONTENT_TYPE_OTHER"),
        "decision_ground is DECISION_GROUND_ILLEGAL_CONTENT": ground
        == "DECISION_GROUND_ILLEGAL_CONTENT",
        "decision_ground is DECISION_GROUND_INCOMPATIBLE_CONTENT": ground
        == "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "category_specification contains KEYWORD_OTHER": contains(
            "category_specification", "KEYWORD_OTHER"
        ),
        "source_type is not SOURCE_VOLUNTARY": body.get("source_type") != "SOURCE_VOLUNTARY",
        "content_type contains CONTENT_TYPE_PRODUCT": contains(
            "content_type", "CONTENT_TYPE_PRODUCT"
        ),
    }


def _check_date(field: str, value: Any) -> tuple[list[str], date | None]:
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return [f"{field}: {value!r} is not a date in the form YYYY-MM-DD"], None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        return [f"{field}: {value!r} is not a calendar date"], None
    low, high = _DATE_RANGES[field]
    if low is not None and parsed < low:
        return [f"{field}: {value} is before {low.isoformat()}"], parsed
    if parsed > high:
        return [f"{field}: {value} is after {high.isoformat()}"], parsed
    return [], parsed


def validate_statement(body: Any) -> list[str]:
    """Every way ``body`` breaks the Transparency Database rules (legal.md 2.2); empty if none.

    Checked before a statement is stored and again before it is exported, because a rejected
    batch stores nothing and a statement with personal data must never leave.
    """
    if not isinstance(body, Mapping):
        return ["a statement must be a JSON object"]
    problems = [f"{field}: unknown field" for field in sorted(set(body) - KNOWN_FIELDS)]
    problems += [f"{field}: required" for field in REQUIRED if not _present(body, field)]
    if not any(_present(body, field) for field in _DECISION_FIELDS):
        problems.append("at least one of " + ", ".join(_DECISION_FIELDS) + " is required")

    for field, enum in _ENUM.items():
        if _present(body, field) and body[field] not in ENUMS[enum]:
            problems.append(f"{field}: {body[field]!r} is not one of {enum}")
    for field, enum in _ENUM_ARRAYS.items():
        value = body.get(field)
        if not _present(body, field):
            continue
        if not isinstance(value, list):
            problems.append(f"{field}: must be an array")
            continue
        problems += [
            f"{field}: {item!r} is not one of {enum}" for item in value if item not in ENUMS[enum]
        ]

    holds = _conditions(body)
    for field, condition, required in _CONDITIONAL:
        given = _present(body, field)
        if holds[condition] and required and not given:
            problems.append(f"{field}: required when {condition}")
        elif given and not holds[condition]:
            problems.append(f"{field}: only allowed when {condition} (it would be dropped)")

    for field in _STRINGS:
        if _present(body, field) and not isinstance(body[field], str):
            problems.append(f"{field}: must be a string")
    for field, limit in _MAX_LENGTH.items():
        value = body.get(field)
        if isinstance(value, str) and len(value) > limit:
            problems.append(f"{field}: {len(value)} characters, at most {limit} allowed")

    dates: dict[str, date | None] = {}
    for field in _DATE_RANGES:
        if _present(body, field):
            found, dates[field] = _check_date(field, body[field])
            problems += found
    application = dates.get("application_date")
    for field in _END_DATES:
        end = dates.get(field)
        if end is not None and application is not None and end < application:
            problems.append(f"{field}: before application_date")

    puid = body.get("puid")
    if isinstance(puid, str) and puid and not _PUID.fullmatch(puid):
        problems.append("puid: only letters, digits, '-' and '_' are allowed")

    url = body.get("decision_ground_reference_url")
    if isinstance(url, str) and url:
        parts = urlparse(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append("decision_ground_reference_url: not an http(s) URL")

    scope = body.get("territorial_scope")
    if scope is not None:
        if not isinstance(scope, list):
            problems.append("territorial_scope: must be an array of country codes")
        else:
            problems += [
                f"territorial_scope: {code!r} is not an EEA country code"
                for code in scope
                if code not in COUNTRY_CODES
            ]
            if len(set(map(str, scope))) != len(scope):
                problems.append("territorial_scope: repeated country code")

    language = body.get("content_language")
    if isinstance(language, str) and language and language not in LANGUAGE_CODES:
        problems.append(f"content_language: {language!r} is not an upper-case ISO 639-1 code")

    content_id = body.get("content_id")
    if _present(body, "content_id") and (
        not isinstance(content_id, Mapping)
        or set(content_id) != {"EAN-13"}
        or not _EAN13.fullmatch(str(content_id["EAN-13"]))
    ):
        problems.append('content_id: must be {"EAN-13": "<13 digits>"}')
    ean = body.get("content_id_ean")
    if _present(body, "content_id_ean") and not _EAN13.fullmatch(str(ean)):
        problems.append("content_id_ean: must be 13 digits")

    problems += personal_data_problems(body)
    return problems
