"""The lexicon: terms that signal a harm, as data, and a matcher fast enough for every message.

A lexicon is a list of entries ``term, category, weight`` (plus an optional ``lang``). The
category is one of the harm categories a term can point to by itself (``csam``, ``ncii``,
``voyeurism``, ``sexual_deepfake``, ``sextortion``, ``doxxing``, ``solicitation``), or one of the
two *context* categories that only count together, in the rules: ``age_indicator`` ("15 ans",
"14yo", "collégienne") and ``sexual_context`` ("nudes", "nsfw"). A hit's ``kind`` says which:
``term`` for a harm category, the category itself for a context one. The weight (0 to 1) is how
much the term alone suggests its category; rules and scores use it, the matcher does not.

Iolaus ships a default French + English lexicon (``default.csv`` next to this module). Operators
add their own: a CSV file with a header (``term``, ``category`` and ``weight`` columns, or fewer
when the loader call gives defaults; optional ``lang`` and ``note``), or a plain list, one term
per line, with the category (and weight, else 0.5) given by the call. ``#`` starts a comment
line in both. A bad row is a :class:`LexiconError` naming the file and line, raised at load,
never at match time.

Matching is on normalised text (:func:`iolaus.signals.normalise.normalise`), and terms are
normalised with the same function, so ``t.r.1.b``, ``ТRIB`` or ``tríííb`` all hit ``trib``. A term
matches whole words only (``ex`` never hits ``example``, ``trib`` never ``tribunal``), a phrase
matches its words in sequence. One Aho–Corasick automaton holds every term, keyed by its
:func:`~iolaus.signals.normalise.skeleton` with a space on each side, so a single pass over the
message's skeleton finds every whole-word occurrence of every term, overlapping ones included;
each candidate is then checked for the term's own double letters (``teen`` is not ``ten``) and
single digits (``10 ans`` is not ``100 ans``).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import ahocorasick

from iolaus.model.signals import Category
from iolaus.signals.errors import DataFileError
from iolaus.signals.normalise import Normalised, SkeletonMap, normalise, skeleton


class Kind(StrEnum):
    """Whether a hit is a signal by itself or context that counts only with other context."""

    TERM = "term"
    AGE_INDICATOR = "age_indicator"
    SEXUAL_CONTEXT = "sexual_context"


# Categories a lexicon entry may have: harm categories a word can point to, and context kinds.
# (Ban evasion is found by comparing communities, not by words.)
HARM_CATEGORIES = tuple(c.value for c in Category if c is not Category.BAN_EVASION)
CATEGORIES = (*HARM_CATEGORIES, Kind.AGE_INDICATOR.value, Kind.SEXUAL_CONTEXT.value)
COLUMNS = ("term", "category", "weight", "lang", "note")
DEFAULT_WEIGHT = 0.5
_LANG = re.compile(r"[a-z]{2,3}")


class LexiconError(DataFileError):
    """A lexicon file that cannot be loaded, with where the problem is."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One term of a lexicon, as written by its author."""

    term: str
    category: str
    weight: float
    lang: str = ""

    @property
    def kind(self) -> Kind:
        return Kind.TERM if self.category in HARM_CATEGORIES else Kind(self.category)


class Hit(NamedTuple):
    """A term found in a normalised text; ``start:end`` index that text."""

    term: str
    category: str
    kind: Kind
    weight: float
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Compiled:
    hit: tuple[str, str, Kind, float]  # what a hit of this entry reports, besides its span
    doubled: tuple[int, ...]  # skeleton positions the text must double: the term's double letters
    single: tuple[int, ...]  # and those it must not: the term's single digits (10 is not 100)

    def fits(self, where: SkeletonMap, first: int) -> bool:
        return all(where.doubled(first + k) for k in self.doubled) and not any(
            where.doubled(first + k) for k in self.single
        )


def check_entry(term: str, category: str, weight: float, lang: str = "") -> Entry:
    """An :class:`Entry`, or ``ValueError`` saying what is wrong with it."""
    term = term.strip()
    if not term:
        raise ValueError("empty term")
    if not normalise(term).text:
        raise ValueError(f"term {term!r} has no letters or digits")
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r} (expected one of {', '.join(CATEGORIES)})")
    if not (math.isfinite(weight) and 0.0 <= weight <= 1.0):
        raise ValueError(f"weight {weight!r} is not between 0 and 1")
    if lang and not _LANG.fullmatch(lang):
        raise ValueError(f"lang {lang!r} is not a language code like 'fr' or 'en'")
    return Entry(term, category, weight, lang)


