"""The text rules detector: typed signals for the community, its channels and its messages."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select

from iolaus.demo.dce_writer import guild_json
from iolaus.hashing.matcher import Matcher
from iolaus.ingest.discord_export import import_exports
from iolaus.model.signals import Category, RuleRef, Scope, Signal
from iolaus.signals.config import DetectionConfig
from iolaus.signals.detectors import CommunityInfo, CommunityScan, DetectorSetup
from iolaus.signals.detectors.text import TextRulesDetector
from iolaus.signals.lexicon import Lexicon
from iolaus.signals.rules import load_default, load_text
from iolaus.signals.scan import default_detector
from iolaus.store.tables import communities
from tests.exports import msg, write_export

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SHADOW = """
[[rule]]
name = "shadow-probe"
category = "ncii"
mode = "shadow"
all = ['text matches /mot temoin/']
explain = "probe"
"""


def _detect(engine: Engine, tmp_path: Path, lines: list[str]) -> tuple[CommunityScan, list[Signal]]:
    guild = guild_json("930000000000000001", "Revenge Porn Nudes")
    messages = [msg(n, content=text) for n, text in enumerate(lines, 1)]
    export = write_export(tmp_path / "g.json", messages, channel_name="ex", guild=guild)
    assert import_exports(engine, [export]).ok
    config = DetectionConfig(load_default().merged(load_text(SHADOW)), Lexicon.load_default())
    with engine.connect() as conn:
        setup = DetectorSetup(engine, config, default_detector(conn, config), Matcher(engine))
        row = conn.execute(select(communities)).one()
        info = CommunityInfo(row.id, row.external_id, row.name, row.description, False)
        scan = CommunityScan(conn, info, NOW)
        found = list(TextRulesDetector.build(setup).detect(scan))
    return scan, found


def test_rules_fire_as_typed_signals_at_each_scope(engine: Engine, tmp_path: Path) -> None:
    scan, found = _detect(engine, tmp_path, ["salut", "nudes de mon ex, qui veut la suite ?"])
    scopes = {s.scope for s in found}
    assert scopes == {Scope.COMMUNITY, Scope.CHANNEL, Scope.MESSAGE}, found
    for signal in found:
        rule = signal.ref(RuleRef)
        assert rule is not None and signal.key.startswith(f"rules:{rule.name}:")
        assert signal.detector == "rules" and isinstance(signal.category, Category)
        assert signal.targets.community_id == scan.community.id
    on_message = [s for s in found if s.scope is Scope.MESSAGE]
    assert all(s.targets.account_id is not None for s in on_message)
    assert on_message[0].example["message"] == "300000000000000002"
    assert on_message[0].example["channel"] == "#ex" and on_message[0].terms
    channel = next(s for s in found if s.scope is Scope.CHANNEL)
    assert channel.targets.channel_id is not None and channel.targets.message_id is None
    assert channel.example["channel"] == "#ex"
    assert scan.totals == {"messages": 2, "authors": 1, "flagged_messages": 1}


def test_shadow_rules_are_counted_not_returned(engine: Engine, tmp_path: Path) -> None:
    scan, found = _detect(engine, tmp_path, ["un mot-témoin ici", "encore un mot-témoin"])
    assert scan.shadow == {"shadow-probe": 2}
    assert all(s.ref(RuleRef) != RuleRef("shadow-probe") for s in found)
