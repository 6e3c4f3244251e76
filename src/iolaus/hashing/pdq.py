"""Fast PDQ hashing of photos.

PDQ (Meta, 2017) turns an image into 256 bits: luminance, a tent blur and decimation to 64×64,
a 16×16 DCT (DC excluded), and one bit per coefficient above the median. Hashes are shown as
64 lowercase hex characters; the distance is the Hamming distance. The quality score (0–100)
counts strong gradients in the 64×64 image: below :data:`QUALITY_THRESHOLD` a hash is too
featureless to match on (pytx and HMA discard it), and :attr:`PdqHash.usable` says so.

How this is fast while agreeing with the reference
    The reference (``pdqhash`` on the fully decoded RGB array) spends most of its time in a
    float64 luminance pass and two box-filter passes over every pixel. Here:

    * the blur and the decimation are linear and separable, so for each axis they are folded
      into 64 weighted sums of a few neighbouring pixels, computed once per image size and
      cached; the 64×64 image is two passes of those sums, exactly the reference's tent filter
      evaluated only where it is sampled;
    * large images are decoded at 1/2, 1/4 or 1/8 scale (JPEG: ``Image.draft`` lets libjpeg
      scale in the DCT domain and return only the luma plane; other formats: ``Image.reduce``,
      a box average). Each reduced pixel is the mean of a k×k block, so its weight is the sum of
      the full-resolution weights over that block: the result is the reference's 64×64 image up
      to the variation of the image inside each block. The scale is chosen so that the shorter
      side keeps at least :data:`MIN_REDUCED_SIDE` pixels (≥ 2 pixels per box window);
    * images that need no reduction take the exact path (the reference's float luminance from
      RGB), so their hashes equal the reference bit for bit. The float64 sums above differ
      from the reference's float32 arithmetic by rounding only (measured < 0.01 on a
      coefficient). Where that could decide a bit (the two coefficients about the median
      within twice :data:`COEFFICIENT_TOLERANCE`: exact ties from an 8- or 16-pixel side, flat
      or one-dimensional images, and roughly one image in ten by chance) or the quality, the
      hash is recomputed repeating the reference's float32 operations (about 2 ms at 256×256,
      25 ms at 1920×1080, 10–20× the float64 path).

    On the shared reference photos the hashes are at most 2 bits from ``pdqhash`` on the
    full decode (most are identical) at over 4× the speed of python-threatexchange, the rest
    being decoder time (``benchmarks/hash_images.py``). Featureless images (quality < 50)
    can differ more when reduced; they are unusable for matching anyway.

EXIF orientation policy
    Hashes follow what a viewer shows: the EXIF orientation (or XMP ``tiff:Orientation``, as
    Pillow reads it) is applied before hashing, exactly like ``PIL.ImageOps.exif_transpose``.
    A photo and a copy whose orientation was baked into the pixels therefore hash alike. Note
    that python-threatexchange hashes the stored pixels and ignores the tag, so its hashes of
    rotated-by-tag photos differ from ours. PDQ itself is not rotation invariant: a photo that
    was really rotated or flipped gets a different hash (see :func:`dihedral_hashes`).

Pixel modes (:func:`to_rgb`)
    Alpha (RGBA, LA, PA, premultiplied, palette or colour-key transparency) is composited on
    white, as a viewer on a white page shows it. ``1``, L, P, CMYK, YCbCr, HSV and LAB are
    converted by Pillow (CMYK naively, without colour management; ICC profiles are ignored for
    every image). 16-bit, 32-bit integer and float greyscale (I;16, I, F) are scaled to 0–255
    from the smallest usual range holding all samples (0–1, 0–255, 0–65535), or stretched
    from their minimum to their maximum; PDQ bits do not change under such affine maps, only
    the quality does. Non-finite float samples and other modes raise :class:`MediaError`.

Refused input
    Decoding runs only Pillow's plugins for :data:`PHOTO_FORMATS`. An image over
    ``PIL.Image.MAX_IMAGE_PIXELS`` is a decompression bomb and raises :class:`MediaError`
    (Pillow's warning is turned into the error); so do truncated and corrupt files.
    Animated GIF, WebP and PNG files are hashed on their first frame.
"""

from __future__ import annotations

import contextlib
import math
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import BinaryIO, overload

