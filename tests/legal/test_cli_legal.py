"""``iolaus legal sor export`` and ``iolaus legal sor validate``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select
from typer.testing import CliRunner

import iolaus.cli.legal  # noqa: F401  (registers the commands until the lead wires the module)
from iolaus.cli.main import app
from iolaus.legal.dsa import create_statements, validate_statement
from iolaus.store.engine import open_engine
from iolaus.store.migrate import ensure_schema
from iolaus.store.tables import statements_of_reasons
from tests.legal.test_dsa import seed, valid_body

runner = CliRunner()
CREATED = datetime(2026, 1, 10, 12, tzinfo=UTC)


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", str(db), *args])
    return result.exit_code, result.stdout, result.stderr


def database(tmp_path: Path, extra: list[dict[str, Any]]) -> tuple[Path, Engine]:
    """A database with one decision's statement plus ``extra`` statement bodies."""
    db = tmp_path / "legal.db"
    engine = open_engine(f"sqlite:///{db}")
    ensure_schema(engine, auto_migrate=True)
    with engine.begin() as conn:
        seeded = seed(conn)
        create_statements(conn, seeded.decision_id, now=CREATED)
        for body in extra:
            conn.execute(
                insert(statements_of_reasons).values(
                    decision_id=seeded.decision_id,
                    puid=body["puid"],
                    body=json.dumps(body),
                    created_at=CREATED,
                )
            )
    return db, engine


def bodies(count: int) -> list[dict[str, Any]]:
    return [{**valid_body(), "puid": f"iolaus-test-{i:04d}"} for i in range(count)]


def test_export_json_lines_marks_exported(tmp_path: Path) -> None:
    db, engine = database(tmp_path, bodies(2))
    code, out, err = run(db, "legal", "sor", "export")
    assert code == 0 and "3 statements exported" in err
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 3 and all(validate_statement(body) == [] for body in lines)
    assert lines[1]["puid"] == "iolaus-test-0000"
    with engine.connect() as conn:
        assert all(conn.execute(select(statements_of_reasons.c.exported_at)).scalars())

    code, out, _ = run(db, "legal", "sor", "export")
    assert code == 0 and out == ""  # nothing new
    code, out, _ = run(db, "legal", "sor", "export", "--since", "2026-01-10")
    assert code == 0 and len(out.splitlines()) == 3
    code, out, _ = run(db, "legal", "sor", "export", "--since", "2026-01-11")
    assert code == 0 and out == ""
    code, _, err = run(db, "legal", "sor", "export", "--since", "yesterday")
    assert code == 1 and "not a date" in err
    engine.dispose()


def test_export_batches_of_at_most_100(tmp_path: Path) -> None:
    db, engine = database(tmp_path, bodies(204))
    target = tmp_path / "batches.jsonl"
    code, out, _ = run(db, "legal", "sor", "export", "--batch", "--out", str(target))
    assert code == 0 and out == ""
    batches = [json.loads(line) for line in target.read_text().splitlines()]
    assert [list(b) for b in batches] == [["statements"]] * 3
    assert [len(b["statements"]) for b in batches] == [100, 100, 5]
    puids = [s["puid"] for b in batches for s in b["statements"]]
    assert len(set(puids)) == 205

    code, out, _ = run(db, "legal", "sor", "validate", str(target))
    assert code == 0 and "205 statements, all valid" in out
    engine.dispose()


def test_export_refuses_an_invalid_statement_and_marks_nothing(tmp_path: Path) -> None:
    broken = {**valid_body(), "puid": "iolaus-broken", "category": "STATEMENT_CATEGORY_SPAM"}
    db, engine = database(tmp_path, [broken])
    target = tmp_path / "out.jsonl"
    code, out, err = run(db, "legal", "sor", "export", "--out", str(target))
    assert code == 1 and "1 of 2 statements are invalid: nothing exported" in err
    assert "statement 1 (puid iolaus-broken)" in out and "STATEMENT_CATEGORY_SPAM" in out
    assert not target.exists()
    with engine.connect() as conn:
        assert not any(conn.execute(select(statements_of_reasons.c.exported_at)).scalars())
    engine.dispose()


def test_validate_reports_problems_per_statement(tmp_path: Path) -> None:
    db = tmp_path / "unused.db"
    good, bad = bodies(2)
    bad["content_date"] = "2026-13-01"
    del bad["decision_facts"]
    lines = tmp_path / "statements.jsonl"
    lines.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    code, out, err = run(db, "legal", "sor", "validate", str(lines))
    assert code == 1 and "1 of 2 statements are invalid" in err
    assert "statement 0" not in out
    assert "statement 1 (puid iolaus-test-0001):" in out
    assert "decision_facts: required" in out and "content_date: " in out

    single = tmp_path / "one.json"
    single.write_text(json.dumps({"statements": [good]}, indent=2))
    code, out, _ = run(db, "legal", "sor", "validate", str(single))
    assert code == 0 and "1 statements, all valid" in out

    too_many = tmp_path / "big.json"
    too_many.write_text(json.dumps({"statements": bodies(101)}))
    code, _, err = run(db, "legal", "sor", "validate", str(too_many))
    assert code == 1 and "1 to 100" in err

    garbage = tmp_path / "garbage.txt"
    garbage.write_text("{not json\n")
    code, _, err = run(db, "legal", "sor", "validate", str(garbage))
    assert code == 1 and "garbage.txt" in err
