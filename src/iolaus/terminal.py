"""Showing hostile text on a terminal.

Names and messages come from abusers: they may hold Rich markup, ANSI escape sequences, bidi
overrides that reorder what a reviewer reads, or control characters. ``shown`` returns a Rich
``Text`` (never parsed as markup) with those characters made visible instead of obeyed.
"""

from __future__ import annotations

import re
import unicodedata

from rich.text import Text

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    return f"<U+{ord(char):04X}>"


def printable(value: str | None, limit: int | None = None) -> str:
    """Plain string with control, bidi and zero-width characters shown as ``<U+XXXX>``."""
    if value is None:
        return ""
    text = _UNSAFE.sub(_visible, unicodedata.normalize("NFC", value))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def shown(value: str | None, limit: int | None = None) -> Text:
    """A Rich ``Text`` of ``printable(value)``: markup in it is displayed, not interpreted."""
    return Text(printable(value, limit))