class Lexicon:
    """An immutable set of entries with its automaton; build once, share between threads.

    Entries are checked (:func:`check_entry`): a bad one raises ``ValueError``.
    """

    def __init__(self, entries: Iterable[Entry]) -> None:
        # One entry per (normalised term, category): a later entry replaces an earlier one, so an
        # operator's list merged after the default can re-weight a default term.
        unique: dict[tuple[str, str], Entry] = {}
        for entry in entries:
            check_entry(entry.term, entry.category, entry.weight, entry.lang)
            key = (normalise(entry.term).text, entry.category)
            unique.pop(key, None)
            unique[key] = entry
        self._entries = tuple(unique.values())
        by_key: dict[str, list[_Compiled]] = {}
        for (text, _), e in unique.items():
            skel, where = skeleton(text), SkeletonMap(text)
            doubled = tuple(k for k in range(len(skel)) if where.doubled(k))
            single = tuple(k for k, ch in enumerate(skel) if ch.isdigit() and not where.doubled(k))
            entry_hit = _Compiled((e.term, e.category, e.kind, e.weight), doubled, single)
            by_key.setdefault(f" {skel} ", []).append(entry_hit)
        self._automaton = ahocorasick.Automaton()
        for word, compiled in by_key.items():
            self._automaton.add_word(word, (len(word), tuple(compiled)))
        if by_key:
            self._automaton.make_automaton()

    @classmethod
    def load_default(cls) -> Lexicon:
        """The lexicon shipped with Iolaus (French and English)."""
        return _default()

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        category: str | None = None,
        *,
        weight: float | None = None,
        lang: str = "",
    ) -> Lexicon:
        """Load an operator's list: CSV when the name ends in ``.csv``, else one term per line.

        ``category``, ``weight`` and ``lang`` are defaults for rows (or lines) that do not say;
        a plain list needs ``category``. Unreadable files and bad rows raise :class:`LexiconError`.
        """
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise LexiconError(str(path), None, f"cannot read: {exc.strerror or exc}") from exc
        text = _decode(raw, str(path))
        if path.suffix.lower() == ".csv":
            return cls(parse_csv(text, str(path), category=category, weight=weight, lang=lang))
        if category is None:
            raise LexiconError(str(path), None, "a plain term list needs a category")
        if weight is None:
            weight = DEFAULT_WEIGHT
        return cls(parse_lines(text, str(path), category=category, weight=weight, lang=lang))

    def merge(self, *others: Lexicon) -> Lexicon:
        """A lexicon with this one's entries, then the others' (later ones win, see __init__)."""
        return Lexicon([e for lexicon in (self, *others) for e in lexicon])

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def find(self, text: Normalised | str, *, key: str | None = None) -> list[Hit]:
        """Every whole-word occurrence of every term in ``text``, sorted by position.

        ``text`` is a :class:`Normalised` or the ``.text`` of one; hits index that string, and
        :meth:`Normalised.quote` gives the original words behind a hit. ``key``, when given,
        must be ``skeleton(text)``: a caller that also needs the skeleton (the watch list does)
        computes it once and passes it here.
        """
        if isinstance(text, Normalised):
            text = text.text
        if not self._entries or not text:
            return []
        found = list(self._automaton.iter(f" {skeleton(text) if key is None else key} "))
        if not found:
            return []
        where = SkeletonMap(text)
        hits: list[Hit] = []
        for end, (length, compiled) in found:
            # The match covers " term " in " skeleton ": skeleton positions first..last.
            first, last = end - length + 1, end - 2
            start, stop = where.first(first), where.last(last) + 1
            found_here = (c for c in compiled if c.fits(where, first))
            hits.extend(Hit._make((*c.hit, start, stop)) for c in found_here)
        hits.sort(key=lambda h: (h.start, h.end, h.category, h.term))
        return hits


def parse_csv(
    text: str,
    source: str,
    *,
    category: str | None = None,
    weight: float | None = None,
    lang: str = "",
) -> list[Entry]:
    """Entries of a CSV lexicon (see the module doc); errors name ``source`` and the line."""
    # Comment lines become blank lines, which the reader skips, so line numbers stay true.
    lines = ["\n" if line.lstrip().startswith("#") else line for line in text.splitlines(True)]
    reader = csv.reader(io.StringIO("".join(lines)), strict=True)
    header: list[str] | None = None
    entries: list[Entry] = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in row]
                _check_header(header, source, line, category, weight)
                continue
            if len(row) != len(header):
                problem = f"{len(row)} fields but the header has {len(header)}"
                raise LexiconError(source, line, problem)
            cells = dict(zip(header, (cell.strip() for cell in row), strict=True))
            entries.append(
                _entry(
                    source,
                    line,
                    cells["term"],
                    cells.get("category") or category,
                    cells.get("weight") or weight,
                    cells.get("lang") or lang,
                )
            )
    except csv.Error as exc:
        raise LexiconError(source, reader.line_num, f"not valid CSV: {exc}") from None
    if header is None:
        raise LexiconError(source, None, "no header row (expected term,category,weight)")
    return entries


def parse_lines(
    text: str, source: str, *, category: str, weight: float = DEFAULT_WEIGHT, lang: str = ""
) -> list[Entry]:
    """Entries of a plain list, one term per line; errors name ``source`` and the line."""
    entries = []
    for line, raw in enumerate(text.splitlines(), start=1):
        term = raw.strip()
        if term and not term.startswith("#"):
            entries.append(_entry(source, line, term, category, weight, lang))
    return entries


def _check_header(
    header: list[str], source: str, line: int, category: str | None, weight: float | None
) -> None:
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise LexiconError(source, line, f"unknown column {unknown[0]!r} (known: {COLUMNS})")
    if len(set(header)) != len(header):
        raise LexiconError(source, line, "a column appears twice")
    if "term" not in header:
        raise LexiconError(source, line, "no 'term' column")
    if "category" not in header and category is None:
        raise LexiconError(source, line, "no 'category' column and no category given")
    if "weight" not in header and weight is None:
        raise LexiconError(source, line, "no 'weight' column and no weight given")


def _entry(
    source: str,
    line: int,
    term: str,
    category: str | None,
    weight: str | float | None,
    lang: str,
) -> Entry:
    if not category:
        raise LexiconError(source, line, "no category")
    if weight is None:
        raise LexiconError(source, line, "no weight")
    try:
        value = float(weight)
    except ValueError:
        raise LexiconError(source, line, f"weight {weight!r} is not a number") from None
    try:
        return check_entry(term, category.strip().lower(), value, lang.strip().lower())
    except ValueError as exc:
        raise LexiconError(source, line, str(exc)) from None


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise LexiconError(source, line, "not UTF-8 text") from None


@cache
def _default() -> Lexicon:
    data = resources.files(__package__).joinpath("default.csv").read_bytes()
    return Lexicon(parse_csv(_decode(data, "default.csv"), "default.csv"))
