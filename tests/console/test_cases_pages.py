"""The review pages: queue order, locking, the case dossier (escaped chat, shielded media, no
notifier contact for reviewers), deciding with its effects, roles, CSRF, and appeals."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, insert, select

from iolaus.cases import open_cases_from_signals
from iolaus.legal.appeals import file_appeal
from iolaus.legal.dsa import validate_statement
from iolaus.store.audit import recent
from iolaus.store.mirror import platform_id
from iolaus.store.tables import (
    accounts,
    appeals,
    attachment_hashes,
    attachments,
    case_events,
    cases,
    channels,
    communities,
    community_risk,
    decisions,
    memberships,
    messages,
    outbox,
    reports,
    signals,
    statements_of_reasons,
)
from iolaus.store.users import create_user
from iolaus.web.app import create_app
from iolaus.web.console import cases as review
from tests.console.test_console_auth import PASSWORD, _login

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
"""The seeding time: fixed, so the suite may run for hours without moving any deadline."""
LOOKED = NOW + timedelta(seconds=30)
"""The console's clock: reviewers look at the queue half a minute after triage."""
HOSTILE = "<script>alert(1)</script>"
SHA = "ab" * 32
EMAIL = "notifier@example.org"


@dataclass
class Seeded:
    csam_case: int
    ncii_case: int
    csam_community: int
    report_reference: str


def _add(conn: Connection, table: Any, **values: Any) -> int:
    return int(conn.execute(insert(table).values(**values).returning(table.c.id)).scalar_one())


def _community(conn: Connection, platform: int, n: int, name: str, members: list[int]) -> int:
    community = _add(
        conn, communities, platform_id=platform, external_id=f"g{n}", name=name, observed_at=NOW
    )
    for account in members:
        conn.execute(
            insert(memberships).values(
                community_id=community, account_id=account, first_seen_at=NOW, last_seen_at=NOW
            )
        )
    return community


def _flag(
    conn: Connection, community: int, channel: int, author: int, texts: list[str], category: str
) -> int:
    """Messages in a channel; the middle one is flagged with a signal of ``category``."""
    ids = [
        _add(
            conn,
            messages,
            channel_id=channel,
            external_id=f"{channel}-{i}",
            author_id=author,
            kind="Default",
            content=text,
            created_at=NOW - timedelta(minutes=10 - i),
            observed_at=NOW,
        )
        for i, text in enumerate(texts)
    ]
    flagged = ids[len(ids) // 2]
    _add(
        conn,
        signals,
        dedupe_key=f"test:{flagged}",
        detector="rules",
        category=category,
        severity=5 if category == "csam" else 4,
        score=0.9,
        explanation=f"matched a {category} rule",
        community_id=community,
        channel_id=channel,
        message_id=flagged,
        account_id=author,
        created_at=NOW,
    )
    reasons = [{"text": f"{category} wording", "strength": 0.9, "category": category}]
    conn.execute(
        insert(community_risk).values(
            community_id=community,
            score=0.9,
            band="critical",
            reasons=json.dumps(reasons),
            stats="{}",
            computed_at=NOW,
        )
    )
    return flagged


def seed(engine: Engine) -> Seeded:
    with engine.begin() as conn:
        for name, role in (("rev", "reviewer"), ("rev2", "reviewer"), ("view", "viewer")):
            create_user(conn, name, PASSWORD, role)
        create_user(conn, "law", PASSWORD, "legal")
        platform = platform_id(conn, "discord")
        people = [
            _add(
                conn,
                accounts,
                platform_id=platform,
                external_id=str(700 + n),
                username=f"member{n}",
                observed_at=NOW,
            )
            for n in range(4)
        ]
        ncii = _community(conn, platform, 1, "ncii place", [people[3]])
        csam = _community(conn, platform, 2, "csam place", people[:3])
        _community(conn, platform, 3, "mirror place", people[:2])
        ncii_channel = _add(
            conn,
            channels,
            community_id=ncii,
            external_id="c1",
            name="pics",
            kind="GuildTextChat",
            observed_at=NOW,
        )
        csam_channel = _add(
            conn,
            channels,
            community_id=csam,
            external_id="c2",
            name="general",
            kind="GuildTextChat",
            observed_at=NOW,
        )
        _flag(conn, ncii, ncii_channel, people[3], ["a", "b", "c"], "ncii")
        flagged = _flag(conn, csam, csam_channel, people[0], ["hello", HOSTILE, "bye"], "csam")
        attachment = _add(
            conn,
            attachments,
            message_id=flagged,
            external_id="f1",
            file_name="holiday.jpg",
            size_bytes=1234,
            media_kind="image",
            url="https://cdn.example/f1",
        )
        conn.execute(
            insert(attachment_hashes).values(attachment_id=attachment, sha256=SHA, hashed_at=NOW)
        )
    open_cases_from_signals(engine, NOW)
    with engine.begin() as conn:
        by_community = dict(conn.execute(select(cases.c.community_id, cases.c.id)).all())
        _add(
            conn,
            reports,
            reference="R-TEST",
            secret_hash="-",
            case_id=by_community[csam],
            target_kind="message",
            target="https://discord.com/channels/g2/c2/2",
            community_id=csam,
            message_id=flagged,
            category="csam",
            explanation=f"they posted {HOSTILE}",
            notifier_name="Nora",
            notifier_email=EMAIL,
            good_faith=True,
            source="web",
            status="triaged",
            received_at=NOW,
        )
    return Seeded(by_community[csam], by_community[ncii], csam, "R-TEST")


def client_for(engine: Engine, username: str) -> TestClient:
    app = create_app(engine)
    review.register(app, clock=lambda: LOOKED)
    client = TestClient(app)
    _login(client, username)
    return client


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]


