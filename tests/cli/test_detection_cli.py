"""Detection commands end to end: rules check and test, the watch list, scan with its report."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from iolaus.cli import app
from tests.exports import ALICE, BOB, msg, write_export

runner = CliRunner()


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", str(db), *args])
    return result.exit_code, result.stdout, result.stderr


def test_rules_check_accepts_the_default_and_names_file_and_line(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path / "d.db", "rules", "check")
    assert code == 0 and "rules OK" in out
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rule]]\nname = "x"\ncategory = "ncii"\nall = ["nudity > 1"]\nexplain = "x"\n')
    code, _, err = run(tmp_path / "d.db", "rules", "check", str(bad))
    assert code == 1 and f"{bad}:4" in err and "unknown feature 'nudity'" in err


def test_rules_test_shows_normalised_text_hits_and_rules(tmp_path: Path) -> None:
    code, out, _ = run(
        tmp_path / "d.db", "rules", "test", "--text", "qui a des n.u.d.e.s de son 3x ?", "--json"
    )
    assert code == 0
    result = json.loads(out)
    assert "nudes" in result["normalised"]
    assert any(hit["original"] == "n.u.d.e.s" for hit in result["hits"])
    assert result["fired"], result


def test_watch_list_and_protected_person_mentions(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    code, out, _ = run(db, "watch", "add", "Kira Nova", "--alias", "kiranova_live")
    assert code == 0 and "protected person 1" in out
    code, _, err = run(db, "watch", "add", "x")
    assert code == 1 and "three letters" in err
    code, out, _ = run(db, "watch", "list", "--json")
    assert json.loads(out)[0]["aliases"] == ["kiranova_live"]
    code, out, _ = run(db, "rules", "test", "--text", "deepfake de k1ra n0va ?", "--json")
    assert json.loads(out)["protected"] == ["Kira Nova"]
    assert run(db, "watch", "remove", "1")[0] == 0
    assert run(db, "watch", "remove", "1")[0] == 1


def test_scan_ranks_and_writes_an_escaped_html_report(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    exports = tmp_path / "exports"
    exports.mkdir()
    bad_guild = {"id": "900", "name": "<script>alert(1)</script> tribs", "iconUrl": None}
    write_export(
        exports / "a.json",
        [
            msg(n, ALICE if n % 2 else BOB, "qui a des nudes de son ex ? envoie en dm")
            for n in range(12)
        ],
        guild=bad_guild,
        channel_name="nudes-ex",
    )
    write_export(
        exports / "b.json",
        [msg(n, BOB, "on joue ce soir ?") for n in range(40, 60)],
        guild={"id": "901", "name": "Game Night", "iconUrl": None},
        channel_id="77",
    )
    assert run(db, "import", "discord-export", str(exports))[0] == 0
    report = tmp_path / "report.html"
    code, out, _ = run(db, "scan", "--json", "--html", str(report))
    assert code == 0
    ranked = json.loads(out)
    assert ranked[0]["external_id"] == "900" and ranked[0]["band"] in {"high", "critical"}
    assert ranked[-1]["name"] == "Game Night" and ranked[-1]["band"] == "low"
    html = report.read_text()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<svg" in html
    code, out, _ = run(db, "communities", "--json")
    assert json.loads(out)[0]["risk_band"] in {"high", "critical"}
