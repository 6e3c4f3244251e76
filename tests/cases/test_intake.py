"""Report intake: validation field by field, target links, resolution to stored rows, storage."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select

from iolaus.cases import intake, report_for_notifier
from iolaus.model.cases import TargetKind
from iolaus.store import audit
from iolaus.store.tables import cases
from iolaus.store.tables import reports as reports_table
from tests import factories

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
GOOD: dict[str, Any] = {
    "target_kind": "message",
    "target": "https://discord.com/channels/111/222/333",
    "category": "ncii",
    "explanation": "Photos of a former partner posted without her consent.",
    "notifier_name": "A. Moderator",
    "notifier_email": "mod@example.org",
    "good_faith": True,
}


def seed_community(conn: Connection, guild: str = "111", members: int = 3) -> dict[str, int]:
    """A Discord community with a channel, a message and ``members`` accounts."""
    platform = factories.platform(conn)
    ids = [
        factories.account(conn, platform, f"{guild}-u{n}", username=f"user{n}", observed_at=NOW)
        for n in range(members)
    ]
    community = factories.community(conn, platform, guild, name=f"server {guild}", observed_at=NOW)
    for account in ids:
        factories.membership(conn, community, account, seen_at=NOW)
    channel = factories.channel(conn, community, "222", observed_at=NOW)
    message = factories.message(
        conn, channel, "333", ids[0], content="hello", created_at=NOW, observed_at=NOW
    )
    return {"community": community, "channel": channel, "message": message, "author": ids[0]}


def errors_of(**changes: Any) -> dict[str, str]:
    with pytest.raises(intake.InvalidReport) as caught:
        intake.validate({**GOOD, **changes})
    return caught.value.errors


def test_a_complete_notice_is_valid() -> None:
    report = intake.validate(GOOD)
    assert report.target.message == "333" and report.target.platform == "discord"


def test_csam_notices_are_accepted_anonymously() -> None:
    report = intake.validate(
        {**GOOD, "category": "csam", "notifier_name": "", "notifier_email": None}
    )
    assert report.notifier_name is None and report.notifier_email is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"target_kind": "server"}, "target_kind"),
        ({"target": ""}, "target"),
        ({"target": "x" * 3000}, "target"),
        ({"target": "333"}, "target"),  # a bare message id cannot be located
        ({"target_kind": "media", "target": "abc"}, "target"),
        ({"category": "spam"}, "category"),
        ({"explanation": "too short"}, "explanation"),
        ({"explanation": "y" * 5001}, "explanation"),
        ({"explanation": "bad \x00 byte in an otherwise long text"}, "explanation"),
        ({"notifier_email": "not-an-address"}, "notifier_email"),
        ({"notifier_name": "n" * 201}, "notifier_name"),
        ({"good_faith": False}, "good_faith"),
        ({"good_faith": None}, "good_faith"),
    ],
)
def test_each_problem_is_named(changes: dict[str, Any], field: str) -> None:
    assert field in errors_of(**changes)


def test_other_is_refused_with_guidance() -> None:
    assert "general reporting channel" in errors_of(category="other")["category"]


def test_every_problem_is_reported_at_once() -> None:
    errors = errors_of(target="", category="", explanation="", good_faith=False)
    assert set(errors) == {"target", "category", "explanation", "good_faith"}


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("community", "https://discord.com/channels/111", {"community": "111"}),
        ("community", "https://discord.com/channels/111/222", {"community": "111"}),
        ("community", "111", {"community": "111", "platform": None}),
        ("channel", "https://ptb.discord.com/channels/111/222", {"channel": "222"}),
        ("channel", "111/222", {"community": "111", "channel": "222"}),
        ("message", "https://discordapp.com/channels/111/222/333/", {"message": "333"}),
        ("account", "https://discord.com/users/444", {"account": "444"}),
        ("account", "444", {"account": "444"}),
        ("media", "AB" * 32, {"sha256": "ab" * 32}),
    ],
)
def test_targets(kind: str, text: str, expected: dict[str, Any]) -> None:
    target = intake.parse_target(TargetKind(kind), text)
    assert {k: getattr(target, k) for k in expected} == expected


def test_foreign_links_are_refused() -> None:
    with pytest.raises(ValueError):
        intake.parse_target(TargetKind.COMMUNITY, "https://evil.example/channels/111")


def test_a_message_link_resolves_to_stored_rows_and_merges_per_community(engine: Engine) -> None:
    with engine.begin() as conn:
        ids = seed_community(conn)
        first = intake.submit(conn, intake.validate(GOOD), source="web", actor="public", now=NOW)
        second = intake.submit(
            conn,
            intake.validate({**GOOD, "target_kind": "community", "target": "111"}),
            source="api:hotline",
            actor="token:hotline",
            trusted_flagger=True,
            now=NOW,
        )
    assert first.case_id == second.case_id
    with engine.connect() as conn:
        row = conn.execute(
            select(reports_table).where(reports_table.c.reference == first.reference)
        ).one()
        case = conn.execute(select(cases)).one()
        log = audit.recent(conn)
    assert (row.community_id, row.channel_id, row.message_id, row.account_id) == (
        ids["community"],
        ids["channel"],
        ids["message"],
        ids["author"],
    )
    assert row.secret_hash == hashlib.sha256(first.secret.encode()).hexdigest()
    assert first.secret not in str(row)
    assert case.subject_key == f"community:{ids['community']}"
    assert (case.reports_count, case.trusted_flagger) == (2, True)
    text = str(log)
    assert "report.receive" in text and "case.received" in text
    assert "mod@example.org" not in text and "A. Moderator" not in text


def test_unmirrored_targets_still_gather_in_one_case(engine: Engine) -> None:
    with engine.begin() as conn:
        a = intake.submit(
            conn,
            intake.validate({**GOOD, "target": "999/1/2"}),
            source="web",
            actor="public",
            now=NOW,
        )
        b = intake.submit(
            conn,
            intake.validate(
                {**GOOD, "target_kind": "community", "target": "https://discord.com/channels/999"}
            ),
            source="web",
            actor="public",
            now=NOW,
        )
        c = intake.submit(
            conn,
            intake.validate({**GOOD, "target_kind": "media", "target": "0f" * 32}),
            source="web",
            actor="public",
            now=NOW,
        )
        keys = dict(conn.execute(select(cases.c.id, cases.c.subject_key)).all())
    assert a.case_id == b.case_id != c.case_id
    assert keys == {a.case_id: "community-ext:999", c.case_id: "media:" + "0f" * 32}


def test_the_secret_opens_the_status_and_nothing_else(engine: Engine) -> None:
    with engine.begin() as conn:
        receipt = intake.submit(conn, intake.validate(GOOD), source="web", actor="public")
    with engine.connect() as conn:
        view = report_for_notifier(conn, receipt.reference, receipt.secret)
        assert view is not None and view["status"] == "triaged"
        assert "notifier_email" not in view
        assert report_for_notifier(conn, receipt.reference, receipt.secret + "x") is None
        assert report_for_notifier(conn, "R-UNKNOWN000", receipt.secret) is None


def test_a_reported_community_imported_later_is_adopted_by_its_case(engine: Engine) -> None:
    """Reported before it was mirrored: once an import brings the community, its case is keyed
    by the stored community, and a case detection opened for it absorbs the reports."""
    from iolaus.cases.triage import Subject, adopt_mirrored_subjects, merge
    from iolaus.model.cases import SubjectKind
    from iolaus.model.signals import Category

    with engine.begin() as conn:
        early = intake.submit(
            conn,
            intake.validate({**GOOD, "target_kind": "community", "target": "111"}),
            source="web",
            actor="public",
            now=NOW,
        )
        other = intake.submit(
            conn,
            intake.validate({**GOOD, "target_kind": "community", "target": "777"}),
            source="web",
            actor="public",
            now=NOW,
        )
    assert adopt_mirrored_subjects(engine, NOW) == []  # nothing mirrored yet
    with engine.begin() as conn:
        ids = seed_community(conn, guild="111")
    assert adopt_mirrored_subjects(engine, NOW) == [early.case_id]
    with engine.connect() as conn:
        row = conn.execute(select(cases).where(cases.c.id == early.case_id)).one()
        report_community = conn.execute(
            select(reports_table.c.community_id).where(reports_table.c.reference == early.reference)
        ).scalar_one()
    assert (row.subject_key, row.community_id) == (
        f"community:{ids['community']}",
        ids["community"],
    )
    assert report_community == ids["community"]

    # Detection got there first for 777: the reported case merges into the detected one.
    with engine.begin() as conn:
        seven = seed_community(conn, guild="777")["community"]
        detected = merge(
            conn,
            Subject(SubjectKind.COMMUNITY, f"community:{seven}", community_id=seven),
            Category.NCII,
            now=NOW,
            actor="detection",
            signals_count=5,
        )
    assert adopt_mirrored_subjects(engine, NOW) == [detected]
    with engine.connect() as conn:
        merged = conn.execute(select(cases).where(cases.c.id == detected)).one()
        closed = conn.execute(select(cases.c.status).where(cases.c.id == other.case_id)).scalar()
        moved = conn.execute(
            select(reports_table.c.case_id).where(reports_table.c.reference == other.reference)
        ).scalar_one()
    assert merged.reports_count == 1 and closed == "closed" and moved == detected
