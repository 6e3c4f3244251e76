"""The CLI end to end: import, list, show, migrations, exit statuses and JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iolaus.cli import app
from iolaus.store import migrate
from iolaus.store.engine import open_engine
from tests.exports import ALICE, BOB, msg, photo, write_export

runner = CliRunner()


def run(db: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db, *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    write_export(folder / "general.json", [msg(1, ALICE, attachments=[photo(1)]), msg(2, BOB)])
    write_export(
        folder / "random.json",
        [msg(3, BOB)],
        channel_id="400000000000000002",
        channel_name="random [x]",
    )
    return folder


def test_import_twice_then_list_and_show(db_url: str, exports: Path) -> None:
    code, out, _ = run(db_url, "import", "discord-export", str(exports), "--json")
    assert code == 0
    first = json.loads(out)
    assert first["files_imported"] == 2
    assert first["counts"]["messages"]["new"] == 3

    code, out, _ = run(db_url, "import", "discord-export", str(exports), "--json")
    assert code == 0
    again = json.loads(out)
    assert sum(c["new"] + c["updated"] for c in again["counts"].values()) == 0

    code, out, _ = run(db_url, "communities", "--json")
    assert code == 0
    (community,) = json.loads(out)
    assert community["name"] == "Test Guild"
    assert (community["members"], community["channels"]) == (2, 2)
    assert (community["messages"], community["attachments"]) == (3, 1)
    assert community["first_activity"].startswith("2024-01-09T12:01")

    code, out, _ = run(db_url, "community", community["external_id"], "--json")
    assert code == 0
    detail = json.loads(out)
    assert {c["name"] for c in detail["channels"]} == {"general", "random [x]"}
    assert detail["top_members"][0]["username"] == "bob_b"  # two messages, most active
    assert detail["top_members"][0]["messages"] == 2

    code, out, _ = run(db_url, "community", str(community["id"]))
    assert code == 0
    assert "random [x]" in out  # rich markup in a name is shown, not interpreted


def test_summary_table_and_failure_exit_status(tmp_path: Path, exports: Path) -> None:
    db = str(tmp_path / "cli.db")
    (exports / "broken.json").write_text('{"guild": {"id": "1", "name": "x"}, "chan')
    code, out, err = run(db, "import", "discord-export", str(exports))
    assert code == 1
    assert "broken.json" in err
    assert "2 file(s) imported, 1 failed" in out


def test_unknown_community_and_no_files(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    code, _, err = run(db, "community", "12345")
    assert code == 1
    assert "no community '12345'" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(db, "import", "discord-export", str(empty))
    assert code == 1
    assert "no export files" in err


def test_db_commands(tmp_path: Path) -> None:
    db = str(tmp_path / "m.db")
    head = migrate.head_revision(open_engine(db))
    code, out, _ = run(db, "db", "current")
    assert "database: empty" in out
    code, out, _ = run(db, "db", "upgrade")
    assert code == 0 and f"database at revision {head}" in out
    code, out, _ = run(db, "db", "downgrade", "base")
    assert code == 0 and "base" in out


def test_bad_database_url_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = run("mysql://u@h/db", "communities")
    assert code == 1
    assert "unsupported database" in err


def test_help_explains_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("import", "communities", "community", "demo", "db"):
        assert command in result.stdout
