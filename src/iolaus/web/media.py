"""Media arriving over HTTP: uploads and fetched files, hashed and then forgotten.

The bytes go to a temporary file only because the decoders read files; it is deleted as soon
as the hashes are computed (raw media is never kept). HMA's conventions apply: an upload is
``multipart/form-data`` with exactly one file whose *field name* is the content type
(``photo=@x.jpg``), and the signal types computed are every registered type that applies to that
content type (``iolaus.hashing.types``), or the ``types`` the client asks for.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from iolaus.config import Settings
from iolaus.hashing.media import MediaError, hash_file
from iolaus.hashing.types import MEDIA_CONTENT, SIGNAL_TYPES, SignalType
from iolaus.web.fetch import TOO_LARGE, fetch_to_tempfile

_MAX_FORM_FILES = 4  # enough to report "only one file" ourselves; more is refused by the parser


def content_type_of(name: str) -> str:
    if name not in MEDIA_CONTENT:
        raise HTTPException(400, f"no such content_type: '{name[:40]}'")
    return name


def content_type_from_header(header: str) -> str:
    """HMA's rule for fetched files: ``image/*`` is a photo, ``video/*`` a video."""
    lowered = header.lower()
    if lowered.startswith("image/"):
        return "photo"
    if lowered.startswith("video/"):
        return "video"
    raise HTTPException(
        400,
        f"unsupported url ContentType: '{header[:80]}', if you know the expected type, "
        "provide it with the content_type query param",
    )


def selected_types(content_type: str, types: str | None) -> tuple[SignalType, ...]:
    """The signal types to compute: all of the content type's, or the comma list ``types``."""
    available = SIGNAL_TYPES.for_content(MEDIA_CONTENT[content_type])
    if types is None:
        return available
    chosen: list[SignalType] = []
    for name in (t.strip() for t in types.split(",")):
        if not name:
            continue
        match = next((s for s in available if s.name == name), None)
        if match is None:
            raise HTTPException(400, f"signal type '{name[:40]}' doesn't exist or is disabled")
        chosen.append(match)
    if not chosen:
        raise HTTPException(400, "empty signal type selection")
    return tuple(dict.fromkeys(chosen))


def hash_path(
    path: Path, content_type: str, types: tuple[SignalType, ...], max_bytes: int
) -> dict[str, str]:
    """HMA's hash map for one file. A photo too plain for PDQ gets ``"pdq": ""`` (HMA's quirk)."""
    try:
        media = hash_file(path, max_bytes=max_bytes)
    except MediaError as exc:
        raise HTTPException(400, f"cannot hash the {content_type}: {exc}") from None
    if media.kind != content_type:
        raise HTTPException(400, f"the file is a {media.kind}, not a {content_type}")
    return {kind.name: kind.hash_media(media) or "" for kind in types}


def hash_url(
    url: str, content_type: str | None, types: str | None, settings: Settings
) -> dict[str, str]:
    """Fetch ``url`` (under the fetch policy), hash it, delete it."""
    if content_type is not None:
        content_type_of(content_type)
        selected_types(content_type, types)  # refuse bad parameters before any network traffic
    with fetch_to_tempfile(url, settings) as fetched:
        kind = content_type or content_type_from_header(fetched.content_type)
        return hash_path(fetched.path, kind, selected_types(kind, types), settings.max_file_size)


@dataclass
class Upload:
    """The one file of a multipart upload, saved to a temporary file, and the text fields."""

    content_type: str
    path: Path
    fields: dict[str, str] = field(default_factory=dict)

    def hashes(self, types: str | None, max_bytes: int) -> dict[str, str]:
        return hash_path(
            self.path, self.content_type, selected_types(self.content_type, types), max_bytes
        )


def _copy_capped(source: BinaryIO, target: BinaryIO, max_bytes: int) -> None:
    source.seek(0)
    copied = 0
    while chunk := source.read(1024 * 1024):
        copied += len(chunk)
        if copied > max_bytes:
            raise HTTPException(413, TOO_LARGE)
        target.write(chunk)


@contextlib.contextmanager
def _tempfile() -> Iterator[tuple[Path, BinaryIO]]:
    fd, name = tempfile.mkstemp(prefix="iolaus-upload-")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as file:
            yield path, file
    finally:
        path.unlink(missing_ok=True)


def has_files(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


@contextlib.asynccontextmanager
async def uploaded(request: Request, max_bytes: int) -> AsyncIterator[Upload]:
    """The request's single uploaded file, on disk for the duration of the block."""
    form = await request.form(max_files=_MAX_FORM_FILES, max_fields=16)
    try:
        files = [(k, v) for k, v in form.multi_items() if isinstance(v, UploadFile)]
        if not files:
            raise HTTPException(400, "Missing multipart/form-data file upload")
        if len(files) > 1:
            raise HTTPException(400, "Only one file allowed per request")
        name, upload = files[0]
        content_type = content_type_of(name)
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        with _tempfile() as (path, sink):
            await run_in_threadpool(_copy_capped, upload.file, sink, max_bytes)
            sink.close()
            yield Upload(content_type, path, fields)
    finally:
        await form.close()
