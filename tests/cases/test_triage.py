"""Triage: priority (CSAM always first), merging, deadlines, escalation, locks, timestamps and
cases opened from detection, on each database backend."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, insert, select

from iolaus.cases import (
    CaseLocked,
    TriagePolicy,
    escalate_due,
    get_case,
    lock,
    mark_decided,
    mark_viewed,
    open_cases_from_signals,
    priority,
    queue,
    unlock,
)
from iolaus.cases.store import events
from iolaus.cases.triage import Subject, merge
from iolaus.config import Settings
from iolaus.model.cases import LOCK_DURATION, CaseEvent, SubjectKind
from iolaus.model.signals import SEVERITY, Category
from iolaus.store.tables import cases, community_risk, outbox, signals
from tests import factories
from tests.cases.test_intake import seed_community

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def add(
    conn: Connection,
    key: str,
    category: Category,
    at: datetime = NOW,
    *,
    trusted: bool = False,
    community_id: int | None = None,
) -> int:
    kind = SubjectKind.COMMUNITY if community_id else SubjectKind.ACCOUNT
    subject = Subject(kind, key, community_id=community_id)
    return merge(conn, subject, category, now=at, actor="test", trusted=trusted, new_reports=1)


def user(conn: Connection, name: str) -> int:
    return factories.user(conn, name, password_hash="-", created_at=NOW)


def test_csam_outranks_any_other_case() -> None:
    weakest_csam = priority(Category.CSAM, members=0, trusted=False, items=1)
    strongest_other = priority(Category.NCII, members=10**7, trusted=True, items=10**6)
    assert weakest_csam > strongest_other


def test_reach_trust_and_volume_raise_priority() -> None:
    base = priority(Category.DOXXING, members=5, trusted=False, items=1)
    assert priority(Category.DOXXING, members=900, trusted=False, items=1) > base
    assert priority(Category.DOXXING, members=5, trusted=True, items=1) > base
    assert priority(Category.DOXXING, members=5, trusted=False, items=8) > base
    assert priority(Category.NCII, members=5, trusted=False, items=1) > base


def test_queue_order(engine: Engine) -> None:
    with engine.begin() as conn:
        old = add(conn, "account:old", Category.NCII, NOW - timedelta(hours=5))
        new = add(conn, "account:new", Category.NCII, NOW)
        trusted = add(conn, "account:tf", Category.NCII, NOW, trusted=True)
        minor = add(conn, "account:minor", Category.DOXXING, NOW - timedelta(days=2))
        csam = add(conn, "account:c", Category.CSAM, NOW)
        items = queue(conn, now=NOW)
        page = queue(conn, limit=2, offset=1, now=NOW)
    assert [i.id for i in items] == [csam, trusted, old, new, minor]
    assert items[0].seconds_left == 3600 and not items[0].overdue
    assert [i.id for i in page] == [trusted, old]


def test_merging_upgrades_the_category_and_only_brings_the_deadline_closer(engine: Engine) -> None:
    with engine.begin() as conn:
        first = add(conn, "account:1", Category.DOXXING, NOW)
        assert add(conn, "account:1", Category.CSAM, NOW + timedelta(hours=1)) == first
        add(conn, "account:1", Category.NCII, NOW + timedelta(hours=2))
        row = conn.execute(select(cases)).one()
        kinds = [e["kind"] for e in events(conn, first)]
    assert (row.category, row.severity, row.reports_count) == ("csam", SEVERITY[Category.CSAM], 3)
    assert row.deadline_at == NOW + timedelta(hours=2)  # the CSAM report's hour, not later
    assert kinds == ["received", "triaged", "report_merged", "report_merged"]


def test_policy_from_settings() -> None:
    settings = Settings.load({"IOLAUS_CASE_DEADLINES": "csam=30m,other=2d"})
    policy = TriagePolicy.from_settings(settings)
    assert policy.deadline(Category.CSAM) == timedelta(minutes=30)
    assert policy.deadline(Category.NCII) == timedelta(hours=24)
    assert policy.deadline(Category.DOXXING) == timedelta(days=2)
    for bad in ("csam=soon", "nope=1h", "csam=0h"):
        with pytest.raises(ValueError):
            Settings.load({"IOLAUS_CASE_DEADLINES": bad})


def test_escalation_once_when_the_deadline_nears(engine: Engine) -> None:
    with engine.begin() as conn:
        csam = add(conn, "account:c", Category.CSAM, NOW)  # due 13:00, escalates from 12:45
        other = add(conn, "account:d", Category.DOXXING, NOW)  # due in 72 h
    assert escalate_due(engine, NOW + timedelta(minutes=40)) == []
    escalated = escalate_due(engine, NOW + timedelta(minutes=46))
    assert [c.id for c in escalated] == [csam]
    assert escalated[0].escalated_at == NOW + timedelta(minutes=46)
    assert escalate_due(engine, NOW + timedelta(minutes=50)) == []
    with engine.connect() as conn:
        assert CaseEvent.ESCALATED in [e["kind"] for e in events(conn, csam)]
        assert get_case(conn, other).escalated_at is None  # type: ignore[union-attr]
        webhooks = conn.execute(select(outbox.c.kind, outbox.c.payload)).all()
    # One signed webhook per escalation, through the outbox like decisions' actions.
    assert [(kind, json.loads(payload)["case_id"]) for kind, payload in webhooks] == [
        ("case_escalated", csam)
    ]


def test_a_lock_excludes_other_reviewers_until_it_expires(engine: Engine) -> None:
    with engine.begin() as conn:
        case_id = add(conn, "account:1", Category.NCII)
        alice, bob = user(conn, "alice"), user(conn, "bob")
        assert lock(conn, case_id, alice, NOW) == NOW + LOCK_DURATION
        with pytest.raises(CaseLocked):
            lock(conn, case_id, bob, NOW + timedelta(minutes=5))
        lock(conn, case_id, alice, NOW + timedelta(minutes=5))  # the holder extends
        assert not unlock(conn, case_id, bob, NOW)
        later = NOW + timedelta(minutes=5) + LOCK_DURATION
        assert lock(conn, case_id, bob, later) == later + LOCK_DURATION
        assert get_case(conn, case_id, now=later).locked_by == bob  # type: ignore[union-attr]


def test_steps_are_timestamped_once_and_decided_cases_leave_the_queue(engine: Engine) -> None:
    with engine.begin() as conn:
        case_id = add(conn, "account:1", Category.NCII)
        assert mark_viewed(conn, case_id, "user:1", NOW + timedelta(minutes=1))
        assert not mark_viewed(conn, case_id, "user:2", NOW + timedelta(minutes=2))
        mark_decided(conn, case_id, "user:1", NOW + timedelta(minutes=3))
        row = conn.execute(select(cases)).one()
        assert row.first_viewed_at == NOW + timedelta(minutes=1)
        assert row.decided_at == NOW + timedelta(minutes=3)
        assert queue(conn, now=NOW) == []
        with pytest.raises(CaseLocked):
            lock(conn, case_id, user(conn, "carol"), NOW)


def _rate(conn: Connection, community: int, band: str, categories: list[str]) -> None:
    conn.execute(
        insert(community_risk).values(
            community_id=community,
            score=0.9,
            band=band,
            reasons=json.dumps([]),
            stats="{}",
            computed_at=NOW,
        )
    )
    for n, category in enumerate(categories):
        conn.execute(
            insert(signals).values(
                dedupe_key=f"{community}-{n}",
                detector="rules",
                category=category,
                severity=SEVERITY[Category(category)],
                score=0.9,
                explanation="test",
                community_id=community,
                created_at=NOW,
            )
        )


def test_risky_communities_wait_as_cases(engine: Engine) -> None:
    with engine.begin() as conn:
        risky = seed_community(conn, "111", members=40)["community"]
        calm = seed_community(conn, "222")["community"]
        _rate(conn, risky, "critical", ["ncii", "ncii", "csam"])
        _rate(conn, calm, "watch", ["doxxing"])
    opened = open_cases_from_signals(engine, NOW)
    assert open_cases_from_signals(engine, NOW) == []  # nothing changed: nothing logged
    with engine.connect() as conn:
        (item,) = queue(conn, now=NOW)
        assert opened == [item.id]
        assert (item.community_id, item.category, item.signals_count) == (risky, "csam", 3)
        assert item.community_name == "server 111"
        assert item.priority == priority(Category.CSAM, members=40, trusted=False, items=3)


def test_two_first_reports_at_the_same_instant_share_one_case(postgres_url: str) -> None:
    """Two transactions each find no open case and insert one: the unique index on open
    subjects refuses the second insert, which then merges into the first case."""
    import threading

    from iolaus.store.engine import open_engine
    from iolaus.store.migrate import ensure_schema

    engine = open_engine(postgres_url)
    ensure_schema(engine, auto_migrate=True)
    first_inserted = threading.Event()
    results: dict[str, int] = {}

    def first() -> None:
        with engine.begin() as conn:
            results["first"] = add(conn, "account:race", Category.NCII)
            first_inserted.set()
            threading.Event().wait(0.5)  # hold the transaction open while the second arrives

    def second() -> None:
        first_inserted.wait(5)
        with engine.begin() as conn:
            results["second"] = add(conn, "account:race", Category.CSAM)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results["first"] == results["second"]
    with engine.connect() as conn:
        (case,) = conn.execute(select(cases.c.reports_count, cases.c.category)).all()
    assert tuple(case) == (2, "csam")  # the second report merged and raised the category
    engine.dispose()
