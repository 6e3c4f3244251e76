"""Media a source holds is offered to every registered subscriber, inside the unit's
transaction, before the source lets it go."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, select

from iolaus.demo.dce_writer import attachment_json
from iolaus.hashing.matcher import Matcher
from iolaus.ingest import subscribers
from iolaus.ingest.discord_export import import_exports
from iolaus.ingest.media import HashingSubscriber
from iolaus.model.clock import Clock, FixedClock
from iolaus.model.events import MediaOffered
from iolaus.model.ingest import MediaCounts
from iolaus.store import tables as T
from iolaus.store.mirror import StoredAttachment
from tests.exports import ALICE, T0, msg, write_export


class Recorder:
    def __init__(self, _engine: Engine, _clock: Clock, _matcher: Matcher) -> None:
        self.seen: list[tuple[StoredAttachment, MediaOffered]] = []
        built.append(self)

    def receive(
        self, conn: Connection, attachment: StoredAttachment, offer: MediaOffered
    ) -> MediaCounts:
        assert offer.path.read_bytes() == b"not a picture"  # still there to read
        self.seen.append((attachment, offer))
        return MediaCounts()


built: list[Recorder] = []


def test_hashing_is_the_built_in_subscriber(sqlite_engine: Engine) -> None:
    found = subscribers.media_subscribers(sqlite_engine, FixedClock(T0), Matcher(sqlite_engine))
    assert any(isinstance(s, HashingSubscriber) for s in found)


def test_offered_media_reaches_every_subscriber(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(subscribers._registry, "recorder", Recorder)
    built.clear()
    files = tmp_path / "general.json_Files"
    files.mkdir()
    (files / "file.bin").write_bytes(b"not a picture")
    export = write_export(
        tmp_path / "general.json",
        [
            msg(
                1, ALICE, attachments=[attachment_json("71", "a.bin", 13, f"{files.name}/file.bin")]
            ),
            msg(2, ALICE, attachments=[attachment_json("72", "b.bin", 13, "../../etc/passwd")]),
            msg(3, ALICE, attachments=[attachment_json("73", "c.png", 13, "https://cdn.x/c")]),
        ],
    )
    summary = import_exports(sqlite_engine, [export])
    assert summary.ok and summary.media.refused == 1  # hashing ran too, and refused the bytes
    ((recorder),) = built
    ((attachment, offer),) = recorder.seen  # no offer for a remote URL or an escaping path
    with sqlite_engine.connect() as conn:
        row = conn.execute(
            select(T.attachments.c.id, T.messages.c.author_id, T.channels.c.community_id)
            .join(T.messages, T.messages.c.id == T.attachments.c.message_id)
            .join(T.channels, T.channels.c.id == T.messages.c.channel_id)
            .where(T.attachments.c.external_id == "71")
        ).one()
    assert (attachment.id, attachment.author_id, attachment.community_id) == tuple(row)
    assert offer.attachment_external_id == "71" and offer.path == (files / "file.bin").resolve()
