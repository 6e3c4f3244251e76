"""A deterministic synthetic platform, written as DiscordChatExporter JSON exports.

Why: every later stage (importer, text rules, community scoring, hash matching, hydra linking,
triage) needs a world with a known ground truth that looks like the real thing: many ordinary
communities, hard negatives whose vocabulary overlaps the abusive one ("famille", "ex", "photos",
"leak", "18+"), a few abusive-pattern communities shaped like the « Sexy Bunny » story, and one
re-created successor of a banned community sharing about half of its members, its invite link and
its media. Nothing in it is real: names are invented, text is short and non-graphic signal
phrases (see :mod:`iolaus.demo.phrases`), and images are generated abstract art.

``build_world(out_dir)`` writes one DCE file per channel (threads included) and a
``manifest.json`` with the ground truth; the same seed gives byte-identical files. Messages are
streamed to disk per channel, so the large world (~300k messages) runs in bounded memory.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import random
import re
import time
from bisect import bisect_right
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
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

Label = Literal["ordinary", "hard_negative", "abusive"]
Size = Literal["small", "large"]

BASE = datetime(2024, 1, 1, tzinfo=UTC)
"""Day 0 of the world; every instant is an offset from it (never the wall clock)."""

DAY_MS = 86_400_000
PARIS_WINTER = timezone(timedelta(hours=1))
NEW_YORK_WINTER = timezone(timedelta(hours=-5))

SCALE: dict[str, tuple[int, int]] = {"small": (1, 1), "large": (30, 10)}
"""Per size: (message multiplier, member multiplier) applied to each community's spec."""

IMAGE_EXTS = frozenset({".jpg", ".jpeg", ".png"})
REACTION_EMOJI = ("😂", "❤️", "👍", "🔥", "😭", "👀", "💯", "🙏", "🫶")
BANK_VARIANTS = ("exact", "reencode", "resize", "png")
RENAME_RATE = 0.3
"""Share of a banned community's members who take a new username in its successor."""


# --- the world's communities, as data ------------------------------------------------------------


@dataclass(frozen=True)
class ChannelSpec:
    """One text channel. ``kind`` is ``chat`` (members talk), ``rules`` (the owner's pinned
    lines from ``theme``) or ``bot`` (the community bot posts ``theme`` lines from BOT_LINES).
    ``signals`` name SIGNALS tables mixed in at ``signal_rate``; ``bank_rate`` is the share of
    image attachments that re-post one of the community's known (bank) images."""

    name: str
    category: str
    theme: str = ""
    kind: Literal["chat", "rules", "bot"] = "chat"
    topic: str | None = None
    weight: float = 1.0
    signals: tuple[str, ...] = ()
    signal_rate: float = 0.0
    attach_rate: float = 0.02
    bank_rate: float = 0.0
    joins: bool = False
    news: bool = False
    threads: tuple[str, ...] = ()
    opening: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommunitySpec:
    """One community and its ground truth. ``members``/``messages`` are for the small world
    (see SCALE). ``window`` is (first day, last day) of activity relative to BASE, ``export_day``
    when a volunteer exported it. ``successor_of`` re-creates a community with ``shared`` of its
    members; ``also_from`` draws a share of members from another community (people belong to
    several servers, which makes member overlap a noisy signal, as it is on real platforms)."""

    key: str
    name: str
    label: Label
    langs: tuple[tuple[str, float], ...]
    members: int
    messages: int
    channels: tuple[ChannelSpec, ...]
    categories: tuple[str, ...] = ()
    roles: tuple[tuple[str, str | None], ...] = (
        ("Admin", "#e74c3c"),
        ("Modo", "#3498db"),
        ("Membre", None),
    )
    window: tuple[int, int] | None = None
    export_day: float | None = None
    successor_of: str | None = None
    shared: float = 0.0
    also_from: tuple[tuple[str, float], ...] = ()
    bot: str | None = None
    theme_rate: float = 0.7
    join_rate: float = 0.25
    evasion_rate: float = 0.0
    invite: str | None = None
    bank: tuple[int, ...] = ()


_ABUSIVE_ROLES = (
    ("Fondateur", "#9b59b6"),
    ("Modo", "#e67e22"),
    ("Vérifié 18+", "#2ecc71"),
    ("Membre", None),
)
_FR = (("fr", 1.0),)
_EN = (("en", 1.0),)
_MIX = (("fr", 0.6), ("en", 0.4))

