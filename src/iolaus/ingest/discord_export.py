"""DiscordChatExporter JSON import (the format of Tyrrrz/DiscordChatExporter's JSON writer).

The first source (``iolaus.ingest.source``): each file is one unit of events, observed at the
export's ``exportedAt``. It is streamed twice with ijson: a first pass reads the small root
objects (``guild``, ``channel``, ``exportedAt``), which DCE writes before ``messages``; a second
pass streams the messages as events to the writer, which batches them. Memory stays bounded
whatever the file size. Media files that came with the export are offered last.

Each file is written in one transaction: a file that breaks anywhere (bad JSON, truncation,
a wrong type, a missing field) leaves the database as it was, and the error names the file and
the message where it broke. Other files go on.

All text is hostile: it is stored as text, cleaned only of what no database can hold. Attachment
file names are never used as paths.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

import ijson
from sqlalchemy import Engine

from iolaus.ingest.errors import SourceError
from iolaus.ingest.media import local_path
from iolaus.ingest.source import ProgressFn, Source, Unit, register_source
from iolaus.ingest.text import clean
from iolaus.ingest.write import UnitFn, write_source
from iolaus.model.clock import Clock, system_clock
from iolaus.model.events import (
    ChannelRef,
    ChannelSeen,
    CommunityRef,
    CommunitySeen,
    Event,
    MediaOffered,
    MessageSeen,
)
from iolaus.model.ingest import ImportSummary
from iolaus.model.platform import Account, Attachment, Channel, Community, MediaKind, Message

PLATFORM = "discord"
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class ExportHeader:
    """The root objects of an export that describe where its messages come from."""

    community: Community
    channel: Channel
    exported_at: datetime


class _CountingReader:
    """A binary reader that reports bytes consumed (progress) and remembers the offset (errors)."""

    def __init__(self, raw: IO[bytes], progress: ProgressFn | None) -> None:
        self._raw = raw
        self._progress = progress
        self.offset = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.offset += len(data)
        if self._progress and data:
            self._progress(len(data))
        return data


def discover(paths: Iterable[Path]) -> list[Path]:
    """Export files named on the command line: files as given, folders searched for ``*.json``.

    Media folders written by DCE (``*_Files``) are skipped; the order is stable.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*.json")
                    if p.is_file() and not any(part.endswith("_Files") for part in p.parts)
                )
            )
        else:
            found.append(path)
    return found


@register_source
class DiscordExportSource(Source):
    """DiscordChatExporter JSON files; one file is one unit (all or nothing)."""

    name = "discord-export"

    def __init__(self, paths: Iterable[Path]) -> None:
        self.paths = list(paths)

    def units(self, progress: ProgressFn | None = None) -> Iterator[Unit]:
        for path in self.paths:
            yield Unit(str(path), _events(path, progress))


def import_exports(
    engine: Engine,
    paths: Iterable[Path],
    *,
    clock: Clock = system_clock,
    progress: ProgressFn | None = None,
    on_file: UnitFn | None = None,
) -> ImportSummary:
    """Write export files without running detection (it stays queued for the next drain):
    shorthand for ``write_source`` over a ``DiscordExportSource``, for tests and benchmarks.
    Entry points run ``iolaus.pipeline.Pipeline`` instead."""
    return write_source(
        engine, DiscordExportSource(paths), clock=clock, progress=progress, on_unit=on_file
    )


def _open(path: Path, progress: ProgressFn | None) -> tuple[IO[bytes], _CountingReader]:
    raw = path.open("rb")
    if raw.read(3) != _BOM:  # a BOM is not JSON, but editors add one; DCE never does
        raw.seek(0)
    return raw, _CountingReader(raw, progress)


def _events(path: Path, progress: ProgressFn | None) -> Iterator[Event]:
    """One export's community, channel and messages, then the media files it brought."""
    source = str(path)
    if not path.is_file():
        raise SourceError(source, "", "not a file")
    if path.stat().st_size == 0:
        raise SourceError(source, "", "empty file")
    header = read_header(path)
    at = header.exported_at
    yield CommunitySeen(header.community, at)
    community = CommunityRef(PLATFORM, header.community.external_id)
    yield ChannelSeen(community, header.channel, at)
    channel = ChannelRef(community, header.channel.external_id)
    local: list[tuple[str, str, str]] = []  # attachments whose URL is a path, not a link
    for message in _messages(path, progress):
        yield MessageSeen(channel, message, at)
        for attachment in message.attachments:
            if "://" not in attachment.url:
                local.append((message.external_id, attachment.external_id, attachment.url))
    for message_id, attachment_id, url in local:
        found = local_path(path.parent, url)
        if found is not None:
            yield MediaOffered(channel, message_id, attachment_id, found)


