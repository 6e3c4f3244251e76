"""Every bad input gives a clear error naming the file and where it broke, and leaves the
database exactly as it was; the other files of the run still import."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from iolaus.ingest.discord_export import import_exports
from iolaus.store.tables import metadata
from tests.exports import msg, photo, write_export


def snapshot(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in metadata.sorted_tables
        }


def _good(tmp: Path) -> str:
    return write_export(tmp / "good.json", [msg(1), msg(2)]).read_text(encoding="utf-8")


def _mutate(change: Callable[[dict], None]) -> Callable[[Path], bytes]:
    def make(tmp: Path) -> bytes:
        data = json.loads(_good(tmp))
        change(data)
        return json.dumps(data).encode()

    return make


def _set(path: list, value: object) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(path: list) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


CASES: dict[str, tuple[Callable[[Path], bytes], str]] = {
    "empty file": (lambda tmp: b"", "empty file"),
    "whitespace only": (lambda tmp: b"   \n", "JSON"),
    "truncated": (
        lambda tmp: _good(tmp).encode()[:-60],
        "in messages[1] after message id 300000000000000001",
    ),
    "truncated in header": (lambda tmp: _good(tmp).encode()[:40], "truncated"),
    "malformed": (
        lambda tmp: _good(tmp).replace('"content"', '"content" "x"', 1).encode(),
        "invalid JSON",
    ),
    "not UTF-8": (
        lambda tmp: _good(tmp).replace("message 2", "m\xe9ssage").encode("latin-1"),
        "UTF-8",
    ),
    "array at top level": (lambda tmp: b"[1, 2, 3]", "not a DiscordChatExporter export"),
    "object that is not an export": (
        lambda tmp: b'{"name": "x", "items": []}',
        "not a DiscordChatExporter export",
    ),
    "no messages": (_mutate(_delete(["messages"])), "no 'messages'"),
    "messages not an array": (_mutate(_set(["messages"], {"a": 1})), "messages: must be an array"),
    "guild id a number": (_mutate(_set(["guild", "id"], 123)), "guild.id: expected a string"),
    "channel missing name": (_mutate(_delete(["channel", "name"])), "channel.name: missing"),
    "message missing id": (_mutate(_delete(["messages", 1, "id"])), "messages[1].id: missing"),
    "content a number": (
        _mutate(_set(["messages", 0, "content"], 5)),
        "messages[0] (id 300000000000000001).content: expected a string, got int",
    ),
    "author missing": (
        _mutate(_delete(["messages", 1, "author"])),
        "messages[1] (id 300000000000000002).author",
    ),
    "author id null": (_mutate(_set(["messages", 0, "author", "id"], None)), "author.id"),
    "bad timestamp": (
        _mutate(_set(["messages", 1, "timestamp"], "yesterday")),
        "messages[1] (id 300000000000000002).timestamp: not an ISO-8601 timestamp",
    ),
    "bad attachment size": (
        _mutate(_set(["messages", 1, "attachments"], [{**photo(1), "fileSizeBytes": "big"}])),
        "attachments[0].fileSizeBytes",
    ),
    "message not an object": (
        _mutate(_set(["messages", 1], "hello")),
        "messages[1]: expected an object",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file_is_reported_and_rolled_back(
    case: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    make, expected = CASES[case]
    before_ok = write_export(tmp_path / "before.json", [msg(10)], channel_id="77")
    assert import_exports(sqlite_engine, [before_ok]).ok
    state = snapshot(sqlite_engine)

    bad = tmp_path / "bad.json"
    bad.write_bytes(make(tmp_path))
    summary = import_exports(sqlite_engine, [bad])

    assert not summary.ok
    (failure,) = summary.failures
    assert failure.path == str(bad)
    assert str(bad) in failure.error
    assert expected in failure.error, failure.error
    assert snapshot(sqlite_engine) == state


def test_a_failed_file_does_not_stop_the_others(engine: Engine, tmp_path: Path) -> None:
    good1 = write_export(tmp_path / "1.json", [msg(1)], channel_id="1")
    bad = tmp_path / "2.json"
    bad.write_bytes(
        write_export(tmp_path / "tmp.json", [msg(2), msg(3)], channel_id="2").read_bytes()[:-80]
    )
    good3 = write_export(tmp_path / "3.json", [msg(4)], channel_id="3")
    summary = import_exports(engine, [good1, bad, good3])
    assert summary.files_imported == 2
    assert [f.path for f in summary.failures] == [str(bad)]
    assert summary.counts["messages"].new == 2
    # The broken file wrote nothing, not even its first message or its channel.
    assert snapshot(engine)["messages"] == 2
    assert snapshot(engine)["channels"] == 2


def test_a_byte_order_mark_is_accepted(sqlite_engine: Engine, tmp_path: Path) -> None:
    export = write_export(tmp_path / "bom.json", [msg(1)])
    export.write_bytes(b"\xef\xbb\xbf" + export.read_bytes())
    assert import_exports(sqlite_engine, [export]).ok


def test_unknown_message_kinds_and_missing_optionals_are_accepted(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    data = msg(1)
    data["type"] = "37"
    for key in ("attachments", "embeds", "reactions", "mentions", "stickers", "inlineEmojis"):
        data.pop(key)
    del data["author"]["roles"]
    export = write_export(tmp_path / "odd.json", [data])
    assert import_exports(sqlite_engine, [export]).ok


def test_a_missing_file_is_reported(sqlite_engine: Engine, tmp_path: Path) -> None:
    summary = import_exports(sqlite_engine, [tmp_path / "nope.json"])
    assert "not a file" in summary.failures[0].error