# fmt: off
# (kept compact on purpose: one community per paragraph reads like the map of the world)
COMMUNITIES: tuple[CommunitySpec, ...] = (
    CommunitySpec("pixel_raiders", "Pixel Raiders", "ordinary", _EN, 40, 900, (
        ChannelSpec("rules", "INFO", "rules_generic", kind="rules"),
        ChannelSpec("announcements", "INFO", "gaming", weight=0.1, news=True),
        ChannelSpec("general", "GAMING", "gaming", weight=3, joins=True),
        ChannelSpec("lfg", "GAMING", "gaming", weight=1.5, threads=("raid-night-friday",)),
        ChannelSpec("clips", "GAMING", "gaming", attach_rate=0.2),
        ChannelSpec("level-ups", "BOTS", "levels", kind="bot", weight=0.3),
    ), bot="RaidBot"),
    CommunitySpec("nuit_blanche", "Nuit Blanche 18+", "hard_negative", _FR, 30, 500, (
        ChannelSpec("règles-18+", "INFO", "rules_generic", kind="rules",
                    topic="🔞 Serveur 18+ : vérification d'âge obligatoire"),
        ChannelSpec("général", "JEUX", "gaming18", weight=3, joins=True),
        ChannelSpec("horreur-gore-🔞", "JEUX", "gaming18", topic="🔞 jeux d'horreur, 18+"),
        ChannelSpec("memes-18", "JEUX", "gaming18", attach_rate=0.2),
    ), also_from=(("pixel_raiders", 0.15),)),
    CommunitySpec("cuisine", "Cuisine & Compagnie", "ordinary", _FR, 25, 500, (
        ChannelSpec("recettes", "CUISINE", "cooking", weight=2, joins=True,
                    threads=("concours-galette-2024",)),
        ChannelSpec("photos-de-plats", "CUISINE", "cooking", attach_rate=0.25),
        ChannelSpec("questions", "CUISINE", "cooking"),
    )),
    CommunitySpec("study", "Study Group: L2 Info", "ordinary", _MIX, 20, 500, (
        ChannelSpec("général", "COURS", "study", weight=2, joins=True),
        ChannelSpec("algo", "COURS", "study", threads=("partiel-lundi",)),
        ChannelSpec("ressources", "COURS", "study", attach_rate=0.1),
    )),
    CommunitySpec("fripes", "Fripes & Bonnes Affaires", "hard_negative", _FR, 45, 700, (
        ChannelSpec("annonces", "VENTE", "resale", weight=2, attach_rate=0.2, joins=True),
        ChannelSpec("photos-articles", "VENTE", "resale", attach_rate=0.3),
        ChannelSpec("bons-plans-vinted", "VENTE", "resale"),
        ChannelSpec("litiges-arnaques", "AIDE", "resale", weight=0.5),
    )),
    CommunitySpec("racines", "Les Racines", "hard_negative", _FR, 20, 400, (
        ChannelSpec("famille", "GÉNÉALOGIE", "genealogy", weight=2, joins=True),
        ChannelSpec("archives", "GÉNÉALOGIE", "genealogy", attach_rate=0.2),
        ChannelSpec("photos-anciennes", "GÉNÉALOGIE", "genealogy", attach_rate=0.25),
        ChannelSpec("entraide-actes", "AIDE", "genealogy", weight=0.5),
    )),
    CommunitySpec("garnier", "Anciens de Transports Garnier", "hard_negative", _FR, 18, 350, (
        ChannelSpec("ex-collègues", "ENTRE NOUS", "colleagues", weight=2, joins=True),
        ChannelSpec("anciens", "ENTRE NOUS", "colleagues"),
        ChannelSpec("photos-soirées", "ENTRE NOUS", "colleagues", attach_rate=0.2),
    )),
    CommunitySpec("aquarelle", "Atelier Aquarelle", "ordinary", _MIX, 25, 400, (
        ChannelSpec("showcase", "ART", "art", weight=1.5, attach_rate=0.3),
        ChannelSpec("critiques", "ART", "art", joins=True),
        ChannelSpec("wip", "ART", "art", attach_rate=0.2),
    )),
    CommunitySpec("focale", "Focale 35", "ordinary", _FR, 30, 500, (
        ChannelSpec("règles", "CLUB", "rules_generic", kind="rules"),
        ChannelSpec("sorties", "CLUB", "photo", joins=True),
        ChannelSpec("portraits", "PHOTOS", "photo", attach_rate=0.25),
        ChannelSpec("critiques", "PHOTOS", "photo", attach_rate=0.2),
        ChannelSpec("matos", "CLUB", "photo", weight=0.6),
    )),
    CommunitySpec("open_studio", "Open Studio 18+", "hard_negative", _EN, 35, 500, (
        ChannelSpec("rules-consent", "START HERE", "rules_creators", kind="rules",
                    topic="18+ verified creators. Consent and verification rules."),
        ChannelSpec("verification", "START HERE", "creators", weight=0.7, joins=True),
        ChannelSpec("creator-announcements", "CREATORS", "creators", news=True),
        ChannelSpec("promo-links", "CREATORS", "creators", weight=1.5),
        ChannelSpec("support", "HELP", "creators"),
    ), roles=(("Admin", "#e91e63"), ("Mod", "#3498db"), ("Verified Creator", "#f1c40f"),
              ("Member", None))),
    CommunitySpec("apres", "Après — Entraide", "hard_negative", _MIX, 30, 500, (
        ChannelSpec("charte", "ACCUEIL", "rules_support", kind="rules"),
        ChannelSpec("témoignages", "PARLER", "support", weight=2, joins=True),
        ChannelSpec("ressources", "AIDE", "support", topic="StopNCII, Pharos, Take It Down"),
        ChannelSpec("aide-retrait", "AIDE", "support", weight=1.5,
                    threads=("retrait-réseaux-sociaux",)),
    )),
    CommunitySpec("parlons", "Parlons-en (éduc sexuelle)", "hard_negative", _MIX, 25, 400, (
        ChannelSpec("questions-anonymes", "ÉCHANGES", "sexed", weight=2, joins=True),
        ChannelSpec("consentement", "ÉCHANGES", "sexed"),
        ChannelSpec("santé", "INFOS", "sexed"),
    )),
    CommunitySpec("blockhaven", "BlockHaven SMP", "ordinary", _EN, 35, 700, (
        ChannelSpec("general", "SMP", "minecraft", weight=3, joins=True),
        ChannelSpec("builds", "SMP", "minecraft", attach_rate=0.2),
        ChannelSpec("redstone", "SMP", "minecraft", threads=("auto-sorter-help",)),
        ChannelSpec("server-status", "BOTS", "status", kind="bot", weight=0.4),
    ), also_from=(("pixel_raiders", 0.15),), bot="HavenStatus"),
    CommunitySpec("stack_snack", "Stack & Snack", "ordinary", _EN, 30, 600, (
        ChannelSpec("help", "CODE", "programming", weight=2, joins=True,
                    threads=("asyncio-deadlock",)),
        ChannelSpec("python", "CODE", "programming"),
        ChannelSpec("javascript", "CODE", "programming"),
        ChannelSpec("showcase", "CODE", "programming", attach_rate=0.15),
    )),
    CommunitySpec("lunavex_fans", "LunaVex Fan Den", "ordinary", _MIX, 50, 700, (
        ChannelSpec("rules", "INFO", "rules_generic", kind="rules"),
        ChannelSpec("stream-alerts", "INFO", "stream", kind="bot", weight=0.3),
        ChannelSpec("general", "COMMUNITY", "fandom", weight=3, joins=True),
        ChannelSpec("clips", "COMMUNITY", "fandom", attach_rate=0.2),
        ChannelSpec("fanart", "COMMUNITY", "fandom", attach_rate=0.3),
    ), bot="StreamPing"),
    # --- abusive-pattern communities (signal phrases only, abstract images) ---------------------
    CommunitySpec("velvet_burrow", "Velvet Burrow", "abusive", _FR, 80, 900, (
        ChannelSpec("règles", "ACCUEIL", "rules_abusive_fr", kind="rules"),
        ChannelSpec("présentations", "ACCUEIL", "lurk_fr", weight=0.5),
        ChannelSpec("général", "DISCUSSION", "lurk_fr", weight=2, joins=True,
                    signals=("ncii", "doxxing"), signal_rate=0.1),
        ChannelSpec("ex", "PARTAGES 🔞", "lurk_fr", weight=1.5, topic="🔞",
                    signals=("ncii",), signal_rate=0.45, attach_rate=0.2, bank_rate=0.4),
        ChannelSpec("famille-🔞", "PARTAGES 🔞", "lurk_fr", topic="🔞 18+",
                    signals=("ncii",), signal_rate=0.45, attach_rate=0.2, bank_rate=0.4),
        ChannelSpec("tribs", "PARTAGES 🔞", "lurk_fr", signals=("ncii",), signal_rate=0.5,
                    attach_rate=0.2, bank_rate=0.3, threads=("demandes-tribs",)),
        ChannelSpec("vinted-leaks", "PARTAGES 🔞", "lurk_fr", topic="photos de profils",
                    signals=("voyeurism",), signal_rate=0.45, attach_rate=0.2, bank_rate=0.3),
        ChannelSpec("photos-volées", "PARTAGES 🔞", "lurk_fr", weight=0.7,
                    signals=("voyeurism", "doxxing"), signal_rate=0.45, attach_rate=0.2,
                    bank_rate=0.3),
    ), categories=("ncii", "voyeurism", "solicitation", "doxxing"), roles=_ABUSIVE_ROLES,
        window=(-75, 8), export_day=8.4, theme_rate=0.6, evasion_rate=0.2, invite="burrow",
        also_from=(("nuit_blanche", 0.05), ("fripes", 0.04)), bank=(0, 1, 2)),
    CommunitySpec("neon_muse", "Neon Muse AI", "abusive", _EN, 50, 600, (
        ChannelSpec("rules", "INFO", "rules_abusive_en", kind="rules"),
        ChannelSpec("general", "INFO", "lurk_en", weight=1.5, joins=True,
                    signals=("deepfake",), signal_rate=0.1),
        ChannelSpec("deepfake-requests", "REQUESTS", "lurk_en", weight=1.5,
                    topic="one request per day", signals=("deepfake",), signal_rate=0.5,
                    threads=("lunavex-requests",)),
        ChannelSpec("lunavex-ai-nudes", "REQUESTS", "lurk_en", signals=("deepfake",),
                    signal_rate=0.4, attach_rate=0.2, bank_rate=0.4),
        ChannelSpec("streamer-requests", "REQUESTS", "lurk_en", signals=("deepfake",),
                    signal_rate=0.45, attach_rate=0.2, bank_rate=0.3),
        ChannelSpec("tools", "TOOLS", "lurk_en", weight=0.5, signals=("deepfake",),
                    signal_rate=0.3),
    ), categories=("sexual_deepfake", "solicitation"), window=(-30, 85), theme_rate=0.6,
        evasion_rate=0.15, also_from=(("lunavex_fans", 0.1),), bank=(3, 4)),
    CommunitySpec("preau", "Le Préau", "abusive", _MIX, 25, 250, (
        ChannelSpec("règles", "ACCUEIL", "rules_abusive_fr", kind="rules"),
        ChannelSpec("général", "ACCUEIL", "lurk_fr", weight=1.5, joins=True,
                    signals=("csam",), signal_rate=0.1),
        ChannelSpec("teen-trade", "ÉCHANGES", "lurk_en", topic="trade only",
                    signals=("csam",), signal_rate=0.4, attach_rate=0.2, bank_rate=0.5),
        ChannelSpec("collégiennes", "ÉCHANGES", "lurk_fr", signals=("csam",), signal_rate=0.4,
                    attach_rate=0.2, bank_rate=0.5),
    ), categories=("csam", "solicitation"), roles=_ABUSIVE_ROLES, window=(-20, 70),
        theme_rate=0.6, evasion_rate=0.3, invite="preau", bank=(5, 6)),
    CommunitySpec("velvet_burrow_2", "Velvet Burrow 2.0", "abusive", _FR, 60, 500, (
        ChannelSpec("règles", "ACCUEIL", "rules_abusive_fr", kind="rules"),
        ChannelSpec("général", "DISCUSSION", "lurk_fr", weight=2, joins=True,
                    signals=("evasion", "ncii"), signal_rate=0.2,
                    opening=("nouveau serveur, l'ancien a été ban",
                             "même lien backup qu'avant : discord.gg/{code}")),
        ChannelSpec("3x", "P4RTAGES", "lurk_fr", topic="🔞", signals=("ncii",),
                    signal_rate=0.45, attach_rate=0.2, bank_rate=0.5),
        ChannelSpec("f4mille", "P4RTAGES", "lurk_fr", topic="🔞 18+", signals=("ncii",),
                    signal_rate=0.45, attach_rate=0.2, bank_rate=0.5),
        ChannelSpec("tr1bs", "P4RTAGES", "lurk_fr", signals=("ncii",), signal_rate=0.5,
                    attach_rate=0.2, bank_rate=0.4),
        ChannelSpec("v-leaks", "P4RTAGES", "lurk_fr", signals=("voyeurism",), signal_rate=0.45,
                    attach_rate=0.2, bank_rate=0.4),
    ), categories=("ncii", "voyeurism", "solicitation", "ban_evasion"), roles=_ABUSIVE_ROLES,
        window=(45, 86), theme_rate=0.6, evasion_rate=0.45, invite="burrow",
        successor_of="velvet_burrow", shared=0.5, join_rate=0.8, bank=(0, 1, 2)),
)
# fmt: on


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommunityTruth:
    """Ground truth for one community, as written to the manifest."""

    key: str
    guild_id: str
    name: str
    label: Label
    categories: tuple[str, ...]
    successor_of: str | None
    files: tuple[Path, ...]
    members: int
    messages: int


