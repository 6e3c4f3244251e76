"""The hashing and bank commands end to end, with generated images."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from iolaus.cli import app
from tests.ingest.test_media_matching import abstract_image

runner = CliRunner()


def run(db: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", str(db), *args], input=input)
    return result.exit_code, result.stdout, result.stderr


def test_hash_bank_match_export_import(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    image = abstract_image(tmp_path / "art.png", seed=5)
    resized = tmp_path / "art-small.jpg"
    from PIL import Image

    Image.open(image).convert("RGB").resize((240, 180)).save(resized, quality=80)

    code, out, _ = run(db, "hash", str(image), str(tmp_path / "missing.png"))
    assert code == 1
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["kind"] == "photo" and len(first["pdq"]) == 64 and first["pdq_quality"] >= 50
    assert "error" in second

    assert run(db, "bank", "create", "ART", "--category", "ncii", "--threshold", "31")[0] == 0
    code, _, err = run(db, "bank", "create", "bad-name")
    assert code == 1 and "invalid bank name" in err
    code, out, _ = run(db, "bank", "add", "ART", str(image), "--note", "generated test art")
    assert code == 0 and json.loads(out)["created"] is True

    code, out, _ = run(db, "match", str(resized))
    assert code == 0
    (match,) = [json.loads(line) for line in out.splitlines()]
    assert match["bank"] == "ART" and match["signal_type"] == "pdq" and match["distance"] <= 31
    code, out, _ = run(db, "match", "pdq:" + first["pdq"], "--banks", "OTHER")
    assert code == 0 and out == ""

    exported = tmp_path / "art.txt"
    assert run(db, "bank", "export", "ART", str(exported))[0] == 0
    lines = exported.read_text().splitlines()
    assert f"pdq {first['pdq']}" in lines and any(line.startswith("md5 ") for line in lines)
    assert run(db, "bank", "create", "COPY")[0] == 0
    code, out, _ = run(db, "bank", "import", "COPY", str(exported))
    assert code == 0 and "3 new of 3" in out
    bad = tmp_path / "bad.txt"
    bad.write_text("pdq " + "a" * 64 + "\npdq nothex\n")
    code, _, err = run(db, "bank", "import", "COPY", str(bad))
    assert code == 1 and "bad.txt:2" in err

    content_id = json.loads(run(db, "bank", "show", "ART", "--json")[1])["content"][0]["id"]
    assert run(db, "bank", "disable", "ART", "--item", str(content_id))[0] == 0
    assert run(db, "match", str(resized), "--banks", "ART")[1] == ""
    assert run(db, "bank", "enable", "ART", "--item", str(content_id))[0] == 0
    assert run(db, "bank", "disable", "ART")[0] == 0
    assert run(db, "match", str(resized), "--banks", "ART")[1] == ""
    assert run(db, "bank", "enable", "ART")[0] == 0
    assert json.loads(run(db, "match", str(resized), "--banks", "ART")[1])["bank"] == "ART"
    assert run(db, "bank", "disable", "ART", "--item", "999")[0] == 1

    code, out, _ = run(db, "bank", "list", "--json")
    assert {b["name"]: b["size"] for b in json.loads(out)} == {"ART": 1, "COPY": 3}
    assert run(db, "bank", "delete", "COPY", "--yes")[0] == 0


def test_victim_commands(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    assert run(db, "bank", "create", "NCII_VICTIMS", "--category", "ncii")[0] == 0
    code, out, _ = run(db, "victim", "submit", "pdq:" + "ab" * 32, "--json")
    assert code == 0
    receipt = json.loads(out)
    code, _, err = run(db, "victim", "withdraw", receipt["reference"], input="wrong\n")
    assert code == 1 and "no active submission" in err
    code, out, _ = run(
        db, "victim", "withdraw", receipt["reference"], input=receipt["secret"] + "\n"
    )
    assert code == 0 and "1 hash(es) deleted" in out
    code, out, _ = run(db, "match", "pdq:" + "ab" * 32)
    assert out == ""
