"""The labelled detection corpus: loading its compact JSON and converting it to DCE exports.

Why: precision and recall of community detection must be measured on communities whose truth is
known, that look like what moderators meet (a few bad messages among hundreds of ordinary ones,
disguised keywords, benign servers that speak of "leaks", "ex", "famille", "18+"), and that go
through the *real* importer, so that the evaluation measures the pipeline a volunteer's export
takes. The corpus lives in ``tests/data/detection/*.json`` (see its README for the format and the
labelling rules); it is written by hand, short and non-graphic, and every name in it is invented.

The authoring format stays small: a channel lists its hand-written messages and asks for
``filler`` ordinary messages drawn from a named phrase pool; keywords in braces (``{tribs}``) are
disguised at the community's ``evasion`` rate. Conversion is deterministic: each community's
random generator is seeded by its key, so ids, authors, timestamps and the interleaving of
hand-written and filler messages depend only on that community's own entry, and adding a
community changes nobody else's export.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from itertools import accumulate
from pathlib import Path
from typing import Any, Literal

from iolaus.demo import phrases as P
from iolaus.demo.dce_writer import (
    ExportWriter,
    Role,
    User,
    attachment_json,
    channel_json,
    guild_json,
    message_json,
    snowflake,
)
from iolaus.demo.world import evade, export_file_name
from iolaus.errors import IolausError

CORPUS_DIR = Path(__file__).resolve().parents[3] / "tests" / "data" / "detection"
"""Default location of the corpus (a source checkout; the corpus is test data, not packaged)."""

Label = Literal["abusive", "benign"]
LABELS: tuple[str, ...] = ("abusive", "benign")
LANGS: tuple[str, ...] = ("fr", "en")
MIN_AUTHORS, MAX_AUTHORS = 3, 40

BASE = datetime(2024, 2, 1, tzinfo=UTC)
"""Day 0 of the corpus; every community's window is an offset from it (never the wall clock)."""
WINDOW_DAYS = 30
PARIS_WINTER = timezone(timedelta(hours=1))
_KEYWORD = re.compile(r"\{([^{}]+)\}")
_KEY = re.compile(r"^[a-z0-9_]+$")
_COMMUNITY_FIELDS = {
    "key",
    "name",
    "label",
    "kind",
    "lang",
    "description",
    "channels",
    "protected_persons",
    "authors",
    "evasion",
    "pool",
    "tags",
    "note",
}
_CHANNEL_FIELDS = {
    "name",
    "topic",
    "nsfw",
    "category",
    "messages",
    "filler",
    "pool",
    "attachments",
    "owner_only",
}


class CorpusError(IolausError, ValueError):
    """A corpus file that cannot be used, naming the file and the community at fault."""


@dataclass(frozen=True)
class CorpusChannel:
    """One channel: hand-written ``messages`` (kept in order) and ``filler`` ordinary messages
    drawn from ``pool`` (the resolved phrases of the pools it names), interleaved at random.
    ``attachments`` is the share of messages that carry an image attachment; ``owner_only``
    channels (rules, announcements) are written by the owner alone."""

    name: str
    messages: tuple[str, ...] = ()
    topic: str | None = None
    nsfw: bool = False
    category: str | None = None
    filler: int = 0
    pool_names: tuple[str, ...] = ()
    pool: tuple[str, ...] = ()
    attachments: float = 0.0
    owner_only: bool = False

    @property
    def size(self) -> int:
        """Messages this channel's export holds."""
        return len(self.messages) + self.filler


