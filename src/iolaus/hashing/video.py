"""vPDQ-compatible video hashing with PyAV.

vPDQ (Meta) describes a video as the PDQ hashes of frames sampled once per second, each with
its frame number, timestamp and quality. This module produces the same features:

* Sampling follows presentation timestamps, not frame counts: the first frame at or after each
  whole second (counted from the first decoded frame) is hashed, so variable frame rates and
  29.97 fps streams still give one hash per second. ``frame_number`` is the 0-based index of
  the decoded frame, as in vPDQ; ``timestamp`` is its time in seconds.
* Each sampled frame is converted to RGB and hashed with the exact PDQ of
  :func:`iolaus.hashing.pdq.hash_rgb` (vPDQ also hashes RGB frames at native size).
* The display rotation stored with the stream (phone videos) is applied first, like the
  ``ffmpeg`` pipe vPDQ reads from and like the EXIF policy for photos: hashes follow what a
  player shows. Mirroring in the display matrix is ignored.
* Consecutive samples within :data:`COLLAPSE_DISTANCE` bits of the entry they would extend
  (its first frame, so runs cannot drift) are collapsed into that entry, whose ``end`` records
  the time of the last sample it stands for. vPDQ matching treats a video as a set of frame
  hashes, so collapsing loses no matches: any hash within 31 − 8 = 23 bits of a collapsed
  frame is still within 31 bits of the entry kept for it (triangle inequality).

Containers are opened with the demuxer named by the caller (sniffed from magic bytes in
:mod:`iolaus.hashing.media`), so FFmpeg does not probe other formats, and from a file object,
so no FFmpeg protocol (``concat:``, ``http:``...) is ever interpreted from a path. Any
demuxing or decoding error, a missing video stream, frames larger than
:data:`MAX_FRAME_PIXELS` or a stream without a single decodable frame raise
:class:`~iolaus.hashing.pdq.MediaError`.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import av
import numpy as np

from iolaus.hashing.pdq import QUALITY_THRESHOLD, MediaError, PdqHash, hash_rgb, pdq_distance

__all__ = [
    "COLLAPSE_DISTANCE",
    "MAX_FRAME_PIXELS",
    "SECONDS_PER_HASH",
    "VideoFrameHash",
    "hash_video",
]

SECONDS_PER_HASH = 1.0
"""One sampled frame per second, vPDQ's default."""

COLLAPSE_DISTANCE = 8
"""Samples at most this many bits from the current entry are merged into it."""

MAX_FRAME_PIXELS = 8192 * 4320
"""Largest frame accepted (DCI 8K); bigger frames are refused as a memory bomb."""

_TIME_EPSILON = 1e-6


@dataclass(frozen=True, slots=True)
class VideoFrameHash:
    """One vPDQ feature, possibly standing for several consecutive near-identical seconds."""

    frame_number: int
    """0-based index of the hashed frame among decoded frames."""
    timestamp: float
    """Seconds from the first frame: when this entry starts."""
    end: float
    """Timestamp of the last sampled frame collapsed into this entry (= timestamp if none)."""
    quality: int
    pdq: str

    @property
    def usable(self) -> bool:
        """True when the frame's quality is high enough to match on."""
        return self.quality >= QUALITY_THRESHOLD

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict; times rounded to milliseconds like vPDQ's text output."""
        return {
            "frame_number": self.frame_number,
            "timestamp": round(self.timestamp, 3),
            "end": round(self.end, 3),
            "quality": self.quality,
            "pdq": self.pdq,
        }


def hash_video(
    source: str | os.PathLike[str] | BinaryIO, *, container: str | None = None
) -> list[VideoFrameHash]:
    """vPDQ features of a video: one PDQ per second, near-duplicate neighbours collapsed.

    ``source`` should be a binary file object (a path is opened here); ``container`` is the
    FFmpeg demuxer name (e.g. ``mov``, ``matroska``, ``avi``) or None to let FFmpeg probe.
    """
    if isinstance(source, str | os.PathLike):
        try:
            with open(source, "rb") as file:
                return hash_video(file, container=container)
        except OSError as exc:
            raise MediaError(f"cannot read video: {exc}") from exc
    try:
        with av.open(source, mode="r", format=container) as media:
            if not media.streams.video:
                raise MediaError("no video stream")
            entries = _collapse(_sampled_hashes(media, media.streams.video[0]))
    except MediaError:
        raise
    except (av.FFmpegError, OSError, ValueError, EOFError, MemoryError) as exc:
        raise MediaError(f"cannot decode video: {type(exc).__name__}: {exc}") from exc
    if not entries:
        raise MediaError("no decodable video frames")
    return entries


def _sampled_hashes(
    media: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> Iterator[tuple[int, float, PdqHash]]:
    """(frame number, seconds from the first frame, PDQ) for the first frame of each second."""
    stream.thread_type = "AUTO"
    rate = float(stream.guessed_rate or stream.average_rate or 25)
    origin: float | None = None
    next_due = 0.0
    for number, frame in enumerate(media.decode(stream)):
        if frame.width * frame.height > MAX_FRAME_PIXELS:
            raise MediaError(f"video frame {frame.width}×{frame.height} is too large")
        time = frame.time if frame.time is not None else number / rate
        if origin is None:
            origin = time
        elapsed = time - origin
        if elapsed + _TIME_EPSILON < next_due:
            continue
        next_due = (math.floor(elapsed / SECONDS_PER_HASH + _TIME_EPSILON) + 1) * SECONDS_PER_HASH
        yield number, elapsed, hash_rgb(_displayed_rgb(frame))


def _displayed_rgb(frame: av.VideoFrame) -> np.ndarray:
    """RGB pixels turned by the display rotation (counter-clockwise degrees, FFmpeg's sign)."""
    rgb = frame.to_ndarray(format="rgb24")
    quarter_turns = round(frame.rotation / 90) % 4
    return np.rot90(rgb, quarter_turns) if quarter_turns else rgb


def _collapse(samples: Iterable[tuple[int, float, PdqHash]]) -> list[VideoFrameHash]:
    """Merge each sample into the previous entry when within COLLAPSE_DISTANCE of it."""
    entries: list[VideoFrameHash] = []
    for number, elapsed, pdq in samples:
        if entries and pdq_distance(entries[-1].pdq, pdq.hex) <= COLLAPSE_DISTANCE:
            entries[-1] = dataclasses.replace(entries[-1], end=elapsed)
        else:
            entries.append(VideoFrameHash(number, elapsed, elapsed, pdq.quality, pdq.hex))
    return entries