@dataclass(frozen=True)
class World:
    """What :func:`build_world` wrote: export files (absolute paths), per-community truth, the
    manifest, and the media files standing in for known (bank) images."""

    out_dir: Path
    seed: int
    size: Size
    files: tuple[Path, ...]
    communities: tuple[CommunityTruth, ...]
    manifest: Path
    bank_media: tuple[Path, ...]
    message_count: int

    def community(self, name: str) -> CommunityTruth:
        """The community called ``name`` (its display name or its spec key)."""
        for community in self.communities:
            if name in (community.name, community.key):
                return community
        raise KeyError(name)


# --- text helpers --------------------------------------------------------------------------------

_KEYWORD = re.compile(r"\{([^{}]+)\}")
_UNSAFE_FILE_CHARS = re.compile(r'[\x00-\x1f<>:"/\\|?*]')
_UNSAFE_URL_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def evade(word: str, rng: random.Random) -> str:
    """Disguise ``word`` the way evaders do, so that detectors must normalise before matching."""
    style = rng.randrange(6)
    letters = list(word)
    spots = [i for i, ch in enumerate(letters) if ch.isalpha()] or [0]
    if style == 0:  # leetspeak on one or two letters: "tr1bs"
        for i in rng.sample(spots, min(len(spots), rng.randint(1, 2))):
            letters[i] = P.LEET.get(letters[i].lower(), letters[i])
        return "".join(letters)
    if style == 1:  # separators between letters: "t.r.i.b.s"
        return rng.choice(P.SEPARATORS).join(letters)
    if style == 2:  # zero-width characters inside the word
        for i in sorted(rng.sample(range(1, len(letters) + 1), min(2, len(letters))), reverse=True):
            letters.insert(i, rng.choice(P.ZERO_WIDTH))
        return "".join(letters)
    if style == 3:  # Cyrillic look-alikes: "ех"
        mapped = [P.CYRILLIC_LOOKALIKES.get(ch, ch) if rng.random() < 0.6 else ch for ch in letters]
        return "".join(mapped)
    if style == 4:  # accents: "tríbs"
        for i in rng.sample(spots, min(len(spots), 2)):
            letters[i] = P.ACCENTED.get(letters[i].lower(), letters[i])
        return "".join(letters)
    return "".join(ch.upper() if i % 2 else ch for i, ch in enumerate(letters))  # "tRiBs"


