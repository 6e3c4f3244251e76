"""The dispatcher end to end: outbox rows delivered to a local receiver that verifies signatures
and acts once per idempotency key; retries, permanent failures, crashes, the loop and the CLI.

Time is injected (``now``), so backoffs and leases are crossed without sleeping."""

from __future__ import annotations

import json
import random
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

import iolaus.cli.actions  # noqa: F401  (registers `iolaus actions` until the lead wires it in)
from iolaus.actions import outbox
from iolaus.actions.delivery import Outcome, Verdict
from iolaus.actions.dispatcher import DispatchReport, dispatch_once, run
from iolaus.actions.enqueue import enqueue_actions
from iolaus.actions.outbox import Claimed
from iolaus.actions.webhooks import Endpoint, WebhookSender
from iolaus.cli.main import app
from iolaus.store import audit
from iolaus.store.engine import open_engine
from iolaus.store.migrate import ensure_schema
from iolaus.store.tables import communities
from tests.actions.test_outbox import NOW, seed
from tests.actions.test_webhooks import SECRET, Receiver

LEASE = timedelta(minutes=5)


def sender_to(url: str, timeout: float = 2.0) -> WebhookSender:
    return WebhookSender([Endpoint(url, SECRET.encode())], timeout=timeout)


def ban(engine: Engine) -> tuple[int, int]:
    """A decision banning a community; returns (community id, outbox id)."""
    with engine.begin() as conn:
        community, decision = seed(conn)
        (action,) = enqueue_actions(
            conn, decision, [("ban_community", {"community_id": community})], NOW
        )
    return community, action


def row(engine: Engine, action: int) -> dict:
    with engine.connect() as conn:
        return next(r for r in outbox.list_actions(conn) if r["id"] == action)


def test_an_action_is_delivered_once_and_the_community_is_banned(engine: Engine) -> None:
    community, action = ban(engine)
    with engine.connect() as conn:
        status = conn.execute(select(communities.c.status).where(communities.c.id == community))
        assert status.scalar() == "banned"
    receiver = Receiver()
    with receiver.running() as url, sender_to(url) as sender:
        report = dispatch_once(engine, NOW, sender)
        later = dispatch_once(engine, NOW + timedelta(days=1), sender)
    assert (report.claimed, report.delivered, later.claimed) == (1, 1, 0)
    assert receiver.rejected == [] and len(receiver.seen) == 1
    (event,) = receiver.events.values()
    assert event["kind"] == "ban_community" and event["id"] == action
    assert event["payload"]["external_id"] == "900"
    delivered = row(engine, action)
    assert delivered["status"] == "delivered" and delivered["delivered_at"] == NOW.isoformat()


def test_a_server_error_is_retried_later_with_the_same_key(engine: Engine) -> None:
    _, action = ban(engine)
    receiver = Receiver(script=[500])
    rng = random.Random(1)
    with receiver.running() as url, sender_to(url) as sender:
        first = dispatch_once(engine, NOW, sender, rng=rng)
        retry_at = datetime.fromisoformat(row(engine, action)["next_attempt_at"])
        too_early = dispatch_once(engine, retry_at - timedelta(seconds=1), sender, rng=rng)
        second = dispatch_once(engine, retry_at, sender, rng=rng)
    assert first.retrying == 1 and "HTTP 500" in (first.results[0].error or "")
    assert NOW + outbox.BACKOFF_BASE / 2 <= retry_at <= NOW + outbox.BACKOFF_BASE
    assert too_early.claimed == 0 and second.delivered == 1
    assert len(receiver.seen) == 2 and len(set(receiver.seen)) == 1  # same key both times
    assert len(receiver.events) == 1
    assert row(engine, action)["attempts"] == 2


def test_a_client_error_fails_permanently_until_retried_by_hand(engine: Engine) -> None:
    _, action = ban(engine)
    receiver = Receiver(script=[400])
    with receiver.running() as url, sender_to(url) as sender:
        report = dispatch_once(engine, NOW, sender)
        nothing = dispatch_once(engine, NOW + timedelta(days=30), sender)
        failed = row(engine, action)
        with engine.begin() as conn:
            outbox.retry(conn, action, NOW + timedelta(days=30), "alice")
        again = dispatch_once(engine, NOW + timedelta(days=30), sender)
    assert report.failed == 1 and nothing.claimed == 0
    assert failed["status"] == "failed" and failed["last_error"].endswith("HTTP 400")
    assert again.delivered == 1 and len(receiver.events) == 1
    with engine.connect() as conn:
        actions = [e["action"] for e in audit.recent(conn)]
    # Once its only action is delivered, the decision's case is stamped actioned.
    assert actions == ["case.actioned", "action.retry", "action.failed", "community.ban"]


def test_a_timeout_is_retried_and_the_receiver_acts_once(engine: Engine) -> None:
    _, action = ban(engine)
    receiver = Receiver(script=["stall"], stall=0.6)
    with receiver.running() as url, sender_to(url, timeout=0.2) as sender:
        first = dispatch_once(engine, NOW, sender)
        second = dispatch_once(engine, NOW + outbox.BACKOFF_BASE, sender)
    assert first.retrying == 1 and "timed out" in (first.results[0].error or "")
    assert second.delivered == 1
    # The stalled request did arrive: the receiver saw the key twice and acted once.
    assert len(receiver.seen) == 2 and len(receiver.events) == 1
    assert row(engine, action)["status"] == "delivered"


