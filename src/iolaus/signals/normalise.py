"""One canonical form for hostile text, so that a disguised word reads as the word it disguises.

Evaders write ``tr1b``, ``t.r.i.b``, ``t r i b``, ``nuuudes``, ``ех`` in Cyrillic, ``ｔｒｉｂ`` in
fullwidth, or slip a zero-width space inside a word. People read all of these as the plain word,
so a detector must too. :func:`normalise` maps any text to lower-case Latin letters, digits and
single spaces, in this order:

1. **Characters**, one at a time (a ``str.translate`` table filled lazily and cached):
   invisible characters are removed (zero-width space/joiners, word joiner, soft hyphen, BOM,
   bidi controls, variation selectors, tag characters, Hangul fillers, C0 controls); look-alike
   letters become their Latin letter (Cyrillic ``а е і о р с х у``…, Greek, Armenian, Cherokee,
   small capitals, negative circled/squared letters and regional indicators, ``ø æ œ ł đ þ``…);
   then NFKD (fullwidth, mathematical alphanumerics, circled and parenthesised letters,
   ligatures, superscripts), accents dropped (``é → e``, ``ç → c``), case folded (``ß → ss``).
   Dashes become ``-``, other non-ASCII punctuation and symbols (emoji included) become ``.``
   so they can act as separators; apostrophes (``'`` ``’``) end a word; quotes and brackets
   become spaces. A letter of an alphabet that has Latin look-alikes but is not one itself
   (Cyrillic ``п``) marks its word as foreign: the whole word is dropped, so that Russian
   ``пех`` does not read as ``ex``. Letters of other scripts (CJK, Arabic…) are word boundaries.
2. **Separated letters** are glued: a run of two or more single characters separated by the
   same separator (``t.r.i.b``, ``t-r-i-b``, ``t_r_i_b``, ``t . r . i . b``, ``y/o``) when it
   holds at least two letters (``1.5`` stays a number), and a run of three or more single
   *letters* separated by single spaces (``t r i b``; ``t e e n   t r a d e`` is two words; two
   letters, as in French ``y a``, are left alone; ``c'`` and ``l'`` are not single letters, so
   ``s n a p c'est`` reads ``snap c est``). Ordinary words are never glued to each other. The
   space rule is applied once more at the end, when punctuation has become spaces, so that the
   result is stable (``a? b? c?`` reads ``abc``).
3. **Leetspeak**, only inside tokens that mix letters with digits or ``@ $ ! |``, so that
   ``15 ans`` and ``2024`` stay numbers: ``0 1 3 4 5 7 8 @ $ ! |`` read ``o i e a s t b a s i l``
   inside a word (``n00ds``, ``s3xt4pe``, ``tr1b``, ``7ribute``, ``nud3``). A number at the edge of
   a word stays a number and is split from it, so ``15ans`` reads ``15 ans`` and ``14yo``
   ``14 yo``: a leading or trailing run of two or more digits, a leading digit followed by a unit
   (``8yo``, ``3h``, ``4k``, ``2nd``), or a digit with no letter reading (``2``, ``6``, ``9``).
   So ``user42`` reads ``user 42`` but ``tribu73`` (two leet digits at the edge) is missed.
   ``@`` starting a word is a mention sign and is dropped; ``1`` reads ``i`` (the lexicon
   matcher treats ``i`` and ``l`` alike, see :func:`skeleton`).
4. **Repeated letters**: a run of three or more identical letters becomes two (``nuuuudes →
   nuudes``, ``teeeen → teen``). Doubles are kept because they carry meaning (``teen`` is not
   ``ten``); :func:`skeleton` then folds doubles for matching, and the lexicon matcher checks
   that a term's own doubles are present. Digits are never collapsed (``1000``).

Normalisation is idempotent and never raises. It runs on every message, so the common path
is a handful of C-level calls: a ``bytes.translate`` table for Latin-1 text (most English and
French chat), precompiled regular expressions, and for each rarer stage a cheap search that
skips it when it cannot apply. The offsets back to the original text, which only an
explanation needs, are computed on demand by :meth:`Normalised.offsets`, running the same
stages with position tracking.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

# --- characters ----------------------------------------------------------------------------------

# Kept by the character stage for the later stages, then turned into spaces.
SEPARATORS = ".,-_*/\\~+:;="
_LEET = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "l",
}
_LEET_SYMBOLS = "@$!|"
# Marks a letter of a look-alike alphabet that has no Latin reading: its word is dropped.
_FOREIGN = "\x00"

# Latin letter -> characters drawn to look like it (written for Iolaus after UTS #39's notion
# of confusables; NFKD already covers fullwidth, mathematical and circled forms).
_LOOKALIKES: dict[str, str] = {
    "a": "аАαΑɑᴀᎪ",
    "b": "вВьЬβΒʙᏴƀ",
    "c": "сСϲϹᴄᏟ",
    "d": "ԁԀᴅđĐðÐᎠ",
    "e": "еЕεΕᴇəǝɛᎬ℮",
    "f": "ꜰƒϜ",
    "g": "ɡɢց",
    "h": "нНһҺΗʜħĦհᎻ",
    "i": "іІιΙɪıɩɨᎥ",
    "j": "јЈϳᴊȷᎫ",
    "k": "кКκΚᴋĸᏦ",
    "l": "ӏӀʟłŁŀĿǀᏞ",
    "m": "мМΜᴍᎷ",
    "n": "ΝηɴŋŊո",
    "o": "оОοΟσօᴏøØ",
    "p": "рРρΡᴘᏢ",
    "q": "ԛԚզ",
    "r": "гʀᏒ",
    "s": "ѕЅꜱᏚ",
    "t": "тТτΤᴛŧŦᎢ",
    "u": "υʉᴜս",
    "v": "νᴠᏙѵѴ",
    "w": "ԝԜωᴡᏔ",
    "x": "хХχΧ",
    "y": "уУүҮΥγʏ",
    "z": "ΖᴢᏃ",
}
_LIGATURES = {"æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "þ": "th", "Þ": "th"}
# Enclosed letters that NFKD leaves alone: negative circled, negative squared, regional indicators.
_ENCLOSED_BLOCKS = (0x1F150, 0x1F170, 0x1F1E6)
# Letters that render as nothing (Hangul fillers, used for blank names) and a blank "symbol".
_INVISIBLE_LETTERS = "\u115f\u1160\u3164\uffa0"
_BLANK_SYMBOLS = "\u2800"
# Typographic apostrophes read as "'", which ends an elided word (c'est, l'ex) like a space does
# but, unlike a space, does not separate spaced-out letters (s n a p c'est).
_APOSTROPHES = "\u2019\u2018\u02bc"
# Alphabets with Latin look-alikes: their other letters mark a foreign word (see module doc).
_LOOKALIKE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC"})


def _build_exact() -> dict[str, str]:
    exact = dict(_LIGATURES)
    for latin, shapes in _LOOKALIKES.items():
        exact.update(dict.fromkeys(shapes, latin))
    for block in _ENCLOSED_BLOCKS:
        for i in range(26):
            exact[chr(block + i)] = chr(ord("a") + i)
    exact.update(dict.fromkeys(_INVISIBLE_LETTERS, ""))
    exact.update(dict.fromkeys(_BLANK_SYMBOLS, " "))
    exact.update(dict.fromkeys(_APOSTROPHES, "'"))
    return exact


def _ascii_fold(code: int) -> str | None:
    ch = chr(code)
    if ch.isalnum():
        return ch.lower()
    if ch in SEPARATORS or ch in _LEET_SYMBOLS or ch == "'":
        return ch
    if ch.isspace():
        return " "
    if code < 32 or code == 127:
        return None  # invisible control character
    if ch == "`":
        return "'"
    return " "  # quotes, brackets, ? # & …: word boundaries


_EXACT = _build_exact()
_ASCII = {code: _ascii_fold(code) for code in range(128)}
# The last cleaning as a bytes table: anything but a letter or a digit becomes a space.
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_CLEAN_BYTES = bytes(c if chr(c) in _WORD_CHARS else ord(" ") for c in range(256))


def _fold_char(ch: str) -> str:
    """What one character reads as, in the alphabet of the later stages (see module doc)."""
    if ch < "\x80":
        return _ASCII[ord(ch)] or ""
    if ch in _EXACT:
        return _EXACT[ch]
    decomposed = unicodedata.normalize("NFKD", ch)
    if decomposed != ch:
        return "".join(map(_fold_char, decomposed))
    folded = ch.casefold()
    if folded != ch:
        return "".join(map(_fold_char, folded))
    category = unicodedata.category(ch)
    if category[0] == "M" or category == "Cf":
        return ""  # accents, variation selectors; format characters (zero-width, bidi, tags)
    if category[0] == "Z":
        return " "
    if category[0] == "L":
        script = unicodedata.name(ch, "").split(" ", 1)[0]
        return _FOREIGN if script in _LOOKALIKE_SCRIPTS else " "
    if category in ("Pi", "Pf", "Ps", "Pe"):
        return " "  # quotes and brackets
    if category == "Pd":
        return "-"
    if category[0] in "PS":
        return "."  # other punctuation and symbols can separate letters: t•r•i•b, t♥r♥i♥b
    return " "  # other-script digits, controls, private use, unassigned, lone surrogates


class _FoldTable(dict[int, str | None]):
    """``str.translate`` table over all of Unicode, computed per code point on first sight.

    The cache is bounded so that text crafted to contain every code point cannot grow it
    without limit; past the bound, rare characters are simply recomputed.
    """

    LIMIT = 65_536

    def __missing__(self, code: int) -> str | None:
        value = _fold_char(chr(code)) or None
        if len(self) < self.LIMIT:
            self[code] = value
        return value


_FOLD = _FoldTable(_ASCII)
_SPILL = "\x01"  # a control character: deleted by the map, so it never appears otherwise


def _latin1_tables() -> tuple[bytes, bytes]:
    """The character map over Latin-1 as a ``bytes.translate`` table and its deletions.

    Most chat (English, French) is Latin-1, where a byte table beats a dict lookup per character.
    The few characters that read as two letters (``ß æ þ ½``…) map to :data:`_SPILL`, which
    sends the text to the general table.
    """
    table = bytearray(range(256))
    delete = bytearray()
    for code in range(256):
        value = _fold_char(chr(code))
        if not value:
            delete.append(code)
        else:
            table[code] = ord(value) if len(value) == 1 else ord(_SPILL)
    return bytes(table), bytes(delete)


_LATIN1_BYTES, _LATIN1_DELETE = _latin1_tables()

# --- stages after the character map ----------------------------------------------------------

# One (position in the current text) per output character; see _tracked_sub.
Edits = list[tuple[str, int]]

_FOREIGN_WORD = re.compile(r"[^ \x00]*+\x00[^ ]*+")
_SEP_CLASS = "[" + re.escape(SEPARATORS) + "]"
_SEPARATED = re.compile(
    r"(?<![a-z0-9])[a-z0-9](?P<sep> ?" + _SEP_CLASS + r"{1,3} ?)[a-z0-9](?![a-z0-9])"
    r"(?:(?P=sep)[a-z0-9](?![a-z0-9]))*+"
)
# Written "one separator, then up to two more" rather than "{1,3}" so that the pattern starts
# with a character class: the engine then skips ahead to the next separator instead of trying
# the match at every position (a repeat at the start defeats that optimisation).
_SEPARATED_HINT = re.compile(_SEP_CLASS + _SEP_CLASS + r"{0,2} ?[a-z0-9](?![a-z0-9])")
_SPACED = re.compile(r"(?<![a-z0-9'])[a-z](?: [a-z](?![a-z0-9'])){2,}+")
_SPACED_HINT = re.compile(r" [a-z] [a-z](?![a-z0-9'])")
_MIXED = re.compile(
    r"(?<![a-z0-9@$!|])(?=[a-z0-9@$!|]*?(?:[a-z][0-9@$!|]|[0-9@$!|][a-z]))[a-z0-9@$!|]+"
)
# Where _MIXED can match: a digit or symbol next to a letter. It starts with a character class,
# so scanning for it is quick; _MIXED itself starts with a look-behind and is tried everywhere.
_MIXED_AT = re.compile(r"[0-9@$!|](?:(?<=[a-z][0-9@$!|])|(?=[a-z]))")
_TOKEN_END = re.compile(r"[a-z0-9@$!|]*")
_MIXED_CLASS = "abcdefghijklmnopqrstuvwxyz0123456789@$!|"
_RUN = re.compile(r"[a-z]+|[0-9]+|[@$!|]+")
_PIECE = re.compile(r"[a-z0-9]+")
_ALNUM_RUN = re.compile(r"[a-z]+|[0-9]+")
# A digit next to a letter, a symbol between letters or digits, or $ | before a letter: the
# tokens where reading leetspeak changes anything (elsewhere a symbol is a space anyway).
# One leading character class, so the engine scans for it quickly.
_MIXED_HINT = re.compile(
    r"[0-9@$!|](?:(?<=[a-z][0-9])|(?<=[0-9])(?=[a-z])"
    r"|(?<=[a-z0-9][@$!|])[@$!|]*[a-z0-9]|(?<=[$|])[$|]*[a-z])"
)
_JUNK = re.compile(r"[^a-z0-9]+")
_STRETCH = re.compile(r"([a-z])(?=\1\1)")
_TRIPLE_HINT = re.compile(r"(.)\1\1")  # any character: "." is faster to test than a class
# Words a leading single digit can measure, so that "8yo", "3h" or "4k" stay numbers: ages,
# ordinals (3e, 2nd), times and sizes.
_AGES = ("yo", "y", "yr", "yrs", "ans", "an")
_ORDINALS = ("e", "er", "ere", "eme", "em", "st", "nd", "rd", "th")
_MEASURES = ("h", "min", "mn", "s", "am", "pm", "j", "m", "mm", "cm", "km", "g", "kg", "k", "l")
_UNITS = frozenset((*_AGES, *_ORDINALS, *_MEASURES, "p", "d"))  # 1080p, 3d


def _glue_separated(m: re.Match[str]) -> Edits:
    """``t.r.i.b`` -> ``trib`` when the run holds two letters or more (``1.5`` stays)."""
    base, run = m.start(), m.group()
    kept = [(ch, base + i) for i, ch in enumerate(run) if ch.isalnum()]
    if sum(ch.isalpha() for ch, _ in kept) < 2:
        return [(ch, base + i) for i, ch in enumerate(run)]
    return kept


def _glue_spaced(m: re.Match[str]) -> Edits:
    """``t r i b`` -> ``trib``."""
    base = m.start()
    return [(ch, base + i) for i, ch in enumerate(m.group()) if ch != " "]


def _unleet(m: re.Match[str]) -> Edits:
    """Read a token mixing letters with digits or symbols (rules in the module doc).

    Symbols first: inside the token they are letters (``n!ce``), leading ``$`` or ``|`` before
    a letter too (``$ext4pe``), any other (a mention's ``@``, a trailing ``!``) splits the token.
    Then each piece's digits: edge numbers split off, the rest read as letters.
    """
    base = m.start()
    runs = list(_RUN.finditer(m.group()))
    chars: Edits = []
    for k, r in enumerate(runs):
        run, pos = r.group(), base + r.start()
        if run[0] in _LEET_SYMBOLS:
            inside = 0 < k < len(runs) - 1
            leading = k == 0 and runs[1].group().isalpha() and set(run) <= {"$", "|"}
            if not (inside or leading):
                chars.append((" ", pos))
                continue
            run = "".join(_LEET[ch] for ch in run)
        chars.extend((ch, pos + i) for i, ch in enumerate(run))
    word = "".join(ch for ch, _ in chars)
    edits: Edits = []
    for piece in _PIECE.finditer(word):
        edits.append((" ", chars[piece.start()][1]))
        edits.extend(_read_digits(piece, chars))
    return edits


def _read_digits(piece: re.Match[str], chars: Edits) -> Edits:
    """Digits of one piece: numbers at its edges split off, the others read as letters."""
    runs = list(_ALNUM_RUN.finditer(piece.group()))
    edits: Edits = []
    for k, r in enumerate(runs):
        run = r.group()
        at = [chars[piece.start() + r.start() + i][1] for i in range(len(run))]
        if run.isalpha() or len(runs) == 1:
            edits.extend(zip(run, at, strict=True))
            continue
        after = runs[k + 1].group() if k + 1 < len(runs) else ""
        if k == 0:
            number = len(run) > 1 or run not in _LEET or after in _UNITS
        elif k == len(runs) - 1:
            number = len(run) > 1 or run not in _LEET
        else:
            number = False
        if number:
            edits.extend([(" ", at[0]), *zip(run, at, strict=True), (" ", at[-1])])
        else:
            edits.extend((_LEET.get(ch, ch), pos) for ch, pos in zip(run, at, strict=True))
    return edits


def _joined(edit: Callable[[re.Match[str]], Edits]) -> Callable[[re.Match[str]], str]:
    return lambda m: "".join(ch for ch, _ in edit(m))


_glue_separated_text = _joined(_glue_separated)
_glue_spaced_text = _joined(_glue_spaced)
_unleet_text = _joined(_unleet)


@lru_cache(maxsize=4096)
def _unleet_token(token: str) -> str:
    """:func:`_unleet` of a whole token, as text; cached.

    The reading of a token depends on the token alone, and the same few tokens (``24h``,
    ``18+``, ``1080p``, ``2nd``) come back in message after message, while reading one is
    comparatively slow Python. The cache is bounded, so crafted text cannot grow it.
    """
    m = _MIXED.match(token)
    return token if m is None else _unleet_text(m)


def _unleet_all(s: str) -> str:
    """``_MIXED.sub(_unleet_text, s)``, found from the letter-digit contacts instead.

    A match of :data:`_MIXED` is a whole token of letters, digits and symbols holding a digit or
    symbol next to a letter: finding those contacts with :data:`_MIXED_AT` and widening each to
    its token gives the same matches, without trying _MIXED's look-behind at every position.
    """
    out: list[str] = []
    done = 0
    for contact in _MIXED_AT.finditer(s):
        at = contact.start()
        if at < done:
            continue  # another contact in a token already read
        start = len(s[:at].rstrip(_MIXED_CLASS))
        token_end = _TOKEN_END.match(s, at)
        end = token_end.end() if token_end else len(s)
        out.append(s[done:start])
        out.append(_unleet_token(s[start:end]))
        done = end
    out.append(s[done:])
    return "".join(out)


# The hints and the last cleaning, on the bytes of the Latin-1 path (see _fast).
_SEPARATED_HINT_B = re.compile(_SEPARATED_HINT.pattern.encode())
_SPACED_HINT_B = re.compile(_SPACED_HINT.pattern.encode())
_MIXED_HINT_B = re.compile(_MIXED_HINT.pattern.encode())
_SPILL_B = _SPILL.encode()
_FOREIGN_B = _FOREIGN.encode()


def _fast(text: str) -> str:
    """The canonical form, with no offsets: what every message goes through.

    Most messages are Latin-1 and hold nothing for the glueing or leetspeak stages: for them the
    text stays bytes from the character map to the final cleaning (two ``bytes.translate`` and a
    split), with three quick searches to make sure no stage applies. Anything else takes
    :func:`_stages`, the general path; both give the same result.
    """
    try:
        mapped = text.encode("latin-1").translate(_LATIN1_BYTES, _LATIN1_DELETE)
    except UnicodeEncodeError:
        return _stages(text.translate(_FOLD))
    if _SPILL_B in mapped:
        return _stages(text.translate(_FOLD))  # a character that reads as two letters (ß æ ½)
    if (
        _FOREIGN_B in mapped  # a foreign letter (µ is Greek) drops its word
        or _SEPARATED_HINT_B.search(mapped)
        or _SPACED_HINT_B.search(mapped)
        or _MIXED_HINT_B.search(mapped)
    ):
        return _stages(mapped.decode("latin-1"))
    return _finish(b" ".join(mapped.translate(_CLEAN_BYTES).split()).decode("latin-1"))


def _stages(s: str) -> str:
    """The stages after the character map, on its output ``s`` (see the module doc)."""
    if _FOREIGN in s:
        s = _FOREIGN_WORD.sub(" ", s)
    # Each stage runs only when a cheap necessary condition holds; the hints start with a rare
    # character class, which the regular expression engine scans for quickly.
    if _SEPARATED_HINT.search(s):
        s = _SEPARATED.sub(_glue_separated_text, s)
    if _SPACED_HINT.search(s):
        s = _SPACED.sub(_glue_spaced_text, s)
    if _MIXED_HINT.search(s):
        s = _unleet_all(s)
    return _finish(" ".join(s.encode().translate(_CLEAN_BYTES).decode().split()))


def _finish(s: str) -> str:
    """The last two stages, on cleaned text: spaced letters once more, then stretched letters."""
    if _SPACED_HINT.search(s):
        s = _SPACED.sub(_glue_spaced_text, s)
    return _STRETCH.sub("", s) if _TRIPLE_HINT.search(s) else s


def _tracked_sub(
    pattern: re.Pattern[str],
    replace: str | Callable[[re.Match[str]], Edits],
    text: str,
    offsets: list[int],
) -> tuple[str, list[int]]:
    """``pattern.sub`` that carries, for every character, its position in the original text."""
    out: list[str] = []
    out_offsets: list[int] = []
    done = 0
    for m in pattern.finditer(text):
        start, end = m.span()
        out.append(text[done:start])
        out_offsets.extend(offsets[done:start])
        if isinstance(replace, str):
            out.append(replace)
            out_offsets.extend([offsets[start]] * len(replace))
        else:
            for ch, pos in replace(m):
                out.append(ch)
                out_offsets.append(offsets[pos])
        done = end
    out.append(text[done:])
    out_offsets.extend(offsets[done:])
    return "".join(out), out_offsets


def _tracked(text: str) -> tuple[str, list[int]]:
    """:func:`_fast` with offsets: the same stages, slower, for explanations only."""
    chars: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        mapped = _FOLD[ord(ch)] or ""
        chars.append(mapped)
        offsets.extend([i] * len(mapped))
    s = "".join(chars)
    s, offsets = _tracked_sub(_FOREIGN_WORD, " ", s, offsets)
    s, offsets = _tracked_sub(_SEPARATED, _glue_separated, s, offsets)
    s, offsets = _tracked_sub(_SPACED, _glue_spaced, s, offsets)
    s, offsets = _tracked_sub(_MIXED, _unleet, s, offsets)
    s, offsets = _tracked_sub(_JUNK, " ", s, offsets)
    lead = len(s) - len(s.lstrip(" "))
    s, offsets = s.strip(" "), offsets[lead : lead + len(s.strip(" "))]
    s, offsets = _tracked_sub(_SPACED, _glue_spaced, s, offsets)
    return _tracked_sub(_STRETCH, "", s, offsets)


class Normalised(NamedTuple):
    """A text and its canonical form; cheap to make, offsets computed only when asked."""

    original: str
    text: str

    def offsets(self) -> list[int]:
        """For each character of :attr:`text`, the index in :attr:`original` it comes from."""
        return _tracked(self.original)[1]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of :attr:`original` that ``text[start:end]`` was made from."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"span {start}:{end} is not inside the normalised text")
        offsets = self.offsets()
        return offsets[start], offsets[end - 1] + 1

    def quote(self, start: int, end: int) -> str:
        """The original words behind ``text[start:end]``, as an explanation should show them."""
        first, stop = self.original_span(start, end)
        return self.original[first:stop]


_new = tuple.__new__  # skips NamedTuple's Python-level __new__ on the hot path


def normalise(text: str) -> Normalised:
    """Canonical form of ``text``: lower-case Latin letters, digits and single spaces."""
    return _new(Normalised, (text, _fast(text)))


_DOUBLE = re.compile(r"(.)(?=\1)")  # spaces never repeat; "." is faster to test than a class


def skeleton(normalised: str) -> str:
    """Matching key of a normalised text: ``l`` read as ``i`` and runs as one character.

    Why: ``1`` can stand for ``i`` or ``l`` and a capital ``I`` looks like ``l``, and evaders
    double letters (``nuudes``) as freely as they stretch them. Two texts a reader takes for the
    same word have the same skeleton; the lexicon matches on skeletons and then checks that the
    term's own double letters are there (so ``ten`` never matches ``teen``) and that its digits
    are as written (``100`` is not ``10``).
    """
    return _DOUBLE.sub("", normalised.replace("l", "i"))


class SkeletonMap:
    """Where each character of ``skeleton(normalised)`` comes from in ``normalised``.

    Built only for texts with a lexicon hit: the skeleton drops the first character of every
    pair of equal characters, so a skeleton position maps back by counting the drops before it.
    """

    __slots__ = ("_dropped", "_dropped_set")

    def __init__(self, normalised: str) -> None:
        folded = normalised.replace("l", "i")
        self._dropped = [m.start() for m in _DOUBLE.finditer(folded)]
        self._dropped_set = frozenset(self._dropped)

    def last(self, k: int) -> int:
        """Index in the text of the last character of the run skeleton position ``k`` stands for."""
        position = k
        while (moved := k + bisect_right(self._dropped, position)) != position:
            position = moved
        return position

    def first(self, k: int) -> int:
        """Index in the text of the first character of that run."""
        position = self.last(k)
        while position - 1 in self._dropped_set:
            position -= 1
        return position

    def doubled(self, k: int) -> bool:
        """Whether skeleton position ``k`` stands for two or more characters in the text."""
        return self.last(k) - 1 in self._dropped_set
