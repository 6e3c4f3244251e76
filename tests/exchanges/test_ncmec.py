"""The NCMEC hash-sharing client against a local fake: XML, paging, tombstones, retries, sync."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from iolaus.exchanges.base import ExchangeError, Opinion
from iolaus.exchanges.ncmec import NCMECAPI, parse_entries
from iolaus.exchanges.secrets import Vault
from iolaus.exchanges.sync import SyncFailed, create_exchange, get_exchange, sync_exchange
from iolaus.hashing.types import MD5, PDQ, VIDEO_MD5
from iolaus.store import audit
from iolaus.store import banks as bank_store
from tests.exchanges.fake_servers import (
    NCMEC_BASE_PATH,
    Entry,
    FakeNCMEC,
    affirmative,
    ncmec_date,
    negative,
    occurrences,
)

USER, PASSWORD = "esp-user", "ncmec-password-7f3a"
T0 = 1_700_000_000


def pdq(n: int) -> str:
    return hashlib.sha256(f"pdq {n}".encode()).hexdigest()


def md5(n: int) -> str:
    return hashlib.md5(f"md5 {n}".encode()).hexdigest()


def sha1(n: int) -> str:
    return hashlib.sha1(f"sha1 {n}".encode()).hexdigest()


@pytest.fixture
def fake() -> FakeNCMEC:
    server = FakeNCMEC(USER, PASSWORD, page_size=2)
    server.put(
        Entry(
            "e1",
            42,
            "image",
            T0 + 10,
            {"md5": md5(1), "sha1": sha1(1), "pdq": pdq(1), "netclean": "ab" * 10},
            classification="A1",
            feedback_xml=affirmative("md5", 7, 8) + negative("pdq", "Not CSAM", 9),
        )
    )
    server.put(Entry("e2", 42, "image", T0 + 30, {"MD5": md5(2).upper(), "pdna": "0" * 100}))
    server.put(Entry("e3", 42, "video", T0 + 20, {"md5": md5(3), "sha1": sha1(3)}))
    server.put(Entry("e4", 43, "image", T0 + 5, {"pdq": pdq(4)}))
    server.put(Entry("e5", 43, "image", T0 + 1, {"sha1": sha1(5)}))  # nothing Iolaus can use
    return server


def api(url: str, sleeps: list[float] | None = None, **config: object) -> NCMECAPI:
    recorder = sleeps if sleeps is not None else []
    return NCMECAPI(
        {"base_url": url + NCMEC_BASE_PATH, **config},
        {"user": USER, "password": PASSWORD},
        sleep=recorder.append,
    )


def test_fetch_follows_paging_and_retries_a_503(fake: FakeNCMEC) -> None:
    fake.fail_next = [503]
    sleeps: list[float] = []
    with fake.running() as url:
        deltas = list(api(url, sleeps).fetch(None))
    assert sleeps == [1.0]
    assert len(deltas) == 3  # five entries, two per page
    first = fake.requests[1]  # [0] was answered 503
    assert first.query["from"] == "1970-01-01T00:00:00Z"
    end = datetime.strptime(first.query["to"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(time.time() - 5 - end.timestamp()) < 60  # in UTC, not local time
    assert [r.query.get("start") for r in fake.requests[1:]] == [None, "2", "4"]
    assert all(r.path == "/hashsharing/v2/entries" for r in fake.requests)

    # Only the last page's checkpoint advances the timestamp; earlier ones resume the paging.
    assert deltas[0].checkpoint["timestamp"] == 0  # type: ignore[index]
    assert deltas[0].checkpoint["paging"]["next"].startswith("/v2/entries?")  # type: ignore[index]
    assert deltas[-1].checkpoint == {"timestamp": T0 + 30}

    updates = {k: v for d in deltas for k, v in d.updates.items()}
    assert set(updates) == {"42-e1", "42-e2", "42-e3", "43-e4", "43-e5"}
    e1 = updates["42-e1"]
    assert e1 is not None
    assert dict(e1.signals) == {MD5: md5(1), PDQ: pdq(1)}
    assert e1.categories == ("A1",)
    assert [(f.opinion, f.source, f.tags) for f in e1.feedback] == [
        (Opinion.POSITIVE, "7", ("md5",)),
        (Opinion.POSITIVE, "8", ("md5",)),
        (Opinion.NEGATIVE, "9", ("pdq", "Not CSAM")),
    ]
    assert dict(updates["42-e2"].signals) == {MD5: md5(2)}  # type: ignore[union-attr]
    assert dict(updates["42-e3"].signals) == {VIDEO_MD5: md5(3)}  # type: ignore[union-attr]
    assert not updates["43-e5"].usable  # type: ignore[union-attr]


def test_only_esp_ids_and_tombstones(fake: FakeNCMEC) -> None:
    fake.tombstone("42-e2", T0 + 40)
    with fake.running() as url:
        updates = {
            k: v for d in api(url, only_esp_ids=[42]).fetch(None) for k, v in d.updates.items()
        }
    assert set(updates) == {"42-e1", "42-e2", "42-e3"}
    assert updates["42-e2"] is None


def test_retries_give_up_and_auth_failures_name_no_secret(fake: FakeNCMEC) -> None:
    fake.fail_next = [503, 502, 429, 500]
    sleeps: list[float] = []
    with fake.running() as url:
        with pytest.raises(ExchangeError, match="HTTP 500"):
            list(api(url, sleeps).fetch(None))
        assert sleeps == [1.0, 2.0, 4.0]
        wrong = NCMECAPI(
            {"base_url": url + NCMEC_BASE_PATH}, {"user": USER, "password": "nope-1234"}
        )
        with pytest.raises(ExchangeError, match="refused the credentials") as caught:
            list(wrong.fetch(None))
    assert "nope-1234" not in str(caught.value) and USER not in str(caught.value)
    assert "nope-1234" not in repr(wrong)


def test_parser_ignores_namespaces_and_refuses_foreign_paging_links() -> None:
    body = (
        '<r xmlns="urn:x"><images maxTimestamp="2024-01-09T12:00:00Z">'
        "<image><id>1</id><member id='5'>m</member>"
        f"<fingerprints><PDQ>{pdq(1).upper()}</PDQ><md5>not-hex</md5></fingerprints></image>"
        "<image><id>2</id></image>"  # no member: ignored
        "<deletedImage><id>1</id><member id='5'/></deletedImage>"
        "</images><paging><next/></paging></r>"
    ).encode()
    page = parse_entries(body)
    assert page.updates == {"5-1": None}  # the tombstone wins within a page
    assert page.ignored == 1
    assert page.max_timestamp == 1704801600 and page.next == ""
    with pytest.raises(ExchangeError, match="leaves the API server"):
        parse_entries(b"<r><paging><next>https://elsewhere.example/v2/entries</next></paging></r>")
    with pytest.raises(ExchangeError, match="not valid XML"):
        parse_entries(b"<r><images>")


def test_config_and_credentials_are_checked() -> None:
    from iolaus.exchanges.base import InvalidExchange

    with pytest.raises(InvalidExchange, match="environment"):
        NCMECAPI.check_config({})
    with pytest.raises(InvalidExchange, match="unknown environment"):
        NCMECAPI.check_config({"environment": "Prod"})
    with pytest.raises(InvalidExchange, match="https"):
        NCMECAPI.check_config({"base_url": "http://example.org/hashsharing"})
    with pytest.raises(InvalidExchange, match="unknown key"):
        NCMECAPI.check_config({"environment": "Industry", "enviroment": "x"})
    assert NCMECAPI.parse_credentials(" user:pa:ss\n") == {"user": "user", "password": "pa:ss"}
    with pytest.raises(InvalidExchange, match="missing password") as caught:
        NCMECAPI.parse_credentials('{"user": "someone-secret"}')
    assert "someone-secret" not in str(caught.value)


def test_sync_is_incremental_and_applies_updates_and_tombstones(
    engine: Engine, fake: FakeNCMEC
) -> None:
    vault = Vault(os.urandom(32))
    with fake.running() as url:
        with engine.begin() as conn:
            create_exchange(
                conn,
                "NCMEC",
                "ncmec",
                "NCMEC_CSAM",
                {"base_url": url + NCMEC_BASE_PATH},
                {"user": USER, "password": PASSWORD},
                vault=vault,
            )
            bank = bank_store.get_bank(conn, "NCMEC_CSAM")
            assert bank is not None and bank.category.value == "csam"

        first = sync_exchange(engine, "NCMEC", vault=vault, sleep=lambda _: None)
        assert (first.added, first.deleted, first.ignored) == (4, 0, 1)
        assert first.checkpoint == {"timestamp": T0 + 30}
        with engine.connect() as conn:
            items = bank_store.list_content(conn, "NCMEC_CSAM")
            status = get_exchange(conn, "NCMEC")
        assert len(items) == 4
        assert {i.collab["NCMEC"][0] for i in items} == {"42-e1", "42-e2", "42-e3", "43-e4"}
        e1 = next(i for i in items if i.collab["NCMEC"] == ["42-e1"])
        assert e1.signals == {"md5": md5(1), "pdq": pdq(1)}
        assert e1.metadata and e1.metadata["categories"] == ["A1"]
        assert status is not None and status.fetch_succeeded and status.fetched_items == 4

        # Second sync: from the stored checkpoint, nothing new.
        fake.requests.clear()
        again = sync_exchange(engine, "NCMEC", vault=vault)
        assert fake.requests[0].query["from"] == ncmec_date(T0 + 30)
        assert (again.added, again.updated, again.deleted) == (0, 0, 0)

        # NCMEC withdraws e1 and re-hashes e4.
        fake.tombstone("42-e1", T0 + 50)
        fake.put(Entry("e4", 43, "image", T0 + 60, {"pdq": pdq(40)}))
        third = sync_exchange(engine, "NCMEC", vault=vault)
        assert (third.added, third.updated, third.deleted) == (0, 1, 1)
        assert third.checkpoint == {"timestamp": T0 + 60}

        # Only the classification changes: same hashes, the item's metadata follows.
        fake.put(Entry("e2", 42, "image", T0 + 70, {"md5": md5(2)}, classification="B1"))
        fourth = sync_exchange(engine, "NCMEC", vault=vault)
        # e4 again too: `from` is inclusive, so entries of the checkpoint second are re-read.
        assert (fourth.fetched, fourth.unchanged, fourth.updated) == (2, 2, 0)
        with engine.connect() as conn:
            (e2,) = [
                i
                for i in bank_store.list_content(conn, "NCMEC_CSAM")
                if i.signals == {"md5": md5(2)}
            ]
        assert e2.metadata == {"categories": ["B1"]}

    for gone in (md5(1), pdq(1), pdq(4)):
        assert occurrences(engine, gone) == []
    assert occurrences(engine, pdq(40)) == ["bank_signals.value"]
    with engine.connect() as conn:
        assert bank_store.get_bank(conn, "NCMEC_CSAM").size == 3  # type: ignore[union-attr]
        syncs = [e for e in audit.recent(conn) if e["action"] == "exchange.sync"]
    assert len(syncs) == 4 and syncs[1]["details"]["deleted"] == 1


def test_failed_sync_records_status_without_secrets(engine: Engine, fake: FakeNCMEC) -> None:
    vault = Vault(os.urandom(32))
    with fake.running() as url:
        with engine.begin() as conn:
            create_exchange(
                conn,
                "NCMEC",
                "ncmec",
                "NCMEC",
                {"base_url": url + NCMEC_BASE_PATH},
                {"user": USER, "password": "wrong-password-99"},
                vault=vault,
            )
        with pytest.raises(SyncFailed, match="refused the credentials") as caught:
            sync_exchange(engine, "NCMEC", vault=vault)
    assert "wrong-password-99" not in str(caught.value)
    with engine.connect() as conn:
        status = get_exchange(conn, "NCMEC")
    assert status is not None and status.fetch_succeeded is False and not status.running
    assert "HTTP 401" in (status.fetch_error or "")
    assert occurrences(engine, "wrong-password-99") == []
    assert occurrences(engine, USER) == []