def render_signal(phrase: str, rng: random.Random, evasion_rate: float) -> str:
    """Drop the keyword braces of a signal phrase, disguising the keyword at ``evasion_rate``."""
    return _KEYWORD.sub(
        lambda m: evade(m.group(1), rng) if rng.random() < evasion_rate else m.group(1), phrase
    )


def export_file_name(guild: str, parent: str, channel: str, channel_id: str) -> str:
    """DCE's default export name, with the characters no file system accepts replaced by ``_``
    (DCE escapes with the OS's invalid characters; we use the union so every OS can unpack)."""
    return _UNSAFE_FILE_CHARS.sub("_", f"{guild} - {parent} - {channel} [{channel_id}].json")


def cdn_file_name(file_name: str) -> str:
    """The file name as it appears in a Discord CDN URL: Discord keeps a safe subset of
    characters, so hostile names stay hostile in ``fileName`` but not in the URL or on disk."""
    cleaned = _UNSAFE_URL_CHARS.sub("_", file_name).strip("._")
    return cleaned or "file"


def media_file_name(url_name: str, normalised_url: str) -> str:
    """DCE's --media naming: stem truncated to 42 chars, 16 hex of SHA-256 of the URL, ext."""
    stem, ext = os.path.splitext(url_name)
    if len(ext) > 41:
        stem, ext = url_name, ""
    digest = hashlib.sha256(normalised_url.encode()).hexdigest()[:16]
    return _UNSAFE_FILE_CHARS.sub("_", f"{stem[:42]}-{digest}{ext}")


