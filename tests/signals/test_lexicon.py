"""The lexicon: disguised terms are found, whole words only; operators' lists fail loudly.

Fixtures are short non-graphic signal phrases and invented names (rules of the house).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iolaus.demo import phrases
from iolaus.signals.lexicon import (
    CATEGORIES,
    Entry,
    Hit,
    Kind,
    Lexicon,
    LexiconError,
    parse_csv,
)
from iolaus.signals.normalise import normalise


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.load_default()


def terms(lexicon: Lexicon, message: str) -> set[str]:
    return {hit.term for hit in lexicon.find(normalise(message))}


def test_the_default_lexicon(lexicon: Lexicon) -> None:
    sizes = Counter(entry.category for entry in lexicon)
    assert set(sizes) == set(CATEGORIES)
    assert len(lexicon) >= 300
    assert all(0 <= entry.weight <= 1 for entry in lexicon)
    assert all(entry.lang in ("", "fr", "en") for entry in lexicon)
    # No row of the file is silently replaced by a later one.
    data = Path(__file__).parents[2] / "src/iolaus/signals/lexicon/default.csv"
    assert len(parse_csv(data.read_text("utf-8"), "default.csv")) == len(lexicon)
    # Genealogy words are never signals by themselves; context makes them one, in the rules.
    assert not any(normalise(entry.term).text in ("famille", "cousine") for entry in lexicon)


@pytest.mark.parametrize(
    ("message", "term"),
    [
        ("tr1b dispo en mp", "trib"),
        ("t.r.i.b dispo en mp", "trib"),
        ("t r i b dispo en mp", "trib"),
        ("t-r-i-b-s dispo", "tribs"),
        ("tr\u200bi\u200db ?", "trib"),
        ("ТRІВ ?", "trib"),
        ("ｔｒｉｂ ?", "trib"),
        ("tríbüte ?", "tribute"),
        ("qui a des photos de son е\u200bx ?", "photos de son ex"),
        ("send pics of your 3x", "send pics of your ex"),
        ("n00ds anyone", "noods"),
        ("nuuudes anyone", "nudes"),
        ("nuudes anyone", "nudes"),
        ("NUDES !!!", "nudes"),
        ("1eak de sa cousine", "leak de"),
        ("l3ak de sa cousine", "leak de"),
        ("dm for the f.o.l.d.e.r", "dm for the folder"),
        ("dm pour le dossier", "dm pour le dossier"),
        ("nudes de LunaVex ia", "nudes de"),
        ("déshabiller IA, ça marche ?", "déshabiller ia"),
        ("envoie ou je balance", "envoie ou je balance"),
        ("c koi son adresse", "son adresse"),
        ("d0x her", "dox"),
        ("upskirt du bus", "upskirt"),
        ("ses photos volées", "photos volées"),
        ("elle a 15 ans", "15 ans"),
        ("elle a 15ans", "15 ans"),
        ("elle a 11 ans", "11 ans"),
        ("14yo", "14yo"),
        ("14 y/o", "14yo"),
        ("une collégienne", "collégienne"),
        ("teeeen", "teen"),
    ],
)
def test_disguised_terms_are_found(lexicon: Lexicon, message: str, term: str) -> None:
    assert term in terms(lexicon, message)


@pytest.mark.parametrize(
    "message",
    [
        "tribunal de commerce",
        "for example",
        "exposition au musée",
        "j'ai retrouvé des photos de famille de 1952",
        "la famille est réunie",
        "photos de ma cousine au mariage de 1978",
        "ten minutes",
        "lol",
        "nods off",
        "contribute to the project",
        "sextant et boussole",
        "leakage current",
        "teenth",
        "il y a 100 ans",
        "1 yo",
    ],
)
def test_hard_negatives_are_not_hit(lexicon: Lexicon, message: str) -> None:
    assert lexicon.find(normalise(message)) == []


@pytest.mark.parametrize(
    "theme", ["cooking", "genealogy", "photo", "resale", "art", "minecraft", "programming"]
)
def test_ordinary_demo_channels_have_no_hits(lexicon: Lexicon, theme: str) -> None:
    for line in phrases.THEMES[theme]:
        assert lexicon.find(normalise(line)) == [], line


# The test's own look-alikes and invisible characters (see test_normalise for more forms).
LOOKALIKE = dict(zip("aceiopsxy", "асеіорѕху", strict=True))  # Latin -> Cyrillic
INVISIBLE = ("", "", "", "\u200b", "\u200d", "\u2060", "\u00ad")
DEFAULT_TERMS = sorted(entry.term for entry in Lexicon.load_default())


@st.composite
def disguised_term(draw: st.DrawFn) -> tuple[str, str]:
    term = draw(st.sampled_from(DEFAULT_TERMS))
    out = []
    for ch in term:
        if "a" <= ch <= "z":
            ch = draw(st.sampled_from([ch, ch.upper(), ch + "\u0301", LOOKALIKE.get(ch, ch)]))
            ch += draw(st.sampled_from(INVISIBLE))
        out.append(ch)
    return term, "".join(out)


@settings(max_examples=500)
@given(disguised_term())
def test_every_default_term_is_found_disguised(lexicon: Lexicon, case: tuple[str, str]) -> None:
    term, variant = case
    assert term in terms(lexicon, f"regarde {variant} !"), variant


def test_overlapping_terms_are_all_reported_in_order(lexicon: Lexicon) -> None:
    n = normalise("send pics of your ex")
    hits = lexicon.find(n)
    assert [h.term for h in hits] == [
        "send pics",
        "send pics of your ex",
        "pics of your ex",
        "your ex",
        "ex",
    ]
    assert hits == sorted(hits, key=lambda h: (h.start, h.end, h.category, h.term))
    assert len(set(hits)) == len(hits)
    assert [n.text[h.start : h.end] for h in hits][-1] == "ex"


def test_a_term_repeated_is_found_each_time(lexicon: Lexicon) -> None:
    hits = lexicon.find(normalise("trib trib"))
    assert [(h.term, h.start, h.end) for h in hits] == [("trib", 0, 4), ("trib", 5, 9)]


def test_hits_quote_the_original_words(lexicon: Lexicon) -> None:
    n = normalise("Qui fait des t.r.1.b.s ce soir ? 15ans")
    quotes = {h.term: n.quote(h.start, h.end) for h in lexicon.find(n)}
    assert quotes["tribs"] == "t.r.1.b.s"
    assert quotes["qui fait des tribs"] == "Qui fait des t.r.1.b.s"
    assert quotes["15 ans"] == "15ans"


def test_hits_carry_kind_and_weight(lexicon: Lexicon) -> None:
    by_term = {h.term: h for h in lexicon.find("qui a des nudes de 15 ans")}
    assert by_term["15 ans"].kind is Kind.AGE_INDICATOR
    assert by_term["15 ans"].category == "age_indicator"
    assert by_term["nudes"].kind is Kind.SEXUAL_CONTEXT
    assert by_term["qui a des nudes"].kind is Kind.TERM
    assert by_term["qui a des nudes"].category == "solicitation"
    assert 0 < by_term["qui a des nudes"].weight <= 1


def test_find_accepts_normalised_text_and_empty_input(lexicon: Lexicon) -> None:
    assert lexicon.find("") == []
    assert lexicon.find(normalise("tr1b")) == lexicon.find("trib")
    assert Lexicon([]).find("trib") == []


def test_entries_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown category 'ban_evasion'"):
        Lexicon([Entry("backup", "ban_evasion", 0.5)])
    with pytest.raises(ValueError, match="not between 0 and 1"):
        Lexicon([Entry("trib", "ncii", 2.0)])


# --- operators' lists ----------------------------------------------------------------------------


def test_plain_list_with_category(tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_text("# server slang\nzorblax\n\n  Gloubi Boulga  \n", encoding="utf-8")
    lexicon = Lexicon.from_file(path, "ncii", weight=0.7)
    assert sorted(e.term for e in lexicon) == ["Gloubi Boulga", "zorblax"]
    hits = lexicon.find(normalise("z0rbl4x et g.l.o.u.b.i boulga"))
    assert [(h.term, h.category, h.weight) for h in hits] == [
        ("zorblax", "ncii", 0.7),
        ("Gloubi Boulga", "ncii", 0.7),
    ]


def test_csv_with_defaults_from_the_call(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(
        "\ufeffterm,weight,note\nzorblax,0.9,server slang\n# a comment\nqux qux,,\n",
        encoding="utf-8",
    )
    entries = {e.term: e for e in Lexicon.from_file(path, "voyeurism", weight=0.2)}
    assert entries["zorblax"] == Entry("zorblax", "voyeurism", 0.9)
    assert entries["qux qux"] == Entry("qux qux", "voyeurism", 0.2)


def test_merge_adds_terms_and_later_weights_win(lexicon: Lexicon, tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("term,category,weight,lang\nTRIB,ncii,0.1,fr\nzorblax,csam,1,\n", "utf-8")
    merged = lexicon.merge(Lexicon.from_file(path))
    assert len(merged) == len(lexicon) + 1
    assert {h.term: h.weight for h in merged.find("trib zorblax")} == {"TRIB": 0.1, "zorblax": 1.0}


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        ("term,category,weight\nzorblax,spam,0.5\n", 2, "unknown category 'spam'"),
        ("term,category,weight\nzorblax,ncii,abc\n", 2, "not a number"),
        ("term,category,weight\nzorblax,ncii,1.5\n", 2, "not between 0 and 1"),
        ("term,category,weight\nzorblax,ncii,nan\n", 2, "not between 0 and 1"),
        ("term,category,weight\n\n# c\nzorblax,ncii\n", 4, "2 fields but the header has 3"),
        ("term,category,weight\n,ncii,0.5\n", 2, "empty term"),
        ("term,category,weight\n?!,ncii,0.5\n", 2, "no letters or digits"),
        ("term,category,weight,lang\nzorblax,ncii,0.5,french\n", 2, "not a language code"),
        ("term,category,wieght\nzorblax,ncii,0.5\n", 1, "unknown column 'wieght'"),
        ("term,weight\nzorblax,0.5\n", 1, "no 'category' column"),
        ("category,weight\nncii,0.5\n", 1, "no 'term' column"),
        ("term,term,weight\n", 1, "appears twice"),
        ('term,category,weight\n"unclosed,ncii,0.5\n', 2, "not valid CSV"),
    ],
)
def test_bad_csv_rows_name_file_and_line(
    tmp_path: Path, content: str, line: int, problem: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LexiconError) as caught:
        Lexicon.from_file(path)
    assert caught.value.line == line, str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert problem in str(caught.value)


def test_other_bad_files(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="cannot read"):
        Lexicon.from_file(tmp_path / "missing.txt", "ncii")
    plain = tmp_path / "words.txt"
    plain.write_text("zorblax\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="needs a category"):
        Lexicon.from_file(plain)
    binary = tmp_path / "words2.txt"
    binary.write_bytes(b"ok\nzorblax\n\xff\xfe\n")
    with pytest.raises(LexiconError, match=r"words2\.txt:3: not UTF-8"):
        Lexicon.from_file(binary, "ncii")
    empty = tmp_path / "empty.csv"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="no header row"):
        Lexicon.from_file(empty)
    bad_line = tmp_path / "words3.txt"
    bad_line.write_text("ok\n...\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"words3\.txt:2: term '\.\.\.' has no letters"):
        Lexicon.from_file(bad_line, "ncii")


def test_hit_is_a_plain_value() -> None:
    hit = Hit("trib", "ncii", Kind.TERM, 0.6, 0, 4)
    assert hit == Hit("trib", "ncii", Kind.TERM, 0.6, 0, 4)
