"""One entry point for hashing a media file: :func:`hash_file`.

Every file gets MD5 and SHA-256 of its raw bytes (streamed in chunks; the exact-match hashes
that StopNCII and NCMEC share). Photos also get a PDQ hash and quality
(:mod:`iolaus.hashing.pdq`), videos a list of vPDQ-compatible frame hashes
(:mod:`iolaus.hashing.video`).

The kind of media is sniffed from magic bytes, never from the file name: attachments are
routinely misnamed, and a hostile file named ``.jpg`` must not reach a video demuxer it chose.
Sniffing also picks the only Pillow plugin or FFmpeg demuxer allowed to read the file.

Every refused input raises :class:`MediaError` (a ``ValueError``) with a message fit for a
report line: missing, unreadable or non-regular files, empty files, files over ``max_bytes``
(checked before reading, and again while reading in case the file grows), unknown or
unsupported formats (HEIF/HEIC, JPEG XL, documents...), and anything the photo or video
decoders reject (truncated or corrupt data, decompression bombs, odd pixel modes).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

from iolaus.hashing.pdq import QUALITY_THRESHOLD, MediaError, hash_photo
from iolaus.hashing.video import VideoFrameHash, hash_video

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MediaError",
    "MediaHashes",
    "MediaType",
    "hash_file",
    "sniff_media",
]

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
"""Files larger than this (100 MiB, a generous attachment limit) are refused unread."""

SNIFF_BYTES = 512
"""Bytes read to recognise a format (MPEG-TS needs three 188-byte packets)."""

_CHUNK_BYTES = 1024 * 1024

Kind = Literal["photo", "video"]


@dataclass(frozen=True, slots=True)
class MediaType:
    """What the magic bytes say: photo or video, a short format name, the demuxer to use."""

    kind: Kind
    format: str
    demuxer: str | None = None
    """FFmpeg demuxer for videos (the only one allowed to parse the file)."""


@dataclass(frozen=True, slots=True)
class MediaHashes:
    """All hashes of one file. Photos carry ``pdq``/``pdq_quality``, videos ``frames``."""

    kind: Kind
    format: str
    size: int
    md5: str
    sha256: str
    pdq: str | None = None
    pdq_quality: int | None = None
    frames: tuple[VideoFrameHash, ...] = ()

    @property
    def pdq_usable(self) -> bool:
        """True for a photo whose PDQ quality is high enough to match on."""
        return self.pdq_quality is not None and self.pdq_quality >= QUALITY_THRESHOLD

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict with the same keys for every kind (null or [] when not applicable)."""
        return {
            "kind": self.kind,
            "format": self.format,
            "size": self.size,
            "md5": self.md5,
            "sha256": self.sha256,
            "pdq": self.pdq,
            "pdq_quality": self.pdq_quality,
            "frames": [frame.to_json() for frame in self.frames],
        }