@dataclass(frozen=True)
class CorpusCommunity:
    """One labelled community. ``kind`` says what it is (``ncii``, ``support_group``…) for the
    per-kind breakdown; ``description`` and channel ``nsfw`` flags are what a platform API would
    say (DCE exports carry neither); ``protected_persons`` are the invented public figures the
    community names, to be registered before a scan."""

    key: str
    name: str
    label: Label
    kind: str
    lang: str
    description: str
    channels: tuple[CorpusChannel, ...]
    protected_persons: tuple[str, ...] = ()
    authors: int | None = None
    evasion: float = 0.0
    tags: tuple[str, ...] = ()
    note: str = ""
    source: str = ""

    @property
    def size(self) -> int:
        """Messages in the community's exports."""
        return sum(ch.size for ch in self.channels)

    @property
    def hand_written(self) -> int:
        """Messages written in the corpus (as opposed to filler drawn from a pool)."""
        return sum(len(ch.messages) for ch in self.channels)

    @property
    def author_count(self) -> int:
        """Distinct authors of its exports: the given count, else about one per dozen messages,
        clamped to 3–40 and to the number of messages."""
        wanted = self.authors or round(self.size / 12)
        return max(MIN_AUTHORS, min(MAX_AUTHORS, wanted, self.size))


# --- loading -------------------------------------------------------------------------------------


def load_corpus(path: Path | str | None = None) -> list[CorpusCommunity]:
    """Every community of the corpus at ``path``: a folder whose ``*.json`` files are read in
    name order, or one of its files (its communities only, with the pools of every file beside
    it, so ``abusive.json`` can be evaluated alone). Checked as it loads: a bad field, an unknown
    pool, a duplicate key or a label outside ``abusive``/``benign`` raises :class:`CorpusError`
    naming the file and the community."""
    root = Path(path) if path is not None else CORPUS_DIR
    if root.is_dir():
        files = sorted(root.glob("*.json"))
        selected = set(files)
    else:
        files = sorted({root, *root.parent.glob("*.json")})
        selected = {root}
    if not selected:
        raise CorpusError(f"{root}: no corpus files")
    documents = []
    for file in files:
        try:
            documents.append((file, json.loads(file.read_text(encoding="utf-8"))))
        except (OSError, json.JSONDecodeError) as exc:
            raise CorpusError(f"{file}: cannot read: {exc}") from exc
    pools: dict[str, tuple[str, ...]] = {}
    for file, doc in documents:
        if not isinstance(doc, dict):
            raise CorpusError(f"{file}: the top level must be an object")
        for name, phrases in doc.get("pools", {}).items():
            if name in pools:
                raise CorpusError(f"{file}: pool {name!r} is defined twice")
            if not phrases or not all(isinstance(p, str) and p for p in phrases):
                raise CorpusError(f"{file}: pool {name!r} must be a list of non-empty strings")
            pools[name] = tuple(phrases)
    communities: list[CorpusCommunity] = []
    seen: dict[str, str] = {}
    for file, doc in documents:
        if file not in selected:
            continue
        for index, raw in enumerate(doc.get("communities", [])):
            where = f"{file.name}: community #{index}"
            if isinstance(raw, dict) and isinstance(raw.get("key"), str):
                where = f"{file.name}: community {raw['key']!r}"
            community = _community(raw, pools, where, file.name)
            if community.key in seen:
                raise CorpusError(f"{where}: key already used in {seen[community.key]}")
            seen[community.key] = file.name
            communities.append(community)
    return communities