import numpy as np
from PIL import ExifTags, Image

from iolaus.errors import IolausError

__all__ = [
    "MATCH_DISTANCE",
    "PHOTO_FORMATS",
    "QUALITY_THRESHOLD",
    "MediaError",
    "PdqHash",
    "dihedral_hashes",
    "hash_image",
    "hash_photo",
    "hash_rgb",
    "pdq_distance",
    "to_rgb",
]

QUALITY_THRESHOLD = 50
"""Hashes with a lower quality are unusable for matching (pytx ``QUALITY_THRESHOLD``)."""

MATCH_DISTANCE = 31
"""Two PDQ hashes at Hamming distance ≤ 31 are a confident match (pytx, HMA)."""

PHOTO_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "AVIF")
"""Pillow formats we decode; other plugins never see our input (smaller attack surface)."""

MIN_REDUCED_SIDE = 256
"""Shortest side kept when decoding at reduced scale (keeps ≥ 2 pixels per box window)."""

MIN_HASHABLE_DIM = 5
"""Like the reference, images thinner than this get the all-zero hash with quality 0."""

_HASH_BITS = 256
_ZERO_HASH = "0" * (_HASH_BITS // 4)
_SCALES = (8, 4, 2)

# Exceptions Pillow's decoders raise on malformed input (beyond OSError, the usual one).
_DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    MemoryError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)

# EXIF orientation → (flip stored rows, flip stored columns, transpose), so that the displayed
# image is ``transpose(stored[rows?, cols?])``, matching PIL.ImageOps.exif_transpose.
_ORIENTATIONS = {
    1: (False, False, False),
    2: (False, True, False),
    3: (True, True, False),
    4: (True, False, False),
    5: (False, False, True),
    6: (True, False, True),
    7: (True, True, True),
    8: (False, True, True),
}

_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "La", "RGBa"})
_HIGH_DEPTH_MODES = frozenset({"I", "F", "I;16", "I;16B", "I;16L", "I;16N"})
_NOMINAL_RANGES = (1.0, 255.0, 65535.0)  # float 0–1, 8-bit values in a wide container, 16-bit


class MediaError(IolausError, ValueError):
    """The input cannot be hashed: unsupported, malformed, too large, or a decompression bomb."""


@dataclass(frozen=True, slots=True)
class PdqHash:
    """A PDQ hash (64 lowercase hex characters) and its quality (0–100)."""

    hex: str
    quality: int

    @property
    def usable(self) -> bool:
        """True when the quality is high enough to match on (≥ :data:`QUALITY_THRESHOLD`)."""
        return self.quality >= QUALITY_THRESHOLD

    def distance(self, other: PdqHash | str) -> int:
        """Hamming distance (0–256) to another hash or hex string."""
        return pdq_distance(self.hex, other if isinstance(other, str) else other.hex)


def pdq_distance(a: str, b: str) -> int:
    """Hamming distance between two PDQ hex strings; ValueError if either is malformed."""
    return (_hex_to_int(a) ^ _hex_to_int(b)).bit_count()


def _hex_to_int(value: str) -> int:
    if len(value) != _HASH_BITS // 4:
        raise ValueError(f"a PDQ hash has 64 hex characters, got {len(value)}")
    return int(value, 16)


# --------------------------------------------------------------------------- public hashing


def hash_photo(source: str | os.PathLike[str] | BinaryIO) -> PdqHash:
    """PDQ hash of a photo file (path or binary file object), displayed as EXIF orientation says.

    Raises MediaError for anything that is not a decodable photo in :data:`PHOTO_FORMATS`.
    """
    with _refuse_bad_input(), _open(source) as image:
        full_size = image.size
        orientation = _exif_orientation(image)
        luma, scale = _decode_luma(image)
    return _hash_stored_luma(luma, full_size, scale, orientation)


def hash_image(image: Image.Image) -> PdqHash:
    """Exact PDQ hash of an in-memory image, pixels as stored (no EXIF handling)."""
    with _refuse_bad_input():
        rgb = np.asarray(to_rgb(image))
    return hash_rgb(rgb)


