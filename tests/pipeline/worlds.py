"""A small risky community, as export files and as events (synthetic, non-graphic phrases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from iolaus.demo.dce_writer import User, guild_json
from iolaus.model.events import (
    ChannelRef,
    ChannelSeen,
    CommunityRef,
    CommunitySeen,
    Event,
    MessageSeen,
)
from iolaus.model.platform import Account, Channel, Community, Message
from iolaus.store import tables as T
from tests.exports import msg, write_export

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
USERS = [User(id=f"2000000000000001{i:02d}", name=f"user{i}", nickname=None) for i in range(12)]
CHAT = ["salut", "quelqu'un joue ce soir ?", "mdr", "bonne nuit", "j'arrive", "gg", "ok top"]
BAD = [
    "qui a des photos de son ex ?",
    "balance ta cousine en mp",
    "nudes de mon ex, qui veut la suite ?",
    "échange photos de mon ex contre les tiennes",
    "elle sait pas que je poste ici",
    "le dossier complet de mon ex en mp",
]
CHANNELS = (("410000000000000001", "général"), ("410000000000000002", "ex"))


def _lines() -> list[list[str]]:
    return [[CHAT[i % len(CHAT)] for i in range(40)], BAD + [CHAT[i % 7] for i in range(20)]]


def risky_exports(folder: Path) -> list[Path]:
    """Two channel files of one community that detection rates high or above."""
    folder.mkdir(parents=True, exist_ok=True)
    guild = guild_json("910000000000000001", "Les Partages")
    files = []
    for (channel_id, name), lines, start in zip(CHANNELS, _lines(), (0, 100), strict=True):
        messages = [msg(start + i, USERS[i % 12], text) for i, text in enumerate(lines)]
        files.append(
            write_export(
                folder / f"{channel_id}.json",
                messages,
                channel_id=channel_id,
                channel_name=name,
                guild=guild,
            )
        )
    return files


COMMUNITY = CommunityRef("memorynet", "c-1")


def risky_events() -> list[Event]:
    """The same community as one unit of events from a source that is not an export."""
    events: list[Event] = [CommunitySeen(Community("memorynet", "c-1", "Les Partages"), NOW)]
    for (channel_id, name), lines, start in zip(CHANNELS, _lines(), (0, 100), strict=True):
        channel = ChannelRef(COMMUNITY, channel_id)
        events.append(ChannelSeen(COMMUNITY, Channel(channel_id, name, "GuildTextChat"), NOW))
        for i, text in enumerate(lines):
            author = Account(USERS[i % 12].id, USERS[i % 12].name)
            at = NOW - timedelta(days=1) + timedelta(minutes=start + i)
            message = Message(f"m{start + i}", author, "Default", text, at)
            events.append(MessageSeen(channel, message, NOW))
    return events


def outcome(engine: Engine) -> dict[str, Any]:
    """What detection and triage left: signals, risk scores, cases (comparable across runs)."""
    with engine.connect() as conn:
        return {
            "signals": sorted(
                (r.dedupe_key, r.detector, r.category, r.severity, round(r.score, 9))
                for r in conn.execute(select(T.signals))
            ),
            "risk": sorted(
                (r.community_id, r.band, round(r.score, 9), r.reasons)
                for r in conn.execute(select(T.community_risk))
            ),
            "cases": sorted(
                (r.subject_key, r.category, r.status, r.signals_count)
                for r in conn.execute(select(T.cases))
            ),
        }
