"""The pipeline service: ingest queues, drain detects and triages, a crash loses nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from iolaus.cases.triage import DEFAULT_POLICY
from iolaus.cli import app
from iolaus.demo.dce_writer import attachment_json
from iolaus.hashing.matcher import Matcher
from iolaus.hashing.media import hash_file
from iolaus.ingest.discord_export import DiscordExportSource, import_exports
from iolaus.model.clock import FixedClock
from iolaus.pipeline import Pipeline, service
from iolaus.signals.config import DetectionConfig
from iolaus.store import banks as bank_store
from iolaus.store import pending
from iolaus.store import tables as T
from iolaus.store.engine import open_engine
from iolaus.store.migrate import ensure_schema
from tests.exports import ALICE, msg, write_export
from tests.ingest.test_media_matching import abstract_image
from tests.pipeline.worlds import NOW, outcome, risky_exports

runner = CliRunner()


def _pipeline(engine: Engine, clock: FixedClock | None = None) -> Pipeline:
    return Pipeline(
        engine,
        config=DetectionConfig.default(),
        policy=DEFAULT_POLICY,
        clock=clock or FixedClock(NOW),
    )


def _fresh(path: Path) -> Engine:
    engine = open_engine(f"sqlite:///{path}")
    ensure_schema(engine, auto_migrate=True)
    return engine


def _waiting(engine: Engine) -> int:
    with engine.connect() as conn:
        return pending.waiting(conn)


def _open_cases(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(T.cases).where(T.cases.c.status == "open")
            ).scalar_one()
        )


def test_run_takes_an_export_to_an_open_case(engine: Engine, tmp_path: Path) -> None:
    files = risky_exports(tmp_path / "exports")
    summary = _pipeline(engine).run(DiscordExportSource(files))
    assert summary.ok and summary.files_imported == 2
    assert _waiting(engine) == 0
    result = outcome(engine)
    ((_, band, _, _),) = result["risk"]
    assert band in {"high", "critical"}
    ((subject, category, status, signals),) = result["cases"]
    assert subject.startswith("community:") and category == "ncii" and status == "open"
    assert signals == len(result["signals"]) > 0


def test_ingest_queues_each_touched_community_in_its_own_transaction(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    files = risky_exports(tmp_path / "exports")
    broken = tmp_path / "exports" / "broken.json"
    broken.write_text('{"guild": {"id": "1", "name": "Other"}, "channel": 7, "messages": []}')
    summary = _pipeline(sqlite_engine).ingest(DiscordExportSource([*files, broken]))
    assert len(summary.failures) == 1 and summary.files_imported == 2
    with sqlite_engine.connect() as conn:
        rows = conn.execute(select(T.pending_detection)).all()
        names = conn.execute(select(T.communities.c.name)).scalars().all()
    assert names == ["Les Partages"]  # the broken file's community rolled back with it
    ((community_id, queued_at, generation, claimed_by, _),) = rows
    assert summary.community_ids == {community_id}
    assert (queued_at, generation, claimed_by) == (NOW, 2, None)  # touched by two files
    assert outcome(sqlite_engine)["cases"] == []  # nothing detected until a drain


@pytest.mark.parametrize("stage", ["scan_communities", "open_cases_from_signals"])
def test_a_crash_between_stages_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    files = risky_exports(tmp_path / "exports")
    calm = _fresh(tmp_path / "calm.db")
    _pipeline(calm).run(DiscordExportSource(files))
    expected = outcome(calm)

    crashing = _fresh(tmp_path / "crash.db")

    def power_cut(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(service, stage, power_cut)
    with pytest.raises(RuntimeError, match="power cut"):
        _pipeline(crashing).run(DiscordExportSource(files))
    monkeypatch.undo()
    assert _waiting(crashing) == 1  # the ingest committed, and so did its hand-off
    assert outcome(crashing)["cases"] == []

    drained = _pipeline(crashing).drain()  # the next import, scan or worker tick
    assert len(drained.community_ids) == 1 and drained.case_ids
    assert _waiting(crashing) == 0
    assert outcome(crashing) == expected


def test_a_drain_that_died_holds_its_communities_only_for_its_lease(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    clock = FixedClock(NOW)
    pipeline = _pipeline(sqlite_engine, clock)
    pipeline.ingest(DiscordExportSource(risky_exports(tmp_path / "exports")))
    with sqlite_engine.begin() as conn:  # a drain claims, then its process is killed
        assert len(pending.claim(conn, "dead-drain", NOW, NOW + pipeline.lease)) == 1
    assert pipeline.drain().community_ids == ()  # still leased: not scanned twice at once
    clock.advance(pipeline.lease + timedelta(seconds=1))
    assert len(pipeline.drain().community_ids) == 1
    assert _waiting(sqlite_engine) == 0 and _open_cases(sqlite_engine) == 1


def test_a_community_touched_during_its_drain_stays_queued(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    _pipeline(sqlite_engine).ingest(DiscordExportSource(risky_exports(tmp_path / "exports")))
    with sqlite_engine.begin() as conn:
        claimed = pending.claim(conn, "drain-1", NOW, NOW + timedelta(minutes=5))
        (community_id,) = claimed
        pending.queue(conn, [community_id], NOW)  # an import lands while detection runs
        pending.complete(conn, "drain-1", claimed)
        row = conn.execute(select(T.pending_detection)).one()
    assert (row.community_id, row.claimed_by, row.claimed_until) == (community_id, None, None)


def test_replaying_a_source_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    files = risky_exports(tmp_path / "exports")
    pipeline = _pipeline(engine)
    first = pipeline.run(DiscordExportSource(files))
    before = outcome(engine)
    again = pipeline.run(DiscordExportSource(files))
    assert first.counts["messages"].new == 66
    assert sum(c.new + c.updated for c in again.counts.values()) == 0
    assert outcome(engine) == before
    assert _waiting(engine) == 0


def test_the_import_command_runs_the_whole_pipeline(db_url: str, tmp_path: Path) -> None:
    risky_exports(tmp_path / "exports")
    result = runner.invoke(
        app, ["--db", db_url, "import", "discord-export", str(tmp_path / "exports"), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["files_imported"] == 2
    engine = open_engine(db_url)
    try:
        assert _waiting(engine) == 0 and _open_cases(engine) == 1
    finally:
        engine.dispose()


def test_the_worker_finishes_what_an_interrupted_import_left(tmp_path: Path) -> None:
    db = tmp_path / "worker.db"
    engine = _fresh(db)
    assert import_exports(engine, risky_exports(tmp_path / "exports")).ok  # ingest only
    assert _waiting(engine) == 1 and _open_cases(engine) == 0
    result = runner.invoke(app, ["--db", f"sqlite:///{db}", "worker", "--once"])
    assert result.exit_code == 0, result.stderr
    assert "detection on 1 community(ies)" in result.stdout
    assert _waiting(engine) == 0 and _open_cases(engine) == 1
    engine.dispose()


def test_scan_first_finishes_pending_detection(tmp_path: Path) -> None:
    db = tmp_path / "scan.db"
    engine = _fresh(db)
    assert import_exports(engine, risky_exports(tmp_path / "exports")).ok  # ingest only
    result = runner.invoke(app, ["--db", f"sqlite:///{db}", "scan", "--json"])
    assert result.exit_code == 0, result.stderr
    assert _waiting(engine) == 0 and _open_cases(engine) == 1
    engine.dispose()


def test_an_import_and_its_drain_load_the_banks_index_once(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = tmp_path / "general.json_Files"
    files.mkdir()
    known = abstract_image(files / "known.png", seed=1)
    with engine.begin() as conn:
        bank_store.create_bank(conn, "NCII_TEST", category="ncii")
        bank_store.add_content(conn, "NCII_TEST", {"pdq": hash_file(known).pdq or ""})
    export = write_export(
        tmp_path / "general.json",
        [
            msg(
                1,
                ALICE,
                attachments=[attachment_json("701", "a.png", 1000, "general.json_Files/known.png")],
            )
        ],
    )
    loads = []
    original = Matcher._load
    monkeypatch.setattr(Matcher, "_load", lambda self: (loads.append(self), original(self)))
    pipeline = _pipeline(engine)
    summary = pipeline.ingest(DiscordExportSource([export]))
    pipeline.drain()
    assert summary.media.matched == 1
    with engine.connect() as conn:
        assert (
            conn.scalar(
                select(func.count())
                .select_from(T.signals)
                .where(T.signals.c.detector == "hash_match")
            )
            == 1
        )
    assert len(loads) == 1  # the import's media and the drain's hash detector share one index
