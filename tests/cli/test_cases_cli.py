"""Cases from the command line: detection opens them on import, the queue orders them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from iolaus.cli import app
from tests.exports import ALICE, BOB, msg, write_export

runner = CliRunner()


def test_import_opens_cases_for_risky_communities(tmp_path: Path) -> None:
    db = str(tmp_path / "c.db")
    exports = tmp_path / "exports"
    exports.mkdir()
    write_export(
        exports / "bad.json",
        [
            msg(n, ALICE if n % 2 else BOB, "qui a des nudes de son ex ? envoie en dm")
            for n in range(12)
        ],
        guild={"id": "900", "name": "Tribs 🔞", "iconUrl": None},
        channel_name="nudes-ex",
    )
    write_export(
        exports / "fine.json",
        [msg(n, BOB, "on joue ce soir ?") for n in range(40, 60)],
        guild={"id": "901", "name": "Game Night", "iconUrl": None},
        channel_id="77",
    )
    assert runner.invoke(app, ["--db", db, "import", "discord-export", str(exports)]).exit_code == 0
    result = runner.invoke(app, ["--db", db, "cases", "queue", "--json"])
    assert result.exit_code == 0
    (case,) = json.loads(result.stdout)
    assert case["community"] == "Tribs 🔞" and case["category"] == "ncii"
    assert 0 < case["seconds_left"] <= 24 * 3600
    again = runner.invoke(app, ["--db", db, "cases", "open-from-signals"])
    assert again.exit_code == 0
    assert len(json.loads(runner.invoke(app, ["--db", db, "cases", "queue", "--json"]).stdout)) == 1
    escalate = runner.invoke(app, ["--db", db, "cases", "escalate", "--json"])
    assert escalate.exit_code == 0 and json.loads(escalate.stdout) == []