def hash_rgb(rgb: np.ndarray) -> PdqHash:
    """Exact PDQ hash of an H×W×3 uint8 RGB array (e.g. a video frame), as the reference."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise MediaError(f"expected an H×W×3 RGB array, got shape {rgb.shape}")
    height, width = rgb.shape[:2]
    return _hash_stored_luma(_rgb_luma(rgb), (width, height), 1, 1)


def dihedral_hashes(image: Image.Image) -> dict[str, PdqHash]:
    """Hashes of the 8 rotations/flips of an image, for rotation-aware lookups.

    PDQ is not rotation invariant; to find rotated or mirrored copies, query all eight.
    Keys follow the PDQ reference: original, rotate90, rotate180, rotate270 (counter-clockwise),
    flipx (top-bottom), flipy (left-right), flipplus1 (transpose), flipminus1 (transverse).
    """
    with _refuse_bad_input():
        rgb = to_rgb(image)
    transforms = {
        "original": None,
        "rotate90": Image.Transpose.ROTATE_90,
        "rotate180": Image.Transpose.ROTATE_180,
        "rotate270": Image.Transpose.ROTATE_270,
        "flipx": Image.Transpose.FLIP_TOP_BOTTOM,
        "flipy": Image.Transpose.FLIP_LEFT_RIGHT,
        "flipplus1": Image.Transpose.TRANSPOSE,
        "flipminus1": Image.Transpose.TRANSVERSE,
    }
    return {
        name: hash_image(rgb if op is None else rgb.transpose(op))
        for name, op in transforms.items()
    }


# --------------------------------------------------------------------------- decoding


@contextlib.contextmanager
def _refuse_bad_input() -> Iterator[None]:
    """Turn whatever a decoder raises on hostile or broken input into MediaError."""
    try:
        yield
    except MediaError:
        raise
    except _DECODE_ERRORS as exc:
        raise MediaError(_describe(exc)) from exc


def _describe(exc: BaseException) -> str:
    if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
        return f"decompression bomb refused: {exc}"
    if isinstance(exc, Image.UnidentifiedImageError):
        return f"not a supported photo ({', '.join(PHOTO_FORMATS)})"
    return f"cannot decode photo: {type(exc).__name__}: {exc}"


def _open(source: str | os.PathLike[str] | BinaryIO) -> Image.Image:
    """Open with only our plugins and refuse anything over MAX_IMAGE_PIXELS.

    The size is checked here rather than by turning Pillow's warning into an error: a warnings
    filter is process-wide state, racy when the API hashes uploads in several threads.
    """
    image = Image.open(source, formats=PHOTO_FORMATS)
    width, height = image.size
    limit = Image.MAX_IMAGE_PIXELS
    if limit and width * height > limit:
        image.close()
        raise Image.DecompressionBombError(
            f"{width}x{height} pixels is over the limit of {limit} pixels"
        )
    return image


def _exif_orientation(image: Image.Image) -> int:
    """EXIF orientation 1–8; anything missing, invalid or unreadable counts as 1 (upright)."""
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except _DECODE_ERRORS:
        return 1
    return value if value in _ORIENTATIONS else 1


def _choose_scale(size: tuple[int, int]) -> int:
    """Largest decoder reduction keeping MIN_REDUCED_SIDE pixels on the shorter side."""
    shortest = min(size)
    return next((s for s in _SCALES if shortest // s >= MIN_REDUCED_SIDE), 1)


def _decode_luma(image: Image.Image) -> tuple[np.ndarray, int]:
    """Decode to a luminance array in stored orientation, and the reduction factor used."""
    width, height = image.size
    scale = _choose_scale(image.size)
    if scale == 1:
        return _rgb_luma(np.asarray(to_rgb(image))), 1
    if image.format in ("JPEG", "MPO") and image.mode in ("L", "RGB"):  # MPO: camera JPEG
        image.draft("L", (width // scale, height // scale))
        scale = _draft_scale((width, height), image.size)
        grey = image if image.mode == "L" else image.convert("L")
        return np.asarray(grey, dtype=np.float64), scale
    return np.asarray(_luma_image(image).reduce(scale), dtype=np.float64), scale


def _draft_scale(full: tuple[int, int], reduced: tuple[int, int]) -> int:
    """The reduction libjpeg applied (it rounds sizes up)."""
    for scale in (1, *reversed(_SCALES)):
        if (-(-full[0] // scale), -(-full[1] // scale)) == reduced:
            return scale
    raise MediaError(f"JPEG decoder returned {reduced} for a {full} image")


def _luma_image(image: Image.Image) -> Image.Image:
    """8-bit luminance (ITU-R 601, as PDQ) after the mode policy of :func:`to_rgb`."""
    if image.mode == "L" and "transparency" not in image.info:
        return image
    if _is_opaque(image):
        return image.convert("L")  # skips an RGB copy of a large image
    return to_rgb(image).convert("L")


def _is_opaque(image: Image.Image) -> bool:
    """True for RGBA/LA images whose alpha is 255 everywhere (common in PNG exports)."""
    return image.mode in ("RGBA", "LA") and image.getchannel("A").getextrema()[0] == 255


def _rgb_luma(rgb: np.ndarray) -> np.ndarray:
    """Luminance exactly as the reference computes it (float64 products, float32 result)."""
    return (rgb[:, :, 0] * 0.299 + rgb[:, :, 1] * 0.587 + rgb[:, :, 2] * 0.114).astype(np.float32)


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any supported mode to RGB under the policy in the module docstring."""
    if image.mode in _HIGH_DEPTH_MODES:
        return _high_depth_to_grey(image).convert("RGB")
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        return _flatten_on_white(image)
    if image.mode == "RGB":
        return image
    try:
        return image.convert("RGB")
    except ValueError as exc:
        raise MediaError(f"unsupported pixel mode {image.mode}") from exc


