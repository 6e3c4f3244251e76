"""The outbox and the action handlers on both backends: enqueue once, local effects in the
decision's transaction, leases, backoff, permanent failure and retry by hand."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, func, insert, select

from iolaus.actions import outbox
from iolaus.actions.enqueue import enqueue_actions
from iolaus.actions.kinds import InvalidAction, handler_for, kind_names
from iolaus.actions.outbox import OutboxStatus
from iolaus.store import audit
from iolaus.store.tables import audit_log, cases, communities, decisions, platforms
from iolaus.store.tables import outbox as outbox_table

NOW = datetime(2025, 7, 1, 12, tzinfo=UTC)


def seed(conn: Connection, external_id: str = "900") -> tuple[int, int]:
    """A community with an open case and a decision on it; returns (community id, decision id)."""
    platform = conn.execute(select(platforms.c.id).where(platforms.c.name == "discord")).scalar()
    if platform is None:
        platform = conn.execute(insert(platforms).values(name="discord")).inserted_primary_key[0]
    community = conn.execute(
        insert(communities).values(
            platform_id=platform,
            external_id=external_id,
            name="tribs",
            status="active",
            observed_at=NOW,
        )
    ).inserted_primary_key[0]
    case = conn.execute(
        insert(cases).values(
            subject_kind="community",
            subject_key=f"community:{community}",
            community_id=community,
            category="ncii",
            severity=3,
            priority=1.0,
            status="decided",
            received_at=NOW,
            deadline_at=NOW + timedelta(days=1),
        )
    ).inserted_primary_key[0]
    decision = conn.execute(
        insert(decisions).values(
            case_id=case, violation=True, explanation="shared without consent", decided_at=NOW
        )
    ).inserted_primary_key[0]
    return community, decision


def outbox_count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(outbox_table)).scalar_one()


def community_status(conn: Connection, community: int) -> str:
    return conn.execute(select(communities.c.status).where(communities.c.id == community)).scalar()


def test_enqueue_twice_inserts_once(engine: Engine) -> None:
    with engine.begin() as conn:
        _, decision = seed(conn)
        payload = {"message_ids": ["1", "2"]}
        first = outbox.enqueue(conn, decision, "remove_content", payload, NOW)
        again = outbox.enqueue(conn, decision, "remove_content", dict(payload), NOW)
        other = outbox.enqueue(conn, decision, "remove_content", {"message_ids": ["3"]}, NOW)
        assert first == again != other
        assert outbox_count(conn) == 2
        key = outbox.idempotency_key(decision, "remove_content", outbox.canonical(payload))
        row = conn.execute(select(outbox_table).where(outbox_table.c.id == first)).one()
    assert row.idempotency_key == key and len(key) == 64
    assert row.status == "pending" and row.attempts == 0 and row.next_attempt_at == NOW


def test_enqueue_actions_bans_the_community_in_the_decision_transaction(engine: Engine) -> None:
    with engine.begin() as conn:
        community, decision = seed(conn)
        actions = [
            ("ban_community", {"community_id": community}),
            ("watch_successors", {"community_id": community}),
            ("preserve_evidence", {"community_id": community, "channels": ["ex"]}),
        ]
        ids = enqueue_actions(conn, decision, actions, NOW)
        assert enqueue_actions(conn, decision, actions, NOW) == ids  # a retried call adds nothing
    with engine.connect() as conn:
        assert community_status(conn, community) == "banned"
        rows = outbox.list_actions(conn)
        entries = audit.recent(conn)
    assert len(ids) == 3 and len(rows) == 3
    ban = next(r for r in rows if r["kind"] == "ban_community")
    # The receiver gets the platform's own ids, which is what it bans by.
    assert ban["payload"] == {
        "community_id": community,
        "platform": "discord",
        "external_id": "900",
    }
    assert sorted(e["action"] for e in entries) == ["community.ban", "community.watch_successors"]
    assert all(e["actor"] == f"decision:{decision}" for e in entries)


def test_a_rolled_back_decision_leaves_no_action_and_no_ban(engine: Engine) -> None:
    with engine.begin() as conn:
        community, decision = seed(conn)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        enqueue_actions(conn, decision, [("ban_community", {"community_id": community})], NOW)
        raise RuntimeError("the decision failed after its actions were written")
    with engine.connect() as conn:
        assert outbox_count(conn) == 0
        assert community_status(conn, community) == "active"
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar_one() == 0


def test_invalid_actions_are_refused_before_anything_is_written(engine: Engine) -> None:
    with engine.begin() as conn:
        _, decision = seed(conn)
        with pytest.raises(InvalidAction, match="no community 999"):
            enqueue_actions(conn, decision, [("ban_community", {"community_id": 999})], NOW)
        with pytest.raises(InvalidAction, match="integer community_id"):
            enqueue_actions(conn, decision, [("watch_successors", {})], NOW)
        with pytest.raises(InvalidAction, match="unknown action"):
            handler_for("launch_missiles")
        assert outbox_count(conn) == 0


def test_every_action_kind_has_a_handler() -> None:
    assert kind_names() == (
        "remove_content",
        "ban_community",
        "ban_accounts",
        "preserve_evidence",
        "report_ncmec",
        "add_to_bank",
        "watch_successors",
    )
    assert all(handler_for(kind).kind == kind for kind in kind_names())


def test_claim_leases_due_rows_and_a_second_claim_gets_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        _, decision = seed(conn)
        ids = [outbox.enqueue(conn, decision, "remove_content", {"n": n}, NOW) for n in range(3)]
        outbox.enqueue(conn, decision, "remove_content", {"n": "later"}, NOW + timedelta(hours=1))
    with engine.begin() as conn:
        first = outbox.claim_due(conn, NOW, limit=2, ttl=timedelta(minutes=5))
    with engine.begin() as conn:
        second = outbox.claim_due(conn, NOW, limit=10)
        third = outbox.claim_due(conn, NOW, limit=10)
    assert [c.id for c in first] == ids[:2] and [c.id for c in second] == ids[2:]
    assert third == [] and all(c.attempts == 1 for c in first + second)
    with engine.connect() as conn:
        rows = {r["id"]: r for r in outbox.list_actions(conn)}
    assert rows[ids[0]]["status"] == "pending"
    assert rows[ids[0]]["next_attempt_at"] == (NOW + timedelta(minutes=5)).isoformat()
    with engine.begin() as conn:  # the lease runs out: claimable again, same key
        again = outbox.claim_due(conn, NOW + timedelta(minutes=5), limit=10)
    assert [c.id for c in again] == ids
    assert again[0].idempotency_key == first[0].idempotency_key and again[0].attempts == 2


def test_concurrent_claims_on_postgresql_skip_locked_rows(postgres_url: str) -> None:
    from iolaus.store.engine import open_engine
    from iolaus.store.migrate import ensure_schema

    eng = open_engine(postgres_url)
    try:
        ensure_schema(eng, auto_migrate=True)
        with eng.begin() as conn:
            _, decision = seed(conn)
            for n in range(4):
                outbox.enqueue(conn, decision, "remove_content", {"n": n}, NOW)
        with eng.connect() as a, eng.connect() as b:
            first = outbox.claim_due(a, NOW, limit=2)  # still uncommitted: rows locked
            second = outbox.claim_due(b, NOW, limit=4)  # must not wait, must not overlap
            a.commit()
            b.commit()
        assert len(first) == 2 and len(second) == 2
        assert not {c.id for c in first} & {c.id for c in second}
    finally:
        eng.dispose()


def test_failures_back_off_then_fail_and_a_stale_lease_changes_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        _, decision = seed(conn)
        action = outbox.enqueue(conn, decision, "report_ncmec", {"case": 1}, NOW)
    with engine.begin() as conn:
        (claim,) = outbox.claim_due(conn, NOW)
        assert outbox.mark_failed(conn, claim, "a: HTTP 503", NOW + timedelta(seconds=30)) == (
            OutboxStatus.PENDING
        )
    with engine.begin() as conn:
        assert outbox.claim_due(conn, NOW + timedelta(seconds=29)) == []
        (stale,) = outbox.claim_due(conn, NOW + timedelta(seconds=30), ttl=timedelta(seconds=1))
        # Its lease runs out and another dispatcher takes the action over: the first one's
        # late outcome must not overwrite the second one's.
        (claim,) = outbox.claim_due(conn, NOW + timedelta(seconds=31))
        assert outbox.mark_failed(conn, stale, "late", None) is None
        status = outbox.mark_failed(conn, claim, "a: HTTP 503", NOW, max_attempts=3)
    assert status is OutboxStatus.FAILED
    with engine.connect() as conn:
        (row,) = outbox.list_actions(conn, OutboxStatus.FAILED)
        assert outbox.list_actions(conn, OutboxStatus.PENDING) == []
    assert row["id"] == action and row["attempts"] == 3 and row["last_error"] == "a: HTTP 503"


def test_retry_by_hand_requeues_a_failed_action_and_is_audited(engine: Engine) -> None:
    with engine.begin() as conn:
        _, decision = seed(conn)
        action = outbox.enqueue(conn, decision, "add_to_bank", {"bank": "NCII"}, NOW)
    with engine.begin() as conn:
        with pytest.raises(outbox.NotRetriable, match="is pending, not failed"):
            outbox.retry(conn, action, NOW, "alice")
        with pytest.raises(outbox.NotRetriable, match="no action 999"):
            outbox.retry(conn, 999, NOW, "alice")
        (claim,) = outbox.claim_due(conn, NOW)
        outbox.mark_failed(conn, claim, "a: HTTP 400", None)
    later = NOW + timedelta(days=2)
    with engine.begin() as conn:
        outbox.retry(conn, action, later, "alice")
        (claim,) = outbox.claim_due(conn, later)
        (entry,) = audit.recent(conn)
    assert claim.id == action and claim.attempts == 1
    assert (entry["actor"], entry["action"], entry["target"]) == (
        "alice",
        "action.retry",
        f"outbox:{action}",
    )


def test_backoff_doubles_with_jitter_up_to_a_cap() -> None:
    rng = random.Random(5)
    for attempts in range(1, 8):
        step = outbox.BACKOFF_BASE * 2 ** (attempts - 1)
        delay = outbox.backoff(attempts, rng)
        assert step / 2 <= delay <= step
    assert outbox.backoff(60, rng) <= outbox.BACKOFF_CAP
    spread = {outbox.backoff(3, rng) for _ in range(20)}
    assert len(spread) > 10  # jitter: failures that happened together do not return together


def test_payload_is_stored_as_canonical_json(engine: Engine) -> None:
    with engine.begin() as conn:
        _, decision = seed(conn)
        action = outbox.enqueue(conn, decision, "ban_accounts", {"b": 1, "a": ["x"]}, NOW)
        text = conn.execute(
            select(outbox_table.c.payload).where(outbox_table.c.id == action)
        ).scalar_one()
    assert text == '{"a":["x"],"b":1}' and json.loads(text) == {"a": ["x"], "b": 1}
