"""Attachments that come with an export are hashed in place, matched, and recorded as signals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from sqlalchemy import Engine, select

from iolaus.demo.dce_writer import attachment_json
from iolaus.hashing.media import hash_file
from iolaus.ingest.discord_export import import_exports
from iolaus.store import banks as bank_store
from iolaus.store.tables import attachment_hashes, signals
from tests.exports import ALICE, msg, write_export


def abstract_image(path: Path, seed: int, size: tuple[int, int] = (480, 360)) -> Path:
    """Generated art: noise under shapes. Nothing here depicts anyone."""
    rng = np.random.default_rng(seed)
    base = Image.fromarray(rng.integers(0, 255, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8))
    image = base.resize(size)
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        x, y = rng.integers(0, size[0] - 60), rng.integers(0, size[1] - 60)
        draw.rectangle((x, y, x + 60, y + 40), fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    image.save(path)
    return path


def test_local_media_is_hashed_matched_and_recorded(engine: Engine, tmp_path: Path) -> None:
    files = tmp_path / "general.json_Files"
    files.mkdir()
    known = abstract_image(files / "known-0123456789abcdef.png", seed=1)
    other = abstract_image(files / "other-fedcba9876543210.png", seed=2)
    outside = abstract_image(tmp_path.parent / f"{tmp_path.name}-outside.png", seed=1)
    with engine.begin() as conn:
        bank_store.create_bank(conn, "NCII_TEST", category="ncii")
        bank_store.add_content(conn, "NCII_TEST", {"pdq": hash_file(known).pdq or ""})

    def attach(n: int, url: str) -> dict:
        return attachment_json(str(700 + n), f"IMG_{n}.png", 1000, url)

    export = write_export(
        tmp_path / "general.json",
        [
            msg(1, ALICE, attachments=[attach(1, "general.json_Files/known-0123456789abcdef.png")]),
            msg(2, ALICE, attachments=[attach(2, f"general.json_Files/{other.name}")]),
            msg(3, ALICE, attachments=[attach(3, f"../{outside.name}")]),  # escapes: refused
            msg(4, ALICE, attachments=[attach(4, "https://cdn.discordapp.com/x/y.png")]),
        ],
    )
    summary = import_exports(engine, [export])
    assert summary.ok
    assert summary.media.to_json() == {"hashed": 2, "matched": 1, "refused": 0}
    with engine.connect() as conn:
        rows = conn.execute(select(signals)).all()
        hashed = conn.execute(select(attachment_hashes.c.pdq)).scalars().all()
    assert len(hashed) == 2
    (signal,) = rows
    assert signal.category == "ncii" and signal.detector == "hash_match"
    assert signal.refs[0]["bank"] == "NCII_TEST"
    assert signal.refs[0]["distance"] == 0
    assert "NCII_TEST" in signal.explanation
    assert signal.message_id is not None and signal.community_id is not None

    # Replaying hashes nothing again and duplicates no signal.
    again = import_exports(engine, [export])
    assert again.media.to_json() == {"hashed": 0, "matched": 0, "refused": 0}
    with engine.connect() as conn:
        assert len(conn.execute(select(signals)).all()) == 1
    # Nothing was copied: the export folder holds what it held.
    assert sorted(p.name for p in files.iterdir()) == sorted([known.name, other.name])


def test_a_refused_media_file_is_recorded_not_fatal(sqlite_engine: Engine, tmp_path: Path) -> None:
    files = tmp_path / "c.json_Files"
    files.mkdir()
    (files / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    export = write_export(
        tmp_path / "c.json",
        [msg(1, attachments=[attachment_json("9", "broken.jpg", 20, "c.json_Files/broken.jpg")])],
    )
    summary = import_exports(sqlite_engine, [export])
    assert summary.ok and summary.media.refused == 1
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(attachment_hashes.c.error)).scalar_one()