def _flatten_on_white(image: Image.Image) -> Image.Image:
    if image.mode == "La":
        image = image.convert("LA")  # Pillow converts premultiplied grey only to LA
    if _is_opaque(image):
        return image.convert("RGB")  # compositing would change nothing
    try:
        rgba = image.convert("RGBA")
    except ValueError as exc:
        raise MediaError(f"unsupported pixel mode {image.mode}") from exc
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def _high_depth_to_grey(image: Image.Image) -> Image.Image:
    """Map 16/32-bit grey to 0–255 from the smallest usual range holding it, else stretch."""
    values = np.asarray(image, dtype=np.float64)
    if not np.isfinite(values).all():
        raise MediaError("float image has NaN or infinite samples")
    low, high = float(values.min()), float(values.max())
    top = next((t for t in _NOMINAL_RANGES if low >= 0.0 and high <= t), None)
    if top is not None:
        scaled = values * (255.0 / top)
    elif high > low:
        scaled = (values - low) * (255.0 / (high - low))
    else:
        scaled = np.zeros_like(values)
    return Image.fromarray(np.rint(scaled).astype(np.uint8))


# --------------------------------------------------------------------------- the PDQ core


def _hash_stored_luma(
    luma: np.ndarray, full_size: tuple[int, int], scale: int, orientation: int
) -> PdqHash:
    """PDQ of the displayed image, from luminance in stored orientation reduced by ``scale``.

    ``full_size`` is the stored (width, height) before reduction. Flips reverse an axis's
    weights and a transpose swaps the 64×64 result, so pixels are never moved.
    """
    width, height = full_size
    if min(width, height) < MIN_HASHABLE_DIM:
        return PdqHash(_ZERO_HASH, 0)
    flip_rows, flip_cols, transpose = _ORIENTATIONS[orientation]
    rows = _axis_band(height, scale, flip_rows)
    cols = _axis_band(width, scale, flip_cols)
    if luma.shape != (rows.length, cols.length):
        raise MediaError(f"decoded size {luma.shape} does not match {full_size} at 1/{scale}")
    block = cols.apply(rows.apply(luma).T).T
    if transpose:
        block = block.T
    if scale > 1:
        return _hash_block(block)
    # Full resolution: the reference's own input, so its hash is the one to give. Where its
    # float32 rounding decides a bit or the quality, redo its arithmetic (rare, slower).
    result = _hash_block(block, settle=max(full_size))
    return result if result is not None else _reference_hash(_displayed(luma, orientation))