def decide(client: TestClient, case_id: int, token: str, **form: Any) -> Any:
    data = {
        "violation": "yes",
        "category": "csam",
        "ground": "illegal",
        "legal_reference": "Art. 5 Directive 2011/93/EU",
        "explanation": "sexual abuse material of a child, confirmed by hash and text",
        "actions": ["ban_community", "remove_content", "preserve_evidence"],
        "csrf_token": token,
        **form,
    }
    return client.post(f"/console/cases/{case_id}/decide", data=data, follow_redirects=False)


@pytest.fixture
def seeded(engine: Engine) -> Seeded:
    return seed(engine)


def test_reviewer_takes_and_decides_the_top_case(engine: Engine, seeded: Seeded) -> None:
    rev = client_for(engine, "rev")
    assert 'href="/console/queue"' in rev.get("/console").text
    page = rev.get("/console/queue")
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    order = [int(i) for i in re.findall(r'href="/console/cases/(\d+)"', page.text)]
    assert order == [seeded.csam_case, seeded.ncii_case]
    assert "due in 59 min" in page.text or "due in 60 min" in page.text

    token = csrf(page.text)
    taken = rev.post(
        f"/console/cases/{seeded.csam_case}/lock",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert taken.status_code == 303
    case_page = rev.get(f"/console/cases/{seeded.csam_case}")
    assert case_page.status_code == 200
    assert HOSTILE not in case_page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in case_page.text
    assert 'class="media-shield placeholder"' in case_page.text
    assert "holiday.jpg" in case_page.text and SHA in case_page.text
    assert "cdn.example" not in case_page.text
    assert EMAIL not in case_page.text and "Nora" not in case_page.text
    assert "mirror place" in case_page.text and "2 shared members" in case_page.text
    assert "Record decision" in case_page.text

    revealed = rev.post(f"/console/cases/{seeded.csam_case}/reveal", data={"csrf_token": token})
    assert "nothing to unblur" in revealed.text

    done = decide(rev, seeded.csam_case, token)
    assert done.status_code == 303
    decided = rev.get(done.headers["location"])
    assert "Statements of reasons" in decided.text and "iolaus-" in decided.text

    with engine.begin() as conn:
        status = conn.execute(
            select(communities.c.status).where(communities.c.id == seeded.csam_community)
        ).scalar_one()
        kinds = set(conn.execute(select(outbox.c.kind)).scalars())
        bodies = conn.execute(select(statements_of_reasons.c.body)).scalars().all()
        case = conn.execute(select(cases).where(cases.c.id == seeded.csam_case)).one()
        informed = conn.execute(select(reports.c.notifier_informed_at)).scalar_one()
        events = set(
            conn.execute(
                select(case_events.c.kind).where(case_events.c.case_id == seeded.csam_case)
            ).scalars()
        )
        actions = recent(conn, 500)
    assert status == "banned"
    assert {"ban_community", "remove_content", "preserve_evidence"} <= kinds
    assert bodies and all(validate_statement(json.loads(b)) == [] for b in bodies)
    assert case.status == "decided" and case.first_viewed_at is not None
    assert informed is not None
    assert {"viewed", "locked", "media_revealed", "decided"} <= events
    assert {"decision.recorded", "case.decided", "console.view"} <= {a["action"] for a in actions}

    after = rev.get("/console/queue")
    assert f'href="/console/cases/{seeded.csam_case}"' not in after.text


def test_the_decision_form_is_checked_at_the_boundary(engine: Engine, seeded: Seeded) -> None:
    """An over-long field is a 400 naming it; a choice the console does not offer is refused
    with the case page (409) and audited; neither records a decision."""
    rev = client_for(engine, "rev")
    token = csrf(rev.get("/console/queue").text)
    rev.post(f"/console/cases/{seeded.csam_case}/lock", data={"csrf_token": token})
    too_long = decide(rev, seeded.csam_case, token, explanation="x" * 5001)
    assert too_long.status_code == 400 and "explanation" in too_long.json()["message"]
    unknown = decide(rev, seeded.csam_case, token, actions=["launch_rockets"])
    assert unknown.status_code == 409 and "unknown action" in unknown.text
    bad_ground = decide(rev, seeded.csam_case, token, ground="vibes")
    assert bad_ground.status_code == 409 and "unknown Ground" in bad_ground.text
    forged = decide(rev, seeded.csam_case, "forged", actions=["launch_rockets"])
    assert forged.status_code == 403
    with engine.connect() as conn:
        assert conn.execute(select(decisions.c.id)).first() is None
        refusals = [a["action"] for a in recent(conn, 100)].count("case.decision_refused")
    assert refusals == 2


def test_a_reveal_is_the_reviewers_on_every_server(engine: Engine, seeded: Seeded) -> None:
    """Two app processes on one database: a reveal on one is honoured by the other, for the
    reviewer who chose it (in any of their sessions), not for another reviewer."""
    first = client_for(engine, "rev")
    token = csrf(first.get("/console/queue").text)
    page = f"/console/cases/{seeded.csam_case}"
    assert "nothing to unblur" in first.post(f"{page}/reveal", data={"csrf_token": token}).text
    second = client_for(engine, "rev")  # another app, another session of the same reviewer
    assert "nothing to unblur" in second.get(page).text
    assert "nothing to unblur" not in client_for(engine, "rev2").get(page).text
    other = csrf(second.get("/console/queue").text)
    assert "nothing to unblur" not in second.post(f"{page}/reveal", data={"csrf_token": other}).text
    assert "nothing to unblur" not in first.get(page).text
    with engine.connect() as conn:
        logged = [a["action"] for a in recent(conn, 100)]
    assert "case.media_shielded" in logged


def test_locked_case_is_the_holders_alone(engine: Engine, seeded: Seeded) -> None:
    rev, rev2 = client_for(engine, "rev"), client_for(engine, "rev2")
    token = csrf(rev.get("/console/queue").text)
    rev.post(f"/console/cases/{seeded.ncii_case}/lock", data={"csrf_token": token})
    other = csrf(rev2.get("/console/queue").text)

    refused = rev2.post(f"/console/cases/{seeded.ncii_case}/lock", data={"csrf_token": other})
    assert refused.status_code == 409 and "Another reviewer holds this case" in refused.text
    assert "<td>rev</td>" in rev2.get("/console/queue").text
    attempt = decide(rev2, seeded.ncii_case, other, category="ncii", actions=["ban_community"])
    assert attempt.status_code == 409 and "lock it" in attempt.text
    with engine.begin() as conn:
        assert conn.execute(select(decisions)).first() is None


def test_roles_and_csrf(engine: Engine, seeded: Seeded) -> None:
    viewer = client_for(engine, "view")
    page = viewer.get(f"/console/cases/{seeded.csam_case}")
    assert page.status_code == 200 and "Take this case" not in page.text
    assert EMAIL not in page.text
    token = csrf(page.text)
    url = f"/console/cases/{seeded.csam_case}"
    assert viewer.post(f"{url}/lock", data={"csrf_token": token}).status_code == 403
    assert decide(viewer, seeded.csam_case, token).status_code == 403

    legal = client_for(engine, "law")
    assert EMAIL in legal.get(url).text

    rev = client_for(engine, "rev")
    assert rev.post(f"{url}/lock", data={}).status_code == 403
    assert rev.post(f"{url}/lock", data={"csrf_token": "forged"}).status_code == 403
    assert decide(rev, seeded.csam_case, "").status_code == 403


def test_decision_needs_a_legal_reference_for_illegal_content(
    engine: Engine, seeded: Seeded
) -> None:
    rev = client_for(engine, "rev")
    token = csrf(rev.get("/console/queue").text)
    rev.post(f"/console/cases/{seeded.csam_case}/lock", data={"csrf_token": token})
    missing = decide(rev, seeded.csam_case, token, legal_reference=" ")
    assert missing.status_code == 409 and "legal reference" in missing.text
    with engine.begin() as conn:
        status = conn.execute(select(cases.c.status).where(cases.c.id == seeded.csam_case))
        assert status.scalar_one() == "open"
        assert conn.execute(select(outbox)).first() is None


def test_appeal_decided_by_another_reviewer_reverses(engine: Engine, seeded: Seeded) -> None:
    rev, rev2 = client_for(engine, "rev"), client_for(engine, "rev2")
    token = csrf(rev.get("/console/queue").text)
    rev.post(f"/console/cases/{seeded.csam_case}/lock", data={"csrf_token": token})
    assert decide(rev, seeded.csam_case, token).status_code == 303
    with engine.begin() as conn:
        decision_id = conn.execute(select(decisions.c.id)).scalar_one()
        file_appeal(conn, decision_id, seeded.report_reference, "not what I meant", NOW)
        appeal_id = conn.execute(select(appeals.c.id)).scalar_one()

    own = rev.get("/console/appeals")
    assert "another reviewer must decide" in own.text
    refused = rev.post(
        f"/console/appeals/{appeal_id}/decide",
        data={"csrf_token": token, "reverse": "yes", "outcome": "reversed"},
    )
    assert refused.status_code == 409

    other = csrf(rev2.get("/console/appeals").text)
    done = rev2.post(
        f"/console/appeals/{appeal_id}/decide",
        data={"csrf_token": other, "reverse": "yes", "outcome": "the ban went too far"},
    )
    assert done.status_code == 200 and "undo ban_community" in done.text
    with engine.begin() as conn:
        reversed_by = conn.execute(select(decisions.c.reversed_by_appeal_id)).scalar_one()
        undo = [a for a in recent(conn, 50) if a["action"] == "appeal.actions_to_undo"]
    assert reversed_by == appeal_id
    assert undo and "ban_community" in undo[0]["details"]["kinds"]
