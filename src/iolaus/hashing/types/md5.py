"""MD5 of a file's bytes (``md5``, which NCMEC shares) and pytx's ``video_md5``.

The same digest under two names: pytx and StopNCII know a video's MD5 as ``video_md5``, while
NCMEC lists MD5s of images and videos alike. Both are exact-match types.
"""

from __future__ import annotations

from iolaus.hashing.media import MediaHashes
from iolaus.hashing.types.base import HexSignal
from iolaus.hashing.types.content import FILE, VIDEO


class Md5Signal(HexSignal):
    name = "md5"
    content_types = (FILE,)
    examples = ("d41d8cd98f00b204e9800998ecf8427e",)
    hashes_media = True
    hex_length = 32
    bare_length = 32

    def hash_of(self, media: MediaHashes) -> str | None:
        return media.md5


class VideoMd5Signal(HexSignal):
    name = "video_md5"
    content_types = (VIDEO,)
    examples = ("d41d8cd98f00b204e9800998ecf8427e",)
    hashes_media = True
    hex_length = 32

    def hash_of(self, media: MediaHashes) -> str | None:
        return media.md5


MD5 = Md5Signal()
VIDEO_MD5 = VideoMd5Signal()