# --- abstract images -----------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _font(size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def abstract_image(seed: int, width: int, height: int, *, grain: bool = True) -> Any:
    """A generated picture: gradient, noise, random shapes and a word. Never anything else.

    ``grain=False`` leaves the noise out, for screenshot-like PNGs that stay small on disk."""
    import numpy as np
    from PIL import Image, ImageDraw

    g = np.random.default_rng(seed)
    # the background is computed at 1/8 resolution and upscaled: a linear gradient survives
    # bilinear upscaling unchanged, and the random values become smooth value noise
    cw, ch = width // 8 + 2, height // 8 + 2
    c0 = g.integers(0, 256, 3).astype(np.float32)
    c1 = g.integers(0, 256, 3).astype(np.float32)
    angle = g.uniform(0, 2 * math.pi)
    ramp = (
        np.linspace(0, math.sin(angle), ch, dtype=np.float32)[:, None]
        + np.linspace(0, math.cos(angle), cw, dtype=np.float32)[None, :]
    )
    ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)
    pixels = c0 + (c1 - c0) * ramp[..., None]
    noise = g.normal(0, g.uniform(6, 30), (ch, cw, 1)).astype(np.float32)
    if grain:
        pixels += noise
    coarse = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    image = coarse.resize((width, height), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(image)
    for _ in range(int(g.integers(3, 12))):
        x0, x1 = sorted(int(v) for v in g.integers(0, width, 2))
        y0, y1 = sorted(int(v) for v in g.integers(0, height, 2))
        colour = tuple(int(v) for v in g.integers(0, 256, 3))
        shape = int(g.integers(0, 4))
        if shape == 0:
            draw.ellipse((x0, y0, x1 + 1, y1 + 1), fill=colour)
        elif shape == 1:
            draw.rectangle((x0, y0, x1, y1), outline=colour, width=int(g.integers(1, 8)))
        elif shape == 2:
            points = [(int(g.integers(0, width)), int(g.integers(0, height))) for _ in range(4)]
            draw.polygon(points, fill=colour)
        else:
            draw.line((x0, y0, x1, y1), fill=colour, width=int(g.integers(1, 10)))
    word = P.IMAGE_WORDS[int(g.integers(0, len(P.IMAGE_WORDS)))]
    draw.text(
        (int(g.integers(0, width // 2)), int(g.integers(0, height - 40))),
        word,
        fill=(255, 255, 255),
        font=_font(int(g.integers(18, 40))),
    )
    return image


def encode_image(image: Any, ext: str, quality: int = 85) -> bytes:
    """Encode deterministically (no metadata, fixed settings) in the format ``ext`` names."""
    buffer = io.BytesIO()
    if ext == ".png":
        image.save(buffer, format="PNG", compress_level=1)
    else:
        image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


class _Bank:
    """The known-abusive stand-in images and their altered copies (re-encoded, resized, PNG),
    so that exact and perceptual hash matching both have something to find."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._cache: dict[tuple[int, str], bytes] = {}

    def data(self, index: int, variant: str) -> bytes:
        key = (index, variant)
        if key not in self._cache:
            g = random.Random(f"bank:{self._seed}:{index}")  # noqa: S311 (synthetic data)
            image = abstract_image(g.getrandbits(63), g.randint(384, 640), g.randint(384, 640))
            if variant == "reencode":
                data = encode_image(image, ".jpg", quality=55)
            elif variant == "resize":
                small = image.resize((image.width * 3 // 4, image.height * 3 // 4))
                data = encode_image(small, ".jpg", quality=85)
            elif variant == "png":
                data = encode_image(image, ".png")
            else:
                data = encode_image(image, ".jpg", quality=90)
            self._cache[key] = data
        return self._cache[key]


# --- generation ----------------------------------------------------------------------------------


@dataclass
class _Account:
    """A platform account, shared across the communities it belongs to (same id everywhere)."""

    id: str
    name: str
    display: str | None
    discriminator: str


@dataclass
class _Planned:
    """A channel or thread ready to be written: its header, and its timeline."""

    spec: ChannelSpec
    name: str
    id: str
    parent: tuple[str, str]
    kind: str
    count: int = 0
    lo: int = 0
    hi: int = 0
    times: list[int] = field(default_factory=list)
    authors: list[int] = field(default_factory=list)
    events: list[tuple[int, int, str, int]] = field(default_factory=list)
    thread_of: _Planned | None = None


class _Builder:
    """Holds the world's single RNG and id sequence; writes communities one at a time."""

    def __init__(self, out_dir: Path, seed: int, size: Size, media: bool) -> None:
        self.out_dir = out_dir
        self.seed = seed
        self.size = size
        self.media = media
        self.rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
        self.msg_scale, self.member_scale = SCALE[size]
        self.seq = 0
        self.names: set[str] = set()
        self.members: dict[str, list[_Account]] = {}
        self.invites: dict[str, str] = {}
        self.bank = _Bank(seed)
        self.bank_used: set[int] = set()
        self.bank_media: dict[int, str] = {}
        self.bank_matches: list[dict[str, Any]] = []
        self.files: list[Path] = []
        self.guild_ids: dict[str, str] = {}
        self.hostile = self._place_hostile_names()

    # ids and time

    def snowflake(self, ms: int) -> str:
        self.seq += 1
        return snowflake(BASE + timedelta(milliseconds=ms), self.seq)

    @staticmethod
    def at(ms: int, tz: tzinfo) -> datetime:
        return (BASE + timedelta(milliseconds=ms)).astimezone(tz)

    def _place_hostile_names(self) -> dict[tuple[str, str], list[str]]:
        """Pin each hostile file name to one (community, channel), chosen up front, so every
        name appears exactly once whatever the attachment dice say."""
        slots = [(c.key, ch.name) for c in COMMUNITIES for ch in c.channels if ch.kind == "chat"]
        placed: dict[tuple[str, str], list[str]] = {}
        for name in P.HOSTILE_FILE_NAMES:
            placed.setdefault(self.rng.choice(slots), []).append(name)
        return placed

    # accounts

    def new_account(self) -> _Account:
        rng = self.rng
        while True:
            name = rng.choice(P.USERNAME_HEADS) + rng.choice(P.USERNAME_TAILS)
            if rng.random() < 0.6:
                name += str(rng.randint(1, 999))
            name = name.lower()
            if name not in self.names:
                break
        self.names.add(name)
        created = -rng.randint(30, 6 * 365) * DAY_MS + rng.randrange(DAY_MS)
        display = rng.choice(P.DISPLAY_NAMES) if rng.random() < 0.35 else None
        discriminator = f"{rng.randint(1, 9999):04d}" if rng.random() < 0.1 else "0000"
        return _Account(self.snowflake(created), name, display, discriminator)

    def renamed(self, account: _Account) -> _Account:
        """The same account (same id) under a fresh username, as evaders rename."""
        fresh = self.new_account()
        return _Account(account.id, fresh.name, fresh.display, account.discriminator)

    def pick_members(self, spec: CommunitySpec) -> list[_Account]:
        rng = self.rng
        target = spec.members * self.member_scale
        chosen: list[_Account] = []
        seen: set[str] = set()

        def take(pool: list[_Account], k: int) -> None:
            free = [a for a in pool if a.id not in seen]
            for account in rng.sample(free, min(k, len(free))):
                chosen.append(account)
                seen.add(account.id)

        if spec.successor_of:
            original = self.members[spec.successor_of]
            share = rng.uniform(spec.shared - 0.04, spec.shared + 0.04)
            take(original, round(len(original) * share))
        for key, share in spec.also_from:
            take(self.members[key], round(target * share))
        while len(chosen) < target:  # newcomers: fresh accounts, never old members
            account = self.new_account()
            chosen.append(account)
            seen.add(account.id)
        return chosen

    # the world

    def build(self) -> World:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        truths = [self.build_community(spec) for spec in COMMUNITIES]
        bank_media = [self.bank_media[i] for i in sorted(self.bank_media)]
        manifest = {
            "seed": self.seed,
            "size": self.size,
            "base": BASE.isoformat(),
            "communities": [
                {
                    "key": t.key,
                    "guild_id": t.guild_id,
                    "name": t.name,
                    "label": t.label,
                    "categories": list(t.categories),
                    "successor_of": t.successor_of,
                    "members": t.members,
                    "messages": t.messages,
                    "files": [f.relative_to(self.out_dir).as_posix() for f in t.files],
                }
                for t in truths
            ],
            "bank_media": bank_media,
            "bank_matches": self.bank_matches,
        }
        manifest_path = self.out_dir / "manifest.json"
        manifest_path.write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        return World(
            out_dir=self.out_dir,
            seed=self.seed,
            size=self.size,
            files=tuple(self.files),
            communities=tuple(truths),
            manifest=manifest_path,
            bank_media=tuple(self.out_dir / p for p in bank_media),
            message_count=sum(t.messages for t in truths),
        )

    def build_community(self, spec: CommunitySpec) -> CommunityTruth:
        rng = self.rng
        lo_day, hi_day = spec.window or (rng.randint(-80, 10), rng.randint(60, 88))
        lo, hi = lo_day * DAY_MS, hi_day * DAY_MS
        # a re-created community appears within hours of its activity; others are older
        created = lo - (
            rng.randrange(DAY_MS // 2) if spec.successor_of else rng.randint(1, 300) * DAY_MS
        )
        guild_id = self.snowflake(created)
        guild = guild_json(guild_id, spec.name)
        roles = [
            Role(self.snowflake(created + i + 1), name, colour, len(spec.roles) - i)
            for i, (name, colour) in enumerate(spec.roles)
        ]
        accounts = self.pick_members(spec)
        self.members[spec.key] = accounts
        if spec.successor_of:  # "changez vos pseudos": same account ids, some new names
            old = {a.id for a in self.members[spec.successor_of]}
            accounts = [
                self.renamed(a) if a.id in old and rng.random() < RENAME_RATE else a
                for a in accounts
            ]
        users = [self.user(acc, i, roles) for i, acc in enumerate(accounts)]
        bot = None
        if spec.bot:
            bot = User(self.snowflake(created + 5000), spec.bot.lower(), spec.bot, is_bot=True)
        if spec.invite and spec.invite not in self.invites:
            self.invites[spec.invite] = "".join(
                rng.choice("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
                for _ in range(8)
            )

        planned = self.plan_channels(spec, created, lo, hi)
        self.assign_authors(spec, planned, len(users), lo)

        export_ms = round((spec.export_day or rng.uniform(90, 93)) * DAY_MS)
        home_tz = rng.choice(
            (UTC, PARIS_WINTER, PARIS_WINTER)
            if spec.langs[0][0] == "fr"
            else (UTC, UTC, NEW_YORK_WINTER)
        )
        files: list[Path] = []
        written = 0
        for plan in planned:
            tz = home_tz if rng.random() < 0.85 else rng.choice((UTC, PARIS_WINTER))
            exported_at = self.at(export_ms + rng.randrange(3_600_000), tz)
            path, count = self.write_channel(spec, guild, plan, users, bot, tz, exported_at)
            files.append(path)
            written += count
        self.files.extend(files)
        self.guild_ids[spec.key] = guild_id
        return CommunityTruth(
            key=spec.key,
            guild_id=guild_id,
            name=spec.name,
            label=spec.label,
            categories=spec.categories,
            successor_of=self.guild_ids[spec.successor_of] if spec.successor_of else None,
            files=tuple(files),
            members=len(users),
            messages=written,
        )

    def user(self, account: _Account, index: int, roles: list[Role]) -> User:
        """The account as seen in one guild: owner, a few moderators, members (some with an
        extra role such as a verification badge)."""
        if index == 0:
            held: tuple[Role, ...] = (roles[0],)
        elif index <= 2 and len(roles) > 2:
            held = (roles[1], roles[-1])
        elif len(roles) > 3 and self.rng.random() < 0.5:
            held = (roles[2], roles[-1])
        else:
            held = (roles[-1],)
        return User(account.id, account.name, account.display, account.discriminator, roles=held)

    def plan_channels(self, spec: CommunitySpec, created: int, lo: int, hi: int) -> list[_Planned]:
        """Ids, parents, message counts and time windows for every channel and thread."""
        rng = self.rng
        categories: dict[str, str] = {}
        planned: list[_Planned] = []
        for ch in spec.channels:
            if ch.category not in categories:
                categories[ch.category] = self.snowflake(created + 60_000 * (len(categories) + 1))
            parent = (categories[ch.category], ch.category)
            kind = "GuildNews" if ch.news else "GuildTextChat"
            chan = _Planned(
                ch,
                ch.name,
                self.snowflake(created + rng.randrange(DAY_MS)),
                parent,
                kind,
                lo=lo,
                hi=hi,
            )
            planned.append(chan)
            for thread_name in ch.threads:
                t0 = lo + int(rng.random() * 0.7 * (hi - lo))
                t1 = min(hi, t0 + rng.randint(2, 10) * DAY_MS)
                planned.append(
                    _Planned(
                        ch,
                        thread_name,
                        self.snowflake(t0),
                        (chan.id, ch.name),
                        "GuildPublicThread",
                        lo=t0 + 1,
                        hi=t1,
                        thread_of=chan,
                    )
                )
        total = spec.messages * self.msg_scale
        weights = [
            0.0 if p.spec.kind == "rules" else p.spec.weight * (0.2 if p.thread_of else 1.0)
            for p in planned
        ]
        scale = total / sum(weights)
        for plan, weight in zip(planned, weights, strict=True):
            if plan.spec.kind == "rules":  # the owner's lines, an hour apart, on day one
                plan.count = len(P.THEMES[plan.spec.theme])
                plan.times = [lo + 3_600_000 * (i + 1) for i in range(plan.count)]
            else:
                plan.count = max(1, round(weight * scale))
                plan.times = sorted(rng.randrange(plan.lo, plan.hi) for _ in range(plan.count))
        return planned

    def assign_authors(self, spec: CommunitySpec, planned: list[_Planned], n: int, lo: int) -> None:
        """Every member posts at least once (so member overlap is measurable from the export),
        the rest follows a heavy-tailed activity curve; then joins and thread starts."""
        rng = self.rng
        chat = [p for p in planned if p.spec.kind == "chat"]
        total = sum(p.count for p in chat)
        if total < n:
            raise ValueError(f"{spec.key}: {total} messages cannot cover {n} members")
        order = list(range(n))
        rng.shuffle(order)
        cum = list(accumulate(1.0 / (rank + 1) ** 0.8 for rank in range(n)))
        authors = list(range(n)) + [
            order[bisect_right(cum, rng.random() * cum[-1])] for _ in range(total - n)
        ]
        rng.shuffle(authors)
        offset = 0
        first_seen: dict[int, int] = {}
        for plan in planned:
            if plan.spec.kind == "rules":
                plan.authors = [0] * plan.count
            elif plan.spec.kind == "bot":
                plan.authors = [-1] * plan.count
            else:
                plan.authors = authors[offset : offset + plan.count]
                offset += plan.count
            for ms, author in zip(plan.times, plan.authors, strict=True):
                if author >= 0 and (author not in first_seen or ms < first_seen[author]):
                    first_seen[author] = ms
            plan.events = [
                (ms, a, "msg", i)
                for i, (ms, a) in enumerate(zip(plan.times, plan.authors, strict=True))
            ]
        # openings are the first messages of their channel, by the owner
        for plan in planned:
            if plan.spec.opening and not plan.thread_of:
                start = plan.lo + 60_000
                for i, _ in enumerate(plan.spec.opening):
                    plan.events.append((start + i * 90_000, 0, "open", i))
                first_seen[0] = min(first_seen.get(0, start), start)
        joins = next((p for p in planned if p.spec.joins and not p.thread_of), None)
        if joins is not None:
            for member in range(1, n):
                if rng.random() < spec.join_rate:
                    first = first_seen[member]
                    ms = lo + int((first - lo) * rng.uniform(0.2, 0.99))
                    joins.events.append((ms, member, "join", 0))
        for plan in planned:
            if plan.thread_of is not None and plan.authors:
                plan.thread_of.events.append(
                    (plan.lo - 1, plan.authors[0], "thread", planned.index(plan))
                )
        for plan in planned:
            plan.events.sort()

    # writing

    def write_channel(
        self,
        spec: CommunitySpec,
        guild: dict[str, Any],
        plan: _Planned,
        users: list[User],
        bot: User | None,
        tz: tzinfo,
        exported_at: datetime,
    ) -> tuple[Path, int]:
        rng = self.rng
        ch = plan.spec
        file_name = export_file_name(spec.name, plan.parent[1], plan.name, plan.id)
        path = self.out_dir / file_name
        header = channel_json(
            plan.id,
            plan.name,
            category=plan.parent,
            topic=ch.topic if not plan.thread_of else None,
            kind=plan.kind,
        )
        hostile = list(self.hostile.get((spec.key, ch.name), ())) if not plan.thread_of else []
        hostile_at = len(plan.events) // 2
        recent: deque[tuple[str, int]] = deque(maxlen=30)
        langs, lang_weights = zip(*spec.langs, strict=True)
        code = self.invites.get(spec.invite or "", "")
        with ExportWriter(path, guild=guild, channel=header, exported_at=exported_at) as out:
            for index, (ms, author_index, what, extra) in enumerate(plan.events):
                at = self.at(ms, tz)
                message_id = self.snowflake(ms)
                author = bot if author_index < 0 and bot else users[max(author_index, 0)]
                if what == "join":
                    out.write(
                        message_json(
                            message_id, author, at, "Joined the server.", kind="GuildMemberJoin"
                        )
                    )
                    continue
                if what == "thread":
                    out.write(
                        message_json(
                            message_id, author, at, "Started a thread.", kind="ThreadCreated"
                        )
                    )
                    continue
                if what == "open":
                    content = ch.opening[extra].format(code=code)
                    out.write(message_json(message_id, author, at, content, pinned=True))
                    recent.append((message_id, 0))
                    continue
                mentions: list[User] = []
                reply_to = None
                if ch.kind == "rules":
                    content = P.THEMES[ch.theme][extra].format(code=code)
                elif ch.kind == "bot":
                    line = rng.choice(P.BOT_LINES[ch.theme])
                    target = rng.choice(users)
                    if "{user}" in line:
                        mentions.append(target)
                    content = line.format(
                        user=f"@{target.nickname or target.name}", n=rng.randint(2, 400)
                    )
                else:
                    content = self.content(spec, ch, rng.choices(langs, lang_weights)[0])
                    if recent and rng.random() < 0.12:
                        target_id, target_author = rng.choice(recent)
                        reply_to = (target_id, plan.id, guild["id"])
                        if rng.random() < 0.5 and target_author >= 0:
                            mentions.append(users[target_author])
                    elif recent and rng.random() < 0.04 and recent[-1][1] >= 0:
                        target = users[recent[-1][1]]
                        mentions.append(target)
                        content = f"@{target.nickname or target.name} {content}"
                attachments: list[dict[str, Any]] = []
                force = bool(hostile) and index >= hostile_at
                if ch.kind == "chat" and (force or rng.random() < ch.attach_rate):
                    attachments = self.attachments(
                        spec, ch, plan, path, ms, hostile if force else []
                    )
                    if not force and rng.random() < 0.4:
                        content = ""
                    hostile = [] if force else hostile
                reactions = []
                if rng.random() < 0.08:
                    for emoji in rng.sample(REACTION_EMOJI, rng.randint(1, 2)):
                        reactions.append(
                            (emoji, rng.sample(users, min(len(users), rng.randint(1, 4))))
                        )
                edited = None
                if ch.kind != "rules" and rng.random() < 0.04:
                    edited = self.at(ms + rng.randint(5_000, 3_600_000), tz)
                pinned = ch.kind == "rules" or rng.random() < 0.004
                out.write(
                    message_json(
                        message_id,
                        author,
                        at,
                        content,
                        edited_at=edited,
                        attachments=attachments,
                        reply_to=reply_to,
                        mentions=mentions,
                        reactions=reactions,
                        pinned=pinned,
                    )
                )
                recent.append((message_id, author_index))
            count = len(plan.events)
        return path, count

    def content(self, spec: CommunitySpec, ch: ChannelSpec, lang: str) -> str:
        rng = self.rng
        if ch.signals and rng.random() < ch.signal_rate:
            table = P.SIGNALS[rng.choice(ch.signals)]
            return render_signal(rng.choice(table), rng, spec.evasion_rate)
        if spec.invite and rng.random() < 0.01:
            return rng.choice(P.INVITE_LINES).format(code=self.invites[spec.invite])
        if ch.theme and rng.random() < spec.theme_rate:
            text = rng.choice(P.THEMES[ch.theme])
        else:
            text = rng.choice(P.CHATTER[lang])
        if rng.random() < 0.06:
            text += " " + rng.choice(REACTION_EMOJI)
        return text

    def attachments(
        self,
        spec: CommunitySpec,
        ch: ChannelSpec,
        plan: _Planned,
        export_path: Path,
        ms: int,
        hostile: list[str],
    ) -> list[dict[str, Any]]:
        rng = self.rng
        count = len(hostile) or rng.choices((1, 2, 3), (0.85, 0.1, 0.05))[0]
        names, weights = zip(*P.ATTACHMENT_NAMES, strict=True)
        result = []
        for i in range(count):
            bank_index: int | None = None
            variant = ""
            if hostile:
                file_name = hostile[i]
            else:
                taken = BASE + timedelta(milliseconds=ms - rng.randrange(30 * DAY_MS))
                fields = {
                    "n4": f"{rng.randint(0, 9999):04d}",
                    "date": taken.strftime("%Y%m%d"),
                    "time": taken.strftime("%H%M%S"),
                    "ms": f"{taken.microsecond // 1000:03d}",
                }
                file_name = rng.choices(names, weights)[0].format(**fields)
                ext = os.path.splitext(file_name)[1].lower()
                if spec.bank and ext in IMAGE_EXTS and rng.random() < ch.bank_rate:
                    bank_index, variant = self.pick_bank(spec)
                    stem = rng.choice(("IMG_{n4}", "image0", "photo", "PXL_{date}_{time}{ms}"))
                    suffix = ".png" if variant == "png" else ".jpg"
                    file_name = stem.format(**fields) + suffix
            attachment_id = self.snowflake(ms)
            url_name = cdn_file_name(file_name)
            base_url = (
                f"https://cdn.discordapp.com/attachments/{plan.id}/{attachment_id}/{url_name}"
            )
            issued = int((BASE + timedelta(milliseconds=ms)).timestamp())
            url = (
                f"{base_url}?ex={issued + 86_400:08x}&is={issued:08x}"
                f"&hm={rng.getrandbits(256):064x}&"
            )
            ext = os.path.splitext(url_name)[1].lower()
            size = (
                rng.randint(1_000_000, 30_000_000)
                if ext in {".mp4", ".mov"}
                else rng.randint(20_000, 4_000_000)
            )
            if self.media and ext in IMAGE_EXTS:
                if bank_index is not None:
                    data = self.bank.data(bank_index, variant)
                else:
                    g = random.Random(f"img:{self.seed}:{attachment_id}")  # noqa: S311
                    image = abstract_image(
                        g.getrandbits(63),
                        g.randint(256, 400),
                        g.randint(256, 400),
                        grain=ext != ".png",
                    )
                    data = encode_image(image, ext)
                media_dir_name = export_path.name + "_Files"
                media_name = media_file_name(url_name, base_url)
                media_dir = export_path.parent / media_dir_name
                media_dir.mkdir(exist_ok=True)
                (media_dir / media_name).write_bytes(data)
                url = f"{media_dir_name}/{media_name}"
                size = len(data)
                if bank_index is not None and variant == "exact":
                    self.bank_media.setdefault(bank_index, url)
            if bank_index is not None:
                self.bank_matches.append(
                    {
                        "attachment_id": attachment_id,
                        "community": spec.key,
                        "bank": bank_index,
                        "variant": variant,
                        "path": url if self.media else None,
                    }
                )
            result.append(attachment_json(attachment_id, file_name, size, url))
        return result

    def pick_bank(self, spec: CommunitySpec) -> tuple[int, str]:
        """A bank image for this community; each is first posted as an exact copy, later
        re-posts are often altered (re-encoded, resized, converted)."""
        unused = [i for i in spec.bank if i not in self.bank_used]
        index = unused[0] if unused else self.rng.choice(spec.bank)
        if index not in self.bank_used:
            self.bank_used.add(index)
            return index, "exact"
        return index, self.rng.choices(BANK_VARIANTS, (0.4, 0.25, 0.2, 0.15))[0]


def build_world(
    out_dir: Path, *, seed: int = 7, size: Size = "small", media: bool = False
) -> World:
    """Write the synthetic world under ``out_dir`` and return its ground truth.

    Same ``seed`` and arguments give byte-identical files (existing files of the same names are
    overwritten, others are left alone). ``media=True`` also writes each image attachment as a
    generated abstract image beside its export (DCE's ``--media`` layout); video and other
    attachments keep their CDN URL.

    ``manifest.json``: ``seed``, ``size``, ``base`` (day 0), ``communities`` (``key``,
    ``guild_id``, ``name``, ``label``, ``categories``, ``successor_of`` (a guild id or null),
    ``members`` (distinct human authors), ``messages``, ``files``), ``bank_media`` (one exact
    copy of each known-abusive stand-in image, empty without media) and ``bank_matches`` (every
    attachment that re-posts one: ``attachment_id``, ``community``, ``bank`` index, ``variant``
    among exact/reencode/resize/png, ``path`` or null without media). Paths are relative to
    ``out_dir`` (which is also each export's directory) with forward slashes.
    """
    if size not in SCALE:
        raise ValueError(f"size must be one of {sorted(SCALE)}, not {size!r}")
    return _Builder(Path(out_dir), seed, size, media).build()


def main(argv: list[str] | None = None) -> None:
    """``python -m iolaus.demo.world OUT [--seed N] [--size small|large] [--media]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--size", choices=sorted(SCALE), default="small")
    parser.add_argument("--media", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    world = build_world(args.out_dir, seed=args.seed, size=args.size, media=args.media)
    elapsed = time.perf_counter() - started
    print(
        f"{len(world.files)} files, {world.message_count} messages, "
        f"{len(world.communities)} communities in {elapsed:.1f}s -> {world.out_dir}"
    )


if __name__ == "__main__":
    main()
