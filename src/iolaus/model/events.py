"""What a source says it saw: typed events, keyed by the platform's own ids.

Every source (an export file, the event API, a stream, a bot) speaks only these, so that the
store's writer is the one place that turns observations into rows, and nothing downstream knows
where an observation came from. Each event carries the time it describes: the platform's time
where the platform gives one, else the time of observation (an export's ``exportedAt``); the
writer settles conflicting observations by that time, newest wins.

The platform's own shapes (``Community``, ``Channel``, ``Account``, ``Message``) are reused whole
rather than copied field by field; events add only where the object sits and when it was seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from iolaus.model.platform import Account, Channel, Community, Message


@dataclass(frozen=True, slots=True)
class CommunityRef:
    """A community named by its platform and the platform's id for it."""

    platform: str
    external_id: str


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """A channel named by its community and the platform's id for it."""

    community: CommunityRef
    external_id: str


@dataclass(frozen=True, slots=True)
class CommunitySeen:
    """A community as observed at ``observed_at``: first sight or an update alike (the writer
    tells new from changed)."""

    community: Community
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class ChannelSeen:
    """A channel of a community already seen (in this unit or before)."""

    community: CommunityRef
    channel: Channel
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class MemberSeen:
    """An account seen as a member of a community, with the roles it held then."""

    community: CommunityRef
    account: Account
    roles: tuple[str, ...]
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class MessageSeen:
    """A message with its text, author (and the author's roles) and attachments."""

    channel: ChannelRef
    message: Message
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class MessageEdited:
    """A message's new text; the previous text is kept as a revision."""

    channel: ChannelRef
    message_external_id: str
    content: str
    edited_at: datetime


@dataclass(frozen=True, slots=True)
class MessageDeleted:
    """A message removed on the platform; Iolaus keeps it (it may be evidence) and marks it."""

    channel: ChannelRef
    message_external_id: str
    deleted_at: datetime


@dataclass(frozen=True, slots=True)
class MediaOffered:
    """The bytes of an attachment already seen, offered to the media subscribers (hashing now,
    evidence later) before the source lets them go.

    ``path`` is a local file the source vouches for (an export's media file, checked to lie
    inside the export's folder); it stays readable until the unit that offered it ends.
    """

    channel: ChannelRef
    message_external_id: str
    attachment_external_id: str
    path: Path


Event = (
    CommunitySeen
    | ChannelSeen
    | MemberSeen
    | MessageSeen
    | MessageEdited
    | MessageDeleted
    | MediaOffered
)
"""Everything a source may yield."""
