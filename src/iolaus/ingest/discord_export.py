"""DiscordChatExporter JSON import (the format of Tyrrrz/DiscordChatExporter's JSON writer).

Each file is streamed twice with ijson: a first pass reads the small root objects (``guild``,
``channel``, ``exportedAt``), which DCE writes before ``messages``; a second pass streams the
messages in batches into the store. Memory stays bounded whatever the file size.

Each file is imported in one transaction: a file that breaks anywhere (bad JSON, truncation,
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
from iolaus.ingest.text import clean
from iolaus.model.ingest import FileFailure, ImportSummary
from iolaus.model.platform import Account, Attachment, Channel, Community, MediaKind, Message
from iolaus.store.mirror import MirrorWriter

PLATFORM = "discord"
BATCH_SIZE = 2000
_BOM = b"\xef\xbb\xbf"

ProgressFn = Callable[[int], None]


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


def import_exports(
    engine: Engine,
    paths: Iterable[Path],
    *,
    progress: ProgressFn | None = None,
    on_file: Callable[[Path, FileFailure | None], None] | None = None,
) -> ImportSummary:
    """Import every export file; a failed file is rolled back and reported, the rest go on."""
    summary = ImportSummary()
    counted: set[tuple[str, str]] = set()
    for path in paths:
        failure: FileFailure | None = None
        try:
            with engine.begin() as conn:
                writer = MirrorWriter(conn, PLATFORM, counted)
                _import_file(writer, path, progress)
                writer.finish()
        except SourceError as exc:
            failure = FileFailure(str(path), str(exc))
        except OSError as exc:
            failure = FileFailure(str(path), f"{path}: cannot read: {exc.strerror or exc}")
        if failure is None:
            summary.files_imported += 1
            summary.merge(writer.counts)
            counted |= writer.newly_counted
        else:
            summary.failures.append(failure)
        if on_file:
            on_file(path, failure)
    return summary


def _open(path: Path, progress: ProgressFn | None) -> tuple[IO[bytes], _CountingReader]:
    raw = path.open("rb")
    if raw.read(3) != _BOM:  # a BOM is not JSON, but editors add one; DCE never does
        raw.seek(0)
    return raw, _CountingReader(raw, progress)


def _import_file(writer: MirrorWriter, path: Path, progress: ProgressFn | None) -> None:
    source = str(path)
    if not path.is_file():
        raise SourceError(source, "", "not a file")
    if path.stat().st_size == 0:
        raise SourceError(source, "", "empty file")
    header = read_header(path)
    community_id = writer.community(header.community, header.exported_at)
    channel_id = writer.channel(community_id, header.channel, header.exported_at)
    for batch in _message_batches(path, progress):
        writer.messages(community_id, channel_id, batch, header.exported_at)


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
        exported_at=_timestamp(found.get("exportedAt"), source, "exportedAt"),
    )


def _message_batches(path: Path, progress: ProgressFn | None) -> Iterator[list[Message]]:
    source = str(path)
    raw, reader = _open(path, progress)
    batch: list[Message] = []
    index = -1
    last_id = None
    with raw:
        try:
            for index, item in enumerate(ijson.items(reader, "messages.item", use_float=True)):
                message = _message(item, source, index)
                last_id = message.external_id
                batch.append(message)
                if len(batch) >= BATCH_SIZE:
                    yield batch
                    batch = []
        except ijson.JSONError as exc:
            where = (
                "before the first message"
                if index < 0
                else (f"after message #{index + 1} (id {last_id}), near byte {reader.offset}")
            )
            raise SourceError(source, where, _json_problem(exc)) from exc
    if batch:
        yield batch


def _json_problem(exc: Exception) -> str:
    text = str(exc).strip()
    if "premature EOF" in text or "Incomplete" in type(exc).__name__:
        return f"truncated or malformed JSON ({text.splitlines()[0] if text else 'premature end'})"
    if "UTF8" in text or "UTF-8" in text:
        return "not valid UTF-8 text"
    return f"invalid JSON ({text.splitlines()[0]})"


# -- field readers: each names the path that broke ---------------------------------------------


def _fail(source: str, where: str, problem: str) -> SourceError:
    return SourceError(source, where, problem)


def _str(obj: dict[str, Any], key: str, source: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise _fail(source, f"{where}.{key}", _expected("a string", value, key in obj))
    return clean(value)


def _opt_str(obj: dict[str, Any], key: str, source: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(source, f"{where}.{key}", _expected("a string or null", value, True))
    return clean(value)


def _expected(kind: str, value: object, present: bool) -> str:
    if not present:
        return "missing required field"
    return f"expected {kind}, got {type(value).__name__ if value is not None else 'null'}"


def _object(value: object, source: str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(source, where, _expected("an object", value, value is not None))
    return value


def _timestamp(value: object, source: str, where: str) -> datetime:
    if not isinstance(value, str):
        raise _fail(source, where, _expected("an ISO-8601 timestamp", value, value is not None))
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(source, where, f"not an ISO-8601 timestamp: {value[:40]!r}") from None
    if parsed.tzinfo is None:  # DCE always writes an offset; a bare time is taken as UTC
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _community(guild: object, source: str) -> Community:
    g = _object(guild, source, "guild")
    return Community(
        platform=PLATFORM,
        external_id=_str(g, "id", source, "guild"),
        name=_str(g, "name", source, "guild"),
        icon_url=_opt_str(g, "iconUrl", source, "guild"),
    )


def _channel(channel: object, source: str) -> Channel:
    c = _object(channel, source, "channel")
    kind = c.get("type", "GuildTextChat")
    return Channel(
        external_id=_str(c, "id", source, "channel"),
        name=_str(c, "name", source, "channel"),
        kind=clean(kind) if isinstance(kind, str) else str(kind),
        topic=_opt_str(c, "topic", source, "channel"),
        category_external_id=_opt_str(c, "categoryId", source, "channel"),
        category=_opt_str(c, "category", source, "channel"),
    )


def _author(value: object, source: str, where: str) -> tuple[Account, tuple[str, ...]]:
    a = _object(value, source, where)
    username = _str(a, "name", source, where)
    nickname = _opt_str(a, "nickname", source, where)
    roles_value = a.get("roles") or []
    if not isinstance(roles_value, list):
        raise _fail(source, f"{where}.roles", _expected("an array", roles_value, True))
    roles = tuple(
        clean(r["name"])
        for r in roles_value
        if isinstance(r, dict) and isinstance(r.get("name"), str)
    )
    is_bot = a.get("isBot", False)
    account = Account(
        external_id=_str(a, "id", source, where),
        username=username,
        display_name=nickname,
        discriminator=_opt_str(a, "discriminator", source, where),
        is_bot=is_bot if isinstance(is_bot, bool) else False,
        avatar_url=_opt_str(a, "avatarUrl", source, where),
    )
    return account, roles


def _attachment(value: object, source: str, where: str) -> Attachment:
    a = _object(value, source, where)
    file_name = _str(a, "fileName", source, where)
    size = a.get("fileSizeBytes", 0)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _fail(source, f"{where}.fileSizeBytes", "expected a non-negative integer")
    content_type = _guess_type(file_name)
    return Attachment(
        external_id=_str(a, "id", source, where),
        file_name=file_name,
        size_bytes=size,
        url=_str(a, "url", source, where),
        content_type=content_type,
        media_kind=_media_kind(content_type),
    )


def _guess_type(file_name: str) -> str | None:
    # Only the extension of the final component is looked at; the name is never opened.
    suffix = PurePosixPath(file_name.replace("\\", "/")).suffix.lower()
    if not suffix or len(suffix) > 10:
        return None
    return mimetypes.types_map.get(suffix)


def _media_kind(content_type: str | None) -> MediaKind:
    if content_type is None:
        return MediaKind.OTHER
    major = content_type.split("/", 1)[0]
    return {"image": MediaKind.IMAGE, "video": MediaKind.VIDEO, "audio": MediaKind.AUDIO}.get(
        major, MediaKind.OTHER
    )


def _message(item: object, source: str, index: int) -> Message:
    where = f"messages[{index}]"
    m = _object(item, source, where)
    author, roles = _author(m.get("author"), source, f"{where}.author")
    raw_attachments = m.get("attachments") or []
    if not isinstance(raw_attachments, list):
        raise _fail(source, f"{where}.attachments", _expected("an array", raw_attachments, True))
    reference = m.get("reference")
    reply_to = None
    if isinstance(reference, dict) and isinstance(reference.get("messageId"), str):
        reply_to = clean(reference["messageId"])
    edited = m.get("timestampEdited")
    kind = m.get("type", "Default")
    pinned = m.get("isPinned", False)
    return Message(
        external_id=_str(m, "id", source, where),
        author=author,
        kind=clean(kind) if isinstance(kind, str) else str(kind),
        content=_str(m, "content", source, where),
        created_at=_timestamp(m.get("timestamp"), source, f"{where}.timestamp"),
        edited_at=None
        if edited is None
        else _timestamp(edited, source, f"{where}.timestampEdited"),
        is_pinned=pinned if isinstance(pinned, bool) else False,
        reply_to_external_id=reply_to,
        author_roles=roles,
        attachments=tuple(
            _attachment(a, source, f"{where}.attachments[{i}]")
            for i, a in enumerate(raw_attachments)
        ),
    )
