"""DiscordChatExporter import on both backends: idempotence, merging, edits, memberships."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

from iolaus.ingest.discord_export import discover, import_exports
from iolaus.store.tables import (
    account_names,
    accounts,
    attachments,
    channels,
    communities,
    memberships,
    message_revisions,
    messages,
)
from tests.exports import ALICE, BOB, CAROL, T0, msg, photo, write_export


def count(engine: Engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_import_counts_and_replay_adds_nothing(engine: Engine, tmp_path: Path) -> None:
    export = write_export(
        tmp_path / "general.json",
        [
            msg(1, ALICE, attachments=[photo(1), photo(2, "clip.mp4")]),
            msg(2, BOB, reply_to=("300000000000000001", "400000000000000001", "1")),
            msg(3, CAROL),
        ],
    )
    first = import_exports(engine, [export])
    assert first.ok
    counts = {k: v.to_json() for k, v in first.counts.items()}
    assert counts["communities"] == {"new": 1, "updated": 0, "unchanged": 0}
    assert counts["channels"] == {"new": 1, "updated": 0, "unchanged": 0}
    assert counts["accounts"]["new"] == 3
    assert counts["messages"]["new"] == 3
    assert counts["attachments"]["new"] == 2

    replay = import_exports(engine, [export])
    assert replay.ok
    assert all(c.new == 0 and c.updated == 0 for c in replay.counts.values())
    assert replay.counts["messages"].unchanged == 3
    assert count(engine, messages) == 3
    assert count(engine, attachments) == 2

    with engine.connect() as conn:
        reply = conn.execute(
            select(messages.c.reply_to_external_id, messages.c.created_at).where(
                messages.c.external_id == "300000000000000002"
            )
        ).one()
        kinds = dict(conn.execute(select(attachments.c.file_name, attachments.c.media_kind)).all())
    assert reply.reply_to_external_id == "300000000000000001"
    assert reply.created_at == T0 + timedelta(minutes=2)
    assert reply.created_at.tzinfo is not None
    assert kinds == {"photo.jpg": "image", "clip.mp4": "video"}


def test_files_of_one_guild_merge_into_one_community(engine: Engine, tmp_path: Path) -> None:
    a = write_export(tmp_path / "a.json", [msg(1), msg(2, BOB)], channel_id="41", channel_name="a")
    b = write_export(tmp_path / "b.json", [msg(3, BOB), msg(4, CAROL)], channel_id="42")
    summary = import_exports(engine, [a, b])
    assert summary.files_imported == 2
    assert summary.counts["communities"].new == 1
    assert summary.counts["communities"].unchanged == 0  # counted once per run, not per file
    assert summary.counts["accounts"].new == 3
    assert count(engine, communities) == 1
    assert count(engine, channels) == 2
    assert count(engine, memberships) == 3


def test_overlapping_partitions_do_not_duplicate(engine: Engine, tmp_path: Path) -> None:
    first = write_export(tmp_path / "p1.json", [msg(n) for n in range(1, 6)])
    second = write_export(tmp_path / "p2.json", [msg(n) for n in range(4, 9)])
    summary = import_exports(engine, [first, second])
    assert summary.counts["messages"].new == 8
    assert summary.counts["messages"].unchanged == 2
    assert count(engine, messages) == 8


def test_edited_message_updates_in_place_and_keeps_previous_text(
    engine: Engine, tmp_path: Path
) -> None:
    old = write_export(tmp_path / "old.json", [msg(1, content="first words")])
    new = write_export(
        tmp_path / "new.json",
        [msg(1, content="second words", edited_at=T0 + timedelta(hours=2))],
        exported_at=T0 + timedelta(days=3),
    )
    import_exports(engine, [old])
    summary = import_exports(engine, [new])
    assert summary.counts["messages"].updated == 1
    # The older export replayed afterwards does not roll the edit back.
    assert import_exports(engine, [old]).counts["messages"].unchanged == 1
    with engine.connect() as conn:
        row = conn.execute(select(messages.c.content, messages.c.edited_at)).one()
        revisions = conn.execute(select(message_revisions.c.content)).scalars().all()
    assert row.content == "second words"
    assert row.edited_at == T0 + timedelta(hours=2)
    assert revisions == ["first words"]
    assert count(engine, messages) == 1


def test_authors_become_members_with_first_and_last_seen(engine: Engine, tmp_path: Path) -> None:
    export = write_export(tmp_path / "e.json", [msg(1, ALICE), msg(5, BOB), msg(9, ALICE)])
    import_exports(engine, [export])
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                accounts.c.username,
                memberships.c.first_seen_at,
                memberships.c.last_seen_at,
                memberships.c.roles,
            ).join(accounts, accounts.c.id == memberships.c.account_id)
        ).all()
    seen = {r.username: r for r in rows}
    assert seen["alice_k"].first_seen_at == T0 + timedelta(minutes=1)
    assert seen["alice_k"].last_seen_at == T0 + timedelta(minutes=9)
    assert json.loads(seen["alice_k"].roles) == ["mod"]
    assert seen["bob_b"].first_seen_at == seen["bob_b"].last_seen_at == T0 + timedelta(minutes=5)

    # A later export widens the window; an older one never narrows it.
    later = write_export(tmp_path / "later.json", [msg(30, ALICE)], channel_id="99")
    import_exports(engine, [later])
    with engine.connect() as conn:
        last = conn.execute(
            select(memberships.c.last_seen_at)
            .join(accounts, accounts.c.id == memberships.c.account_id)
            .where(accounts.c.username == "alice_k")
        ).scalar_one()
    assert last == T0 + timedelta(minutes=30)


def test_account_name_history_records_renames(engine: Engine, tmp_path: Path) -> None:
    from iolaus.demo.dce_writer import User

    before = write_export(tmp_path / "before.json", [msg(1, ALICE)])
    renamed = User(id=ALICE.id, name="alice_renamed", nickname="Al", roles=ALICE.roles)
    after = write_export(
        tmp_path / "after.json", [msg(2, renamed)], exported_at=T0 + timedelta(days=5)
    )
    import_exports(engine, [before])
    summary = import_exports(engine, [after])
    assert summary.counts["accounts"].updated == 1
    with engine.connect() as conn:
        current = conn.execute(select(accounts.c.username, accounts.c.display_name)).one()
        names = set(conn.execute(select(account_names.c.kind, account_names.c.name)).all())
    assert tuple(current) == ("alice_renamed", "Al")
    assert names == {
        ("username", "alice_k"),
        ("display", "Alice"),
        ("username", "alice_renamed"),
        ("display", "Al"),
    }


def test_timestamps_with_local_offsets_are_stored_as_utc(engine: Engine, tmp_path: Path) -> None:
    data = msg(1)
    data["timestamp"] = "2024-01-09T13:01:00.1234567+01:00"  # 7 fractional digits, +01:00
    export = write_export(tmp_path / "local.json", [data])
    assert import_exports(engine, [export]).ok
    with engine.connect() as conn:
        created = conn.execute(select(messages.c.created_at)).scalar_one()
    assert created == T0 + timedelta(minutes=1, microseconds=123456)


def test_hostile_text_is_stored_as_text(engine: Engine, tmp_path: Path) -> None:
    names = ["../../etc/passwd", "a\\b\\c.png", "nul\x00byte.jpg", "x" * 5000 + ".jpg"]
    export = write_export(
        tmp_path / "hostile.json",
        [
            msg(
                1,
                content="<script>alert(1)</script>\x00",
                attachments=[photo(i, n) for i, n in enumerate(names)],
            )
        ],
    )
    assert import_exports(engine, [export]).ok
    with engine.connect() as conn:
        stored = set(conn.execute(select(attachments.c.file_name)).scalars())
        content = conn.execute(select(messages.c.content)).scalar_one()
    assert "nul\ufffdbyte.jpg" in stored
    assert "../../etc/passwd" in stored
    assert content == "<script>alert(1)</script>\ufffd"
    assert not (tmp_path / "etc").exists()


def test_discover_walks_folders_and_skips_media(tmp_path: Path) -> None:
    write_export(tmp_path / "x" / "a.json", [msg(1)]) if (tmp_path / "x").mkdir() is None else None
    media = tmp_path / "x" / "a.json_Files"
    media.mkdir()
    (media / "meta.json").write_text("{}")
    (tmp_path / "x" / "notes.txt").write_text("not json")
    assert discover([tmp_path]) == [tmp_path / "x" / "a.json"]
