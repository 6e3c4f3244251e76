"""The StopNCII client against a local fake: pages, key headers, withdrawals, resumed syncs."""

from __future__ import annotations

import hashlib
import os

import pytest
from sqlalchemy import Engine, select

from iolaus.exchanges.base import ExchangeError, InvalidExchange, Opinion
from iolaus.exchanges.secrets import Vault
from iolaus.exchanges.stopncii import StopNCIIAPI, parse_records
from iolaus.exchanges.sync import SyncFailed, create_exchange, get_exchange, sync_exchange
from iolaus.hashing.types import PDQ
from iolaus.store import banks as bank_store
from iolaus.store.tables import bank_content
from tests.exchanges.fake_servers import FakeStopNCII, occurrences

SUBSCRIPTION, FUNCTION = "sub-key-0c1d2e", "fn-key-9a8b7c"
CREDENTIALS = {"subscription_key": SUBSCRIPTION, "fetch_function_key": FUNCTION}


def pdq(n: int) -> str:
    return hashlib.sha256(f"victim photo {n}".encode()).hexdigest()


def video(n: int) -> str:
    return hashlib.md5(f"victim video {n}".encode()).hexdigest()


@pytest.fixture
def fake() -> FakeStopNCII:
    server = FakeStopNCII(SUBSCRIPTION, FUNCTION, page_size=2)
    server.add("ImagePDQ", pdq(1), 100)
    server.add(
        "ImagePDQ",
        pdq(2),
        110,
        CSPFeedbacks=[{"feedbackValue": "Blocked", "tags": ["a"], "source": "partner"}],
    )
    server.add("VideoMD5", video(3).upper(), 120)
    server.add("VideoTMK", "x" * 300, 130)  # a type Iolaus does not hold
    server.add("ImagePDQ", pdq(5), 140)
    return server


def api(url: str, **credentials: str) -> StopNCIIAPI:
    return StopNCIIAPI(
        {"base_url": url + "/v1"}, {**CREDENTIALS, **credentials}, sleep=lambda _: None
    )


def test_fetch_pages_while_more_records(fake: FakeStopNCII) -> None:
    with fake.running() as url:
        deltas = list(api(url).fetch(None))
    assert [r.query.get("nextPageToken") for r in fake.requests] == [None, "p2", "p4"]
    assert all(
        r.query["startTimestamp"] == "10" and r.query["pageSize"] == "800" for r in fake.requests
    )
    assert [d.checkpoint for d in deltas] == [
        {"timestamp": 10, "page_token": "p2"},
        {"timestamp": 10, "page_token": "p4"},
        {"timestamp": 141},
    ]
    updates = {k: v for d in deltas for k, v in d.updates.items()}
    assert set(updates) == {
        f"pdq {pdq(1)}",
        f"pdq {pdq(2)}",
        f"video_md5 {video(3)}",
        f"pdq {pdq(5)}",
    }
    assert sum(d.ignored for d in deltas) == 1
    blocked = updates[f"pdq {pdq(2)}"]
    assert blocked is not None and blocked.feedback[0].opinion is Opinion.POSITIVE
    assert blocked.metadata() == {
        "feedback": [{"opinion": "positive", "source": "partner", "tags": ["a"]}]
    }


def test_both_key_headers_are_required(fake: FakeStopNCII) -> None:
    refused = r"refused the credentials \(HTTP 401\)"
    with fake.running() as url, pytest.raises(ExchangeError, match=refused) as caught:
        list(api(url, fetch_function_key="wrong-fn-key").fetch(None))
    assert "wrong-fn-key" not in str(caught.value) and SUBSCRIPTION not in str(caught.value)


def test_withdrawal_by_status_or_by_every_case_and_latest_wins() -> None:
    records = [
        {
            "lastModtimestamp": 5,
            "signalType": "ImagePDQ",
            "hashValue": pdq(1),
            "hashStatus": "Active",
            "caseNumbers": {"c1": "Active"},
        },
        {
            "lastModtimestamp": 9,
            "signalType": "ImagePDQ",
            "hashValue": pdq(1),
            "hashStatus": "Withdrawn",
            "caseNumbers": {"c1": "Withdrawn"},
        },
        {
            "lastModtimestamp": 7,
            "signalType": "ImagePDQ",
            "hashValue": pdq(1),
            "hashStatus": "Active",
        },  # older than the withdrawal: loses although later in the page
        {
            "lastModtimestamp": 5,
            "signalType": "ImagePDQ",
            "hashValue": pdq(2),
            "hashStatus": "Active",
            "caseNumbers": {"c2": "Deleted", "c3": "Withdrawn"},
        },
        {
            "lastModtimestamp": 5,
            "signalType": "ImagePDQ",
            "hashValue": pdq(3),
            "hashStatus": "Received",
            "caseNumbers": {"c4": "Withdrawn", "c5": "Active"},
        },
        {"lastModtimestamp": 5, "signalType": "ImagePDQ", "hashValue": "Withdrawn"},
        "not a record",
    ]
    parsed, ignored = parse_records(records)
    assert ignored == 2
    assert parsed[f"pdq {pdq(1)}"].withdrawn
    assert parsed[f"pdq {pdq(2)}"].withdrawn
    assert not parsed[f"pdq {pdq(3)}"].withdrawn
    assert dict(parsed[f"pdq {pdq(3)}"].signals) == {PDQ: pdq(3)}


