"""Exchanges in the store: creation rules, sealed credentials, shared items, locking, the CLI."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

import iolaus.cli.exchanges  # noqa: F401  (registers the commands)
from iolaus.cli.main import app
from iolaus.exchanges.base import InvalidExchange
from iolaus.exchanges.secrets import KEY_ENV, Vault
from iolaus.exchanges.sync import (
    ExchangeExists,
    SyncFailed,
    create_exchange,
    get_exchange,
    remove_exchange,
    set_credentials,
    sync_exchange,
)
from iolaus.model.banks import InvalidBank
from iolaus.store import audit
from iolaus.store import banks as bank_store
from iolaus.store.tables import exchanges
from tests.exchanges.fake_servers import NCMEC_BASE_PATH, Entry, FakeNCMEC, occurrences

USER, PASSWORD = "cli-user", "cli-password-5e6f"


def pdq(n: int) -> str:
    return hashlib.sha256(f"shared {n}".encode()).hexdigest()


def test_creation_rules(engine: Engine, tmp_path: Path) -> None:
    listing = {"filename": str(tmp_path / "list.txt")}
    with engine.begin() as conn:
        with pytest.raises(InvalidExchange, match="invalid exchange name"):
            create_exchange(conn, "lower", "local_file", "BANK", listing, category="ncii")
        with pytest.raises(InvalidExchange, match="unknown exchange API 'tx'"):
            create_exchange(conn, "X", "tx", "BANK", {})
        with pytest.raises(InvalidExchange, match="missing password, user"):
            create_exchange(conn, "X", "ncmec", "BANK", {"environment": "Industry"})
        with pytest.raises(InvalidExchange, match="secret key is needed"):
            create_exchange(
                conn, "X", "ncmec", "B", {"environment": "Industry"}, {"user": "u", "password": "p"}
            )
        bank_store.create_bank(conn, "KNOWN_GOOD", category="ncii", is_allowlist=True)
        with pytest.raises(InvalidBank, match="allow-list"):
            create_exchange(conn, "X", "local_file", "KNOWN_GOOD", listing)
        info = create_exchange(conn, "2024_LIST", "local_file", "LIST", listing, category="ncii")
        assert (info.bank, info.has_credentials, info.fetch_succeeded) == ("LIST", False, None)
        with pytest.raises(ExchangeExists):
            create_exchange(conn, "2024_LIST", "local_file", "LIST", listing)
        assert audit.recent(conn)[0]["action"] == "exchange.create"


def test_credentials_are_sealed_and_a_wrong_key_is_a_clear_error(engine: Engine) -> None:
    vault = Vault(os.urandom(32))
    fake = FakeNCMEC(USER, PASSWORD)
    fake.put(Entry("1", 7, "image", 1_700_000_000, {"pdq": pdq(1)}))
    with fake.running() as url:
        with engine.begin() as conn:
            create_exchange(
                conn,
                "NCMEC",
                "ncmec",
                "CSAM",
                {"base_url": url + NCMEC_BASE_PATH},
                {"user": USER, "password": PASSWORD},
                vault=vault,
            )
            blob = conn.execute(select(exchanges.c.credentials)).scalar_one()
        assert PASSWORD.encode() not in blob and USER.encode() not in blob
        assert occurrences(engine, PASSWORD) == [] and occurrences(engine, USER) == []

        with pytest.raises(SyncFailed, match="a secret key is needed"):
            sync_exchange(engine, "NCMEC")
        with pytest.raises(SyncFailed, match="encrypted with another secret key"):
            sync_exchange(engine, "NCMEC", vault=Vault(os.urandom(32)))
        with engine.connect() as conn:
            info = get_exchange(conn, "NCMEC")
        assert info is not None and "another secret key" in (info.fetch_error or "")

        # A lost key is recovered by storing the credentials again under the new one.
        new_vault = Vault(os.urandom(32))
        with engine.begin() as conn:
            set_credentials(conn, "NCMEC", {"user": USER, "password": PASSWORD}, vault=new_vault)
        assert sync_exchange(engine, "NCMEC", vault=new_vault).added == 1
    assert occurrences(engine, PASSWORD) == []


def test_items_shared_with_curators_or_other_exchanges_survive(
    engine: Engine, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text(f"pdq {pdq(1)}\npdq {pdq(2)}\n")
    second.write_text(f"pdq {pdq(1)}\n")
    with engine.begin() as conn:
        bank_store.create_bank(conn, "SHARED", category="ncii")
        manual, _ = bank_store.add_content(conn, "SHARED", {"pdq": pdq(2)})
        create_exchange(conn, "A", "local_file", "SHARED", {"filename": str(first)})
        create_exchange(conn, "B", "local_file", "SHARED", {"filename": str(second)})
    assert sync_exchange(engine, "A").added == 2
    assert sync_exchange(engine, "B").added == 1
    with engine.connect() as conn:
        assert bank_store.get_bank(conn, "SHARED").size == 2  # type: ignore[union-attr]
        assert bank_store.get_content(conn, manual).collab == {"A": [f"pdq {pdq(2)}"]}  # type: ignore[union-attr]
    assert sync_exchange(engine, "A").unchanged == 2

    first.write_text("")
    assert sync_exchange(engine, "A").deleted == 2
    with engine.connect() as conn:
        assert bank_store.get_content(conn, manual) is not None  # a curator's item stays
        assert bank_store.get_bank(conn, "SHARED").size == 2  # type: ignore[union-attr]
    second.write_text("")
    sync_exchange(engine, "B")
    assert occurrences(engine, pdq(1)) == []


def test_one_sync_at_a_time_and_a_crashed_one_goes_stale(engine: Engine, tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text(f"pdq {pdq(1)}\n")
    now = datetime(2025, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        create_exchange(conn, "L", "local_file", "L", {"filename": str(listing)}, category="ncii")
        conn.execute(update(exchanges).values(fetch_started_at=now - timedelta(minutes=5)))
    with pytest.raises(SyncFailed, match="already being synced"):
        sync_exchange(engine, "L", now=lambda: now)
    later = now + timedelta(hours=7)
    report = sync_exchange(engine, "L", now=lambda: later)
    assert report.added == 1
    with engine.connect() as conn:
        info = get_exchange(conn, "L")
    assert info is not None and not info.running and info.fetch_completed_at == later
    assert info.fetched_items == 1

    # Ctrl-C mid-sync: recorded, and the next sync may start at once.
    def interrupt(_: object) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sync_exchange(engine, "L", progress=interrupt)
    with engine.connect() as conn:
        info = get_exchange(conn, "L")
    assert info is not None and not info.running
    assert info.fetch_error == "interrupted (KeyboardInterrupt)"
    assert sync_exchange(engine, "L").unchanged == 1

    with engine.begin() as conn:
        assert remove_exchange(conn, "L") == 1
        assert get_exchange(conn, "L") is None
        assert bank_store.get_bank(conn, "L").size == 0  # type: ignore[union-attr]
        assert audit.recent(conn)[0]["action"] == "exchange.remove"


def test_cli_add_list_sync_remove(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.setenv("IOLAUS_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()

    def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        result = runner.invoke(app, ["--db", db_url, *args], env=env)
        return result.exit_code, result.stdout, result.stderr

    fake = FakeNCMEC(USER, PASSWORD)
    fake.put(Entry("1", 7, "image", 1_700_000_000, {"pdq": pdq(1)}))
    fake.put(Entry("2", 7, "video", 1_700_000_001, {"md5": "ab" * 16}))
    creds = tmp_path / "ncmec.txt"
    creds.write_text(f"{USER}:{PASSWORD}\n")
    listing = tmp_path / "list.txt"
    listing.write_text(f"pdq {pdq(3)}\n")
    with fake.running() as url:
        config = json.dumps({"base_url": url + NCMEC_BASE_PATH})
        code, _, err = run("exchange", "add", "NCMEC", "--api", "ncmec", "--config", config)
        assert code == 1 and "needs credentials" in err
        code, out, _ = run(
            "exchange", "add", "NCMEC", "--api", "ncmec", "--config", config,
            "--credentials-file", str(creds),
        )  # fmt: skip
        assert code == 0, out
        code, _, _ = run(
            "exchange", "add", "FILE", "--api", "local_file", "--bank", "PARTNER",
            "--category", "ncii", "--config", json.dumps({"filename": str(listing)}),
        )  # fmt: skip
        assert code == 0
        assert (tmp_path / "data" / "secret.key").exists()

        code, out, _ = run("exchange", "sync", "--all", "--json")
        assert code == 0, out
        reports = {r["exchange"]: r for r in json.loads(out)}
        assert (reports["NCMEC"]["added"], reports["FILE"]["added"]) == (2, 1)

        code, out, _ = run("exchange", "list", "--json")
        listed = {e["name"]: e for e in json.loads(out)}
        assert listed["NCMEC"]["has_credentials"] and listed["NCMEC"]["fetch_succeeded"]
        assert listed["FILE"]["bank"] == "PARTNER" and listed["NCMEC"]["fetched_items"] == 2
        code, table, _ = run("exchange", "list")
        assert code == 0 and "NCMEC" in table

        # Wrong credentials, given through the environment this time: exit 1, no secret shown.
        code, _, err = run(
            "exchange", "credentials", "NCMEC", "--credentials-env", "NCMEC_CREDS",
            env={"NCMEC_CREDS": f"{USER}:bad-password-0000"},
        )  # fmt: skip
        assert code == 0, err
        code, out, err = run("exchange", "sync", "NCMEC")
        assert code == 1 and "refused the credentials" in err
        assert "bad-password-0000" not in out + err
        code, out, _ = run("exchange", "sync", "FILE")
        assert code == 0 and "0 added" in out

    for output in (out, table):
        assert PASSWORD not in output
    code, out, _ = run("exchange", "remove", "NCMEC")
    assert code == 0 and "2 record(s)" in out
    code, _, err = run("exchange", "sync", "NCMEC")
    assert code == 1 and "no exchange named 'NCMEC'" in err
    code, _, err = run("exchange", "sync")
    assert code == 1 and "NAME or --all" in err