@dataclass(frozen=True, slots=True)
class _Band:
    """The 64 weighted sums along one axis, stored as a band: PDQ's filter is local.

    Output ``i`` is ``weights[i] · values[columns[i]]``, a few pixels each. This avoids a
    dense 64×N matrix (huge for hostile panoramas) and a BLAS product, which is slower here
    and, multi-threaded, stalls badly on a busy machine.
    """

    columns: np.ndarray
    weights: np.ndarray
    length: int

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Reduce axis 0 of a 2-D array to the 64 filtered samples."""
        return np.matmul(self.weights[:, None, :], values[self.columns])[:, 0, :]


@lru_cache(maxsize=256)
def _axis_band(length: int, scale: int, flipped: bool) -> _Band:
    """PDQ's tent filter and decimation along one axis of ``length`` pixels, as 64 sums over
    the axis decoded at 1/scale (reversed if the stored axis runs opposite to the display).

    Each pass of the box filter averages a window of ``ceil(length/128)`` pixels
    (``(window-1)//2`` before, the rest after), shrunk at the borders and divided by the pixels
    actually covered; the second pass is read at ``floor((i + 0.5) · length / 64)``. Its
    inputs are first-pass outputs, each a flat run of pixels: summing those runs gives each
    pixel's weight, and a reduced pixel (the mean of ``scale`` pixels) gets the sum of its
    pixels' weights.
    """
    window = (length + 127) // 128
    after = (window + 2) // 2 - 1
    before = window - 1 - after
    centres = ((np.arange(64) + 0.5) * length / 64).astype(np.int64)
    mids = centres[:, None] + np.arange(-before, after + 1)  # first-pass outputs used
    valid = (mids >= 0) & (mids < length)
    run_starts = np.clip(mids - before, 0, length)
    run_ends = np.clip(mids + after + 1, 0, length)
    run_weights = np.where(
        valid,
        1.0 / valid.sum(axis=1, keepdims=True) / np.maximum(run_ends - run_starts, 1),
        0.0,
    )
    if flipped:
        run_starts, run_ends = length - run_ends, length - run_starts
    low = np.where(valid, run_starts, length).min(axis=1)
    high = np.where(valid, run_ends, 0).max(axis=1)
    # Per-pixel weights of each output, from the block boundary at or before its first pixel.
    origin = low - low % scale
    span = -(-int((high - origin).max()) // scale)
    steps = np.zeros((64, span * scale + 1))
    rows = np.broadcast_to(np.arange(64)[:, None], mids.shape)
    np.add.at(steps, (rows, np.clip(run_starts - origin[:, None], 0, span * scale)), run_weights)
    np.add.at(steps, (rows, np.clip(run_ends - origin[:, None], 0, span * scale)), -run_weights)
    pixels = origin[:, None] + np.arange(span * scale)
    inside = (pixels >= low[:, None]) & (pixels < high[:, None])
    per_pixel = np.where(inside, np.cumsum(steps, axis=1)[:, :-1], 0.0)
    weights = per_pixel.reshape(64, span, scale).sum(axis=2)
    reduced = -(-length // scale)
    columns = np.minimum(origin[:, None] // scale + np.arange(span), reduced - 1)
    columns.flags.writeable = weights.flags.writeable = False  # cached, shared between calls
    return _Band(columns, weights, reduced)


def _dct_matrix() -> np.ndarray:
    """16×64 DCT-II rows 1–16 (DC excluded), PDQ's frequency basis."""
    i = np.arange(1, 17)[:, None]
    j = np.arange(64)[None, :]
    return np.sqrt(2 / 64) * np.cos(np.pi / 128 * i * (2 * j + 1))


def _reference_dct_matrix() -> np.ndarray:
    """The reference's float32 table: a float32 scale times a double cosine (libm's, as C++)."""
    scale = float(np.float32(math.sqrt(2 / 64)))
    table = [
        [scale * math.cos(math.pi / 128 * i * (2 * j + 1)) for j in range(64)] for i in range(1, 17)
    ]
    return np.array(table, dtype=np.float32)


_DCT = _dct_matrix()
_DCT32 = _reference_dct_matrix()

_MEDIAN = _HASH_BITS // 2 - 1  # the lower median (Torben's, as the reference): 128th smallest

COEFFICIENT_TOLERANCE = 0.02
"""Bound on |our float64 DCT coefficient − the reference's float32 one|, with a margin.

The reference rounds every running sum of its box filters and every product and sum of its
DCT to float32. Measured on 4400 images of 5 to 3000 pixels a side (scenes, noise, near-white
noise and stripes, saturated scenes, thin strips), the difference was at most 6.1e-3. Beyond
:data:`MEASURED_SIDE` the tolerance grows with √side, as running-sum rounding errors add up
like a random walk.
"""

GRADIENT_TOLERANCE = 0.004
"""Same for the quality's terms ``|Δ|·100/255`` between neighbours (measured ≤ 1.0e-3)."""

MEASURED_SIDE = 3000
"""Longest side over which the tolerances above were measured."""


@overload
def _hash_block(block: np.ndarray, settle: None = None) -> PdqHash: ...
@overload
def _hash_block(block: np.ndarray, settle: int) -> PdqHash | None: ...
def _hash_block(block: np.ndarray, settle: int | None = None) -> PdqHash | None:
    """PDQ of the 64×64 downsampled luminance, computed in float64.

    With ``settle`` (the longer side of the full-resolution image the block was computed from),
    None when the reference's float32 rounding (see :data:`COEFFICIENT_TOLERANCE`) could
    change a bit or the quality; otherwise the hash is the reference's, bit for bit.

    A bit is decided by rounding when the 128th and 129th smallest coefficients are closer
    than twice the tolerance: the 128 largest are then not the same in both. Mostly these are
    exact ties: coefficients that are zero in exact arithmetic, with the median among them.
    An axis of 8 or 16 pixels is blown up to 64 by repeating each pixel 8 or 4 times, which
    zeroes frequencies 8 and 16 on that axis (16–60 coefficients); flat images, rows or
    columns zero whole bands. Their signs are rounding noise (about 1e-7 in the reference,
    1e-15 here), which only the reference's own float32 operations reproduce.
    """
    coefficients = (_DCT @ block @ _DCT.T).ravel()
    ordered = np.partition(coefficients, (_MEDIAN, _MEDIAN + 1))
    bits = coefficients > ordered[_MEDIAN]  # bit k is coefficient k = 16·row + column
    scaled = _scaled_gradients(block)
    quality = _quality_score(int(np.trunc(scaled).sum()))
    if settle is not None:
        spread = max(1.0, math.sqrt(settle / MEASURED_SIDE))
        if ordered[_MEDIAN + 1] - ordered[_MEDIAN] <= 2 * COEFFICIENT_TOLERANCE * spread:
            return None
        if not _quality_settled(scaled, GRADIENT_TOLERANCE * spread):
            return None
    return PdqHash(_hex(bits), quality)


def _hex(bits: np.ndarray) -> str:
    return np.packbits(bits[::-1]).tobytes().hex()


def _scaled_gradients(block: np.ndarray) -> np.ndarray:
    """PDQ's quality terms |Δ|·100/255 between vertical and horizontal neighbours."""
    vertical = (block[:-1, :] - block[1:, :]) * 100 / 255
    horizontal = (block[:, :-1] - block[:, 1:]) * 100 / 255
    return np.abs(np.concatenate([vertical.ravel(), horizontal.ravel()]))


def _quality_settled(scaled: np.ndarray, tolerance: float) -> bool:
    """Whether the truncations rounding could flip (terms within ``tolerance`` of a whole
    number ≥ 1: up if just below it, down if at or just above) keep the quality."""
    whole = np.rint(scaled)
    near = (whole >= 1) & (np.abs(scaled - whole) < tolerance)
    up = int(np.count_nonzero(near & (scaled < whole)))
    down = int(np.count_nonzero(near)) - up
    total = int(np.trunc(scaled).sum())
    return _quality_score(total - down) == _quality_score(total + up)


def _quality_score(gradient_sum: int) -> int:
    """PDQ's quality from the sum of truncated gradient terms (heuristic scale: ÷ 90)."""
    return min(100, gradient_sum // 90)


# ---------------------------------------------------------------- the reference's arithmetic


def _displayed(luma: np.ndarray, orientation: int) -> np.ndarray:
    """Stored luminance turned as the EXIF orientation says (what the reference hashes)."""
    flip_rows, flip_cols, transpose = _ORIENTATIONS[orientation]
    shown = luma[:: -1 if flip_rows else 1, :: -1 if flip_cols else 1]
    return shown.T if transpose else shown


def _reference_hash(luma: np.ndarray) -> PdqHash:
    """PDQ repeating the reference's float32 operations one for one, so rounding and ties
    come out the same. About 10–40× slower than the float64 path: only for unsettled hashes.

    The tent filter is the reference's running-sum box filter (two passes per axis, the second
    ones kept only where the decimation reads), the DCT sums products in the reference's order.
    """
    height, width = luma.shape
    if (height, width) == (64, 64):
        block = np.asarray(luma, dtype=np.float32)  # the reference skips the blur
    else:
        across, down = _window(width), _window(height)
        rows, cols = _centres(height), _centres(width)
        values = np.asarray(luma, dtype=np.float32).T  # rows pass: along axis 0 of the transpose
        values = _box_exact(values, across)
        values = _box_exact(values.T, down)
        values = _box_exact(values.T, across, keep=cols)
        block = _box_exact(values.T, down, keep=rows)
    products = _DCT32[:, :, None] * block[None, :, :]  # D[i, k]·A[k, j]
    partial = np.add.accumulate(products, axis=1)[:, -1, :]  # sequential over k, as the C loop
    products = partial[:, None, :] * _DCT32[None, :, :]  # T[i, k]·D[j, k]
    coefficients = np.add.accumulate(products, axis=2)[:, :, -1].ravel()
    median = np.partition(coefficients, _MEDIAN)[_MEDIAN]
    return PdqHash(_hex(coefficients > median), _quality_exact(block))


def _window(length: int) -> int:
    """Box-filter window of the reference: ceil(length / 128)."""
    return (length + 2 * 64 - 1) // (2 * 64)


def _centres(length: int) -> np.ndarray:
    """The pixels the reference's decimation reads along an axis of ``length`` pixels."""
    return ((np.arange(64) + 0.5) * length / 64).astype(np.int64)


_WIDE_ROWS = 128  # from this row length on, a Python loop over rows beats ufunc.accumulate


def _box_exact(values: np.ndarray, window: int, keep: np.ndarray | None = None) -> np.ndarray:
    """The reference's ``box1DFloat`` along axis 0 of a float32 array, rounding included.

    Its running sum adds the entering pixel and then subtracts the leaving one, rounding to
    float32 after each: written as one sequence of signed pixels, that is exactly a float32
    cumulative sum. Output ``i`` is the sum after its pixels, divided by the pixels covered.
    ``keep`` lists the outputs wanted, when not all are.
    """
    values = np.ascontiguousarray(values)  # the copies below then run along rows
    picks, counts, full, tail = _box_plan(values.shape[0], window)
    if keep is not None:
        picks, counts = picks[keep], counts[keep]
    signed = np.empty((window + 2 * full + tail, values.shape[1]), dtype=np.float32)
    signed[:window] = values[:window]
    signed[window : window + 2 * full : 2] = values[window:]
    np.negative(values[:full], out=signed[window + 1 : window + 2 * full : 2])
    np.negative(values[full : full + tail], out=signed[window + 2 * full :])
    if signed.shape[1] < _WIDE_ROWS:
        signed = np.add.accumulate(signed, axis=0)
    else:  # row by row is several times faster than accumulate down long columns
        for i in range(1, signed.shape[0]):
            np.add(signed[i - 1], signed[i], out=signed[i])
    return signed[picks] / counts[:, None]


@lru_cache(maxsize=256)
def _box_plan(length: int, window: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Where ``box1DFloat`` writes in the signed sequence, and the count it divides by."""
    half = (window + 2) // 2
    lead, tail, full = half - 1, half - 1, length - window
    picks = np.concatenate(
        [
            np.arange(lead, window),
            window + 1 + 2 * np.arange(full),
            window + 2 * full + np.arange(tail),
        ]
    )
    counts = np.concatenate(
        [np.arange(lead + 1, window + 1), np.full(full, window), window - 1 - np.arange(tail)]
    ).astype(np.float32)
    picks.flags.writeable = counts.flags.writeable = False
    return picks, counts, full, tail


def _quality_exact(block: np.ndarray) -> int:
    """The reference's quality on its float32 64×64 image: ``int d = ((u - v) * 100) / 255``."""
    hundred, full_scale = np.float32(100), np.float32(255)
    vertical = np.trunc((block[:-1, :] - block[1:, :]) * hundred / full_scale)
    horizontal = np.trunc((block[:, :-1] - block[:, 1:]) * hundred / full_scale)
    return _quality_score(int(np.abs(vertical).sum() + np.abs(horizontal).sum()))
