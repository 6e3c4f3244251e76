"""DSA statements of reasons: the mapping of legal.md 2.4, every rule of 2.2, no personal data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select, update

from iolaus.legal.dsa import (
    COUNTRY_CODES,
    ENUMS,
    StatementError,
    build_statement,
    create_statements,
    model,
    validate,
    validate_statement,
)
from iolaus.store.tables import (
    decisions,
    statements_of_reasons,
)
from tests import factories

DECIDED = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
POSTED = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
FR_NCII = "Art. 226-2-1 Code pénal (FR)"
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "dsa_sor_enums.json"


@dataclass
class Seeded:
    decision_id: int
    case_id: int
    account_id: int
    other_account_id: int
    community_id: int
    reviewer_id: int
    second_reviewer_id: int
    report_reference: str | None


def seed(
    conn: Connection,
    *,
    category: str = "ncii",
    ground: str = "illegal",
    actions: list[Any] | None = None,
    legal_reference: str | None = FR_NCII,
    terms_reference: str | None = None,
    notice: str | None = "article16",  # article16 | trusted | None (own detection)
    signals: int = 0,
    media_kind: str = "image",
    username: str = "uploader",
    display_name: str | None = None,
    community_name: str = "a community",
    case_account: bool = True,
    violation: bool = True,
    decided_at: datetime = DECIDED,
) -> Seeded:
    """The rows one decision needs: platform, accounts, community, message, users, case,
    report and decision."""
    platform_id = factories.platform(conn)
    account_id = factories.account(
        conn,
        platform_id,
        "111111111111111111",
        username=username,
        display_name=display_name,
        observed_at=POSTED,
    )
    other_id = factories.account(
        conn, platform_id, "222222222222222222", username="second", observed_at=POSTED
    )
    community_id = factories.community(
        conn,
        platform_id,
        "333333333333333333",
        name=community_name,
        owner_account_id=account_id,
        observed_at=POSTED,
    )
    channel_id = factories.channel(conn, community_id, "444", observed_at=POSTED)
    message_id = factories.message(
        conn, channel_id, "555", account_id, created_at=POSTED, observed_at=POSTED
    )
    factories.attachment(conn, message_id, "666", media_kind=media_kind)
    reviewer_id = factories.user(conn, "reviewer-one", created_at=POSTED)
    second_id = factories.user(conn, "reviewer-two", created_at=POSTED)
    case_id = factories.case(
        conn,
        subject_kind="community",
        subject_key=f"community:{community_id}",
        community_id=community_id,
        account_id=account_id if case_account else None,
        category=category,
        status="decided",
        reports_count=1 if notice else 0,
        signals_count=signals,
        trusted_flagger=notice == "trusted",
        received_at=POSTED + timedelta(days=1),
        deadline_at=POSTED + timedelta(days=2),
        decided_at=decided_at,
    )
    reference = None
    if notice:
        reference = f"R-{case_id:08d}"
        factories.report(
            conn,
            case_id,
            reference,
            target="https://discord.com/channels/333/444/555",
            message_id=message_id,
            category=category,
            notifier_email="notifier@example.org",
            trusted_flagger=notice == "trusted",
            status="decided",
            received_at=POSTED + timedelta(days=1),
            notifier_informed_at=decided_at,
        )
    decision_id = factories.decision(
        conn,
        case_id,
        reviewer_id,
        violation=violation,
        category=category,
        ground=ground,
        legal_reference=legal_reference,
        terms_reference=terms_reference,
        explanation="Reviewer notes naming people: must never reach a statement.",
        actions=json.dumps(actions if actions is not None else [{"kind": "remove_content"}]),
        decided_at=decided_at,
    )
    return Seeded(
        decision_id, case_id, account_id, other_id, community_id, reviewer_id, second_id, reference
    )


def valid_body() -> dict[str, Any]:
    return {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "illegal_content_legal_ground": FR_NCII,
        "illegal_content_explanation": "Unlawful under the legal ground cited.",
        "content_type": ["CONTENT_TYPE_IMAGE"],
        "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        "category_specification": ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"],
        "territorial_scope": ["FR", "BE"],
        "content_date": "2026-01-05",
        "application_date": "2026-01-10",
        "decision_facts": "Media matched a hash list of known material; a reviewer confirmed.",
        "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": "Yes",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "puid": "iolaus-0123456789abcdef",
    }


# -- the enumerations are data --------------------------------------------------------------------


def test_enumerations_come_from_the_reference_data() -> None:
    if REFERENCE.is_file():
        reference = json.loads(REFERENCE.read_text())
        assert {k: set(v) for k, v in reference.items()} == {k: set(v) for k, v in ENUMS.items()}
    assert len(ENUMS["STATEMENT_CATEGORIES"]) == 16 and len(ENUMS["KEYWORDS"]) == 69
    assert "KEYWORD_DANGEROUS_TOYS" not in ENUMS["KEYWORDS"]
    assert len(COUNTRY_CODES) == 30 and "GR" in COUNTRY_CODES and "EL" not in COUNTRY_CODES


def test_every_mapped_value_is_in_the_enumerations() -> None:
    for mapping in model.MAPPING.values():
        assert mapping.category in ENUMS["STATEMENT_CATEGORIES"]
        assert set(mapping.keywords) <= ENUMS["KEYWORDS"]
    assert set(model.MEDIA_CONTENT_TYPES.values()) <= ENUMS["CONTENT_TYPES"]
    assert set(model.ORIGIN) == ENUMS["SOURCE_TYPES"]


def test_the_sketch_body_is_valid() -> None:
    assert validate_statement(valid_body()) == []


# -- statements built from decisions (both backends) ----------------------------------------------


def _only(conn: Connection, seeded: Seeded) -> dict[str, Any]:
    (body,) = create_statements(conn, seeded.decision_id, now=DECIDED)
    assert validate_statement(body) == []
    return body


def test_ncii_statement(engine: Engine) -> None:
    with engine.begin() as conn:
        seeded = seed(conn, actions=[{"kind": "remove_content"}, {"kind": "ban_accounts"}])
        body = _only(conn, seeded)
        stored = conn.execute(select(statements_of_reasons)).one()
    assert body["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert body["illegal_content_legal_ground"] == FR_NCII
    assert body["illegal_content_explanation"]
    assert "incompatible_content_ground" not in body
    assert body["category"] == "STATEMENT_CATEGORY_CYBER_VIOLENCE"
    assert body["category_specification"] == ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"]
    assert body["content_type"] == ["CONTENT_TYPE_IMAGE"]
    assert body["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert body["decision_account"] == "DECISION_ACCOUNT_TERMINATED"
    assert "decision_provision" not in body
    assert body["content_date"] == "2026-01-05" and body["application_date"] == "2026-01-10"
    assert body["territorial_scope"] == list(COUNTRY_CODES)
    assert body["source_type"] == "SOURCE_ARTICLE_16"
    assert body["automated_detection"] == "No"
    assert body["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert body["puid"].startswith("iolaus-") and "1111111" not in body["puid"]
    assert stored.puid == body["puid"] and json.loads(stored.body) == body
    assert stored.account_id == seeded.account_id and stored.exported_at is None
    assert "Reviewer notes" not in json.dumps(body)


def test_sexual_deepfake_statement(engine: Engine) -> None:
    with engine.begin() as conn:
        body = _only(conn, seed(conn, category="sexual_deepfake", media_kind="video", signals=2))
    assert body["category"] == "STATEMENT_CATEGORY_CYBER_VIOLENCE"
    assert body["category_specification"] == ["KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"]
    assert body["content_type"] == ["CONTENT_TYPE_VIDEO", "CONTENT_TYPE_SYNTHETIC_MEDIA"]
    assert body["automated_detection"] == "Yes"  # the case came from signals
    assert "automated means" in body["decision_facts"]


def test_csam_statement_from_a_trusted_flagger(engine: Engine) -> None:
    with engine.begin() as conn:
        seeded = seed(
            conn,
            category="csam",
            notice="trusted",
            legal_reference="Art. 227-23 Code pénal (FR)",
            actions=[{"kind": "remove_content"}, {"kind": "report_ncmec"}],
        )
        body = _only(conn, seeded)
    assert body["category"] == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    assert body["category_specification"] == ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"]
    assert body["source_type"] == "SOURCE_TRUSTED_FLAGGER"
    assert "source_identity" not in body
    assert "trusted flagger" in body["decision_facts"]


def test_community_ban_statement_without_an_account(engine: Engine) -> None:
    with engine.begin() as conn:
        seeded = seed(
            conn,
            case_account=False,
            notice=None,
            actions=[["ban_community", {"community_id": 1}], ["remove_content", {}]],
        )
        body = _only(conn, seeded)
        (stored,) = conn.execute(select(statements_of_reasons.c.account_id)).all()
    assert body["decision_provision"] == "DECISION_PROVISION_TOTAL_TERMINATION"
    assert "decision_account" not in body
    assert body["source_type"] == "SOURCE_VOLUNTARY"
    assert "community" in body["decision_facts"]
    assert stored.account_id is None


def test_terms_ground_statement(engine: Engine) -> None:
    with engine.begin() as conn:
        seeded = seed(
            conn,
            category="ban_evasion",
            ground="terms",
            legal_reference=None,
            terms_reference="Terms of service, section 4 (ban evasion)",
        )
        body = _only(conn, seeded)
    assert body["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert body["incompatible_content_ground"] == "Terms of service, section 4 (ban evasion)"
    assert body["incompatible_content_explanation"]
    assert "illegal_content_legal_ground" not in body
    assert "illegal_content_explanation" not in body
    assert body["category"] == "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
    assert body["content_type"] == ["CONTENT_TYPE_TEXT"]


def test_one_statement_per_affected_account(engine: Engine) -> None:
    with engine.begin() as conn:
        seeded = seed(conn)
        conn.execute(
            update(decisions)
            .where(decisions.c.id == seeded.decision_id)
            .values(
                actions=json.dumps(
                    [
                        {"kind": "remove_content"},
                        {"kind": "ban_accounts", "account_ids": [seeded.other_account_id]},
                    ]
                )
            )
        )
        bodies = create_statements(conn, seeded.decision_id, now=DECIDED)
        rows = conn.execute(
            select(statements_of_reasons.c.account_id, statements_of_reasons.c.puid)
        ).all()
        again = create_statements(conn, seeded.decision_id, now=DECIDED)
        count = conn.execute(select(func.count()).select_from(statements_of_reasons)).scalar()
    puids = {r.account_id: r.puid for r in rows}
    assert set(puids) == {seeded.account_id, seeded.other_account_id}
    by_puid = {b["puid"]: b for b in bodies}
    banned = by_puid[puids[seeded.other_account_id]]
    uploader = by_puid[puids[seeded.account_id]]
    assert banned["decision_account"] == "DECISION_ACCOUNT_TERMINATED"
    assert "decision_account" not in uploader
    assert uploader["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert "The account was terminated." not in uploader["decision_facts"]
    assert len(set(puids.values())) == 2
    assert sorted(b["puid"] for b in again) == sorted(puids.values()) and count == 2


def test_no_statement_without_a_restriction(engine: Engine) -> None:
    with engine.begin() as conn:
        no_violation = seed(conn, violation=False)
    with engine.begin() as conn:
        assert create_statements(conn, no_violation.decision_id) == []


def test_invalid_statement_stores_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        seeded = seed(conn, legal_reference=None)
        with pytest.raises(StatementError, match="illegal_content_legal_ground: required"):
            create_statements(conn, seeded.decision_id, now=DECIDED)
        assert conn.execute(select(func.count()).select_from(statements_of_reasons)).scalar() == 0


def test_build_statement_needs_no_database() -> None:
    decision = SimpleNamespace(
        id=7,
        violation=True,
        category="sextortion",
        ground="illegal",
        legal_reference="Art. 312-10 Code pénal (FR)",
        terms_reference=None,
        actions='[["ban_accounts", {}]]',
        automated_detection=True,
    )
    case = SimpleNamespace(account_id=3, signals_count=0)
    account = SimpleNamespace(id=3, username="someone", display_name=None)
    body = build_statement(
        decision,
        case,
        account=account,
        content_date=date(2025, 12, 1),
        application_date=date(2026, 1, 2),
        source_type="SOURCE_VOLUNTARY",
        territorial_scope=["FR"],
        puid="iolaus-fixed",
    )
    assert validate_statement(body) == []
    assert body["content_type"] == ["CONTENT_TYPE_TEXT"]
    assert body["decision_account"] == "DECISION_ACCOUNT_TERMINATED"
    assert body["territorial_scope"] == ["FR"] and body["puid"] == "iolaus-fixed"
    assert body["automated_detection"] == "Yes"
    no_violation = SimpleNamespace(**{**vars(decision), "violation": False})
    with pytest.raises(StatementError, match="no violation"):
        build_statement(
            no_violation,
            case,
            content_date=date(2025, 12, 1),
            application_date=date(2026, 1, 2),
            source_type="SOURCE_VOLUNTARY",
        )


# -- no personal data -----------------------------------------------------------------------------


def test_names_and_addresses_never_reach_the_statement(engine: Engine) -> None:
    with engine.begin() as conn:
        seeded = seed(
            conn,
            username="jane.doe@example.com",
            display_name="Jane Doe",
            community_name="Jane Doe leaks",
            actions=[{"kind": "remove_content"}, {"kind": "ban_accounts"}],
        )
        body = _only(conn, seeded)
    text = json.dumps(body, ensure_ascii=False).lower()
    for leak in ("jane", "doe", "example", "@", "notifier", "111111111111111111", "reviewer-one"):
        assert leak not in text


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("Art. 226-2-1 Code pénal, reported by @janedoe", "@handle"),
        ("Art. 226-2-1 Code pénal, see jane@example.com", "e-mail address"),
        ("Art. 226-2-1 Code pénal (Jane Doe)", "name of an account"),
        ("Art. 226-2-1 Code pénal (northbay leaks)", "name of an account"),
        ("Art. 226-2-1 Code pénal (old-handle)", "name of an account"),
        ("Art. 226-2-1 Code pénal, user 111111111111111111", "platform id"),
    ],
)
def test_personal_data_in_a_reference_is_refused(
    sqlite_engine: Engine, reference: str, problem: str
) -> None:
    with sqlite_engine.begin() as conn:
        seeded = seed(
            conn,
            display_name="Jane Doe",
            community_name="Northbay Leaks",
            legal_reference=reference,
        )
        factories.account_name(conn, seeded.account_id, "old-handle", seen_at=POSTED)
        with pytest.raises(StatementError, match=problem):
            create_statements(conn, seeded.decision_id)
        assert conn.execute(select(func.count()).select_from(statements_of_reasons)).scalar() == 0


def test_a_name_made_of_template_words_does_not_block_statements(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        body = _only(conn, seed(conn, username="content", display_name="The Community"))
    assert "content" in body["decision_facts"]


# -- the validator, rule by rule (legal.md 2.2) ---------------------------------------------------


def _with(**changes: Any) -> dict[str, Any]:
    body = valid_body()
    for field, value in changes.items():
        if value is _DROP:
            body.pop(field, None)
        else:
            body[field] = value
    return body


_DROP = object()
_INCOMPATIBLE = {
    "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    "illegal_content_legal_ground": _DROP,
    "illegal_content_explanation": _DROP,
    "incompatible_content_ground": "Terms, section 4",
    "incompatible_content_explanation": "Prohibited by the terms.",
}


@pytest.mark.parametrize("field", validate.REQUIRED)
def test_missing_required_field(field: str) -> None:
    assert f"{field}: required" in validate_statement(_with(**{field: _DROP}))
    assert f"{field}: required" in validate_statement(_with(**{field: ""}))


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"territorial_scope": None},
        {"territorial_scope": _DROP},
        {"end_date_account_restriction": None, "end_date_visibility_restriction": "2038-01-01"},
        {"decision_visibility": ["DECISION_VISIBILITY_OTHER"], "decision_visibility_other": "x"},
        {
            "decision_visibility": _DROP,
            "decision_monetary": "DECISION_MONETARY_OTHER",
            "decision_monetary_other": "Payments withheld.",
        },
        {
            "decision_visibility": _DROP,
            "decision_account": "DECISION_ACCOUNT_SUSPENDED",
            "end_date_account_restriction": "2026-02-10",
        },
        {"content_type": ["CONTENT_TYPE_OTHER"], "content_type_other": "A sticker"},
        {"content_type": ["CONTENT_TYPE_PRODUCT"], "content_id": {"EAN-13": "4006381333931"}},
        {"category_specification": ["KEYWORD_OTHER"], "category_specification_other": "x"},
        {"category_addition": ["STATEMENT_CATEGORY_PROTECTION_OF_MINORS"]},
        {"content_language": "FR", "account_type": "ACCOUNT_TYPE_PRIVATE"},
        {"source_type": "SOURCE_ARTICLE_16", "source_identity": "A hotline"},
        {"decision_ground_reference_url": "https://www.legifrance.gouv.fr/"},
        {**_INCOMPATIBLE, "incompatible_content_illegal": "Yes"},
        {"content_date": "2000-01-01", "application_date": "2020-01-01"},
        {"decision_facts": "x" * 5000, "puid": "a" * 500},
    ],
)
def test_valid_variants(changes: dict[str, Any]) -> None:
    assert validate_statement(_with(**changes)) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        # at least one decision field
        ({"decision_visibility": _DROP}, "at least one of decision_visibility"),
        ({"decision_visibility": []}, "at least one of decision_visibility"),
        # enumerations, including the values removed with the v2 schema
        (
            {"category": "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"},
            "category: 'STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT' is not one of",
        ),
        ({"category": "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR"}, "category: "),
        ({"category": "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"}, "category: "),
        ({"category_specification": ["KEYWORD_IMAGE_BASED_SEXUAL_ABUSE"]}, "not one of KEYWORDS"),
        ({"category_specification": ["KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE"]}, "KEYWORDS"),
        ({"category_specification": ["KEYWORD_GENDER_BASED_VIOLENCE"]}, "KEYWORDS"),
        ({"category_specification": ["KEYWORD_DANGEROUS_TOYS"]}, "KEYWORDS"),
        ({"category_specification": "KEYWORD_NUDITY"}, "category_specification: must be an array"),
        ({"category_addition": ["PROTECTION_OF_MINORS"]}, "category_addition: "),
        ({"decision_visibility": ["CONTENT_REMOVED"]}, "decision_visibility: "),
        ({"decision_provision": "DECISION_PROVISION_TERMINATION"}, "decision_provision: "),
        ({"decision_account": "DECISION_ACCOUNT_BANNED"}, "decision_account: "),
        ({"decision_monetary": "DECISION_MONETARY_FINE"}, "decision_monetary: "),
        ({"account_type": "ACCOUNT_TYPE_PERSONAL"}, "account_type: "),
        ({"decision_ground": "DECISION_GROUND_TERMS"}, "decision_ground: "),
        ({"content_type": ["CONTENT_TYPE_PHOTO"]}, "content_type: "),
        ({"source_type": "SOURCE_NOTICE"}, "source_type: "),
        ({"automated_detection": "yes"}, "automated_detection: "),
        ({"automated_detection": True}, "automated_detection: "),
        ({"automated_decision": "AUTOMATED_DECISION_NONE"}, "automated_decision: "),
        ({**_INCOMPATIBLE, "incompatible_content_illegal": "Maybe"}, "incompatible_content_il"),
        # required iff
        (
            {"decision_visibility": ["DECISION_VISIBILITY_OTHER"]},
            "decision_visibility_other: required",
        ),
        ({"decision_monetary": "DECISION_MONETARY_OTHER"}, "decision_monetary_other: required"),
        (
            {"content_type": ["CONTENT_TYPE_IMAGE", "CONTENT_TYPE_OTHER"]},
            "content_type_other: required",
        ),
        ({"illegal_content_legal_ground": _DROP}, "illegal_content_legal_ground: required"),
        ({"illegal_content_explanation": None}, "illegal_content_explanation: required"),
        (
            {**_INCOMPATIBLE, "incompatible_content_ground": _DROP},
            "incompatible_content_ground: required",
        ),
        (
            {**_INCOMPATIBLE, "incompatible_content_explanation": ""},
            "incompatible_content_explanation: required",
        ),
        # dropped otherwise
        ({"decision_visibility_other": "x"}, "decision_visibility_other: only allowed"),
        ({"decision_monetary_other": "x"}, "decision_monetary_other: only allowed"),
        ({"content_type_other": "x"}, "content_type_other: only allowed"),
        ({"incompatible_content_ground": "Terms"}, "incompatible_content_ground: only allowed"),
        ({"incompatible_content_explanation": "x"}, "incompatible_content_explanation: only"),
        ({"incompatible_content_illegal": "Yes"}, "incompatible_content_illegal: only allowed"),
        (
            {**_INCOMPATIBLE, "illegal_content_legal_ground": FR_NCII},
            "illegal_content_legal_ground: only allowed",
        ),
        ({**_INCOMPATIBLE, "illegal_content_explanation": "x"}, "illegal_content_explanation: "),
        ({"category_specification_other": "x"}, "category_specification_other: only allowed"),
        ({"source_identity": "A hotline"}, "source_identity: only allowed"),
        ({"content_id": {"EAN-13": "4006381333931"}}, "content_id: only allowed"),
        ({"content_id_ean": "4006381333931"}, "content_id_ean: only allowed"),
        # lengths
        ({"decision_facts": "x" * 5001}, "decision_facts: 5001 characters, at most 5000"),
        ({"illegal_content_explanation": "x" * 2001}, "at most 2000"),
        ({"illegal_content_legal_ground": "x" * 501}, "illegal_content_legal_ground: 501"),
        ({**_INCOMPATIBLE, "incompatible_content_ground": "x" * 501}, "at most 500"),
        ({**_INCOMPATIBLE, "incompatible_content_explanation": "x" * 2001}, "at most 2000"),
        (
            {
                "decision_visibility": ["DECISION_VISIBILITY_OTHER"],
                "decision_visibility_other": "x" * 501,
            },
            "decision_visibility_other: 501",
        ),
        ({"source_type": "SOURCE_ARTICLE_16", "source_identity": "x" * 501}, "source_identity"),
        ({"decision_ground_reference_url": "https://e.eu/" + "x" * 500}, "at most 500"),
        (
            {
                "category_specification": ["KEYWORD_OTHER"],
                "category_specification_other": "x" * 501,
            },
            "category_specification_other: 501",
        ),
        ({"puid": "a" * 501}, "puid: 501 characters"),
        ({"decision_facts": 42}, "decision_facts: must be a string"),
        # dates
        ({"content_date": "2026-1-5"}, "content_date: '2026-1-5' is not a date"),
        ({"content_date": "05/01/2026"}, "content_date: '05/01/2026' is not a date"),
        ({"application_date": "2026-01-10T12:00:00"}, "application_date: "),
        ({"application_date": "2026-01-10-12"}, "application_date: "),
        ({"content_date": "2026-02-30"}, "is not a calendar date"),
        ({"content_date": "1999-12-31"}, "content_date: 1999-12-31 is before 2000-01-01"),
        ({"application_date": "2019-12-31"}, "application_date: 2019-12-31 is before 2020-01-01"),
        ({"application_date": "2038-01-02"}, "application_date: 2038-01-02 is after 2038-01-01"),
        ({"content_date": "2038-01-02"}, "content_date: 2038-01-02 is after"),
        ({"end_date_account_restriction": "2038-01-02"}, "end_date_account_restriction: "),
        ({"end_date_visibility_restriction": "2026-01-09"}, "before application_date"),
        ({"end_date_service_restriction": "tomorrow"}, "end_date_service_restriction: "),
        ({"end_date_monetary_restriction": "2040-01-01"}, "end_date_monetary_restriction: "),
        # puid
        ({"puid": "iolaus 123"}, "puid: only letters"),
        ({"puid": "iolaus/123"}, "puid: only letters"),
        ({"puid": "iolaus-123\n"}, "puid: only letters"),
        ({"puid": "iolaus-é"}, "puid: only letters"),
        # country and language codes, URL, product ids
        ({"territorial_scope": ["EL"]}, "territorial_scope: 'EL' is not an EEA country code"),
        ({"territorial_scope": ["UK"]}, "'UK' is not an EEA"),
        ({"territorial_scope": ["fr"]}, "'fr' is not an EEA"),
        ({"territorial_scope": "FR"}, "territorial_scope: must be an array"),
        ({"territorial_scope": ["FR", "FR"]}, "repeated country code"),
        ({"content_language": "fr"}, "content_language: 'fr'"),
        ({"content_language": "XX"}, "content_language: 'XX'"),
        ({"decision_ground_reference_url": "legifrance"}, "not an http(s) URL"),
        ({"decision_ground_reference_url": "ftp://e.eu/x"}, "not an http(s) URL"),
        (
            {"content_type": ["CONTENT_TYPE_PRODUCT"], "content_id": {"EAN-13": "123"}},
            "content_id: must be",
        ),
        (
            {"content_type": ["CONTENT_TYPE_PRODUCT"], "content_id": {"ISBN": "4006381333931"}},
            "content_id: must be",
        ),
        (
            {"content_type": ["CONTENT_TYPE_PRODUCT"], "content_id_ean": "12345"},
            "content_id_ean: must be 13 digits",
        ),
        # unknown fields and personal data
        ({"decison_facts": "typo"}, "decison_facts: unknown field"),
        ({"decision_facts": "Reported by jane@example.com."}, "decision_facts: contains an e-mail"),
        ({"decision_facts": "Posted by @jane_doe."}, "decision_facts: contains an @handle"),
        ({"decision_facts": "Posted by <@123456789012345678>."}, "contains an @handle"),
        ({"illegal_content_explanation": "User 123456789012345678."}, "contains a platform id"),
    ],
)
def test_validator_catches(changes: dict[str, Any], problem: str) -> None:
    problems = validate_statement(_with(**changes))
    assert any(problem in p for p in problems), problems


def test_validator_rejects_what_is_not_an_object() -> None:
    assert validate_statement(["not", "a", "statement"]) == ["a statement must be a JSON object"]