def test_a_stale_page_token_restarts_from_the_timestamp(fake: FakeStopNCII) -> None:
    with fake.running() as url:
        deltas = list(api(url).fetch({"timestamp": 115, "page_token": "expired"}))
    assert [r.query.get("nextPageToken") for r in fake.requests] == ["expired", None, "p2"]
    assert {k for d in deltas for k in d.updates} == {f"video_md5 {video(3)}", f"pdq {pdq(5)}"}


def test_malformed_pages_fail_cleanly() -> None:
    with pytest.raises(InvalidExchange, match="expected"):
        StopNCIIAPI.parse_credentials("only-one-key")
    assert StopNCIIAPI.parse_credentials("fn, sub") == {
        "fetch_function_key": "fn",
        "subscription_key": "sub",
    }

    class Broken(FakeStopNCII):
        def respond(self, seen):  # type: ignore[no-untyped-def]
            return 200, "application/json", b'{"hashRecords": "nope"}'

    broken = Broken(SUBSCRIPTION, FUNCTION)
    with broken.running() as url, pytest.raises(ExchangeError, match="malformed page"):
        list(api(url).fetch(None))


def _setup(engine: Engine, url: str, vault: Vault) -> None:
    with engine.begin() as conn:
        create_exchange(
            conn,
            "STOPNCII",
            "stop_ncii",
            "NCII",
            {"base_url": url + "/v1"},
            CREDENTIALS,
            vault=vault,
        )


def test_a_later_withdrawal_deletes_the_hash_everywhere(engine: Engine, fake: FakeStopNCII) -> None:
    vault = Vault(os.urandom(32))
    with fake.running() as url:
        _setup(engine, url, vault)
        first = sync_exchange(engine, "STOPNCII", vault=vault)
        assert (first.added, first.ignored, first.checkpoint) == (4, 1, {"timestamp": 141})
        with engine.connect() as conn:
            assert bank_store.get_bank(conn, "NCII").category.value == "ncii"  # type: ignore[union-attr]
        assert set(occurrences(engine, pdq(1))) == {
            "bank_signals.value",
            "exchange_records.record_key",
        }

        # The victim withdraws: a later record for the same hash says so.
        fake.add(
            "ImagePDQ", pdq(1), 200, hashStatus="Withdrawn", caseNumbers={"case-0": "Withdrawn"}
        )
        fake.requests.clear()
        second = sync_exchange(engine, "STOPNCII", vault=vault)
        assert fake.requests[0].query["startTimestamp"] == "141"
        assert (second.fetched, second.added, second.deleted) == (1, 0, 1)
        assert occurrences(engine, pdq(1)) == []

        third = sync_exchange(engine, "STOPNCII", vault=vault)
        assert (third.added, third.deleted, third.checkpoint) == (0, 0, {"timestamp": 201})
    with engine.connect() as conn:
        assert bank_store.get_bank(conn, "NCII").size == 3  # type: ignore[union-attr]


def test_a_crash_mid_list_resumes_without_double_adds(engine: Engine, fake: FakeStopNCII) -> None:
    vault = Vault(os.urandom(32))
    with fake.running() as url:
        _setup(engine, url, vault)
        original = fake.respond

        def fail_page_two(seen):  # type: ignore[no-untyped-def]
            if seen.query.get("nextPageToken") == "p2":
                return 500, "text/plain", b"boom"
            return original(seen)

        fake.respond = fail_page_two  # type: ignore[method-assign]
        with pytest.raises(SyncFailed, match="HTTP 500") as caught:
            sync_exchange(engine, "STOPNCII", vault=vault, sleep=lambda _: None)
        assert caught.value.report.added == 2
        with engine.connect() as conn:
            info = get_exchange(conn, "STOPNCII")
        assert info is not None and info.checkpoint == {"timestamp": 10, "page_token": "p2"}
        assert info.fetch_succeeded is False and info.fetched_items == 2

        fake.respond = original  # type: ignore[method-assign]
        fake.requests.clear()
        resumed = sync_exchange(engine, "STOPNCII", vault=vault)
    assert fake.requests[0].query.get("nextPageToken") == "p2"
    assert (resumed.added, resumed.checkpoint) == (2, {"timestamp": 141})
    with engine.connect() as conn:
        assert len(conn.execute(select(bank_content.c.id)).all()) == 4
