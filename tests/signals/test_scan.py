"""End to end: DCE exports → importer → community scan (issue 4). Synthetic, non-graphic text."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, String, cast, func, select

from iolaus.demo.dce_writer import User, guild_json
from iolaus.ingest.discord_export import import_exports
from iolaus.signals.config import DetectionConfig
from iolaus.signals.lexicon import Lexicon
from iolaus.signals.rules import load_default, load_text
from iolaus.signals.scan import CommunityRisk, default_detector, scan_communities
from iolaus.store import tables as T
from iolaus.store.engine import open_engine
from iolaus.store.migrate import ensure_schema
from tests.exports import msg, write_export

USERS = [User(id=f"2000000000000001{i:02d}", name=f"user{i}", nickname=None) for i in range(12)]
CHAT = ["salut", "quelqu'un joue ce soir ?", "mdr", "bonne nuit", "j'arrive", "gg", "ok top"]


def _channel(
    tmp: Path, guild: dict, channel_id: str, name: str, lines: list[str], start: int
) -> Path:
    messages = [msg(start + i, USERS[i % len(USERS)], text) for i, text in enumerate(lines)]
    return write_export(
        tmp / f"{channel_id}.json",
        messages,
        channel_id=channel_id,
        channel_name=name,
        guild=guild,
    )


def _filler(n: int) -> list[str]:
    return [CHAT[i % len(CHAT)] for i in range(n)]


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = open_engine(f"sqlite:///{tmp_path / 'scan.db'}")
    ensure_schema(engine, auto_migrate=True)
    return engine


def _scan(engine: Engine, files: list[Path], **kw) -> dict[str, CommunityRisk]:
    summary = import_exports(engine, files)
    assert not summary.failures
    return {risk.name: risk for risk in scan_communities(engine, **kw)}


def test_abusive_pattern_is_high_with_a_readable_reason(engine: Engine, tmp_path: Path) -> None:
    guild = guild_json("910000000000000001", "Les Partages")
    bad = [
        "qui a des photos de son ex ?",
        "balance ta cousine en mp",
        "nudes de mon ex, qui veut la suite ?",
        "échange photos de mon ex contre les tiennes",
        "elle sait pas que je poste ici",
        "le dossier complet de mon ex en mp",
    ]
    files = [
        _channel(tmp_path, guild, "410000000000000001", "général", _filler(40), 0),
        _channel(tmp_path, guild, "410000000000000002", "ex", bad + _filler(20), 100),
    ]
    risk = _scan(engine, files)["Les Partages"]
    assert risk.band in {"high", "critical"}
    top = risk.reasons[0]
    assert top.text and top.category == "ncii"
    assert any("#ex" in r.text or "intimate images" in r.text for r in risk.reasons)


def test_support_group_about_removal_stays_below_high(engine: Engine, tmp_path: Path) -> None:
    guild = guild_json("910000000000000002", "Entraide Après")
    talk = [
        "mes photos ont été diffusées sur un serveur, je fais quoi ?",
        "mon ex a leak mes nudes après la rupture",
        "le serveur avait un salon 'famille 🔞', je l'ai signalé",
        "comment faire retirer des photos d'un site ?",
        "StopNCII calcule une empreinte sur ton téléphone",
        "j'ai porté plainte hier, merci pour vos conseils",
        "someone leaked my photos, how do I get them removed?",
        "my ex posted my pics on a server called 'ex files'",
    ]
    files = [
        _channel(tmp_path, guild, "420000000000000001", "témoignages", talk + _filler(40), 0),
        _channel(tmp_path, guild, "420000000000000002", "aide-retrait", _filler(20), 100),
    ]
    risk = _scan(engine, files)["Entraide Après"]
    assert risk.band not in {"high", "critical"}, [r.text for r in risk.reasons]


def test_big_benign_server_with_two_bad_messages_stays_below_high(
    engine: Engine, tmp_path: Path
) -> None:
    guild = guild_json("910000000000000003", "Gros Serveur")
    general = _filler(400)
    general[100] = "qui a des photos de son ex mdr"
    general[300] = "balance ses nudes"
    files = [
        _channel(tmp_path, guild, "430000000000000001", "général", general, 0),
        _channel(tmp_path, guild, "430000000000000002", "jeux", _filler(200), 1000),
    ]
    risk = _scan(engine, files)["Gros Serveur"]
    assert risk.stats["flagged_messages"] == 2
    assert risk.band not in {"high", "critical"}, risk.score


def test_shadow_rules_are_counted_but_record_no_signal(engine: Engine, tmp_path: Path) -> None:
    guild = guild_json("910000000000000004", "Ombre")
    lines = ["un mot-témoin ici", "encore un mot-témoin", *_filler(10)]
    files = [_channel(tmp_path, guild, "440000000000000001", "général", lines, 0)]
    shadow = load_text(
        """
[[rule]]
name = "shadow-probe"
category = "ncii"
mode = "shadow"
all = ['text matches /mot temoin/']
explain = "probe"
"""
    )
    with engine.connect() as conn:
        detector = default_detector(
            conn, DetectionConfig(load_default().merged(shadow), Lexicon.load_default())
        )
    risk = _scan(engine, files, detector=detector)["Ombre"]
    assert risk.stats["shadow_rules"] == {"shadow-probe": 2}
    assert risk.score == 0.0 and risk.band == "low"
    with engine.connect() as conn:
        count = conn.scalar(
            select(func.count())
            .select_from(T.signals)
            .where(cast(T.signals.c.details, String).contains("shadow"))
        )
    assert count == 0
