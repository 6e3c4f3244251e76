"""DSA statements of reasons (Art. 17) in the Transparency Database format (Art. 24(5)).

A statement is the body of ``POST /api/v1/statement`` as of the schema in force since 1 July 2025.
It goes to the affected user and, without personal data, to the Commission's public database, so
its free text is assembled from fixed templates only: never the reviewer's notes, never a
description of the imagery, never a user's or victim's name. A check then rejects e-mail
addresses, @handles, platform ids and the account's names in every free-text field, in case a
reviewer-supplied legal or terms reference carries one.

Enumerations and code lists are data (``dsa_sor_enums.json``, a verbatim copy of the reference
file, and ``dsa_codes.json``) so that a schema change at the database is a data change.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import Connection, Row, insert, select

from iolaus.model.cases import ActionKind, Ground
from iolaus.model.signals import Category
from iolaus.store.tables import (
    account_names,
    accounts,
    attachments,
    cases,
    communities,
    decisions,
    messages,
    reports,
    statements_of_reasons,
)


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files("iolaus.legal").joinpath(name).read_text("utf-8")
    )
    return data


ENUMS: Mapping[str, frozenset[str]] = {
    name: frozenset(values) for name, values in _load("dsa_sor_enums.json").items()
}
_CODES = _load("dsa_codes.json")
COUNTRY_CODES: tuple[str, ...] = tuple(_CODES["EUROPEAN_COUNTRY_CODES"])
LANGUAGE_CODES: frozenset[str] = frozenset(_CODES["LANGUAGE_CODES"])

PUID_PREFIX = "iolaus-"
MAX_BATCH = 100  # POST /api/v1/statements takes 1 to 100 statements, all or nothing


class StatementError(ValueError):
    """A statement could not be built or failed validation; ``problems`` lists every reason."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        self.problems = list(problems)
        super().__init__(message + "".join(f"\n- {p}" for p in self.problems))


# -- mapping from Iolaus categories (legal.md 2.4, a design choice) -------------------------------


@dataclass(frozen=True)
class _Mapping:
    category: str
    keywords: tuple[str, ...]
    media: bool  # content types come from the media involved; else the content is text
    synthetic: bool  # add CONTENT_TYPE_SYNTHETIC_MEDIA
    finding: str  # completes "A human moderator assessed the content as …"; generic, no imagery


# The "…_AGAINST_WOMEN" variants are never chosen: they would state the victim's gender, which
# a statement must not reveal and a reviewer should not have to infer.
_MAPPING: dict[Category, _Mapping] = {
    Category.CSAM: _Mapping(
        "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        ("KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",),
        media=True,
        synthetic=False,
        finding="child sexual abuse material",
    ),
    Category.NCII: _Mapping(
        "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        ("KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",),
        media=True,
        synthetic=False,
        finding="intimate imagery shared without the consent of the person depicted",
    ),
    Category.VOYEURISM: _Mapping(
        "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        ("KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",),
        media=True,
        synthetic=False,
        finding="intimate imagery recorded and shared without the consent of the person depicted",
    ),
    Category.SEXUAL_DEEPFAKE: _Mapping(
        "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        ("KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",),
        media=True,
        synthetic=True,
        finding="sexual synthetic imagery of a real person made or shared without their consent",
    ),
    Category.SEXTORTION: _Mapping(
        "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        ("KEYWORD_CYBER_HARASSMENT",),
        media=False,
        synthetic=False,
        finding="a threat to share intimate imagery in order to coerce the person depicted",
    ),
    Category.DOXXING: _Mapping(
        "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        ("KEYWORD_MISSING_PROCESSING_GROUND",),
        media=False,
        synthetic=False,
        finding="the publication of private information about a person without their consent",
    ),
    Category.SOLICITATION: _Mapping(
        "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        ("KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",),
        media=False,
        synthetic=False,
        finding="a request to obtain or exchange intimate imagery shared without consent",
    ),
    Category.BAN_EVASION: _Mapping(
        "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        (),
        media=False,
        synthetic=False,
        finding="an attempt to evade an earlier moderation decision",
    ),
}

