"""A streaming writer of DiscordChatExporter JSON exports (the format of its JSON writer: root
keys ``guild``, ``channel``, ``dateRange``, ``exportedAt``, ``messages``, ``messageCount``).

It writes one message at a time so that a benchmark can produce a million-message file in bounded
memory. Everything it writes is synthetic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

DISCORD_EPOCH_MS = 1420070400000


def snowflake(at: datetime, sequence: int = 0) -> str:
    """A Discord-style id whose timestamp part is ``at`` (ids are strings, as DCE writes them)."""
    ms = int(at.timestamp() * 1000) - DISCORD_EPOCH_MS
    return str((ms << 22) | (sequence & 0x3FFFFF))


def iso(at: datetime) -> str:
    """Timestamp as DCE writes it: ISO-8601 with an explicit offset and milliseconds."""
    return at.isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    color: str | None = None
    position: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "color": self.color, "position": self.position}


@dataclass(frozen=True)
class User:
    """A synthetic account; ``roles`` are the ones it holds in the exported guild."""

    id: str
    name: str
    nickname: str | None = None
    discriminator: str = "0000"
    is_bot: bool = False
    roles: tuple[Role, ...] = field(default_factory=tuple)

    def to_json(self, *, with_roles: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "discriminator": self.discriminator,
            "nickname": self.nickname or self.name,
            "color": self.roles[0].color if self.roles else None,
            "isBot": self.is_bot,
        }
        if with_roles:
            data["roles"] = [role.to_json() for role in self.roles]
        data["avatarUrl"] = f"https://cdn.discordapp.com/embed/avatars/{int(self.id) % 5}.png"
        return data


def attachment_json(attachment_id: str, file_name: str, size: int, url: str) -> dict[str, Any]:
    """An attachment exactly as DCE writes it: only these four keys."""
    return {"id": attachment_id, "url": url, "fileName": file_name, "fileSizeBytes": size}


def message_json(
    message_id: str,
    author: User,
    at: datetime,
    content: str,
    *,
    kind: str = "Default",
    edited_at: datetime | None = None,
    attachments: list[dict[str, Any]] | None = None,
    reply_to: tuple[str, str, str] | None = None,
    mentions: list[User] | None = None,
    reactions: list[tuple[str, list[User]]] | None = None,
    pinned: bool = False,
) -> dict[str, Any]:
    """A message object with DCE's key order; ``reply_to`` is (message id, channel id, guild id)."""
    data: dict[str, Any] = {
        "id": message_id,
        "type": "Reply" if reply_to and kind == "Default" else kind,
        "timestamp": iso(at),
        "timestampEdited": iso(edited_at) if edited_at else None,
        "callEndedTimestamp": None,
        "isPinned": pinned,
        "content": content,
        "author": author.to_json(),
        "attachments": attachments or [],
        "embeds": [],
        "stickers": [],
        "reactions": [
            {
                "emoji": {
                    "id": "",
                    "name": emoji,
                    "code": "emoji",
                    "isAnimated": False,
                    "imageUrl": "https://cdn.jsdelivr.net/emoji.svg",
                },
                "count": len(users),
                "users": [user.to_json(with_roles=False) for user in users],
            }
            for emoji, users in (reactions or [])
        ],
        "mentions": [user.to_json() for user in (mentions or [])],
    }
    if reply_to:
        data["reference"] = {
            "type": "Default",
            "messageId": reply_to[0],
            "channelId": reply_to[1],
            "guildId": reply_to[2],
        }
    data["inlineEmojis"] = []
    return data


class ExportWriter:
    """Writes one channel's export file, streaming the messages.

    Use as a context manager; ``messageCount`` is written on close, after ``messages``, as DCE does.
    """

    def __init__(
        self,
        path: Path,
        *,
        guild: dict[str, Any],
        channel: dict[str, Any],
        exported_at: datetime | None = None,
        indent: bool = False,
    ) -> None:
        self.path = path
        self._indent = 2 if indent else None
        self._count = 0
        self._fp: IO[str] = path.open("w", encoding="utf-8")
        head = {
            "guild": guild,
            "channel": channel,
            "dateRange": {"after": None, "before": None},
            "exportedAt": iso(exported_at or datetime.now(UTC)),
        }
        text = json.dumps(head, ensure_ascii=False, indent=self._indent)
        self._fp.write(text[:-1].rstrip() + ',\n"messages": [\n')

    def write(self, message: dict[str, Any]) -> None:
        if self._count:
            self._fp.write(",\n")
        self._fp.write(json.dumps(message, ensure_ascii=False, indent=self._indent))
        self._count += 1

    def close(self) -> None:
        self._fp.write(f'\n],\n"messageCount": {self._count}\n}}\n')
        self._fp.close()

    def __enter__(self) -> ExportWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def guild_json(guild_id: str, name: str) -> dict[str, Any]:
    return {
        "id": guild_id,
        "name": name,
        "iconUrl": f"https://cdn.discordapp.com/icons/{guild_id}/i.png",
    }


def channel_json(
    channel_id: str,
    name: str,
    *,
    category: tuple[str, str] | None = None,
    topic: str | None = None,
    kind: str = "GuildTextChat",
) -> dict[str, Any]:
    """A channel header; ``category`` is the parent's (id, name)."""
    return {
        "id": channel_id,
        "type": kind,
        "categoryId": category[0] if category else None,
        "category": category[1] if category else None,
        "name": name,
        "topic": topic,
    }
