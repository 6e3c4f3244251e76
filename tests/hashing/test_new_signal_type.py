"""A new signal type is one module plus its registration (issue 8: vPDQ, TMK, TLSH…).

``tests/hashing/text_signal.py`` is the module. Registered, its hashes are validated, stored
in a bank, matched and served by the HMA API, read from exchange files and by the CLI's hash
parser, and listed with the other types; no other module knows it exists.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from iolaus.exchanges.file_api import LocalFileAPI
from iolaus.hashing.matcher import Matcher
from iolaus.hashing.signals import parse_hash
from iolaus.hashing.types import SIGNAL_TYPES
from iolaus.store import banks as bank_store
from tests.hashing.text_signal import TEXT_SHA1, TextSha1Signal
from tests.web.helpers import make_api, png

PHRASE = TextSha1Signal.hash_text("Buy  cheap followers NOW")


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The toy type registered for one test; the registry is as before afterwards."""
    monkeypatch.setattr(SIGNAL_TYPES, "_by_name", dict(SIGNAL_TYPES._by_name))
    SIGNAL_TYPES.register(TEXT_SHA1)


@pytest.mark.usefixtures("registered")
def test_the_hma_api_serves_a_registered_type(engine: Engine) -> None:
    api = make_api(engine)
    api.post("/c/banks", json={"name": "SPAM_TEXT"})
    added = api.post("/c/bank/SPAM_TEXT/signal", json={"text_sha1": PHRASE.upper()})
    assert added.status_code == 200, added.text
    content_id = added.json()["id"]
    assert added.json()["signals"] == {"text_sha1": PHRASE}  # validated to canonical form
    bad = api.post("/c/bank/SPAM_TEXT/signal", json={"text_sha1": "abc"})
    assert bad.json() == {
        "message": "Invalid text_sha1 signal: invalid text_sha1 hash: expected 40 hex digits"
    }

    same = TextSha1Signal.hash_text("buy cheap followers now")
    looked = api.get("/m/lookup", params={"signal_type": "text_sha1", "signal": same})
    assert looked.json() == {"SPAM_TEXT": [{"bank_content_id": content_id, "distance": "-"}]}
    raw = api.get("/m/raw_lookup", params={"signal_type": "text_sha1", "signal": same})
    assert raw.json() == {"matches": [content_id]}
    assert api.post("/m/compare", json={"text_sha1": [PHRASE, same]}).json() == {
        "text_sha1": [True, {}]
    }
    stored = api.get(f"/c/bank/SPAM_TEXT/content/{content_id}?include_signals=true").json()
    assert stored["signals"] == {"text_sha1": PHRASE}
    assert api.get("/c/banks").json() == [{"name": "SPAM_TEXT", "matching_enabled_ratio": 1.0}]
    assert {"name": "text_sha1", "enabled_ratio": 1.0} in api.get("/c/signal_type").json()
    assert api.get("/m/index/status?signal_type=text_sha1").json()["text_sha1"]["size"] == 1
    # a text type does not apply to photos: uploads hash as before
    photo = {"photo": ("a.png", png(1), "image/png")}
    assert set(api.post("/h/hash", files=photo).json()) == {"pdq", "md5", "sha256"}


@pytest.mark.usefixtures("registered")
def test_banks_matcher_cli_and_exchange_files_take_a_registered_type(
    engine: Engine, tmp_path: Path
) -> None:
    kind, value = parse_hash(f"text_sha1:{PHRASE}")
    assert kind is TEXT_SHA1
    with engine.begin() as conn:
        bank_store.create_bank(conn, "SPAM_TEXT", category="solicitation")
        content_id, _ = bank_store.add_content(conn, "SPAM_TEXT", {kind.name: value})
    found = Matcher(engine, max_staleness=0).lookup("text_sha1", [PHRASE.upper()])[0]
    assert [(m.bank, m.content_id, m.distance) for m in found.positive] == [
        ("SPAM_TEXT", content_id, 0)
    ]

    listing = tmp_path / "list.txt"
    listing.write_text(f"text_sha1 {PHRASE}\n")
    (delta,) = LocalFileAPI({"filename": str(listing)}).fetch(None)
    assert {k: dict(r.signals) for k, r in delta.updates.items() if r} == {
        f"text_sha1 {PHRASE}": {TEXT_SHA1: PHRASE}
    }


def test_unregistered_the_type_is_unknown_everywhere(engine: Engine) -> None:
    api = make_api(engine)
    assert "text_sha1" not in [t["name"] for t in api.get("/c/signal_type").json()]
    looked = api.get("/m/lookup", params={"signal_type": "text_sha1", "signal": PHRASE})
    assert looked.json() == {"message": "No such SignalType 'text_sha1'"}
