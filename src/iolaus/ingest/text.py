"""Hostile-text hygiene shared by every source.

Chat text, names and file names come from abusers. They are stored verbatim except for what no
database can hold: NUL (PostgreSQL refuses it in text) and lone surrogates (not encodable as
UTF-8). Both become U+FFFD so that a reviewer can see something was there.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_SURROGATES = re.compile("[\ud800-\udfff]")


def clean(value: str) -> str:
    """Make ``value`` storable everywhere, changing nothing that already is."""
    if "\x00" in value:
        value = value.replace("\x00", REPLACEMENT)
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = _SURROGATES.sub(REPLACEMENT, value)
    return value
