"""Builders of small DiscordChatExporter files for tests (synthetic, non-graphic text)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from iolaus.demo.dce_writer import (
    ExportWriter,
    Role,
    User,
    attachment_json,
    channel_json,
    guild_json,
    message_json,
)

T0 = datetime(2024, 1, 9, 12, 0, tzinfo=UTC)
GUILD = guild_json("111111111111111111", "Test Guild")
ALICE = User(id="200000000000000001", name="alice_k", nickname="Alice", roles=(Role("9", "mod"),))
BOB = User(id="200000000000000002", name="bob_b", nickname=None)
CAROL = User(id="200000000000000003", name="carol", nickname="Caro")


def msg(n: int, author: User = ALICE, content: str | None = None, **kw: Any) -> dict[str, Any]:
    """Message number ``n`` (its id is derived from n), ``n`` minutes after T0."""
    return message_json(
        str(300000000000000000 + n),
        author,
        T0 + timedelta(minutes=n),
        content if content is not None else f"message {n}",
        **kw,
    )


def write_export(
    path: Path,
    messages: list[dict[str, Any]],
    *,
    channel_id: str = "400000000000000001",
    channel_name: str = "general",
    guild: dict[str, Any] | None = None,
    exported_at: datetime = T0 + timedelta(days=1),
) -> Path:
    with ExportWriter(
        path,
        guild=guild or GUILD,
        channel=channel_json(channel_id, channel_name, category=("500", "Text"), topic="chat"),
        exported_at=exported_at,
        indent=True,
    ) as writer:
        for m in messages:
            writer.write(m)
    return path


def photo(n: int, name: str = "photo.jpg") -> dict[str, Any]:
    return attachment_json(str(600000000000000000 + n), name, 1000 + n, f"https://cdn.example/{n}")
