"""The synthetic world: deterministic, valid DCE exports, a truthful manifest, safe media paths,
and nothing graphic in it. Worlds are built once per module to keep the suite fast."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from iolaus.demo import phrases
from iolaus.demo.world import COMMUNITIES, World, abstract_image, build_world, encode_image

ROOT_KEYS = ["guild", "channel", "dateRange", "exportedAt", "messages", "messageCount"]
MESSAGE_KEYS = [
    "id",
    "type",
    "timestamp",
    "timestampEdited",
    "callEndedTimestamp",
    "isPinned",
    "content",
    "author",
    "attachments",
    "embeds",
    "stickers",
    "reactions",
    "mentions",
]
DISCORD_EPOCH_MS = 1420070400000

# Graphic terms the generator must never emit (checked on normalised text, whole words).
FORBIDDEN = (
    "nipple", "nipples", "genital", "genitals", "penis", "vagina", "blowjob", "masturbate",
    "masturbation", "orgasm", "ejaculate", "cumshot", "naked", "topless", "porn", "porno",
    "pussy", "dick", "cock", "boobs", "tits", "anal", "rape", "raped", "molest", "pedo",
    "pénis", "vagin", "fellation", "branlette", "seins", "téton", "tétons", "nue", "nues",
    "sodomie", "éjaculation", "orgasme", "masturbation", "viol", "violée", "pédo", "chatte",
    "bite", "cul",
)  # fmt: skip

HARD_NEGATIVES = {
    "Après — Entraide",
    "Parlons-en (éduc sexuelle)",
    "Open Studio 18+",
    "Les Racines",
    "Anciens de Transports Garnier",
    "Fripes & Bonnes Affaires",
    "Nuit Blanche 18+",
}


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _manifest(world: World) -> dict[str, Any]:
    return _load(world.manifest)


def _authors(world: World, name: str) -> set[str]:
    authors: set[str] = set()
    for path in world.community(name).files:
        authors.update(m["author"]["id"] for m in _load(path)["messages"])
    return authors


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("world"), seed=7)


@pytest.fixture(scope="module")
def media_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("media"), seed=7, media=True)


@pytest.fixture(scope="module")
def exports(world: World) -> dict[Path, dict[str, Any]]:
    return {path: _load(path) for path in world.files}


# --- determinism ---------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(world: World, tmp_path: Path) -> None:
    again = build_world(tmp_path / "again", seed=7)
    assert _tree(again.out_dir) == _tree(world.out_dir)


def test_another_seed_gives_another_world(world: World, tmp_path: Path) -> None:
    other = build_world(tmp_path / "other", seed=8)
    assert _tree(other.out_dir) != _tree(world.out_dir)
    assert _load(other.manifest)["seed"] == 8


def test_media_does_not_change_the_text(world: World, media_world: World) -> None:
    # the same messages: only attachment urls and sizes differ from the world without media
    for plain, with_media in zip(world.files, media_world.files, strict=True):
        assert plain.name == with_media.name
        a, b = _load(plain), _load(with_media)
        for m in a["messages"] + b["messages"]:
            for attachment in m["attachments"]:
                attachment["url"] = attachment["fileSizeBytes"] = None
        assert a == b


def test_generated_images_are_deterministic() -> None:
    # (a second full media build would double the suite's time; the images depend only on
    # these seeded functions, so checking them is enough)
    def render(seed: int, ext: str) -> bytes:
        return encode_image(abstract_image(seed, 320, 256, grain=ext != ".png"), ext)

    for ext in (".jpg", ".png"):
        assert render(1, ext) == render(1, ext) != render(2, ext)


# --- DCE shape -----------------------------------------------------------------------------------


def test_every_file_is_a_valid_dce_export(exports: dict[Path, dict[str, Any]]) -> None:
    for path, data in exports.items():
        assert list(data) == ROOT_KEYS, path
        assert data["messageCount"] == len(data["messages"]) > 0, path
        assert isinstance(data["guild"]["id"], str) and isinstance(data["channel"]["id"], str)
        assert path.name.endswith(f"[{data['channel']['id']}].json")
        datetime.fromisoformat(data["exportedAt"])
        previous = None
        for message in data["messages"]:
            assert list(message)[: len(MESSAGE_KEYS)] == MESSAGE_KEYS
            assert list(message)[-1] == "inlineEmojis"
            assert isinstance(message["id"], str) and isinstance(message["author"]["id"], str)
            at = datetime.fromisoformat(message["timestamp"])
            assert at.utcoffset() == datetime.fromisoformat(data["exportedAt"]).utcoffset()
            # the snowflake's time part is the message's time
            ms = (int(message["id"]) >> 22) + DISCORD_EPOCH_MS
            assert ms == round(at.timestamp() * 1000)
            assert previous is None or at >= previous
            previous = at
            for attachment in message["attachments"]:
                assert list(attachment) == ["id", "url", "fileName", "fileSizeBytes"]
                assert isinstance(attachment["id"], str)
                assert isinstance(attachment["fileSizeBytes"], int)
            for user in message["mentions"]:
                assert isinstance(user["id"], str) and "roles" in user
            for reaction in message["reactions"]:
                assert all("roles" not in user for user in reaction["users"])
            if "reference" in message:
                assert all(isinstance(v, str) for v in message["reference"].values())


def test_ids_are_unique(exports: dict[Path, dict[str, Any]]) -> None:
    ids = Counter()
    for data in exports.values():
        ids[data["channel"]["id"]] += 1
        for message in data["messages"]:
            ids[message["id"]] += 1
            ids.update(a["id"] for a in message["attachments"])
    assert ids.most_common(1)[0][1] == 1


def test_the_world_has_the_features_an_importer_must_handle(
    exports: dict[Path, dict[str, Any]],
) -> None:
    kinds, offsets, channel_kinds = Counter(), Counter(), Counter()
    replies_resolve = edited = pinned = reacted = mentioned = 0
    channel_ids = {data["channel"]["id"] for data in exports.values()}
    for data in exports.values():
        offsets[data["exportedAt"][-6:]] += 1
        channel_kinds[data["channel"]["type"]] += 1
        if data["channel"]["type"] == "GuildPublicThread":
            assert data["channel"]["categoryId"] in channel_ids  # parent is a text channel
        seen = set()
        for message in data["messages"]:
            kinds[message["type"]] += 1
            if message["type"] == "Reply":
                replies_resolve += message["reference"]["messageId"] in seen
            seen.add(message["id"])
            edited += message["timestampEdited"] is not None
            pinned += message["isPinned"]
            reacted += bool(message["reactions"])
            mentioned += bool(message["mentions"])
    assert {"Default", "Reply", "GuildMemberJoin", "ThreadCreated"} <= set(kinds)
    assert kinds["Reply"] == replies_resolve  # replies point at earlier messages of the channel
    assert {"+00:00", "+01:00"} <= set(offsets)
    assert {"GuildTextChat", "GuildPublicThread", "GuildNews"} <= set(channel_kinds)
    assert min(edited, pinned, reacted, mentioned) > 10


def test_small_world_volume(world: World) -> None:
    assert 5_000 <= world.message_count <= 15_000
    assert len(world.communities) == len(COMMUNITIES) >= 17


# --- ground truth --------------------------------------------------------------------------------


def test_manifest_matches_the_files(world: World) -> None:
    manifest = _manifest(world)
    assert manifest["seed"] == 7 and manifest["size"] == "small"
    listed = [world.out_dir / f for c in manifest["communities"] for f in c["files"]]
    assert sorted(listed) == sorted(world.files)
    assert all(path.exists() for path in listed)
    for entry, truth in zip(manifest["communities"], world.communities, strict=True):
        assert entry["guild_id"] == truth.guild_id
        for path in truth.files:
            assert _load(path)["guild"]["id"] == truth.guild_id


def test_labels_and_categories(world: World) -> None:
    labels = {c.name: c.label for c in world.communities}
    assert set(labels.values()) == {"ordinary", "hard_negative", "abusive"}
    assert {name for name, label in labels.items() if label == "hard_negative"} == HARD_NEGATIVES
    abusive = [c for c in world.communities if c.label == "abusive"]
    assert len(abusive) == 4
    assert all(c.categories for c in abusive)
    assert not any(c.categories for c in world.communities if c.label != "abusive")
    expected = {"ncii", "voyeurism", "sexual_deepfake", "csam", "solicitation", "ban_evasion"}
    assert expected <= {cat for c in abusive for cat in c.categories}


def test_successor_shares_about_half_of_the_original_members(world: World) -> None:
    original = world.community("Velvet Burrow")
    successor = world.community("Velvet Burrow 2.0")
    assert successor.successor_of == original.guild_id != successor.guild_id
    assert [c.successor_of for c in world.communities].count(None) == len(world.communities) - 1
    old, new = _authors(world, original.name), _authors(world, successor.name)
    assert 0.4 <= len(old & new) / len(old) <= 0.6
    # some carried-over accounts changed their username (same id): ids, not names, link them
    names = {}
    for community in (original, successor):
        for path in community.files:
            for m in _load(path)["messages"]:
                names.setdefault(m["author"]["id"], set()).add(m["author"]["name"])
    renamed = [i for i in old & new if len(names[i]) > 1]
    assert 0 < len(renamed) < len(old & new)
    contents = [m["content"] for path in successor.files for m in _load(path)["messages"]]
    assert "nouveau serveur, l'ancien a été ban" in contents
    # the successor came after the original's last message
    last_old = max(
        datetime.fromisoformat(m["timestamp"]) for p in original.files for m in _load(p)["messages"]
    )
    first_new = min(
        datetime.fromisoformat(m["timestamp"])
        for p in successor.files
        for m in _load(p)["messages"]
    )
    assert first_new > last_old


def test_abusive_text_uses_evasion_and_ordinary_text_does_not(world: World) -> None:
    def text_of(label: str) -> str:
        return "\n".join(
            m["content"]
            for c in world.communities
            if c.label == label
            for p in c.files
            for m in _load(p)["messages"]
        )

    abusive = text_of("abusive")
    assert re.search("[\u200b\u200c\u200d\u2060]", abusive)  # zero-width
    assert re.search("[\u0400-\u04ff]", abusive)  # Cyrillic look-alikes
    assert re.search(r"\b\w(\.\w){2,}\b", abusive)  # separators: t.r.i.b.s
    for label in ("ordinary", "hard_negative"):
        assert not re.search("[\u200b\u200c\u200d\u2060\u0400-\u04ff]", text_of(label))


# --- attachments and media -----------------------------------------------------------------------


def test_hostile_file_names_are_present(exports: dict[Path, dict[str, Any]]) -> None:
    names = {
        a["fileName"]
        for data in exports.values()
        for m in data["messages"]
        for a in m["attachments"]
    }
    assert set(phrases.HOSTILE_FILE_NAMES) <= names


def test_without_media_urls_are_discord_cdn_urls(world: World) -> None:
    pattern = re.compile(
        r"https://cdn\.discordapp\.com/attachments/(\d+)/(\d+)/[A-Za-z0-9._-]+"
        r"\?ex=[0-9a-f]+&is=[0-9a-f]+&hm=[0-9a-f]{64}&$"
    )
    for path in world.files:
        data = _load(path)
        for message in data["messages"]:
            for attachment in message["attachments"]:
                match = pattern.fullmatch(attachment["url"])
                assert match, attachment["url"]
                assert match.groups() == (data["channel"]["id"], attachment["id"])
    assert not [p for p in world.out_dir.rglob("*") if p.is_dir()]
    assert _manifest(world)["bank_media"] == []
    assert _manifest(world)["bank_matches"]


def test_media_files_exist_are_images_and_stay_inside(media_world: World) -> None:
    root = media_world.out_dir.resolve()
    images = videos = 0
    for path in media_world.files:
        for message in _load(path)["messages"]:
            for attachment in message["attachments"]:
                url = attachment["url"]
                if url.startswith("https://"):
                    assert not url.split("?")[0].lower().endswith((".jpg", ".jpeg", ".png"))
                    videos += url.split("?")[0].endswith((".mp4", ".mov"))
                    continue
                assert "\\" not in url and not url.startswith("/")
                assert url.startswith(path.name + "_Files/")
                media = (path.parent / url).resolve()
                assert media.is_relative_to(root)
                assert media.stat().st_size == attachment["fileSizeBytes"]
                with Image.open(media) as image:
                    image.verify()
                with Image.open(media) as image:
                    assert 192 <= image.width <= 640 and 192 <= image.height <= 640
                images += 1
    assert images > 100 and videos > 10


def test_bank_media_are_reused_in_abusive_communities(media_world: World) -> None:
    manifest = _manifest(media_world)
    bank = manifest["bank_media"]
    assert len(bank) == 7 and [p.as_posix() for p in media_world.bank_media] == [
        (media_world.out_dir / p).as_posix() for p in bank
    ]
    labels = {c.key: c.label for c in media_world.communities}
    variants = Counter(m["variant"] for m in manifest["bank_matches"])
    assert set(variants) == {"exact", "reencode", "resize", "png"}
    for match in manifest["bank_matches"]:
        assert labels[match["community"]] == "abusive"
        assert (media_world.out_dir / match["path"]).exists()
    # exact re-posts are byte-identical to the bank file; the successor re-posts the original's
    exact = Counter()
    for match in manifest["bank_matches"]:
        if match["variant"] == "exact":
            exact[(media_world.out_dir / match["path"]).read_bytes()] += 1
    assert max(exact.values()) > 1
    successor_banks = {m["bank"] for m in manifest["bank_matches"] if m["community"].endswith("_2")}
    original_banks = {
        m["bank"] for m in manifest["bank_matches"] if m["community"] == "velvet_burrow"
    }
    assert successor_banks & original_banks


# --- safety --------------------------------------------------------------------------------------

_CONFUSABLES = str.maketrans({v: k for k, v in phrases.CYRILLIC_LOOKALIKES.items()})
_LEET = str.maketrans({"4": "a", "3": "e", "1": "i", "0": "o", "5": "s", "7": "t", "8": "b"})


def _normalise(text: str) -> str:
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = text.translate(_CONFUSABLES)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return text.translate(_LEET)


def _strings(value: Any) -> set[str]:
    """Every string in a JSON document (keys excluded), de-duplicated."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return set().union(*map(_strings, value)) if value else set()
    return set()


def test_no_graphic_terms_anywhere(world: World) -> None:
    forbidden = {_normalise(term) for term in FORBIDDEN}
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(forbidden))) + r")\b")
    texts = set().union(*(_strings(_load(path)) for path in world.files))
    texts |= _strings(_load(world.manifest)) | {p.name for p in world.files}
    assert len(texts) > 1000
    for text in texts:
        normalised = _normalise(text)
        # also with single-letter separators squeezed out ("t.r.i.b" -> "trib")
        squeezed = re.sub(r"\b(\w)[.\-_*/ ](?=\w\b)", r"\1", normalised)
        for candidate in (normalised, squeezed):
            assert not pattern.search(candidate), text