_MEDIA_CONTENT_TYPES = {
    "image": "CONTENT_TYPE_IMAGE",
    "video": "CONTENT_TYPE_VIDEO",
    "audio": "CONTENT_TYPE_AUDIO",
}

# -- templates: the only source of free text in a statement ---------------------------------------

_ORIGIN = {
    "SOURCE_TRUSTED_FLAGGER": "The content was reported by a trusted flagger.",
    "SOURCE_ARTICLE_16": "The content was reported through the notice and action mechanism.",
    "SOURCE_TYPE_OTHER_NOTIFICATION": "The content was brought to the attention of the platform.",
    "SOURCE_VOLUNTARY": "The platform found the content through its own moderation.",
}
_AUTOMATED = (
    "It was detected by automated means, a match against a list of known material or a "
    "detection rule."
)
_FINDING = "A human moderator reviewed it and assessed it as {finding}."
_ILLEGAL = (
    "A human moderator assessed the content as {finding}, which is unlawful under the legal "
    "ground cited."
)
_TERMS = (
    "A human moderator assessed the content as {finding}, which the terms of service prohibit "
    "under the ground cited."
)
_MEASURES = {
    ActionKind.REMOVE_CONTENT: "The content was removed.",
    ActionKind.BAN_COMMUNITY: "The community where it was shared was closed.",
    ActionKind.BAN_ACCOUNTS: "The account was terminated.",
}
_REDRESS = (
    "The decision can be contested free of charge through the internal complaint-handling "
    "system of the platform within six months, before a certified out-of-court dispute "
    "settlement body, or before a court."
)
_TEMPLATE_WORDS = frozenset(
    re.findall(
        r"\w+",
        " ".join(
            [
                *_ORIGIN.values(),
                _AUTOMATED,
                _FINDING,
                _ILLEGAL,
                _TERMS,
                *_MEASURES.values(),
                _REDRESS,
                *(m.finding for m in _MAPPING.values()),
            ]
        ).lower(),
    )
)

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
    wanted = [
        n.strip()
        for n in names
        if n and len(n.strip()) >= 3 and not set(re.findall(r"\w+", n.lower())) <= _TEMPLATE_WORDS
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


# -- building --------------------------------------------------------------------------------------


def decision_actions(decision: Row[Any]) -> list[dict[str, Any]]:
    """The decision's actions as payloads with their ``kind``.

    Stored items may be ``{"kind": …, …payload}``, a ``[kind, payload]`` pair (the shape
    ``enqueue_actions`` takes) or a bare kind. ``ban_accounts`` may name the accounts it bans
    in ``account_ids`` (store ids); without them it bans the case's account.
    """
    found = []
    for item in json.loads(decision.actions or "[]"):
        if isinstance(item, str):
            found.append({"kind": item})
        elif isinstance(item, list):
            kind, payload = item
            found.append({**payload, "kind": kind})
        else:
            found.append(dict(item))
    return found


def banned_account_ids(decision: Row[Any], case: Row[Any]) -> set[int]:
    """Accounts a decision terminates, or an empty set if it bans none."""
    banned: set[int] = set()
    for action in decision_actions(decision):
        if action["kind"] == ActionKind.BAN_ACCOUNTS:
            ids = action.get("account_ids")
            if ids:
                banned.update(int(i) for i in ids)
            elif case.account_id is not None:
                banned.add(case.account_id)
    return banned


def new_puid() -> str:
    """An opaque platform unique id: random, so nothing about a user can be read from it."""
    return PUID_PREFIX + secrets.token_hex(16)


def build_statement(
    decision: Row[Any],
    case: Row[Any],
    *,
    account: Row[Any] | None = None,
    content_date: date,
    application_date: date,
    source_type: str,
    territorial_scope: Sequence[str] = COUNTRY_CODES,
    media_kinds: Iterable[str] = (),
    other_names: Iterable[str] = (),
    puid: str | None = None,
) -> dict[str, Any]:
    """The statement of reasons for ``decision`` as it affects ``account`` (or the community).

    ``media_kinds`` are the attachment kinds involved (image, video, audio); ``other_names``
    are further strings that must not appear (former names, the community's name, which in
    these communities often names a victim). Raises ``StatementError`` if the decision has no
    category or ground, or if personal data would leak.
    """
    if not decision.violation or decision.category is None or decision.ground is None:
        raise StatementError(f"decision {decision.id} found no violation: no statement is owed")
    try:
        mapping = _MAPPING[Category(decision.category)]
        ground = Ground(decision.ground)
    except ValueError as exc:
        raise StatementError(f"decision {decision.id}: {exc}") from exc

    kinds = {a["kind"] for a in decision_actions(decision)}
    body: dict[str, Any] = {}
    if ActionKind.REMOVE_CONTENT in kinds:
        body["decision_visibility"] = ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    if ActionKind.BAN_COMMUNITY in kinds:
        body["decision_provision"] = "DECISION_PROVISION_TOTAL_TERMINATION"
    terminated = account is not None and account.id in banned_account_ids(decision, case)
    if terminated:
        body["decision_account"] = "DECISION_ACCOUNT_TERMINATED"

    references = {Ground.ILLEGAL: decision.legal_reference, Ground.TERMS: decision.terms_reference}
    reference = (references[ground] or "").strip()
    if ground is Ground.ILLEGAL:
        body["decision_ground"] = "DECISION_GROUND_ILLEGAL_CONTENT"
        body["illegal_content_legal_ground"] = reference
        body["illegal_content_explanation"] = _ILLEGAL.format(finding=mapping.finding)
    else:
        body["decision_ground"] = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
        body["incompatible_content_ground"] = reference
        body["incompatible_content_explanation"] = _TERMS.format(finding=mapping.finding)

    if mapping.media:
        found = sorted({_MEDIA_CONTENT_TYPES[k] for k in media_kinds if k in _MEDIA_CONTENT_TYPES})
        content_types = found or ["CONTENT_TYPE_IMAGE"]
    else:
        content_types = ["CONTENT_TYPE_TEXT"]
    if mapping.synthetic:
        content_types.append("CONTENT_TYPE_SYNTHETIC_MEDIA")
    body["content_type"] = content_types
    body["category"] = mapping.category
    if mapping.keywords:
        body["category_specification"] = list(mapping.keywords)
    body["territorial_scope"] = list(territorial_scope)
    body["content_date"] = content_date.isoformat()
    body["application_date"] = application_date.isoformat()

    automated = bool(decision.automated_detection or case.signals_count)
    facts = [_ORIGIN.get(source_type, _ORIGIN["SOURCE_TYPE_OTHER_NOTIFICATION"])]
    if automated:
        facts.append(_AUTOMATED)
    facts.append(_FINDING.format(finding=mapping.finding))
    facts.extend(
        text
        for kind, text in _MEASURES.items()
        if kind in kinds and (kind is not ActionKind.BAN_ACCOUNTS or terminated)
    )
    facts.append(_REDRESS)
    body["decision_facts"] = " ".join(facts)
    body["source_type"] = source_type
    body["automated_detection"] = "Yes" if automated else "No"
    body["automated_decision"] = "AUTOMATED_DECISION_NOT_AUTOMATED"  # a reviewer decided
    body["puid"] = puid or new_puid()

    names = list(other_names)
    if account is not None:
        names += [account.username, account.display_name or ""]
    leaks = personal_data_problems(body, names)
    if leaks:
        raise StatementError(f"decision {decision.id}: personal data in the statement", leaks)
    return body


# -- validation (legal.md 2.2) ---------------------------------------------------------------

_REQUIRED = (
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
        *_REQUIRED,
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
    problems += [f"{field}: required" for field in _REQUIRED if not _present(body, field)]
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


# -- storing ---------------------------------------------------------------------------------------


def source_type_for(conn: Connection, case: Row[Any]) -> str:
    """Trusted flagger if any notice came from one, Art. 16 if any notice, else own initiative."""
    rows = conn.execute(select(reports.c.trusted_flagger).where(reports.c.case_id == case.id))
    flags = [r.trusted_flagger for r in rows]
    if case.trusted_flagger or any(flags):
        return "SOURCE_TRUSTED_FLAGGER"
    return "SOURCE_ARTICLE_16" if flags else "SOURCE_VOLUNTARY"


def _content_facts(conn: Connection, case: Row[Any]) -> tuple[date, set[str]]:
    """When the reported content was posted (else when the case opened), and its media kinds."""
    reported = select(reports.c.message_id).where(
        reports.c.case_id == case.id, reports.c.message_id.is_not(None)
    )
    posted = (
        conn.execute(select(messages.c.created_at).where(messages.c.id.in_(reported)))
        .scalars()
        .all()
    )
    kinds = (
        conn.execute(
            select(attachments.c.media_kind)
            .where(attachments.c.message_id.in_(reported))
            .distinct()
        )
        .scalars()
        .all()
    )
    return min([*posted, case.received_at]).date(), set(kinds)


def create_statements(
    conn: Connection, decision_id: int, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Build, validate and store the statements of reasons of a decision; returns their bodies.

    One per affected account (every banned account, and the case's account when its content
    was removed or its community closed), or one for the community when no account is; none
    when the decision restricts nothing (Art. 17 is owed for restrictions only). All are
    validated before any is stored, so an invalid statement stores nothing. Calling it again
    returns the statements already stored: a puid must never be reused, nor a statement sent
    twice under two puids.
    """
    decision = conn.execute(select(decisions).where(decisions.c.id == decision_id)).one_or_none()
    if decision is None:
        raise StatementError(f"no decision {decision_id}")
    if decision.reversed_by_appeal_id is not None:
        raise StatementError(f"decision {decision_id} was reversed on appeal")
    kinds = {a["kind"] for a in decision_actions(decision)}
    if not decision.violation or not kinds & _MEASURES.keys():
        return []
    stored = (
        conn.execute(
            select(statements_of_reasons.c.body)
            .where(statements_of_reasons.c.decision_id == decision_id)
            .order_by(statements_of_reasons.c.id)
        )
        .scalars()
        .all()
    )
    if stored:
        return [json.loads(b) for b in stored]

    case = conn.execute(select(cases).where(cases.c.id == decision.case_id)).one()
    account_ids = banned_account_ids(decision, case)
    if case.account_id is not None and kinds & {
        ActionKind.REMOVE_CONTENT,
        ActionKind.BAN_COMMUNITY,
    }:
        account_ids.add(case.account_id)
    affected = conn.execute(
        select(accounts).where(accounts.c.id.in_(account_ids)).order_by(accounts.c.id)
    ).all()
    other_names = []
    if case.community_id is not None:
        other_names += (
            conn.execute(select(communities.c.name).where(communities.c.id == case.community_id))
            .scalars()
            .all()
        )
    content_date, media_kinds = _content_facts(conn, case)
    common = {
        "content_date": content_date,
        "application_date": decision.decided_at.date(),
        "source_type": source_type_for(conn, case),
        "media_kinds": media_kinds,
    }

    built: list[tuple[int | None, dict[str, Any]]] = []
    for account in affected or [None]:
        names = list(other_names)
        if account is not None:
            names += (
                conn.execute(
                    select(account_names.c.name).where(account_names.c.account_id == account.id)
                )
                .scalars()
                .all()
            )
        body = build_statement(decision, case, account=account, other_names=names, **common)
        problems = validate_statement(body)
        if problems:
            raise StatementError(f"decision {decision_id}: invalid statement of reasons", problems)
        built.append((account.id if account is not None else None, body))

    created_at = now or datetime.now(UTC)
    for account_id, body in built:
        conn.execute(
            insert(statements_of_reasons).values(
                decision_id=decision_id,
                account_id=account_id,
                puid=body["puid"],
                body=json.dumps(body, ensure_ascii=False, sort_keys=True),
                created_at=created_at,
            )
        )
    return [body for _, body in built]