def read_header(path: Path) -> ExportHeader:
    """Read ``guild``, ``channel`` and ``exportedAt`` without reading the messages into memory."""
    source = str(path)
    found: dict[str, Any] = {}
    builders: dict[str, ijson.ObjectBuilder] = {}
    saw_messages = False
    raw, reader = _open(path, None)
    with raw:
        try:
            for prefix, event, value in ijson.parse(reader):
                if prefix == "" and event == "start_array":
                    raise SourceError(
                        source, "top level", "not a DiscordChatExporter export (an array)"
                    )
                if prefix == "" and event in {"string", "number", "boolean", "null"}:
                    raise SourceError(source, "top level", "not a DiscordChatExporter export")
                top = prefix.split(".", 1)[0]
                if top in {"guild", "channel"}:
                    builder = builders.setdefault(top, ijson.ObjectBuilder())
                    builder.event(event, value)
                    if (prefix == top and event in {"end_map", "end_array"}) or (
                        prefix == top and event in {"string", "number", "boolean", "null"}
                    ):
                        found[top] = builder.value
                elif prefix == "exportedAt":
                    found["exportedAt"] = value
                elif prefix == "messages" and not saw_messages:
                    if event != "start_array":
                        raise SourceError(source, "messages", "must be an array")
                    saw_messages = True
                    if {"guild", "channel"} <= found.keys():
                        break
        except ijson.JSONError as exc:
            raise SourceError(source, f"near byte {reader.offset}", _json_problem(exc)) from exc
    for key in ("guild", "channel"):
        if key not in found:
            raise SourceError(
                source, "top level", f"not a DiscordChatExporter export: no {key!r} object"
            )
    if not saw_messages:
        raise SourceError(source, "top level", "not a DiscordChatExporter export: no 'messages'")
    return ExportHeader(
        community=_community(found["guild"], source),
        channel=_channel(found["channel"], source),
        exported_at=_located(source, "", lambda: _timestamp(found.get("exportedAt"), "exportedAt")),
    )


def _messages(path: Path, progress: ProgressFn | None) -> Iterator[Message]:
    source = str(path)
    raw, reader = _open(path, progress)
    index = -1
    last_id = None
    authors: _AuthorCache = {}
    with raw:
        try:
            for index, item in enumerate(ijson.items(reader, "messages.item", use_float=True)):
                message = _message(item, source, index, authors)
                last_id = message.external_id
                yield message
        except ijson.JSONError as exc:
            after = f" after message id {last_id}" if last_id else ""
            where = f"in messages[{index + 1}]{after}, near byte {reader.offset}"
            raise SourceError(source, where, _json_problem(exc)) from exc


def _json_problem(exc: Exception) -> str:
    text = str(exc).strip()
    if "premature EOF" in text:
        return f"truncated or malformed JSON ({text.splitlines()[0] if text else 'premature end'})"
    if "UTF8" in text or "UTF-8" in text:
        return "not valid UTF-8 text"
    return f"invalid JSON ({text.splitlines()[0]})"


# -- field readers ------------------------------------------------------------------------
# They raise ``_FieldError`` with the path inside the object; the caller prefixes where the object
# sits in the file, so no location string is built on the hot path.


class _FieldError(Exception):
    def __init__(self, path: str, problem: str) -> None:
        super().__init__(problem)
        self.path = path
        self.problem = problem