def _community(
    raw: object, pools: Mapping[str, tuple[str, ...]], where: str, source: str
) -> CorpusCommunity:
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: must be an object")
    unknown = set(raw) - _COMMUNITY_FIELDS
    if unknown:
        raise CorpusError(f"{where}: unknown fields {sorted(unknown)}")
    key = _text(raw, "key", where)
    if not _KEY.match(key):
        raise CorpusError(f"{where}: key must be lower-case letters, digits and underscores")
    label = _text(raw, "label", where)
    if label not in LABELS:
        raise CorpusError(f"{where}: label must be one of {LABELS}, not {label!r}")
    lang = _text(raw, "lang", where)
    if lang not in LANGS:
        raise CorpusError(f"{where}: lang must be one of {LANGS}, not {lang!r}")
    default_pool = _names(raw.get("pool", [f"chat_{lang}"]), where, "pool")
    channels_raw = raw.get("channels")
    if not isinstance(channels_raw, list) or not channels_raw:
        raise CorpusError(f"{where}: channels must be a non-empty list")
    channels = tuple(
        _channel(c, pools, default_pool, f"{where}, channel #{i}")
        for i, c in enumerate(channels_raw)
    )
    authors = raw.get("authors")
    if authors is not None and (
        not isinstance(authors, int) or not MIN_AUTHORS <= authors <= MAX_AUTHORS
    ):
        raise CorpusError(f"{where}: authors must be an integer in {MIN_AUTHORS}–{MAX_AUTHORS}")
    evasion = raw.get("evasion", 0.0)
    if not isinstance(evasion, int | float) or not 0 <= evasion <= 1:
        raise CorpusError(f"{where}: evasion must be a number in [0, 1]")
    community = CorpusCommunity(
        key=key,
        name=_text(raw, "name", where),
        label=label,  # type: ignore[arg-type]
        kind=_text(raw, "kind", where),
        lang=lang,
        description=_text(raw, "description", where),
        channels=channels,
        protected_persons=_names(raw.get("protected_persons", []), where, "protected_persons"),
        authors=authors,
        evasion=float(evasion),
        tags=_names(raw.get("tags", []), where, "tags"),
        note=str(raw.get("note", "")),
        source=source,
    )
    if community.size < MIN_AUTHORS:
        raise CorpusError(f"{where}: needs at least {MIN_AUTHORS} messages")
    if len({ch.name for ch in channels}) != len(channels):
        raise CorpusError(f"{where}: two channels have the same name")
    return community


def _channel(
    raw: object, pools: Mapping[str, tuple[str, ...]], default_pool: tuple[str, ...], where: str
) -> CorpusChannel:
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: must be an object")
    unknown = set(raw) - _CHANNEL_FIELDS
    if unknown:
        raise CorpusError(f"{where}: unknown fields {sorted(unknown)}")
    messages = raw.get("messages", [])
    if not isinstance(messages, list) or not all(isinstance(m, str) and m for m in messages):
        raise CorpusError(f"{where}: messages must be a list of non-empty strings")
    filler = raw.get("filler", 0)
    if not isinstance(filler, int) or filler < 0:
        raise CorpusError(f"{where}: filler must be a non-negative integer")
    if not messages and not filler:
        raise CorpusError(f"{where}: a channel needs messages or filler")
    pool_names = _names(raw.get("pool", list(default_pool)), where, "pool")
    missing = [name for name in pool_names if name not in pools]
    if filler and missing:
        raise CorpusError(f"{where}: unknown pools {missing}")
    attachments = raw.get("attachments", 0.0)
    if not isinstance(attachments, int | float) or not 0 <= attachments <= 1:
        raise CorpusError(f"{where}: attachments must be a number in [0, 1]")
    topic = raw.get("topic")
    category = raw.get("category")
    if topic is not None and not isinstance(topic, str):
        raise CorpusError(f"{where}: topic must be a string")
    if category is not None and not isinstance(category, str):
        raise CorpusError(f"{where}: category must be a string")
    return CorpusChannel(
        name=_text(raw, "name", where),
        messages=tuple(messages),
        topic=topic,
        nsfw=bool(raw.get("nsfw", False)),
        category=category,
        filler=filler,
        pool_names=pool_names,
        pool=tuple(p for name in pool_names if filler for p in pools[name]),
        attachments=float(attachments),
        owner_only=bool(raw.get("owner_only", False)),
    )


