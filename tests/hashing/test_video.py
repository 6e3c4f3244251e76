"""vPDQ-style video hashing: sampling by timestamp, collapsing, rotation, refused input.

Videos are generated here with PyAV (coloured shapes on smooth random backgrounds).
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from iolaus.hashing import video
from iolaus.hashing.pdq import MATCH_DISTANCE, MediaError, hash_rgb
from iolaus.hashing.video import COLLAPSE_DISTANCE, VideoFrameHash, hash_video

SIZE = (320, 240)
ENCODE_TOLERANCE = 24  # bits a lossy encode may move a frame's hash


def scene(seed: int, shift: int = 0) -> np.ndarray:
    """A frame: smooth random colours and a few shapes, optionally shifted right a little."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
    image = coarse.resize(SIZE, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(3):
        x, y = int(rng.integers(0, 260)) + shift, int(rng.integers(0, 180))
        draw.rectangle([x, y, x + 60, y + 50], fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    return np.asarray(image)


def write_video(
    path: Path,
    frames: list[np.ndarray],
    *,
    fps: Fraction | int = 10,
    codec: str = "mpeg4",
    pts_ms: list[int] | None = None,
    rotation: int | None = None,
) -> Path:
    """Encode RGB frames; with ``pts_ms`` the frames get those timestamps (variable rate)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        stream.bit_rate = 4_000_000
        if pts_ms is not None:
            stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for index, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            if pts_ms is not None:
                frame.pts, frame.time_base = pts_ms[index], Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def per_second(scenes: list[np.ndarray], fps: int = 10) -> list[np.ndarray]:
    """Each scene held for one second, with a small movement inside the second."""
    return [np.roll(s, i, axis=1) for s in scenes for i in range(fps)]


def test_one_hash_per_second_with_frame_numbers_and_timestamps(tmp_path: Path) -> None:
    scenes = [scene(seed) for seed in range(5)]
    entries = hash_video(write_video(tmp_path / "v.mp4", per_second(scenes)))
    assert [e.frame_number for e in entries] == [0, 10, 20, 30, 40]
    assert [e.timestamp for e in entries] == pytest.approx([0, 1, 2, 3, 4])
    assert [e.end for e in entries] == pytest.approx([0, 1, 2, 3, 4])
    for entry, rgb in zip(entries, scenes, strict=True):
        assert entry.usable
        assert hash_rgb(rgb).distance(entry.pdq) <= ENCODE_TOLERANCE


def test_static_video_collapses_into_one_entry(tmp_path: Path) -> None:
    entries = hash_video(write_video(tmp_path / "v.mp4", per_second([scene(7)] * 4)))
    assert len(entries) == 1
    assert (entries[0].frame_number, entries[0].timestamp, entries[0].end) == (0, 0.0, 3.0)


def test_scene_change_starts_a_new_entry_with_its_own_span(tmp_path: Path) -> None:
    frames = per_second([scene(1), scene(1), scene(2), scene(2), scene(2)])
    entries = hash_video(write_video(tmp_path / "v.mp4", frames))
    assert [(e.frame_number, e.timestamp, e.end) for e in entries] == [
        (0, 0.0, 1.0),
        (20, 2.0, 4.0),
    ]
    assert entries[0].pdq != entries[1].pdq


def test_ntsc_frame_rate_is_sampled_by_timestamp(tmp_path: Path) -> None:
    frames = [scene(i // 15) for i in range(100)]  # 29.97 fps, new picture every 15 frames
    entries = hash_video(write_video(tmp_path / "v.mp4", frames, fps=Fraction(30000, 1001)))
    assert [e.frame_number for e in entries] == [0, 30, 60, 90]  # not every 29th frame
    assert [e.timestamp for e in entries] == pytest.approx([0, 1.001, 2.002, 3.003], abs=1e-3)


def test_variable_frame_rate_samples_first_frame_of_each_second(tmp_path: Path) -> None:
    frames = [scene(seed) for seed in range(5)]
    path = write_video(tmp_path / "v.mkv", frames, pts_ms=[0, 400, 1500, 1600, 3200])
    entries = hash_video(path, container="matroska")
    assert [e.frame_number for e in entries] == [0, 2, 4]
    assert [e.timestamp for e in entries] == pytest.approx([0, 1.5, 3.2])


def test_display_rotation_is_applied(tmp_path: Path) -> None:
    rgb = scene(11)
    path = write_video(tmp_path / "v.mp4", [rgb] * 10, rotation=90)
    (entry,) = hash_video(path)
    assert hash_rgb(np.rot90(rgb)).distance(entry.pdq) <= ENCODE_TOLERANCE
    assert hash_rgb(rgb).distance(entry.pdq) > MATCH_DISTANCE


@pytest.mark.parametrize(
    ("codec", "suffix", "demuxer"),
    [
        ("mpeg4", "avi", "avi"),
        ("mpeg4", "mp4", "mov"),
        ("libx264", "mp4", "mov"),
        ("libvpx-vp9", "webm", "matroska"),
        ("mjpeg", "avi", "avi"),
    ],
)
def test_codecs_and_containers(tmp_path: Path, codec: str, suffix: str, demuxer: str) -> None:
    if codec not in av.codecs_available:
        pytest.skip(f"this FFmpeg build has no {codec} encoder")
    scenes = [scene(seed) for seed in (21, 22, 23)]
    path = write_video(tmp_path / f"v.{suffix}", per_second(scenes), codec=codec)
    entries = hash_video(path, container=demuxer)
    assert [e.timestamp for e in entries] == pytest.approx([0, 1, 2])
    for entry, rgb in zip(entries, scenes, strict=True):
        assert hash_rgb(rgb).distance(entry.pdq) <= ENCODE_TOLERANCE


def test_slow_cross_fade_is_split_into_consecutive_entries(tmp_path: Path) -> None:
    """Runs are compared with their first frame, so a slow change cannot stay one entry."""
    start, stop = scene(5).astype(float), scene(6).astype(float)
    seconds = 24
    fades = [((1 - a) * start + a * stop).astype(np.uint8) for a in np.linspace(0, 1, seconds)]
    entries = hash_video(write_video(tmp_path / "v.mp4", per_second(fades, fps=2), fps=2))
    assert 2 < len(entries) < seconds
    assert entries[0].timestamp == 0
    assert entries[-1].end == pytest.approx(seconds - 1)
    for first, second in itertools.pairwise(entries):
        assert second.timestamp == pytest.approx(first.end + 1)


def test_to_json_rounds_times_to_milliseconds() -> None:
    entry = VideoFrameHash(30, 1.0010000001, 2.0020000004, 87, "ab" * 32)
    assert entry.to_json() == {
        "frame_number": 30,
        "timestamp": 1.001,
        "end": 2.002,
        "quality": 87,
        "pdq": "ab" * 32,
    }


def test_collapse_distance_is_small_compared_to_matching() -> None:
    assert 0 < COLLAPSE_DISTANCE <= MATCH_DISTANCE // 3


# --------------------------------------------------------------------------- refused input


def test_truncated_video_is_refused(tmp_path: Path) -> None:
    path = write_video(tmp_path / "v.mp4", per_second([scene(1), scene(2)]))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # the index (moov) is written last: now missing
    with pytest.raises(MediaError, match="cannot decode video"):
        hash_video(path, container="mov")


def test_garbage_after_a_valid_signature_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "v.mp4"
    noise = np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    path.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + noise)
    with pytest.raises(MediaError):
        hash_video(path, container="mov")


def test_audio_only_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.mka"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 8000), dtype=np.int16), format="s16", layout="mono"
        )
        frame.sample_rate = 8000
        container.mux(stream.encode(frame))
        container.mux(stream.encode())
    with pytest.raises(MediaError, match="no video stream"):
        hash_video(path, container="matroska")


def test_oversized_frames_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_video(tmp_path / "v.mp4", [scene(1)] * 3)
    monkeypatch.setattr(video, "MAX_FRAME_PIXELS", 100 * 100)
    with pytest.raises(MediaError, match="too large"):
        hash_video(path)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="cannot read video"):
        hash_video(tmp_path / "absent.mp4")
