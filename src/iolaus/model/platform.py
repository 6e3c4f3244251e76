"""What Iolaus knows of a platform: communities, channels, accounts, memberships, messages.

These are the shapes every source (export import, event API, bot, stream) produces, so that
everything downstream of ingest is source-agnostic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class CommunityStatus(StrEnum):
    """Lifecycle of a community; ``banned`` ones leave a fingerprint for successor detection."""

    ACTIVE = "active"
    BANNED = "banned"
    DELETED = "deleted"


class NsfwLevel(StrEnum):
    """Age-restriction level of a community, as Discord's ``nsfw_level`` names it."""

    DEFAULT = "default"
    EXPLICIT = "explicit"
    SAFE = "safe"
    AGE_RESTRICTED = "age_restricted"


class MediaKind(StrEnum):
    """Coarse kind of an attachment, inferred from its file name until its bytes are hashed."""

    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Community:
    """A server, guild or group: the unit Iolaus scores, cases and bans."""

    platform: str
    external_id: str
    name: str
    description: str | None = None
    icon_url: str | None = None
    nsfw_level: NsfwLevel = NsfwLevel.DEFAULT
    owner_external_id: str | None = None
    status: CommunityStatus = CommunityStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel or thread inside a community; its name and topic are strong signals."""

    external_id: str
    name: str
    kind: str
    topic: str | None = None
    category_external_id: str | None = None
    category: str | None = None
    nsfw: bool = False


@dataclass(frozen=True, slots=True)
class Account:
    """A platform account as last observed; earlier names live in its name history."""

    external_id: str
    username: str
    display_name: str | None = None
    discriminator: str | None = None
    is_bot: bool = False
    avatar_url: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file attached to a message. ``file_name`` is hostile text, never a path."""

    external_id: str
    file_name: str
    size_bytes: int
    url: str
    content_type: str | None = None
    media_kind: MediaKind = MediaKind.OTHER


@dataclass(frozen=True, slots=True)
class Message:
    """A chat message; timestamps are timezone-aware UTC."""

    external_id: str
    author: Account
    kind: str
    content: str
    created_at: datetime
    edited_at: datetime | None = None
    is_pinned: bool = False
    reply_to_external_id: str | None = None
    author_roles: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
