"""Banks in the store and the matcher over them, on both backends."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import Engine

from iolaus.hashing.matcher import Matcher
from iolaus.hashing.types import SIGNAL_TYPES
from iolaus.model.banks import InvalidBank, InvalidSignal
from iolaus.store import banks as store


def flip(hex_hash: str, bits: int, seed: int = 0) -> str:
    """``hex_hash`` with ``bits`` distinct bits flipped."""
    data = bytearray(bytes.fromhex(hex_hash))
    rng = np.random.default_rng(seed)
    for bit in rng.choice(256, size=bits, replace=False):
        data[bit // 8] ^= 1 << (bit % 8)
    return data.hex()


def random_pdq(seed: int) -> str:
    return np.random.default_rng(seed).integers(0, 256, 32, dtype=np.uint8).tobytes().hex()


def test_bank_lifecycle_and_validation(engine: Engine) -> None:
    with engine.begin() as conn:
        bank = store.create_bank(conn, "NCII_VICTIMS", category="ncii", pdq_threshold=20)
        assert (bank.name, bank.category.value, bank.pdq_threshold) == ("NCII_VICTIMS", "ncii", 20)
        with pytest.raises(store.BankExists):
            store.create_bank(conn, "NCII_VICTIMS")
        with pytest.raises(InvalidBank, match="invalid bank name"):
            store.create_bank(conn, "lower-case")
        with pytest.raises(InvalidBank, match="threshold"):
            store.create_bank(conn, "TOO_LOOSE", pdq_threshold=40)
        with pytest.raises(InvalidBank, match="unknown category"):
            store.create_bank(conn, "ODD", category="spam")
        store.update_bank(conn, "NCII_VICTIMS", new_name="NCII", enabled_ratio=0.5)
        assert store.get_bank(conn, "NCII").enabled_ratio == 0.5  # type: ignore[union-attr]
        assert store.delete_bank(conn, "NCII")
        assert not store.delete_bank(conn, "NCII")


def test_signals_are_validated() -> None:
    assert SIGNAL_TYPES.from_name("md5").validate(" ABCDEF0123456789ABCDEF0123456789 ") == (
        "abcdef0123456789abcdef0123456789"
    )
    with pytest.raises(InvalidSignal):
        SIGNAL_TYPES.from_name("pdq").validate("AB" * 32)  # upper-case PDQ is refused, as in pytx
    with pytest.raises(InvalidSignal):
        SIGNAL_TYPES.from_name("pdq").validate("ab" * 31)
    with pytest.raises(InvalidSignal, match="unknown signal type"):
        SIGNAL_TYPES.from_name("photodna")


def test_matcher_applies_thresholds_allowlists_and_deletes(engine: Engine) -> None:
    target = random_pdq(1)
    with engine.begin() as conn:
        store.create_bank(conn, "STRICT", category="ncii", pdq_threshold=10)
        store.create_bank(conn, "LOOSE", category="csam")
        strict_id, _ = store.add_content(conn, "STRICT", {"pdq": target})
        loose_id, created = store.add_content(conn, "LOOSE", {"pdq": target})
        again, created_again = store.add_content(conn, "LOOSE", {"pdq": target})
        assert created and not created_again and again == loose_id
        store.add_content(conn, "LOOSE", {"md5": "0" * 32})
    matcher = Matcher(engine, max_staleness=0)

    near, far, miss = flip(target, 5), flip(target, 25), random_pdq(2)
    results = matcher.lookup("pdq", [near, far, miss], bypass_coinflip=True)
    assert [(m.bank, m.distance) for m in results[0].positive] == [("LOOSE", 5), ("STRICT", 5)]
    assert [(m.bank, m.distance) for m in results[1].positive] == [("LOOSE", 25)]
    assert results[2].positive == []
    assert matcher.lookup("md5", ["0" * 32])[0].positive[0].bank == "LOOSE"

    # An allow-list bank holding the same image voids the positive matches.
    with engine.begin() as conn:
        store.create_bank(conn, "KNOWN_BENIGN", category="ncii", is_allowlist=True)
        store.add_content(conn, "KNOWN_BENIGN", {"pdq": flip(target, 2, seed=9)})
    allowed = matcher.lookup("pdq", [near], bypass_coinflip=True)[0]
    assert allowed.positive == [] and allowed.allowed_by[0].bank == "KNOWN_BENIGN"

    # Disabled content and disabled banks do not match; deletions take effect at the next lookup.
    with engine.begin() as conn:
        store.update_content(conn, strict_id, disable_until_ts=0)
        store.update_bank(conn, "KNOWN_BENIGN", enabled_ratio=0.0)
    assert [m.bank for m in matcher.lookup("pdq", [near])[0].positive] == ["LOOSE"]
    with engine.begin() as conn:
        store.delete_content(conn, [loose_id])
    assert matcher.lookup("pdq", [near])[0].positive == []
    raw_ids = {cid for cid, _ in matcher.raw_lookup("pdq", [near])[0]}
    assert strict_id in raw_ids and loose_id not in raw_ids  # raw: no bank rules, deletes apply


def test_index_survives_a_restart_and_replays_only_new_changes(engine: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    hashes = [random_pdq(i) for i in range(50)]
    with engine.begin() as conn:
        store.create_bank(conn, "B")
        for h in hashes:
            store.add_content(conn, "B", {"pdq": h})
    first = Matcher(engine, index_dir=tmp_path / "index", max_staleness=0)
    first.save()
    with engine.begin() as conn:
        new_id, _ = store.add_content(conn, "B", {"pdq": random_pdq(99)})
        old = store.list_content(conn, "B", limit=1)[0]
        store.delete_content(conn, [old.id])
    second = Matcher(engine, index_dir=tmp_path / "index", max_staleness=0)
    assert second.refresh() == 2  # loaded from disk, then the two logged changes
    assert second.raw_lookup("pdq", [random_pdq(99)]) == [[(new_id, 0)]]
    assert second.raw_lookup("pdq", [old.signals["pdq"]]) == [[]]
