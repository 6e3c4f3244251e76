"""Every entry point runs with the operator's settings: the same deadlines and escalation
margins (web reports, import, ``cases`` commands, the worker) and the same rules and lexicon
(``iolaus scan`` and the detection that runs on every import)."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from iolaus.cases import triage
from iolaus.cli import app
from iolaus.config import Settings
from iolaus.model.access import Role
from iolaus.model.cases import SubjectKind
from iolaus.model.signals import Category, RuleRef, refs_from_json
from iolaus.store.engine import open_engine
from iolaus.store.migrate import ensure_schema
from iolaus.store.tables import cases, signals
from iolaus.store.tokens import create_token
from iolaus.web import create_app
from tests.exports import ALICE, BOB, msg, write_export

runner = CliRunner()
RISKY = "qui a des nudes de son ex ? envoie en dm"
GUILD = {"id": "900", "name": "Tribs", "iconUrl": None}
CUSTOM_RULES = """
[[rule]]
name = "custom-blue-banana"
category = "doxxing"
severity = 3
all = ['text contains "blue banana"']
explain = "the operator's phrase"
"""


def cli(db: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", str(db), *args])
    return result.exit_code, result.stdout, result.stderr


def risky_export(folder: Path, name: str = "bad.json", first: int = 0) -> Path:
    folder.mkdir(exist_ok=True)
    messages = [msg(n, ALICE if n % 2 else BOB, RISKY) for n in range(first, first + 12)]
    return write_export(folder / name, messages, guild=GUILD, channel_name="nudes-ex")


def queue(db: Path) -> list[dict[str, object]]:
    code, out, err = cli(db, "cases", "queue", "--json")
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


# -- defect 1: deadlines and escalation margins -------------------------------------------------


def test_import_and_open_from_signals_use_the_configured_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOLAUS_CASE_DEADLINES", "ncii=72h")
    db = tmp_path / "c.db"
    assert cli(db, "import", "discord-export", str(risky_export(tmp_path / "x")))[0] == 0
    (case,) = queue(db)
    assert case["category"] == "ncii" and 71 * 3600 < case["seconds_left"] <= 72 * 3600  # type: ignore[operator]
    assert cli(db, "cases", "open-from-signals")[0] == 0
    (case,) = queue(db)
    assert 71 * 3600 < case["seconds_left"] <= 72 * 3600  # type: ignore[operator]


def _case_due_in_ten_minutes(db: Path) -> None:
    """A CSAM case opened 50 minutes ago under the default one-hour deadline."""
    engine = open_engine(f"sqlite:///{db}")
    ensure_schema(engine, auto_migrate=True)
    with engine.begin() as conn:
        triage.merge(
            conn,
            triage.Subject(SubjectKind.ACCOUNT, "account:x"),
            Category.CSAM,
            now=datetime.now(UTC) - timedelta(minutes=50),
            actor="test",
            new_reports=1,
        )
    engine.dispose()


def _escalated(out: str, command: tuple[str, ...]) -> int:
    if command[0] == "worker":
        found = re.search(r"escalated (\d+) case", out)
        assert found, out
        return int(found.group(1))
    return len(json.loads(out))


@pytest.mark.parametrize("command", [("cases", "escalate", "--json"), ("worker", "--once")])
def test_escalation_uses_the_configured_margin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    monkeypatch.delenv("IOLAUS_WEBHOOK_URL", raising=False)
    db = tmp_path / "e.db"
    _case_due_in_ten_minutes(db)
    monkeypatch.setenv("IOLAUS_CASE_ESCALATE_BEFORE", "0.1")  # 6 minutes before a CSAM deadline
    code, out, err = cli(db, *command)
    assert code == 0, err
    assert _escalated(out, command) == 0
    monkeypatch.setenv("IOLAUS_CASE_ESCALATE_BEFORE", "0.25")  # 15 minutes: due now
    code, out, err = cli(db, *command)
    assert code == 0, err
    assert _escalated(out, command) == 1


def test_detection_on_import_keeps_the_deadline_a_web_report_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOLAUS_CASE_DEADLINES", "ncii=72h")
    db = tmp_path / "w.db"
    engine = open_engine(f"sqlite:///{db}")
    ensure_schema(engine, auto_migrate=True)
    with engine.begin() as conn:
        token = create_token(conn, "flagger", Role.REPORTER)[1]
    from fastapi.testclient import TestClient

    client = TestClient(create_app(engine, Settings.load(os.environ)))
    notice = {
        "target_kind": "community",
        "target": "https://discord.com/channels/900",
        "category": "ncii",
        "explanation": "Photos of former partners traded without their consent.",
        "good_faith": True,
    }
    answer = client.post("/api/reports", json=notice, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 201, answer.text
    with engine.connect() as conn:
        reported = conn.execute(select(cases.c.id, cases.c.deadline_at)).one()
    assert cli(db, "import", "discord-export", str(risky_export(tmp_path / "x")))[0] == 0
    with engine.connect() as conn:
        after = conn.execute(select(cases.c.id, cases.c.deadline_at)).one()
    engine.dispose()
    assert after == reported  # one case, its 72 hours untouched by the detection merge


# -- defect 2: rules and lexicon ---------------------------------------------------------------


def _rules_fired(db: Path) -> set[str]:
    engine = open_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        refs = conn.execute(select(signals.c.refs)).scalars()
        fired = {
            ref.name for row in refs for ref in refs_from_json(row) if isinstance(ref, RuleRef)
        }
    engine.dispose()
    return fired


def test_import_detects_with_the_operator_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(CUSTOM_RULES, encoding="utf-8")
    monkeypatch.setenv("IOLAUS_RULES", str(rules))
    db = tmp_path / "r.db"
    exports = tmp_path / "x"
    exports.mkdir()
    phrase = [msg(n, ALICE, "a blue banana for everyone tonight") for n in range(3)]
    write_export(exports / "a.json", phrase, guild=GUILD)
    assert cli(db, "import", "discord-export", str(exports))[0] == 0
    assert _rules_fired(db) == {"custom-blue-banana"}
    # More of the same community arrives: its detection runs again, with the same rules.
    write_export(exports / "b.json", [msg(n, BOB, RISKY) for n in range(10, 15)], guild=GUILD)
    assert cli(db, "import", "discord-export", str(exports))[0] == 0
    assert _rules_fired(db) == {"custom-blue-banana"}
    assert cli(db, "scan", "--json")[0] == 0
    assert _rules_fired(db) == {"custom-blue-banana"}