def _text(raw: Mapping[str, Any], name: str, where: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise CorpusError(f"{where}: {name} must be a non-empty string")
    return value


def _names(value: object, where: str, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise CorpusError(f"{where}: {name} must be a string or a list of strings")
    return tuple(value)


# --- rendering -----------------------------------------------------------------------------------


_FULLWIDTH = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}


def disguise(word: str, rng: random.Random) -> str:
    """Disguise ``word`` as evaders do: the demo world's styles (leetspeak, separators,
    zero-width characters, Cyrillic look-alikes, accents, mixed case) plus fullwidth letters and
    repeated letters, which the corpus must also cover. A style that happens to leave the word
    as it was (look-alikes drawn for no letter) is retried, so a disguise is always visible."""
    for _ in range(8):
        style = rng.randrange(8)
        if style == 6:
            disguised = word.translate(_FULLWIDTH)
        elif style == 7 and any(ch.isalpha() for ch in word):
            i = rng.choice([i for i, ch in enumerate(word) if ch.isalpha()])
            disguised = word[:i] + word[i] * rng.randint(3, 5) + word[i + 1 :]
        else:
            disguised = evade(word, rng)
        if disguised != word:
            return disguised
    return word


def render(text: str, rng: random.Random, evasion: float) -> str:
    """Drop the braces around keywords, disguising each at rate ``evasion``."""
    return _KEYWORD.sub(
        lambda m: disguise(m.group(1), rng) if rng.random() < evasion else m.group(1), text
    )


@dataclass
class _Sequence:
    """Snowflake ids for one community: its own high bits of the sequence field, a counter in
    the low bits, so that ids stay unique across communities that happen to share a millisecond."""

    prefix: int
    counter: int = 0

    def next(self, at: datetime) -> str:
        self.counter += 1
        if self.counter > 0xFFF:
            raise CorpusError("a community needs fewer than 4096 ids (messages, users, channels)")
        return snowflake(at, (self.prefix << 12) | self.counter)


@dataclass(frozen=True)
class RenderedMessage:
    """A message as converted: its author index (0 is the owner), text and attachment flag."""

    author: int
    text: str
    attachment: bool
    hand_written: bool


@dataclass
class _Plan:
    channel: CorpusChannel
    messages: list[RenderedMessage] = field(default_factory=list)


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


def _rng(key: str) -> random.Random:
    return random.Random(f"corpus:{key}")  # noqa: S311 (synthetic data, not secrets)


def render_community(community: CorpusCommunity) -> list[list[RenderedMessage]]:
    """Each channel's messages in posting order, with authors: hand-written messages keep their
    order and are spread at random among the filler; evasion disguises are applied."""
    rng = _rng(community.key)
    plans = [_Plan(ch) for ch in community.channels]
    for plan in plans:
        ch = plan.channel
        total = ch.size
        slots = set(rng.sample(range(total), len(ch.messages)))
        written = iter(ch.messages)
        for position in range(total):
            if position in slots:
                text, hand = render(next(written), rng, community.evasion), True
            else:
                text, hand = render(rng.choice(ch.pool), rng, community.evasion), False
            attachment = ch.attachments > 0 and rng.random() < ch.attachments
            if attachment and not hand and rng.random() < 0.5:
                text = ""
            plan.messages.append(RenderedMessage(0, text, attachment, hand))
    _assign_authors(community, plans, rng)
    return [plan.messages for plan in plans]


def _assign_authors(community: CorpusCommunity, plans: list[_Plan], rng: random.Random) -> None:
    """Owner-only channels are the owner's; elsewhere every author posts at least once (when
    there is room) and the rest follows a heavy-tailed activity curve, as in real servers."""
    n = community.author_count
    open_slots = [(p, i) for p in plans if not p.channel.owner_only for i in range(len(p.messages))]
    cum = list(accumulate(1.0 / (rank + 1) ** 0.9 for rank in range(n)))
    order = list(range(n))
    rng.shuffle(order)
    owner_has_posts = any(p.channel.owner_only and p.messages for p in plans)
    ensured = list(range(1 if owner_has_posts else 0, n))
    if len(open_slots) < len(ensured):
        ensured = []
    picks = ensured + [
        order[min(n - 1, bisect_right(cum, rng.random() * cum[-1]))]
        for _ in range(len(open_slots) - len(ensured))
    ]
    rng.shuffle(picks)
    for (plan, i), author in zip(open_slots, picks, strict=True):
        old = plan.messages[i]
        plan.messages[i] = RenderedMessage(author, old.text, old.attachment, old.hand_written)


# --- writing -------------------------------------------------------------------------------------


def _users(community: CorpusCommunity, seq: _Sequence, created: datetime) -> list[User]:
    """Invented accounts, unique within the community; the owner holds the admin role."""
    rng = random.Random(f"corpus-users:{community.key}")  # noqa: S311
    fr = community.lang == "fr"
    names = ("Admin", "Modo", "Membre") if fr else ("Admin", "Mod", "Member")
    colours = ("#e74c3c", "#3498db", None)
    roles = [
        Role(seq.next(created + timedelta(minutes=i + 1)), name, colour, 3 - i)
        for i, (name, colour) in enumerate(zip(names, colours, strict=True))
    ]
    users: list[User] = []
    taken: set[str] = set()
    for index in range(community.author_count):
        while True:
            name = rng.choice(P.USERNAME_HEADS) + rng.choice(P.USERNAME_TAILS)
            if rng.random() < 0.6:
                name += str(rng.randint(1, 999))
            if name not in taken:
                taken.add(name)
                break
        joined = created - timedelta(days=rng.randint(30, 2000), seconds=rng.randrange(86_400))
        display = rng.choice(P.DISPLAY_NAMES) if rng.random() < 0.35 else None
        held = (roles[0],) if index == 0 else (roles[1], roles[2]) if index == 1 else (roles[2],)
        users.append(User(seq.next(joined), name, display, roles=held))
    return users


def write_community(community: CorpusCommunity, out_dir: Path) -> list[Path]:
    """Write one community as DCE exports (one file per channel, in corpus order) under
    ``out_dir``; returns their paths. Same corpus entry, same bytes."""
    digest = _digest(community.key)
    seq = _Sequence(prefix=digest % 1024)
    start = BASE + timedelta(days=digest % 240, minutes=(digest >> 10) % 1440)
    created = start - timedelta(days=1 + (digest >> 20) % 300)
    guild_id = seq.next(created)
    guild = guild_json(guild_id, community.name)
    users = _users(community, seq, created)
    rendered = render_community(community)
    tz = PARIS_WINTER if community.lang == "fr" else UTC
    exported_at = (start + timedelta(days=WINDOW_DAYS + 1)).astimezone(tz)
    rng = random.Random(f"corpus-times:{community.key}")  # noqa: S311
    categories: dict[str, str] = {}
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for ch, messages in zip(community.channels, rendered, strict=True):
        parent = None
        if ch.category:
            if ch.category not in categories:
                categories[ch.category] = seq.next(created + timedelta(hours=len(categories)))
            parent = (categories[ch.category], ch.category)
        channel_id = seq.next(created + timedelta(hours=2, minutes=len(paths)))
        header = channel_json(channel_id, ch.name, category=parent, topic=ch.topic)
        path = out_dir / export_file_name(
            community.name, ch.category or "Text Channels", ch.name, channel_id
        )
        span = WINDOW_DAYS * 86_400_000
        offsets = sorted(rng.randrange(span) for _ in messages)
        if ch.owner_only:  # rules and announcements: on day one, an hour apart
            offsets = [3_600_000 * (i + 1) for i in range(len(messages))]
        with ExportWriter(path, guild=guild, channel=header, exported_at=exported_at) as out:
            for offset, message in zip(offsets, messages, strict=True):
                at = start + timedelta(milliseconds=offset)
                message_id = seq.next(at)
                attachments = []
                if message.attachment:
                    attachment_id = seq.next(at)
                    file_name = f"IMG_{rng.randint(0, 9999):04d}.jpg"
                    url = (
                        f"https://cdn.discordapp.com/attachments/{channel_id}/{attachment_id}/"
                        f"{file_name}"
                    )
                    attachments.append(
                        attachment_json(
                            attachment_id, file_name, rng.randint(40_000, 3_000_000), url
                        )
                    )
                out.write(
                    message_json(
                        message_id,
                        users[message.author],
                        at.astimezone(tz),
                        message.text,
                        attachments=attachments,
                        pinned=ch.owner_only,
                    )
                )
        paths.append(path)
    return paths


def write_exports(corpus: Iterable[CorpusCommunity], out_dir: Path) -> dict[str, list[Path]]:
    """Write every community under ``out_dir/<key>/``; returns each key's export paths, in the
    order of its channels."""
    out_dir = Path(out_dir)
    return {c.key: write_community(c, out_dir / c.key) for c in corpus}


def protected_persons(corpus: Iterable[CorpusCommunity]) -> list[str]:
    """The invented public figures the corpus names, to register before a scan."""
    return sorted({name for c in corpus for name in c.protected_persons})
