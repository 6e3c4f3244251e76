"""``local_file``: pytx's plain-text format; the file is the whole truth on every sync."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import Engine

from iolaus.exchanges import file_api
from iolaus.exchanges.base import ExchangeError, InvalidExchange
from iolaus.exchanges.file_api import LocalFileAPI
from iolaus.exchanges.sync import SyncFailed, create_exchange, sync_exchange
from iolaus.hashing.types import VIDEO_MD5
from iolaus.store import banks as bank_store
from tests.exchanges.fake_servers import occurrences


def pdq(n: int) -> str:
    return hashlib.sha256(f"listed {n}".encode()).hexdigest()


def md5(n: int) -> str:
    return hashlib.md5(f"listed {n}".encode()).hexdigest()


def test_lines_with_types_blank_lines_and_unusable_ones(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_text(
        f"pdq {pdq(1)}\n\n  video_md5 {md5(2).upper()}  \nmd5 {md5(3)}\n"
        "raw_text some words\npdq not-a-hash\n"
        f"pdq {pdq(1)}\n"  # duplicates are one record
    )
    deltas = list(LocalFileAPI({"filename": str(path)}).fetch(None))
    updates = {k: v for d in deltas for k, v in d.updates.items()}
    assert set(updates) == {f"pdq {pdq(1)}", f"video_md5 {md5(2)}", f"md5 {md5(3)}"}
    assert dict(updates[f"video_md5 {md5(2)}"].signals) == {  # type: ignore[union-attr]
        VIDEO_MD5: md5(2)
    }
    assert sum(d.ignored for d in deltas) == 2
    assert all(d.checkpoint is None for d in deltas)


def test_a_configured_signal_type_and_batches(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(file_api, "BATCH", 2)
    path = tmp_path / "pdq.txt"
    path.write_text("".join(f"{pdq(n)}\n" for n in range(5)))
    deltas = list(LocalFileAPI({"filename": str(path), "signal_type": "pdq"}).fetch(None))
    assert [len(d.updates) for d in deltas] == [2, 2, 1]


def test_config_is_checked(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidExchange, match="filename is required"):
        LocalFileAPI.check_config({})
    with pytest.raises(InvalidExchange, match="unknown signal_type"):
        LocalFileAPI.check_config({"filename": "x", "signal_type": "photodna"})
    with pytest.raises(InvalidExchange, match="takes no credentials"):
        LocalFileAPI.check_credentials({"token": "t"})
    monkeypatch.chdir(tmp_path)
    assert LocalFileAPI.check_config({"filename": "list.txt"}) == {
        "filename": str(tmp_path / "list.txt")
    }
    with pytest.raises(ExchangeError, match="cannot read"):
        list(LocalFileAPI({"filename": "missing.txt"}).fetch(None))


def test_lines_gone_from_the_file_are_deleted(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_text(f"pdq {pdq(1)}\npdq {pdq(2)}\nmd5 {md5(3)}\n")
    with engine.begin() as conn:
        with pytest.raises(InvalidExchange, match="give its category"):
            create_exchange(conn, "PARTNER", "local_file", "PARTNER", {"filename": str(path)})
        create_exchange(
            conn, "PARTNER", "local_file", "PARTNER", {"filename": str(path)}, category="ncii"
        )
    first = sync_exchange(engine, "PARTNER")
    assert (first.added, first.deleted, first.checkpoint) == (3, 0, None)
    again = sync_exchange(engine, "PARTNER")
    assert (again.added, again.unchanged, again.deleted) == (0, 3, 0)

    path.write_text(f"pdq {pdq(1)}\nmd5 {md5(3)}\nmd5 {md5(4)}\n")
    third = sync_exchange(engine, "PARTNER")
    assert (third.added, third.deleted) == (1, 1)
    assert occurrences(engine, pdq(2)) == []

    # A file that cannot be read deletes nothing: only a complete read is the truth.
    path.unlink()
    with pytest.raises(SyncFailed, match="cannot read"):
        sync_exchange(engine, "PARTNER")
    with engine.connect() as conn:
        bank = bank_store.get_bank(conn, "PARTNER")
    assert bank is not None and bank.size == 3 and bank.category.value == "ncii"

    path.write_text("")
    emptied = sync_exchange(engine, "PARTNER")
    assert emptied.deleted == 3
    for gone in (pdq(1), md5(3), md5(4)):
        assert occurrences(engine, gone) == []
