"""Hostile-text hygiene: whatever comes in can be stored, and nothing else changes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from iolaus.ingest.text import REPLACEMENT, clean
from iolaus.terminal import printable


@given(st.text())
def test_clean_output_is_storable_and_idempotent(value: str) -> None:
    cleaned = clean(value)
    cleaned.encode("utf-8")
    assert "\x00" not in cleaned
    assert clean(cleaned) == cleaned
    assert len(cleaned) == len(value)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")))
def test_clean_keeps_storable_text_verbatim(value: str) -> None:
    assert clean(value) == value


def test_clean_replaces_nul_and_lone_surrogates() -> None:
    assert clean("a\x00b\ud800c") == f"a{REPLACEMENT}b{REPLACEMENT}c"


@given(st.text())
def test_printable_never_emits_control_or_bidi_characters(value: str) -> None:
    shown = printable(value)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in shown)
    assert not any(c in shown for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def test_printable_shows_what_was_hidden() -> None:
    assert printable("evil\u202egpj.exe\x1b[31m") == "evil<U+202E>gpj.exe<U+001B>[31m"
