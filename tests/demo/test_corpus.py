"""The labelled detection corpus: it loads, it is well formed, its conversion is deterministic and
goes through the real importer, and nothing graphic is in it.

Why these tests: the corpus is the ground truth of ``benchmarks/eval_detection.py``; a malformed
entry, a drifting conversion or a label typo would silently change the figures it prints."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from iolaus.demo import corpus as C
from iolaus.demo.corpus import (
    LABELS,
    CorpusCommunity,
    CorpusError,
    load_corpus,
    render,
    render_community,
    write_exports,
)
from iolaus.ingest.discord_export import import_exports, read_header
from iolaus.store import tables as T

# Graphic terms the corpus must never hold (checked on normalised text, whole words, after the
# evasions the converter applies are undone): the demo world's list.
FORBIDDEN = (
    "nipple", "nipples", "genital", "genitals", "penis", "vagina", "blowjob", "masturbate",
    "masturbation", "orgasm", "ejaculate", "cumshot", "naked", "topless", "porn", "porno",
    "pussy", "dick", "cock", "boobs", "tits", "anal", "rape", "raped", "molest", "pedo",
    "pénis", "vagin", "fellation", "branlette", "seins", "téton", "tétons", "nue", "nues",
    "sodomie", "éjaculation", "orgasme", "masturbation", "viol", "violée", "pédo", "chatte",
    "bite", "cul", "intercourse",
)  # fmt: skip

REQUIRED_ABUSIVE_KINDS = {"ncii", "voyeurism", "deepfake", "sextortion", "csam", "doxxing"}
HARD_NEGATIVE_KINDS = {
    "support_group",
    "sex_ed",
    "adult_creators",
    "genealogy",
    "former_colleagues",
    "resale",
    "gaming_18",
    "journalism",
    "moderation",
    "photography",
    "true_crime",
}


@pytest.fixture(scope="module")
def corpus() -> list[CorpusCommunity]:
    return load_corpus()


@pytest.fixture(scope="module")
def exports(corpus: list[CorpusCommunity], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    write_exports(corpus, out)
    return out


def _files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.json"))


# --- shape ---------------------------------------------------------------------------------------


def test_corpus_size_and_balance(corpus: list[CorpusCommunity]) -> None:
    labels = Counter(c.label for c in corpus)
    assert len(corpus) >= 60
    assert labels["abusive"] >= 25
    assert labels["benign"] >= 35
    assert set(labels) <= set(LABELS)
    assert {c.lang for c in corpus} == {"fr", "en"}
    for label in LABELS:  # both languages on both sides
        assert {c.lang for c in corpus if c.label == label} == {"fr", "en"}


def test_every_community_has_required_fields(corpus: list[CorpusCommunity]) -> None:
    keys = [c.key for c in corpus]
    assert len(keys) == len(set(keys)), "keys must be unique"
    assert len({c.name for c in corpus}) == len(corpus), "names must be unique"
    for c in corpus:
        assert c.label in LABELS, c.key
        assert c.kind and c.name and c.description, c.key
        assert c.channels, c.key
        assert C.MIN_AUTHORS <= c.author_count <= C.MAX_AUTHORS, c.key
        for ch in c.channels:
            assert ch.name and ch.size > 0, (c.key, ch.name)
            if ch.filler:
                assert ch.pool, (c.key, ch.name)


def test_kinds_cover_the_brief(corpus: list[CorpusCommunity]) -> None:
    abusive = {c.kind for c in corpus if c.label == "abusive"}
    benign = [c for c in corpus if c.label == "benign"]
    assert abusive >= REQUIRED_ABUSIVE_KINDS
    assert {c.kind for c in benign} >= HARD_NEGATIVE_KINDS
    hard = [c for c in benign if "hard_negative" in c.tags or c.kind in HARD_NEGATIVE_KINDS]
    assert len(hard) > len(benign) / 2, "most benign communities are hard negatives"


def test_realistic_rates_sizes_and_evasion(corpus: list[CorpusCommunity]) -> None:
    abusive = [c for c in corpus if c.label == "abusive"]
    # some abusive communities hide a few bad messages among hundreds of ordinary ones
    assert sum(1 for c in abusive if c.size >= 300 and c.hand_written / c.size <= 0.1) >= 2
    assert any(c.size <= 30 for c in abusive), "a few small abusive communities"
    assert sum(1 for c in abusive if c.evasion >= 0.3) >= 3, "evasion-heavy communities"
    big_benign = [c for c in corpus if c.label == "benign" and c.size >= 500]
    assert any("borderline" in c.tags for c in big_benign)


def test_evasion_styles_are_all_present(corpus: list[CorpusCommunity]) -> None:
    texts = [m.text for c in corpus for channel in render_community(c) for m in channel]
    joined = "\n".join(texts)
    assert any(ch in joined for ch in ("\u200b", "\u200c", "\u200d", "\u2060")), "zero-width"
    assert re.search("[\u0400-\u04ff]", joined), "Cyrillic look-alikes"
    assert re.search("[\uff01-\uff5e]", joined), "fullwidth"
    assert re.search(r"\b\w[.\-_*/]\w[.\-_*/]\w", joined), "separators"
    assert re.search(r"[a-z][0-9][a-z]", joined), "leetspeak"
    assert re.search(r"([a-z])\1\1", joined), "letter repetition"


# --- loading errors ------------------------------------------------------------------------------


def _write(path: Path, communities: list[dict[str, Any]]) -> Path:
    pools = {"chat_en": ["hello"], "chat_fr": ["salut"]}
    path.write_text(json.dumps({"pools": pools, "communities": communities}), encoding="utf-8")
    return path


def _entry(**over: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "key": "k",
        "name": "K",
        "label": "benign",
        "kind": "general",
        "lang": "en",
        "description": "d",
        "channels": [{"name": "general", "filler": 5}],
    }
    entry.update(over)
    return entry


@pytest.mark.parametrize(
    ("over", "problem"),
    [
        ({"label": "maybe"}, "label must be one of"),
        ({"lang": "de"}, "lang must be one of"),
        ({"key": "Bad Key"}, "key must be"),
        ({"channels": []}, "channels must be a non-empty list"),
        ({"channels": [{"name": "g", "filler": 3, "pool": "nope"}]}, "unknown pools"),
        ({"channels": [{"name": "g"}]}, "needs messages or filler"),
        ({"authors": 99}, "authors must be"),
        ({"colour": "red"}, "unknown fields"),
        ({"description": ""}, "description must be"),
    ],
)
def test_bad_entries_fail_loudly(tmp_path: Path, over: dict[str, Any], problem: str) -> None:
    path = _write(tmp_path / "c.json", [_entry(**over)])
    with pytest.raises(CorpusError, match=problem):
        load_corpus(path)


def test_one_file_loads_with_the_pools_beside_it() -> None:
    abusive = load_corpus(C.CORPUS_DIR / "abusive.json")
    assert abusive and {c.label for c in abusive} == {"abusive"}
    assert all(ch.pool for c in abusive for ch in c.channels if ch.filler)


def test_duplicate_keys_fail(tmp_path: Path) -> None:
    _write(tmp_path / "a.json", [_entry()])
    (tmp_path / "b.json").write_text(json.dumps({"communities": [_entry(name="K2")]}))
    with pytest.raises(CorpusError, match="key already used"):
        load_corpus(tmp_path)


# --- conversion ----------------------------------------------------------------------------------


def _digest(root: Path) -> str:
    sha = hashlib.sha256()
    for path in _files(root):
        sha.update(path.relative_to(root).as_posix().encode())
        sha.update(path.read_bytes())
    return sha.hexdigest()


def test_conversion_is_deterministic(
    corpus: list[CorpusCommunity], exports: Path, tmp_path: Path
) -> None:
    again = write_exports(corpus, tmp_path / "again")
    assert _digest(exports) == _digest(tmp_path / "again")
    assert sum(len(paths) for paths in again.values()) == sum(len(c.channels) for c in corpus)
    # a community's export depends only on its own entry
    write_exports([corpus[5]], tmp_path / "alone")
    key = corpus[5].key
    assert _digest(tmp_path / "alone" / key) == _digest(exports / key)


def test_exports_hold_what_the_corpus_says(corpus: list[CorpusCommunity], exports: Path) -> None:
    ids: Counter[str] = Counter()
    for c in corpus:
        paths = sorted((exports / c.key).glob("*.json"))
        assert len(paths) == len(c.channels)
        authors: set[str] = set()
        guilds: set[str] = set()
        messages = 0
        for path in paths:
            data = json.loads(path.read_text(encoding="utf-8"))
            guilds.add(data["guild"]["id"])
            assert data["guild"]["name"] == c.name
            assert data["messageCount"] == len(data["messages"])
            messages += len(data["messages"])
            ids[data["channel"]["id"]] += 1
            for m in data["messages"]:
                ids[m["id"]] += 1
                authors.add(m["author"]["id"])
                assert m["content"] or m["attachments"]
        assert len(guilds) == 1
        ids[guilds.pop()] += 1
        assert messages == c.size
        assert len(authors) == c.author_count, c.key
    assert ids.most_common(1)[0][1] == 1, "ids are unique across the corpus"


def test_hand_written_messages_keep_their_order(corpus: list[CorpusCommunity]) -> None:
    community = next(c for c in corpus if c.evasion == 0 and c.hand_written >= 3)
    for channel, rendered in zip(community.channels, render_community(community), strict=True):
        expected = [m.replace("{", "").replace("}", "") for m in channel.messages]
        assert [m.text for m in rendered if m.hand_written] == expected


def test_render_disguises_only_braced_keywords() -> None:
    import random

    rng = random.Random(1)
    assert render("qui fait des {tribs} ?", rng, 0.0) == "qui fait des tribs ?"
    disguised = {render("{tribs}", rng, 1.0) for _ in range(200)}
    assert "tribs" not in disguised and len(disguised) > 20


def test_exports_import_with_no_failed_file(
    corpus: list[CorpusCommunity], exports: Path, sqlite_engine: Engine
) -> None:
    summary = import_exports(sqlite_engine, _files(exports))
    assert summary.failures == []
    assert summary.files_imported == sum(len(c.channels) for c in corpus)
    with sqlite_engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(T.communities)) == len(corpus)
        assert conn.scalar(select(func.count()).select_from(T.messages)) == sum(
            c.size for c in corpus
        )
    header = read_header(_files(exports / corpus[0].key)[0])
    assert header.community.name == corpus[0].name


# --- safety --------------------------------------------------------------------------------------

_CONFUSABLES = str.maketrans(
    {"а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "і": "i", "ѕ": "s"}
)
_LEET = str.maketrans({"4": "a", "3": "e", "1": "i", "0": "o", "5": "s", "7": "t", "8": "b"})


def _normalise(text: str) -> str:
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = text.translate(_CONFUSABLES)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"(\w)\1{2,}", r"\1", text)  # "nuuudes" -> "nudes"
    return text.translate(_LEET)


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(set(), *(_strings(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(set(), *(_strings(v) for v in value))
    return set()


def test_no_graphic_terms_anywhere(corpus: list[CorpusCommunity], exports: Path) -> None:
    forbidden = {_normalise(term) for term in FORBIDDEN}
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(forbidden))) + r")\b")
    texts: set[str] = set()
    for path in sorted(C.CORPUS_DIR.glob("*")):
        texts.add(path.read_text(encoding="utf-8"))
    for path in _files(exports):
        texts |= _strings(json.loads(path.read_text(encoding="utf-8")))
        texts.add(path.name)
    assert len(texts) > 1000
    for text in texts:
        normalised = _normalise(text)
        squeezed = re.sub(r"\b(\w)[.\-_*/ ](?=\w\b)", r"\1", normalised)  # "t.r.i.b" -> "trib"
        for candidate in (normalised, squeezed):
            found = pattern.search(candidate)
            assert found is None, f"graphic term {found.group(0)!r} in {text[:80]!r}"
