"""Adding a detector is one module plus its registration: the example detector's signal
reaches the community's risk and the review queue like a built-in's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from iolaus.cases.store import queue
from iolaus.cases.triage import open_cases_from_signals
from iolaus.demo.dce_writer import guild_json
from iolaus.ingest.discord_export import import_exports
from iolaus.signals.detectors import register, registered, unregister
from iolaus.signals.scan import scan_communities
from iolaus.store.tables import signals
from tests.exports import msg, write_export
from tests.signals.toy_detector import PhraseInNameDetector

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def toy() -> Iterator[type[PhraseInNameDetector]]:
    register(PhraseInNameDetector)
    try:
        yield PhraseInNameDetector
    finally:
        unregister(PhraseInNameDetector)


def test_a_new_detector_reaches_risk_and_the_queue(
    engine: Engine, tmp_path: Path, toy: type[PhraseInNameDetector]
) -> None:
    guild = guild_json("920000000000000001", "We Trade Pics")
    export = write_export(tmp_path / "g.json", [msg(1, content="hello")], guild=guild)
    assert import_exports(engine, [export]).ok
    assert toy in registered()

    (risk,) = scan_communities(engine)
    assert risk.band == "high"
    assert [r.text for r in risk.reasons] == ["community We Trade Pics is named «trade pics»"]
    assert risk.reasons[0].category == "solicitation"
    with engine.connect() as conn:
        stored = conn.execute(select(signals.c.detector, signals.c.refs)).one()
    assert stored.detector == "phrase_in_name"
    assert stored.refs == [{"kind": "rule", "name": "phrase-in-name"}]

    open_cases_from_signals(engine, NOW)
    with engine.connect() as conn:
        (case,) = queue(conn, now=NOW)
    assert case.community_id == risk.community_id and case.category == "solicitation"


def test_without_its_registration_it_does_not_run(engine: Engine, tmp_path: Path) -> None:
    guild = guild_json("920000000000000002", "We Trade Pics")
    export = write_export(tmp_path / "g.json", [msg(1, content="hello")], guild=guild)
    assert import_exports(engine, [export]).ok
    (risk,) = scan_communities(engine)
    assert risk.score == 0.0 and risk.reasons == []
