"""`iolaus demo` end to end: the world goes through the real importer, twice, idempotently."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from iolaus.cli import app
from iolaus.store.engine import open_engine
from iolaus.store.tables import signals

runner = CliRunner()


def test_demo_imports_the_world_and_replays_as_a_no_op(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.db")
    out = str(tmp_path / "world")
    first = runner.invoke(app, ["--db", db, "demo", "--out", out, "--media", "--json"])
    assert first.exit_code == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["counts"]["communities"]["new"] >= 15
    assert summary["counts"]["messages"]["new"] > 5000
    assert summary["media"]["hashed"] > 100 and summary["media"]["matched"] > 0

    again = runner.invoke(app, ["--db", db, "demo", "--out", out, "--media", "--json"])
    assert again.exit_code == 0
    replay = json.loads(again.stdout)
    assert all(c["new"] == 0 and c["updated"] == 0 for c in replay["counts"].values())
    assert replay["media"]["hashed"] == 0

    listing = json.loads(runner.invoke(app, ["--db", db, "communities", "--json"]).stdout)
    # Detection ran on import: every abusive-pattern community ranks above every other one.
    labels = {
        c["name"]: c["label"]
        for c in json.loads((Path(out) / "manifest.json").read_text())["communities"]
    }
    ranked = [labels[c["name"]] for c in listing]
    first_other = next(i for i, label in enumerate(ranked) if label != "abusive")
    assert all(label != "abusive" for label in ranked[first_other:])
    assert all(
        c["risk_band"] not in {"high", "critical"}
        for c in listing
        if labels[c["name"]] != "abusive"
    )
    names = {c["name"] for c in listing}
    manifest = json.loads((Path(out) / "manifest.json").read_text())
    assert names == {c["name"] for c in manifest["communities"]}
    # Hash matches land on abusive-pattern communities only.
    abusive = {c["name"] for c in manifest["communities"] if c["label"] == "abusive"}
    engine = open_engine(db)
    from iolaus.store.tables import communities

    with engine.connect() as conn:
        matched = set(
            conn.execute(
                select(communities.c.name)
                .join(signals, signals.c.community_id == communities.c.id)
                .where(signals.c.detector == "hash_match")
                .group_by(communities.c.name)
                .having(func.count() > 0)
            ).scalars()
        )
    assert matched and matched <= abusive


def test_demo_prints_a_working_reviewer_login(tmp_path: Path) -> None:
    from iolaus.store.users import authenticate

    db = str(tmp_path / "demo.db")
    result = runner.invoke(app, ["--db", db, "demo", "--out", str(tmp_path / "w"), "--reviewer"])
    assert result.exit_code == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("demo reviewer"))
    password = line.rsplit(" ", 1)[1]
    with open_engine(db).begin() as conn:
        user = authenticate(conn, "demo-reviewer", password)
    assert user is not None and user.role.value == "reviewer"