def test_a_crash_between_claim_and_delivery_loses_nothing(engine: Engine) -> None:
    _, action = ban(engine)
    with engine.begin() as conn:
        (lost,) = outbox.claim_due(conn, NOW, ttl=LEASE)  # the process dies here
    receiver = Receiver()
    with receiver.running() as url, sender_to(url) as sender:
        during = dispatch_once(engine, NOW + LEASE - timedelta(seconds=1), sender)
        after = dispatch_once(engine, NOW + LEASE, sender)
    assert during.claimed == 0 and after.delivered == 1
    assert receiver.seen == [lost.idempotency_key]
    assert row(engine, action)["status"] == "delivered"


def test_a_crash_after_sending_is_deduplicated_by_the_receiver(engine: Engine) -> None:
    _, action = ban(engine)
    receiver = Receiver()
    with receiver.running() as url, sender_to(url) as sender:
        with engine.begin() as conn:
            (first,) = outbox.claim_due(conn, NOW, ttl=LEASE)
        assert sender(first).verdict is Verdict.DELIVERED  # then dies before recording it
        report = dispatch_once(engine, NOW + LEASE, sender)
    assert report.delivered == 1
    assert receiver.seen == [first.idempotency_key] * 2 and len(receiver.events) == 1
    with engine.begin() as conn:  # the first dispatcher's late outcome changes nothing
        assert outbox.mark_failed(conn, first, "late", None) is None
    assert row(engine, action)["status"] == "delivered"


def test_attempts_are_bounded(sqlite_engine: Engine) -> None:
    _, action = ban(sqlite_engine)
    calls: list[str] = []

    def flaky(claim: Claimed) -> Outcome:
        calls.append(claim.idempotency_key)
        return Outcome(Verdict.RETRY, "x: HTTP 503")

    when = NOW
    for _ in range(5):
        dispatch_once(sqlite_engine, when, flaky, max_attempts=3)
        when += outbox.BACKOFF_CAP
    assert len(calls) == 3 and len(set(calls)) == 1
    assert row(sqlite_engine, action)["status"] == "failed"


def test_a_sender_that_raises_is_retried_without_leaking_its_message(
    sqlite_engine: Engine,
) -> None:
    _, action = ban(sqlite_engine)

    def broken(claim: Claimed) -> Outcome:
        raise RuntimeError(f"boom with {SECRET}")

    report = dispatch_once(sqlite_engine, NOW, broken)
    assert report.retrying == 1
    assert row(sqlite_engine, action)["last_error"] == "sender error: RuntimeError"


def test_run_drains_a_backlog_larger_than_a_batch_then_stops(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        _, decision = seed(conn)
        for n in range(5):
            outbox.enqueue(conn, decision, "remove_content", {"message_id": str(n)}, NOW)
    stop = threading.Event()
    passes: list[int] = []

    def on_report(report: DispatchReport) -> None:
        passes.append(report.claimed)
        if report.claimed == 0:
            stop.set()

    receiver = Receiver()
    with receiver.running() as url, sender_to(url) as sender:
        worker = threading.Thread(
            target=run,
            args=(sqlite_engine, stop, 0.05, sender),
            kwargs={"limit": 2, "on_report": on_report, "clock": lambda: NOW},
        )
        worker.start()
        worker.join(timeout=10)
        stop.set()
    assert not worker.is_alive()
    assert passes == [2, 2, 1, 0] and len(receiver.events) == 5


# -- the CLI -------------------------------------------------------------------------------------


def test_cli_list_dispatch_and_retry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "a.db"
    engine = open_engine(f"sqlite:///{db}")
    ensure_schema(engine, auto_migrate=True)
    _, action = ban(engine)
    engine.dispose()
    runner = CliRunner()

    def cli(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, ["--db", str(db), "actions", *args])
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = cli("list", "--json")
    assert code == 0 and json.loads(out)[0]["status"] == "pending"

    code, _, err = cli("dispatch", "--once")
    assert code == 1 and "IOLAUS_WEBHOOK_URL" in err

    receiver = Receiver(script=[422])
    with receiver.running() as url:
        monkeypatch.setenv("IOLAUS_WEBHOOK_URL", url)
        monkeypatch.setenv("IOLAUS_WEBHOOK_SECRET", SECRET)
        code, out, _ = cli("dispatch", "--once")
        assert code == 0 and f"action {action} ban_community attempt 1: failed" in out
        assert "0 delivered" in out and "1 failed" in out
        assert "url-token" not in out and SECRET not in out

        code, out, _ = cli("list", "--status", "failed")
        assert code == 0 and "HTTP 422" in out

        code, out, _ = cli("retry", str(action))
        assert code == 0 and "queued again" in out
        code, _, err = cli("retry", str(action))
        assert code == 1 and "not failed" in err

        code, out, _ = cli("dispatch", "--once")
        assert code == 0 and "1 delivered" in out
    assert len(receiver.events) == 1
