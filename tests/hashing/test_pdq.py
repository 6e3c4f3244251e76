"""PDQ photo hashing: agreement with the reference, matching behaviour, orientation policy."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pdqhash
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageDraw, ImageOps

from iolaus.hashing import pdq
from iolaus.hashing.pdq import (
    MATCH_DISTANCE,
    MIN_REDUCED_SIDE,
    QUALITY_THRESHOLD,
    MediaError,
    PdqHash,
    dihedral_hashes,
    hash_image,
    hash_photo,
    hash_rgb,
    pdq_distance,
    to_rgb,
)

REFERENCE_TOLERANCE = 4  # bits between our fast path and pdqhash on the full decode


def _photos_root() -> Path:
    override = os.environ.get("IOLAUS_SHARED_PHOTOS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "photos"


PHOTOS = _photos_root()
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
PHOTO_NAMES = (
    sorted(
        p.relative_to(PHOTOS).as_posix()
        for p in PHOTOS.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES
    )
    if PHOTOS.is_dir()
    else ["(reference photos absent)"]
)


@pytest.fixture(scope="session")
def photos() -> Path:
    """The shared reference photos; tests using them skip on machines without the folder."""
    if not PHOTOS.is_dir():
        pytest.skip(f"reference photos not found at {PHOTOS} (set IOLAUS_SHARED_PHOTOS)")
    return PHOTOS


def reference(source: Path | Image.Image) -> PdqHash:
    """pdqhash on the fully decoded RGB array, after the same orientation and mode policy."""
    if isinstance(source, Path):
        with Image.open(source) as image:
            return reference(image)
    rgb = np.asarray(to_rgb(ImageOps.exif_transpose(source)))
    bits, quality = pdqhash.compute(rgb)
    return PdqHash(np.packbits(bits).tobytes().hex(), quality)


def scene(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A generated photo-like picture: smooth random colours plus a few shapes."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
    image = coarse.resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    width, height = size
    for _ in range(4):
        x, y = rng.integers(0, width), rng.integers(0, height)
        box = [x, y, x + width // 5, y + height // 4]
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse(box, fill=colour)
        else:
            draw.rectangle(box, fill=colour)
    return image


def exif_with(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    return exif


# --------------------------------------------------------------------------- reference photos


@pytest.mark.parametrize("name", PHOTO_NAMES)
def test_every_reference_photo_is_within_4_bits_of_pdqhash(photos: Path, name: str) -> None:
    ours = hash_photo(photos / name)
    theirs = reference(photos / name)
    assert ours.distance(theirs) <= REFERENCE_TOLERANCE
    assert abs(ours.quality - theirs.quality) <= 1


def test_photos_decoded_at_full_size_are_bit_exact(photos: Path) -> None:
    small = [
        name for name in PHOTO_NAMES if min(Image.open(photos / name).size) < 2 * MIN_REDUCED_SIDE
    ]
    assert len(small) >= 10
    for name in small:
        assert hash_photo(photos / name) == reference(photos / name), name


def test_bridge_edits_match_each_other(photos: Path) -> None:
    hashes = {p.name: hash_photo(p) for p in sorted((photos / "bridge-mods").iterdir())}
    assert len(hashes) >= 10
    for (a, ha), (b, hb) in itertools.combinations(hashes.items(), 2):
        assert ha.distance(hb) <= MATCH_DISTANCE, (a, b)
        assert ha.usable, a


def test_labelme_photos_match_neither_each_other_nor_the_bridge(photos: Path) -> None:
    bridge = hash_photo(photos / "bridge-mods" / "aaa-orig.jpg")
    hashes = [hash_photo(p) for p in sorted((photos / "labelme-subset").iterdir())]
    assert len(hashes) >= 5
    for a, b in itertools.combinations(hashes, 2):
        assert a.distance(b) > MATCH_DISTANCE
    assert all(h.distance(bridge) > MATCH_DISTANCE for h in hashes)


def test_featureless_labelme_photos_are_unusable(photos: Path) -> None:
    quality = {p.name: hash_photo(p).quality for p in (photos / "labelme-subset").iterdir()}
    assert quality["q0003.jpg"] < QUALITY_THRESHOLD
    assert quality["q0004.jpg"] < QUALITY_THRESHOLD
    assert not hash_photo(photos / "labelme-subset" / "q0003.jpg").usable
    assert hash_photo(photos / "labelme-subset" / "q2821.jpg").usable


def test_tiny_flat_misc_photo_is_unusable(photos: Path) -> None:
    assert hash_photo(photos / "misc" / "small.jpg").quality < QUALITY_THRESHOLD


@pytest.mark.parametrize(
    ("file", "transform"),
    [
        ("bridge-2-rotate-90.jpg", "rotate90"),
        ("bridge-3-rotate-180.jpg", "rotate180"),
        ("bridge-4-rotate-270.jpg", "rotate270"),
        ("bridge-5-flipx.jpg", "flipx"),
        ("bridge-6-flipy.jpg", "flipy"),
        ("bridge-7-flip-plus-1.jpg", "flipplus1"),
        ("bridge-8-flip-minus-1.jpg", "flipminus1"),
    ],
)
def test_rotated_copies_differ_but_dihedral_queries_find_them(
    photos: Path, file: str, transform: str
) -> None:
    """PDQ is not rotation invariant: the pixels as shown are hashed, and the 8 dihedral
    variants of the original are what finds a rotated or mirrored copy."""
    original = photos / "dih" / "bridge-1-original.jpg"
    copy = hash_photo(photos / "dih" / file)
    assert copy.distance(hash_photo(original)) > MATCH_DISTANCE
    variants = dihedral_hashes(Image.open(original))
    assert copy.distance(variants[transform]) <= REFERENCE_TOLERANCE
    assert all(copy.distance(h) > MATCH_DISTANCE for k, h in variants.items() if k != transform)


def test_modes_folder_hashes_like_the_original(photos: Path) -> None:
    original = hash_photo(photos / "modes" / "original.jpg")
    for path in sorted((photos / "modes").iterdir()):
        assert hash_photo(path).distance(original) <= 8, path.name


@pytest.mark.parametrize("name", ["exif-rotn-3.jpg", "exif-rotn-6.jpg", "exif-rotn-8.jpg"])
def test_exif_orientation_is_applied_like_a_viewer(photos: Path, tmp_path: Path, name: str) -> None:
    path = photos / "exif-rotn" / name
    shown = hash_photo(path)
    stored_pixels = hash_image(Image.open(path).reduce(4))
    assert shown.distance(stored_pixels) > MATCH_DISTANCE
    baked = tmp_path / "baked.jpg"
    ImageOps.exif_transpose(Image.open(path)).save(baked, quality=92)  # no EXIF: pixels upright
    assert hash_photo(baked).distance(shown) <= 8


# --------------------------------------------------------------------------- generated images


def pdqhash_of(rgb: np.ndarray) -> PdqHash:
    """The reference on an RGB array."""
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return PdqHash(np.packbits(bits).tobytes().hex(), quality)


def pattern(kind: str, seed: int, size: tuple[int, int]) -> np.ndarray:
    """Generated pixels, H×W×3: a scene, or inputs whose exact DCT has many zero (tied)
    coefficients, so that the reference's float32 rounding noise decides bits."""
    width, height = size
    rng = np.random.default_rng(seed)
    if kind == "scene":
        return np.asarray(scene(seed, size))
    if kind == "flat":
        return np.broadcast_to(rng.integers(0, 256, 3, dtype=np.uint8), (height, width, 3))
    if kind == "columns":  # every row alike: only horizontal frequencies
        row = rng.integers(0, 256, (1, width, 3), dtype=np.uint8)
        return np.broadcast_to(row, (height, width, 3))
    if kind == "symmetric":  # mirror image: odd horizontal frequencies (nearly) cancel
        half = np.asarray(scene(seed, ((width + 1) // 2, height)))
        return np.concatenate([half, half[:, ::-1][:, width % 2 :]], axis=1)
    raise ValueError(kind)


SIDES = st.one_of(
    st.integers(min_value=5, max_value=400),
    st.sampled_from([8, 16, 32, 64, 128, 256]),  # 8 and 16 repeat pixels 8 or 4 times: ties
)


@pytest.mark.parametrize(
    "size", [(5, 5), (7, 13), (64, 64), (65, 63), (300, 127), (129, 257), (640, 480)]
)
def test_hash_rgb_equals_pdqhash_bit_for_bit(size: tuple[int, int]) -> None:
    rgb = np.asarray(scene(sum(size), size))
    assert hash_rgb(rgb) == pdqhash_of(rgb)


@pytest.mark.parametrize(
    "size", [(5, 8), (8, 8), (16, 16), (16, 100), (9, 16), (32, 40), (8, 400), (300, 16)]
)
def test_sides_of_8_and_16_pixels_are_bit_exact(size: tuple[int, int]) -> None:
    """An 8- or 16-pixel side is blown up to 64 by repeating pixels, which zeroes frequency 16
    (and 8) along it exactly; with the median among those zeros, the bits are the signs of
    float32 rounding noise, and only the reference's own arithmetic reproduces them."""
    rgb = np.asarray(scene(0, size))
    assert hash_rgb(rgb) == pdqhash_of(rgb)


@pytest.mark.parametrize("kind", ["flat", "columns", "symmetric"])
@pytest.mark.parametrize("size", [(5, 5), (8, 8), (64, 64), (100, 37), (320, 240), (257, 130)])
def test_images_with_tied_coefficients_are_bit_exact(kind: str, size: tuple[int, int]) -> None:
    rgb = pattern(kind, sum(size), size)
    assert hash_rgb(rgb) == pdqhash_of(rgb)
    assert hash_rgb(np.ascontiguousarray(rgb.transpose(1, 0, 2))) == pdqhash_of(
        rgb.transpose(1, 0, 2)
    )


@settings(max_examples=60, deadline=None)
@given(
    width=SIDES,
    height=SIDES,
    seed=st.integers(min_value=0, max_value=2**16),
    kind=st.sampled_from(["scene", "scene", "scene", "flat", "columns", "symmetric"]),
)
def test_any_size_is_bit_exact(width: int, height: int, seed: int, kind: str) -> None:
    rgb = pattern(kind, seed, (width, height))
    assert hash_rgb(rgb) == pdqhash_of(rgb)


@settings(max_examples=30, deadline=None)
@given(width=SIDES, height=SIDES, seed=st.integers(min_value=0, max_value=2**16))
def test_float32_replay_of_the_reference_is_bit_exact(width: int, height: int, seed: int) -> None:
    """The slow path taken when rounding decides, checked on every input, not only on ties."""
    rgb = np.asarray(scene(seed, (width, height)))
    assert pdq._reference_hash(pdq._rgb_luma(rgb)) == pdqhash_of(rgb)


@pytest.mark.parametrize("size", [(8, 16), (300, 8), (64, 64), (120, 90)])
@pytest.mark.parametrize("orientation", [2, 3, 6, 7])
def test_tied_coefficients_follow_exif_orientation(
    tmp_path: Path, size: tuple[int, int], orientation: int
) -> None:
    path = tmp_path / "tied.png"
    Image.fromarray(np.ascontiguousarray(pattern("columns", orientation, size))).save(
        path, exif=exif_with(orientation)
    )
    assert hash_photo(path) == reference(path)


def test_typical_images_rarely_need_the_float32_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast float64 path settles most hashes; the replay is for (near) ties only."""
    replays = []
    monkeypatch.setattr(pdq, "_reference_hash", lambda luma: replays.append(luma) or None)
    for seed in range(20):
        hash_rgb(np.asarray(scene(seed, (320, 240))))
    assert len(replays) <= 6
    replays.clear()
    hash_rgb(np.asarray(scene(0, (8, 8))))
    assert len(replays) == 1


def test_images_thinner_than_5_pixels_get_the_zero_hash() -> None:
    assert hash_image(scene(1, (4, 100))) == PdqHash("0" * 64, 0)


def test_flat_and_smooth_images_have_low_quality() -> None:
    flat = hash_image(Image.new("RGB", (300, 200), (120, 130, 140)))
    assert flat.quality == 0
    assert not flat.usable
    ramp = np.tile(np.linspace(100, 110, 300, dtype=np.uint8), (200, 1))
    assert hash_image(Image.fromarray(ramp)).quality < QUALITY_THRESHOLD


def test_scenes_are_usable_and_distinct() -> None:
    hashes = [hash_image(scene(seed)) for seed in range(6)]
    assert all(h.usable for h in hashes)
    assert all(a.distance(b) > MATCH_DISTANCE for a, b in itertools.combinations(hashes, 2))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillow_exif_transpose(
    tmp_path: Path, orientation: int
) -> None:
    exif = exif_with(orientation)
    exact = tmp_path / "small.png"  # lossless and small: decoded at full size, bit-exact
    scene(orientation, (360, 240)).save(exact, exif=exif)
    assert hash_photo(exact) == reference(exact)
    reduced = tmp_path / "large.jpg"  # decoded at 1/4 scale by libjpeg
    scene(orientation, (1600, 1200)).save(reduced, exif=exif, quality=95)
    assert hash_photo(reduced).distance(reference(reduced)) <= REFERENCE_TOLERANCE


def test_orientations_give_eight_different_hashes(tmp_path: Path) -> None:
    hashes = []
    for orientation in range(1, 9):
        path = tmp_path / f"{orientation}.png"
        scene(3, (400, 300)).save(path, exif=exif_with(orientation))
        hashes.append(hash_photo(path))
    assert all(a.distance(b) > MATCH_DISTANCE for a, b in itertools.combinations(hashes, 2))


def test_invalid_orientation_counts_as_upright(tmp_path: Path) -> None:
    upright, odd = tmp_path / "upright.png", tmp_path / "odd.png"
    scene(4).save(upright)
    scene(4).save(odd, exif=exif_with(9))
    assert hash_photo(odd) == hash_photo(upright)


def test_distance_accepts_hashes_and_hex_and_rejects_garbage() -> None:
    a, b = hash_image(scene(1)), hash_image(scene(2))
    assert a.distance(b) == b.distance(a.hex) == pdq_distance(a.hex, b.hex)
    assert a.distance(a) == 0
    assert pdq_distance("0" * 64, "f" * 64) == 256
    with pytest.raises(ValueError, match="64 hex"):
        pdq_distance("abc", a.hex)
    with pytest.raises(ValueError):
        pdq_distance("z" * 64, a.hex)


def test_hash_rgb_refuses_arrays_that_are_not_rgb() -> None:
    with pytest.raises(MediaError, match="RGB array"):
        hash_rgb(np.zeros((10, 10), dtype=np.uint8))
