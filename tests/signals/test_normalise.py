"""Normalisation: disguised words read as the plain word; ordinary text keeps its words.

Fixtures are short non-graphic signal words (rules of the house), disguised the way evaders do.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iolaus.signals.normalise import SkeletonMap, _tracked, normalise, skeleton

CANONICAL = re.compile(r"(?:[a-z0-9]+(?: [a-z0-9]+)*)?")
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\ufeff", "\u202e", "\ufe0f")


@pytest.mark.parametrize(
    ("disguised", "plain"),
    [
        ("tr1b", "trib"),
        ("7r1b", "trib"),
        ("t.r.i.b", "trib"),
        ("t-r-i-b", "trib"),
        ("t_r_i_b", "trib"),
        ("t r i b", "trib"),
        ("t . r . i . b", "trib"),
        ("t•r•i•b", "trib"),
        ("t\u200br\u200ci\u200db\u2060", "trib"),
        ("tr\u00adib\ufeff", "trib"),
        ("\u202etrib\u202c", "trib"),
        ("ТRІВ", "trib"),  # Cyrillic Т І В
        ("τrιb", "trib"),  # Greek tau, iota
        ("ｔｒｉｂ", "trib"),  # fullwidth
        ("𝐭𝐫𝐢𝐛", "trib"),  # mathematical bold
        ("ⓣⓡⓘⓑ", "trib"),  # circled
        ("🅣🅡🅘🅑", "trib"),  # negative circled
        ("⒯⒭⒤⒝", "trib"),  # parenthesised
        ("ᴛʀɪʙ", "trib"),  # small capitals
        ("TríB", "trib"),
        ("ех", "ex"),  # both letters Cyrillic
        ("е\u200bx", "ex"),
        ("sœur", "soeur"),
        ("Straße", "strasse"),
        ("çà", "ca"),
        ("s3xt4pe", "sextape"),
        ("n00ds", "noods"),
        ("nud3s", "nudes"),
        ("leak5", "leaks"),
        ("|eak", "leak"),
        ("n!ce", "nice"),
        ("$ext4pe", "sextape"),
        ("nuuuudes", "nuudes"),
        ("teeeeen", "teen"),
        ("l'ex", "l ex"),
        ("l’ex", "l ex"),
        ("14yo", "14 yo"),
        ("14 y/o", "14 yo"),
        ("16y0", "16 yo"),
        ("8yo", "8 yo"),
        ("15ans", "15 ans"),
        ("15 ans", "15 ans"),
        ("2024", "2024"),
        ("1.5 ans", "1 5 ans"),
        ("3h30", "3 h 30"),
        ("user42", "user 42"),
        ("@lunavex", "lunavex"),
        ("t e e n   t r a d e", "teen trade"),
        ("son s n a p c'est quoi", "son snap c est quoi"),
        ("a? b? c?", "abc"),
        ("пех ex", "ex"),  # a Russian word is not read as "ex"
        ("我的ex照片", "ex"),
        ("  Qui a des PHOTOS ?!  ", "qui a des photos"),
        ("", ""),
        ("\u200b\u200b", ""),
    ],
)
def test_disguises_read_as_the_plain_word(disguised: str, plain: str) -> None:
    assert normalise(disguised).text == plain


@pytest.mark.parametrize(
    "ordinary",
    [
        "photos de famille",
        "le t shirt de ma soeur",
        "il y a deux ans",
        "tribunal de commerce",
        "exposition au musee",
        "mon nouvel objectif est arrive",
        "rendez vous a 18 h",
    ],
)
def test_ordinary_words_are_left_alone(ordinary: str) -> None:
    assert normalise(ordinary).text == ordinary


def test_stretched_and_doubled_letters_share_a_skeleton() -> None:
    assert skeleton(normalise("nuuuudes").text) == skeleton("nudes")
    assert skeleton(normalise("nuudes").text) == skeleton("nudes")
    assert skeleton(normalise("1eak").text) == skeleton("leak")  # 1 and l, I and l
    assert skeleton("teen") == skeleton("ten")  # the lexicon tells them apart by their runs


def test_quote_gives_the_original_words() -> None:
    message = "Qui a des ph0tos de son е\u200bx ?"
    n = normalise(message)
    assert n.text == "qui a des photos de son ex"
    start = n.text.index("photos")
    assert n.quote(start, start + len("photos")) == "ph0tos"
    assert n.quote(len(n.text) - 2, len(n.text)) == "е\u200bx"
    assert n.original_span(0, 3) == (0, 3)
    with pytest.raises(ValueError, match="not inside"):
        n.original_span(3, 3)


def test_quote_spans_separators_and_numbers() -> None:
    n = normalise("dispo: t.r.i.b, 15ans")
    assert n.text == "dispo trib 15 ans"
    assert n.quote(6, 10) == "t.r.i.b"
    assert n.quote(11, 13) == "15"
    assert n.quote(11, 17) == "15ans"


# --- properties ----------------------------------------------------------------------------------

TRICKY = st.sampled_from(
    [
        *"abceilnostxy 0123456789.-_*/,:;=+~'!@$|?#()\"`",
        *ZERO_WIDTH,
        *"éèçàüœßøıİ\u0301\u0308ехопсіΗσονᴛʀⓐ🅣ｔ𝐭…•–«»’ℓﬁ①½пж我\u3164\u2800\x00\ud800",
        "ans",
        "yo",
        "  ",
    ]
)
TEXTS = st.one_of(st.text(), st.lists(TRICKY, max_size=40).map("".join))


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_canonical_alphabet_and_idempotent(text: str) -> None:
    once = normalise(text).text
    assert CANONICAL.fullmatch(once)
    assert normalise(once).text == once


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_offsets_follow_the_same_stages(text: str) -> None:
    n = normalise(text)
    tracked, offsets = _tracked(text)
    assert tracked == n.text
    assert len(offsets) == len(n.text)
    assert offsets == sorted(offsets)
    assert all(0 <= offset < len(text) for offset in offsets)


# Ways to write one letter that a reader takes for it (the test's own picks, not the module's).
LOOKALIKE = {
    "a": "аα",
    "b": "В",
    "c": "сϲ",
    "e": "еε",
    "i": "іι",
    "k": "κ",
    "o": "оο",
    "p": "рρ",
    "s": "ѕ",
    "t": "τт",
    "x": "хχ",
    "y": "у",
}
ACCENTS = ("\u0301", "\u0300", "\u0302", "\u0308")
WORDS = (
    "trib",
    "tribute",
    "nudes",
    "leak",
    "deepfake",
    "upskirt",
    "sextape",
    "creepshot",
    "dossier",
    "cousine",
    "collegienne",
    "jailbait",
    "folder",
    "teen",
)


def _forms(letter: str) -> list[str]:
    i = ord(letter) - ord("a")
    return [
        letter,
        letter.upper(),
        chr(0xFF41 + i),  # fullwidth
        chr(0x1D41A + i),  # mathematical bold
        chr(0x24D0 + i),  # circled
        *LOOKALIKE.get(letter, ""),
        *(letter + accent for accent in ACCENTS),
    ]


@st.composite
def disguised(draw: st.DrawFn, *, repeat: bool = False) -> tuple[str, str]:
    word = draw(st.sampled_from(WORDS))
    pieces = []
    for letter in word:
        piece = draw(st.sampled_from(_forms(letter)))
        piece += "".join(draw(st.lists(st.sampled_from(ZERO_WIDTH), max_size=2)))
        pieces.extend([piece] * (draw(st.integers(1, 4)) if repeat else 1))
    separator = draw(st.sampled_from(["", "", ".", "-", "_", "*", "/", " ", " . ", "·", "•"]))
    return word, separator.join(pieces)


@settings(max_examples=800)
@given(disguised())
def test_evasion_variants_normalise_to_the_plain_word(case: tuple[str, str]) -> None:
    word, variant = case
    assert normalise(f"qui a des {variant} ?").text == f"qui a des {word}"


@settings(max_examples=400)
@given(disguised(repeat=True))
def test_repeated_letters_keep_the_skeleton(case: tuple[str, str]) -> None:
    word, variant = case
    assert skeleton(normalise(f"des {variant} ici").text) == skeleton(f"des {word} ici")


@settings(max_examples=400)
@given(st.text(alphabet="abilo 10", max_size=30).map(lambda t: normalise(t).text))
def test_skeleton_map_points_back_to_the_runs(text: str) -> None:
    key, where = skeleton(text), SkeletonMap(text)
    runs = [m.span() for m in re.finditer(r"(.)\1*", text.replace("l", "i"))]
    assert len(runs) == len(key)
    for k, (start, end) in enumerate(runs):
        assert (where.first(k), where.last(k) + 1) == (start, end)
        assert where.doubled(k) == (end - start > 1)
