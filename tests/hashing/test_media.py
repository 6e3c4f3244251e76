"""hash_file: sniffing, exact hashes, and refusal of bad, hostile or unusual input.

Every bad file is generated in tmp_path: empty, oversized, truncated, not media at all,
decompression bombs, and a picture saved in every Pillow mode each format can hold.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import warnings
import zlib
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw, features

from iolaus.hashing.media import MediaError, MediaHashes, hash_file, sniff_media
from iolaus.hashing.pdq import MATCH_DISTANCE, hash_image, hash_photo


def _photos_root() -> Path:
    override = os.environ.get("IOLAUS_SHARED_PHOTOS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "photos"


@pytest.fixture(scope="session")
def photos() -> Path:
    """The shared reference photos; tests using them skip on machines without the folder."""
    path = _photos_root()
    if not path.is_dir():
        pytest.skip(f"reference photos not found at {path} (set IOLAUS_SHARED_PHOTOS)")
    return path


def picture(size: tuple[int, int] = (640, 480), seed: int = 0) -> Image.Image:
    """Generated RGB picture: smooth random colours, shapes and a line of text."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
    image = coarse.resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.ellipse([width // 8, height // 6, width // 2, height // 2], fill=(250, 240, 20))
    draw.rectangle([width // 2, height // 2, width - 20, height - 20], fill=(20, 30, 200))
    draw.text((10, 10), "Iolaus test picture", fill=(0, 0, 0))
    return image


def save(image: Image.Image, path: Path, **options: object) -> Path:
    image.save(path, **options)
    return path


def write_video(path: Path, seconds: int = 2) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for second in range(seconds):
            rgb = np.asarray(picture((320, 240), seed=second))
            for _ in range(5):
                container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode())
    return path


# --------------------------------------------------------------------------- sniffing


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\x00" * 64


def _packets(size: int, prefix: int = 0) -> bytes:
    return (b"\x00" * prefix + b"\x47" + b"\x00" * (size - prefix - 1)) * 4


@pytest.mark.parametrize(
    ("head", "kind", "fmt"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "photo", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo", "png"),
        (b"GIF87a\x01\x00", "photo", "gif"),
        (b"GIF89a\x01\x00", "photo", "gif"),
        (b"II*\x00\x08\x00\x00\x00", "photo", "tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "photo", "tiff"),
        (b"BM\x36\x00\x0c\x00\x00\x00", "photo", "bmp"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "photo", "webp"),
        (_ftyp(b"avif", b"mif1", b"miaf"), "photo", "avif"),
        (b"RIFF\x24\x00\x00\x00AVI LIST", "video", "avi"),
        (_ftyp(b"isom", b"isom", b"iso2", b"mp41"), "video", "mp4"),
        (_ftyp(b"3gp4", b"3gp4"), "video", "mp4"),
        (_ftyp(b"qt  ", b"qt  "), "video", "mov"),
        (b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat", "video", "mov"),
        (b"\x1aE\xdf\xa3\x9fB\x86\x81\x01B\x82\x84webm", "video", "webm"),
        (b"\x1aE\xdf\xa3\xa3B\x86\x81\x01B\x82\x88matroska", "video", "matroska"),
        (b"FLV\x01\x05\x00\x00\x00\x09", "video", "flv"),
        (b"OggS\x00\x02\x00\x00", "video", "ogg"),
        (b"\x00\x00\x01\xba\x44\x00\x04\x00", "video", "mpeg"),
        (bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c") + b"\x00" * 8, "video", "asf"),
        (_packets(188), "video", "mpegts"),
        (_packets(192, prefix=4), "video", "mpegts"),
    ],
)
def test_sniff_recognises_formats_by_magic_bytes(head: bytes, kind: str, fmt: str) -> None:
    media_type = sniff_media(head)
    assert (media_type.kind, media_type.format) == (kind, fmt)
    assert (media_type.demuxer is not None) == (kind == "video")


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (_ftyp(b"heic", b"mif1", b"heic"), "HEIF"),
        (_ftyp(b"mif1", b"mif1", b"heic"), "HEIF"),
        (b"\xff\x0a\xfa\x7f", "JPEG XL"),
        (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL"),
        (b"%PDF-1.7\n", "not a recognised"),
        (b"PK\x03\x04\x14\x00", "not a recognised"),
        (b"hello, world\n", "not a recognised"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "not a recognised"),
        (b"", "not a recognised"),
    ],
)
def test_sniff_refuses_unsupported_formats(head: bytes, message: str) -> None:
    with pytest.raises(MediaError, match=message):
        sniff_media(head)


# --------------------------------------------------------------------------- hash_file


def test_photo_gets_exact_and_perceptual_hashes(tmp_path: Path) -> None:
    path = save(picture(), tmp_path / "p.png")
    data = path.read_bytes()
    result = hash_file(path)
    assert result.kind == "photo"
    assert result.format == "png"
    assert result.size == len(data)
    assert result.md5 == hashlib.md5(data).hexdigest()
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.pdq == hash_photo(path).hex
    assert result.pdq_usable
    assert result.frames == ()


def test_video_gets_exact_hashes_and_frames(tmp_path: Path) -> None:
    path = write_video(tmp_path / "v.mp4")
    result = hash_file(path)
    assert (result.kind, result.format) == ("video", "mp4")
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.pdq is None
    assert not result.pdq_usable
    assert [frame.timestamp for frame in result.frames] == [0.0, 1.0]


def test_to_json_has_the_same_keys_for_photos_and_videos(tmp_path: Path) -> None:
    photo = hash_file(save(picture(), tmp_path / "p.jpg")).to_json()
    clip = hash_file(write_video(tmp_path / "v.avi")).to_json()
    assert photo.keys() == clip.keys()
    assert json.loads(json.dumps(photo)) == photo
    assert photo["pdq"] and len(photo["pdq"]) == 64
    assert isinstance(photo["pdq_quality"], int)
    assert photo["frames"] == []
    assert clip["frames"][0] == {
        "frame_number": 0,
        "timestamp": 0.0,
        "end": 0.0,
        "quality": clip["frames"][0]["quality"],
        "pdq": clip["frames"][0]["pdq"],
    }


def test_kind_comes_from_content_not_the_file_name(tmp_path: Path) -> None:
    photo = save(picture(), tmp_path / "clip.mp4", format="PNG")
    clip = write_video(tmp_path / "v.mp4").rename(tmp_path / "photo.jpg")
    assert hash_file(photo).kind == "photo"
    assert hash_file(clip).kind == "video"


def test_every_reference_photo_is_accepted(photos: Path) -> None:
    paths = [p for p in sorted(photos.rglob("*")) if p.is_file() and p.suffix != ".md"]
    assert len(paths) >= 40
    for path in paths:
        result = hash_file(path)
        assert result.kind == "photo", path
        assert result.pdq == hash_photo(path).hex, path


# --------------------------------------------------------------------------- refused files


def test_empty_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.jpg").touch()
    with pytest.raises(MediaError, match="empty file"):
        hash_file(tmp_path / "empty.jpg")


def test_missing_file_and_directory_are_refused(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="cannot read file"):
        hash_file(tmp_path / "absent.jpg")
    with pytest.raises(MediaError, match="not a regular file"):
        hash_file(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(MediaError, match="not a regular file"):
        hash_file(tmp_path / "pipe")


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "huge.jpg"
    with huge.open("wb") as file:
        file.truncate(200 * 1024 * 1024)  # sparse: no disk space, and never read
    with pytest.raises(MediaError, match="over the 104857600-byte limit"):
        hash_file(huge)


def test_max_bytes_is_configurable(tmp_path: Path) -> None:
    path = save(picture(), tmp_path / "p.png")
    size = path.stat().st_size
    assert hash_file(path, max_bytes=size).size == size
    with pytest.raises(MediaError, match="limit"):
        hash_file(path, max_bytes=size - 1)
    with pytest.raises(ValueError, match="positive"):
        hash_file(path, max_bytes=0)


@pytest.mark.parametrize(
    "content",
    [
        b"just some text that is not an image\n" * 10,
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
    ],
    ids=["text", "pdf", "random"],
)
def test_non_media_files_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "looks-like.png"
    path.write_bytes(content)
    with pytest.raises(MediaError, match="not a recognised"):
        hash_file(path)


@pytest.mark.parametrize(
    ("fmt", "size"),
    [
        ("JPEG", (320, 240)),  # decoded at full size
        ("JPEG", (2000, 1500)),  # decoded at reduced scale by libjpeg
        ("PNG", (640, 480)),
        ("PNG", (1600, 1200)),
        ("WEBP", (640, 480)),
        ("GIF", (640, 480)),
        ("TIFF", (640, 480)),
        ("BMP", (640, 480)),
    ],
)
def test_truncated_photos_are_refused(tmp_path: Path, fmt: str, size: tuple[int, int]) -> None:
    buffer = io.BytesIO()
    picture(size).save(buffer, format=fmt)
    path = tmp_path / "cut"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(MediaError, match="cannot decode photo"):
        hash_file(path)


def test_magic_bytes_followed_by_garbage_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "fake.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00\x01" * 500)
    with pytest.raises(MediaError, match=r"cannot decode photo|not a supported photo"):
        hash_file(path)


def _png_header(width: int, height: int) -> bytes:
    """A tiny PNG that claims the given size (only the header is ever read)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        checksum = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    png = tmp_path / "bomb.png"
    png.write_bytes(_png_header(100_000, 100_000))
    with pytest.raises(MediaError, match="decompression bomb"):
        hash_file(png)
    gif = tmp_path / "bomb.gif"
    gif.write_bytes(b"GIF89a\xff\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00\xff\xff\xff\xff\x00;")
    with pytest.raises(MediaError, match="decompression bomb"):
        hash_file(gif)


def test_image_over_max_image_pixels_raises_instead_of_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pillow only warns between MAX_IMAGE_PIXELS and twice that; we refuse."""
    path = save(picture((120, 100)), tmp_path / "p.png")  # 12,000 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning escaping would fail the test
        with pytest.raises(MediaError, match="decompression bomb"):
            hash_file(path)


def test_extreme_panorama_is_hashed_without_a_dense_filter(tmp_path: Path) -> None:
    coarse = np.random.default_rng(3).integers(0, 256, (2, 400), dtype=np.uint8)
    strip = Image.fromarray(coarse).resize((200_000, 8), Image.Resampling.BICUBIC)
    path = save(strip, tmp_path / "strip.png")
    assert len(hash_file(path).pdq) == 64


# --------------------------------------------------------------------------- pixel modes

MODE_FORMATS = [
    ("1", "PNG"),
    ("1", "TIFF"),
    ("1", "BMP"),
    ("L", "PNG"),
    ("L", "JPEG"),
    ("L", "TIFF"),
    ("L", "BMP"),
    ("LA", "PNG"),
    ("LA", "TIFF"),
    ("P", "PNG"),
    ("P", "GIF"),
    ("P", "TIFF"),
    ("P", "BMP"),
    ("PA", "TIFF"),
    ("RGB", "PNG"),
    ("RGB", "JPEG"),
    ("RGB", "WEBP"),
    ("RGB", "TIFF"),
    ("RGB", "BMP"),
    ("RGBA", "PNG"),
    ("RGBA", "WEBP"),
    ("RGBA", "TIFF"),
    ("CMYK", "JPEG"),
    ("CMYK", "TIFF"),
    ("YCbCr", "JPEG"),
    ("YCbCr", "TIFF"),
    ("I", "TIFF"),
    ("F", "TIFF"),
    ("I;16", "PNG"),
    ("I;16", "TIFF"),
    ("LAB", "TIFF"),
    ("HSV", "WEBP"),
    ("RGB", "AVIF"),
    ("RGBA", "AVIF"),
]


@pytest.mark.parametrize("size", [(640, 480), (1600, 1200)], ids=["full", "reduced"])
@pytest.mark.parametrize(("mode", "fmt"), MODE_FORMATS)
def test_every_mode_is_hashed_like_the_rgb_picture(
    tmp_path: Path, mode: str, fmt: str, size: tuple[int, int]
) -> None:
    if fmt == "AVIF" and not features.check("avif"):
        pytest.skip("this Pillow has no AVIF support")
    rgb = picture(size)
    path = save(rgb.convert(mode), tmp_path / f"p.{fmt.lower()}", format=fmt)
    result = hash_file(path)
    assert result.kind == "photo"
    assert result.pdq_usable
    assert hash_image(rgb).distance(result.pdq) <= MATCH_DISTANCE


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF"])
def test_transparent_pixels_are_composited_on_white(tmp_path: Path, fmt: str) -> None:
    rgb = picture()
    alpha = Image.new("L", rgb.size, 0)
    ImageDraw.Draw(alpha).ellipse([100, 80, 540, 400], fill=255)
    noise = np.random.default_rng(2).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    hidden = Image.composite(rgb, Image.fromarray(noise), alpha)  # garbage where transparent
    hidden.putalpha(alpha)
    on_white = Image.composite(rgb, Image.new("RGB", rgb.size, "white"), alpha)
    path = save(hidden, tmp_path / "a", format=fmt, lossless=True)
    assert hash_image(on_white).distance(hash_file(path).pdq) <= 2


def test_sixteen_bit_grey_hashes_like_eight_bit(tmp_path: Path) -> None:
    grey = picture().convert("L")
    wide = Image.fromarray(np.asarray(grey).astype(np.uint16) * 257)
    path = save(wide, tmp_path / "p.png")
    assert Image.open(path).mode == "I;16"
    assert hash_file(path).pdq == hash_image(grey).hex


def test_float_images_are_stretched_to_the_byte_range(tmp_path: Path) -> None:
    grey = picture().convert("L")
    unit = Image.fromarray(np.asarray(grey).astype(np.float32) / 255)
    path = save(unit, tmp_path / "p.tiff")
    assert hash_image(grey).distance(hash_file(path).pdq) <= 2


def test_float_image_with_nan_is_refused(tmp_path: Path) -> None:
    values = np.asarray(picture().convert("L")).astype(np.float32)
    values[10, 10] = np.nan
    path = save(Image.fromarray(values), tmp_path / "p.tiff")
    with pytest.raises(MediaError, match="NaN"):
        hash_file(path)


@pytest.mark.parametrize("mode", ["La", "RGBa", "HSV", "LAB", "PA"])
def test_in_memory_modes_without_file_formats(mode: str) -> None:
    rgb = picture()
    base = {"La": "LA", "RGBa": "RGBA", "PA": "RGBA"}.get(mode)
    image = rgb.convert(base).convert(mode) if base else rgb.convert(mode)
    assert hash_image(image).distance(hash_image(rgb)) <= MATCH_DISTANCE


def test_result_type_is_frozen(tmp_path: Path) -> None:
    result = hash_file(save(picture(), tmp_path / "p.png"))
    assert isinstance(result, MediaHashes)
    with pytest.raises(AttributeError):
        result.pdq = "0" * 64  # type: ignore[misc]
