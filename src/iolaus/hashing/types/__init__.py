"""Signal (hash) types: one class per type, and the registry derived from them.

``from iolaus.hashing.types import SIGNAL_TYPES, PDQ`` then ``SIGNAL_TYPES.from_name("md5")``,
``for kind in SIGNAL_TYPES``, ``kind.validate(value)``. Adding a type: a module with a
:class:`SignalType` subclass and ``SIGNAL_TYPES.register(MyType())``; nothing else changes.
"""

from iolaus.hashing.types.base import Comparison, HexSignal, SignalType
from iolaus.hashing.types.content import FILE, MEDIA_CONTENT, PHOTO, VIDEO, ContentType, content_of
from iolaus.hashing.types.md5 import MD5, VIDEO_MD5
from iolaus.hashing.types.pdq import PDQ
from iolaus.hashing.types.registry import SIGNAL_TYPES, SignalTypes, UnknownSignalType, by_name
from iolaus.hashing.types.sha256 import SHA256

__all__ = [
    "FILE",
    "MD5",
    "MEDIA_CONTENT",
    "PDQ",
    "PHOTO",
    "SHA256",
    "SIGNAL_TYPES",
    "VIDEO",
    "VIDEO_MD5",
    "Comparison",
    "ContentType",
    "HexSignal",
    "SignalType",
    "SignalTypes",
    "UnknownSignalType",
    "by_name",
    "content_of",
]
