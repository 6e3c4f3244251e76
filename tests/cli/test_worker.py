"""``iolaus worker``: escalation on a timer, and the escalation delivered as a signed webhook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iolaus.cases.triage import Subject, merge
from iolaus.cli import app
from iolaus.model.cases import SubjectKind
from iolaus.model.signals import Category
from iolaus.store.engine import open_engine
from iolaus.store.migrate import ensure_schema
from tests.actions.test_webhooks import SECRET, Receiver

runner = CliRunner()


def _case_due_soon(db: str) -> None:
    """A CSAM case received 50 minutes ago: due in 10 minutes, past its escalation point."""
    engine = open_engine(db)
    ensure_schema(engine, auto_migrate=True)
    with engine.begin() as conn:
        merge(
            conn,
            Subject(SubjectKind.ACCOUNT, "account:w"),
            Category.CSAM,
            now=datetime.now(UTC) - timedelta(minutes=50),
            actor="test",
            new_reports=1,
        )
    engine.dispose()


def test_worker_escalates_without_webhooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IOLAUS_WEBHOOK_URL", raising=False)
    db = str(tmp_path / "w.db")
    _case_due_soon(db)
    result = runner.invoke(app, ["--db", db, "worker", "--once"])
    assert result.exit_code == 0, result.stderr
    assert "escalating only" in result.stdout
    assert "escalated 1 case(s), delivered 0" in result.stdout
    again = runner.invoke(app, ["--db", db, "worker", "--once"])
    assert "escalated 0 case(s)" in again.stdout  # each case escalates once


def test_worker_delivers_the_escalation_webhook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "w.db")
    _case_due_soon(db)
    receiver = Receiver()
    with receiver.running() as url:
        monkeypatch.setenv("IOLAUS_WEBHOOK_URL", url)
        monkeypatch.setenv("IOLAUS_WEBHOOK_SECRET", SECRET)
        result = runner.invoke(app, ["--db", db, "worker", "--once"])
    assert result.exit_code == 0, result.stderr
    assert "escalated 1 case(s), delivered 1 action(s)" in result.stdout
    (event,) = receiver.events.values()
    assert event["kind"] == "case_escalated" and event["payload"]["category"] == "csam"