def _describe(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if type(value) is not str:
        if key not in obj:
            raise _FieldError(key, "missing required field")
        raise _FieldError(key, f"expected a string, got {_describe(value)}")
    return clean(value)


def _opt_str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is not str:
        raise _FieldError(key, f"expected a string or null, got {_describe(value)}")
    return clean(value)


def _object(value: object, path: str) -> dict[str, Any]:
    if type(value) is not dict:
        problem = (
            "missing required field"
            if value is None
            else f"expected an object, got {_describe(value)}"
        )
        raise _FieldError(path, problem)
    return value


def _list(value: object, path: str) -> list[Any]:
    if value is None:
        return []
    if type(value) is not list:
        raise _FieldError(path, f"expected an array, got {_describe(value)}")
    return value


def _timestamp(value: object, path: str) -> datetime:
    if type(value) is not str:
        problem = "missing required field" if value is None else "expected an ISO-8601 timestamp"
        raise _FieldError(path, problem)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _FieldError(path, f"not an ISO-8601 timestamp: {value[:40]!r}") from None
    if parsed.tzinfo is UTC:
        return parsed
    if parsed.tzinfo is None:  # DCE always writes an offset; a bare time is taken as UTC
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _kind(value: object) -> str:
    # DCE writes a name, or the number as a string for kinds it does not name; accept both.
    return clean(value) if type(value) is str else str(value)


def _located(source: str, prefix: str, read: Callable[[], Any]) -> Any:
    try:
        return read()
    except _FieldError as exc:
        raise SourceError(
            source, f"{prefix}.{exc.path}" if prefix else exc.path, exc.problem
        ) from None


def _community(guild: object, source: str) -> Community:
    def read() -> Community:
        g = _object(guild, "guild")
        return Community(
            platform=PLATFORM,
            external_id=_str(g, "id"),
            name=_str(g, "name"),
            icon_url=_opt_str(g, "iconUrl"),
        )

    return _located(source, "guild", read)


def _channel(channel: object, source: str) -> Channel:
    def read() -> Channel:
        c = _object(channel, "channel")
        return Channel(
            external_id=_str(c, "id"),
            name=_str(c, "name"),
            kind=_kind(c.get("type", "GuildTextChat")),
            topic=_opt_str(c, "topic"),
            category_external_id=_opt_str(c, "categoryId"),
            category=_opt_str(c, "category"),
        )

    return _located(source, "channel", read)


_AuthorCache = dict[str, tuple[dict[str, Any], Account, tuple[str, ...]]]


def _author(value: object, cache: _AuthorCache) -> tuple[Account, tuple[str, ...]]:
    """Authors repeat on every message: an author object equal to the last one seen for that id
    reuses its parsed form instead of being validated and cleaned again."""
    if type(value) is dict:
        hit = cache.get(value.get("id"))  # type: ignore[arg-type]
        if hit is not None and hit[0] == value:
            return hit[1], hit[2]
    account, roles = _parse_author(value)
    cache[account.external_id] = (value, account, roles)  # type: ignore[assignment]
    return account, roles


def _parse_author(value: object) -> tuple[Account, tuple[str, ...]]:
    a = _object(value, "author")
    try:
        roles = tuple(
            clean(r["name"])
            for r in _list(a.get("roles"), "author.roles")
            if type(r) is dict and type(r.get("name")) is str
        )
        is_bot = a.get("isBot", False)
        account = Account(
            external_id=_str(a, "id"),
            username=_str(a, "name"),
            display_name=_opt_str(a, "nickname"),
            discriminator=_opt_str(a, "discriminator"),
            is_bot=is_bot if type(is_bot) is bool else False,
            avatar_url=_opt_str(a, "avatarUrl"),
        )
    except _FieldError as exc:
        raise _FieldError(
            f"author.{exc.path}".replace("author.author.", "author."), exc.problem
        ) from None
    return account, roles


def _attachments(value: object) -> tuple[Attachment, ...]:
    items = _list(value, "attachments")
    if not items:
        return ()
    result = []
    for i, item in enumerate(items):
        try:
            a = _object(item, "")
            file_name = _str(a, "fileName")
            size = a.get("fileSizeBytes", 0)
            if type(size) is not int or size < 0:
                raise _FieldError("fileSizeBytes", "expected a non-negative integer")
            content_type = _guess_type(file_name)
            result.append(
                Attachment(
                    external_id=_str(a, "id"),
                    file_name=file_name,
                    size_bytes=size,
                    url=_str(a, "url"),
                    content_type=content_type,
                    media_kind=_media_kind(content_type),
                )
            )
        except _FieldError as exc:
            raise _FieldError(
                f"attachments[{i}]" + (f".{exc.path}" if exc.path else ""), exc.problem
            ) from None
    return tuple(result)


def _guess_type(file_name: str) -> str | None:
    # Only the extension of the final component is looked at; the name is never opened.
    suffix = PurePosixPath(file_name.replace("\\", "/")).suffix.lower()
    if not suffix or len(suffix) > 10:
        return None
    return mimetypes.types_map.get(suffix)


def _media_kind(content_type: str | None) -> MediaKind:
    if content_type is None:
        return MediaKind.OTHER
    return _MEDIA_KINDS.get(content_type.split("/", 1)[0], MediaKind.OTHER)


_MEDIA_KINDS = {"image": MediaKind.IMAGE, "video": MediaKind.VIDEO, "audio": MediaKind.AUDIO}


def _message(item: object, source: str, index: int, authors: _AuthorCache) -> Message:
    try:
        m = _object(item, "")
        author, roles = _author(m.get("author"), authors)
        reference = m.get("reference")
        reply_to = None
        if type(reference) is dict and type(reference.get("messageId")) is str:
            reply_to = clean(reference["messageId"])
        edited = m.get("timestampEdited")
        pinned = m.get("isPinned", False)
        return Message(
            external_id=_str(m, "id"),
            author=author,
            kind=_kind(m.get("type", "Default")),
            content=_str(m, "content"),
            created_at=_timestamp(m.get("timestamp"), "timestamp"),
            edited_at=None if edited is None else _timestamp(edited, "timestampEdited"),
            is_pinned=pinned if type(pinned) is bool else False,
            reply_to_external_id=reply_to,
            author_roles=roles,
            attachments=_attachments(m.get("attachments")),
        )
    except _FieldError as exc:
        ident = item.get("id") if type(item) is dict else None
        label = f"messages[{index}]" + (f" (id {clean(ident)})" if type(ident) is str else "")
        where = f"{label}.{exc.path}" if exc.path else label
        raise SourceError(source, where, exc.problem) from None
