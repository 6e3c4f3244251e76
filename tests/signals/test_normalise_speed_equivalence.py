"""The shortcuts of the fast path give the same text as the plain stages they stand for."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from iolaus.signals import normalise as n

PIECES = st.sampled_from([*"abeilost 0123456789.-_/,'!@$|?", "ans", "yo", "24h", "µ", "ß", "é"])
TEXTS = st.one_of(st.text(), st.lists(PIECES, max_size=40).map("".join))


@settings(max_examples=500)
@given(st.lists(st.sampled_from([*"abeilost 0123456789.-!@$|", "yo", "h"]), max_size=40))
def test_unleet_all_is_the_mixed_substitution(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert n._unleet_all(text) == n._MIXED.sub(n._unleet_text, text)


@settings(max_examples=500)
@given(TEXTS)
def test_fast_path_is_the_general_path(text: str) -> None:
    assert n._fast(text) == n._stages(text.translate(n._FOLD))