def hash_file(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> MediaHashes:
    """Hash a photo or video file; raises MediaError for anything it refuses."""
    if max_bytes <= 0:
        raise ValueError("max_bytes must be positive")
    with _open_checked(path, max_bytes) as file:
        media_type = sniff_media(file.read(SNIFF_BYTES))
        file.seek(0)
        size, md5, sha256 = _digests(file, max_bytes)
        file.seek(0)
        if media_type.kind == "photo":
            pdq = hash_photo(file)
            return MediaHashes("photo", media_type.format, size, md5, sha256, pdq.hex, pdq.quality)
        frames = hash_video(file, container=media_type.demuxer)
        return MediaHashes("video", media_type.format, size, md5, sha256, frames=tuple(frames))


def _open_checked(path: str | os.PathLike[str], max_bytes: int) -> BinaryIO:
    """Open a regular, non-empty file no larger than max_bytes, without reading it."""
    try:
        before = os.stat(path)
        _check_size(before, max_bytes)  # before opening: a FIFO would block open()
        file = open(path, "rb")  # noqa: SIM115 - returned to the caller's with-block
    except OSError as exc:
        raise MediaError(f"cannot read file: {exc.strerror or exc}") from exc
    try:
        _check_size(os.fstat(file.fileno()), max_bytes)  # the file we actually opened
    except BaseException:
        file.close()
        raise
    return file


def _check_size(info: os.stat_result, max_bytes: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise MediaError("not a regular file")
    if info.st_size == 0:
        raise MediaError("empty file")
    if info.st_size > max_bytes:
        raise MediaError(f"file is {info.st_size} bytes, over the {max_bytes}-byte limit")


def _digests(file: BinaryIO, max_bytes: int) -> tuple[int, str, str]:
    """Size, MD5 and SHA-256 of the raw bytes, read in chunks."""
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    size = 0
    while chunk := file.read(_CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            raise MediaError(f"file grew over the {max_bytes}-byte limit while reading")
        md5.update(chunk)
        sha256.update(chunk)
    return size, md5.hexdigest(), sha256.hexdigest()


# --------------------------------------------------------------------------- sniffing

_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
_QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
_ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")

_PREFIXES: tuple[tuple[bytes, MediaType], ...] = (
    (b"\xff\xd8\xff", MediaType("photo", "jpeg")),
    (b"\x89PNG\r\n\x1a\n", MediaType("photo", "png")),
    (b"GIF87a", MediaType("photo", "gif")),
    (b"GIF89a", MediaType("photo", "gif")),
    (b"II*\x00", MediaType("photo", "tiff")),
    (b"MM\x00*", MediaType("photo", "tiff")),
    (b"BM", MediaType("photo", "bmp")),
    (b"\x1aE\xdf\xa3", MediaType("video", "matroska", "matroska")),
    (b"FLV\x01", MediaType("video", "flv", "flv")),
    (b"OggS", MediaType("video", "ogg", "ogg")),
    (b"\x00\x00\x01\xba", MediaType("video", "mpeg", "mpeg")),
    (_ASF_GUID, MediaType("video", "asf", "asf")),
)

_REFUSED_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\x0a", "JPEG XL images are not supported"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL images are not supported"),
)


def sniff_media(head: bytes) -> MediaType:
    """Recognise a photo or video format from its first bytes (SNIFF_BYTES are enough)."""
    for prefix, reason in _REFUSED_PREFIXES:
        if head.startswith(prefix):
            raise MediaError(reason)
    for prefix, media_type in _PREFIXES:
        if head.startswith(prefix):
            if media_type.format == "matroska" and b"webm" in head:
                return MediaType("video", "webm", "matroska")
            return media_type
    found = _sniff_riff(head) or _sniff_iso_media(head) or _sniff_transport_stream(head)
    if found is None:
        raise MediaError("not a recognised photo or video format")
    return found


def _sniff_riff(head: bytes) -> MediaType | None:
    if not head.startswith(b"RIFF"):
        return None
    if head[8:12] == b"WEBP":
        return MediaType("photo", "webp")
    if head[8:12] == b"AVI ":
        return MediaType("video", "avi", "avi")
    return None


def _sniff_iso_media(head: bytes) -> MediaType | None:
    """ISO base media (MP4, MOV, 3GP, AVIF, HEIF): brands in the ftyp box decide."""
    box_type = head[4:8]
    if box_type in _QUICKTIME_ATOMS:
        return MediaType("video", "mov", "mov")
    if box_type != b"ftyp":
        return None
    box_end = min(int.from_bytes(head[:4], "big"), len(head))
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, box_end - 3, 4)}
    if brands & _AVIF_BRANDS:
        return MediaType("photo", "avif")
    if brands & _HEIF_BRANDS:
        raise MediaError("HEIF/HEIC images are not supported")
    if head[8:12] == b"qt  ":
        return MediaType("video", "mov", "mov")
    return MediaType("video", "mp4", "mov")


def _sniff_transport_stream(head: bytes) -> MediaType | None:
    """MPEG-TS (sync byte every 188 bytes) or M2TS (192-byte packets, 4-byte prefix)."""
    for offset, period in ((0, 188), (4, 192)):
        positions = range(offset, offset + 3 * period, period)
        if len(head) > positions[-1] and all(head[p] == 0x47 for p in positions):
            return MediaType("video", "mpegts", "mpegts")
    return None
