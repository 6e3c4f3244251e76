"""Victim submissions: hash-only, a secret to withdraw, and withdrawal that really deletes."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, func, select

from iolaus.hashing.matcher import Matcher
from iolaus.store import banks as bank_store
from iolaus.store import victims
from iolaus.store.tables import audit_log, bank_signals, hash_changes, victim_submissions
from tests.banks.test_banks_matcher import flip, random_pdq


def test_submit_match_withdraw(engine: Engine) -> None:
    mine, theirs = random_pdq(10), random_pdq(11)
    with engine.begin() as conn:
        bank_store.create_bank(conn, "NCII_VICTIMS", category="ncii")
        receipt = victims.submit(conn, "NCII_VICTIMS", [("pdq", mine)])
        other = victims.submit(conn, "NCII_VICTIMS", [("pdq", theirs)])
    assert receipt.reference.startswith("V-") and len(receipt.secret) >= 32
    matcher = Matcher(engine)  # default staleness: one second
    assert matcher.lookup("pdq", [flip(mine, 3)])[0].positive[0].category == "ncii"

    with engine.begin() as conn, pytest.raises(victims.SubmissionError):
        victims.withdraw(conn, receipt.reference, "wrong secret")
    with engine.begin() as conn, pytest.raises(victims.SubmissionError):
        victims.withdraw(conn, "V-NOSUCHREF0", receipt.secret)
    with engine.begin() as conn:
        assert victims.withdraw(conn, receipt.reference, receipt.secret) == 1
        assert victims.status(conn, receipt.reference, receipt.secret)["status"] == "withdrawn"

    time.sleep(1.1)  # the matcher's refresh interval, far inside the 60 s the issue allows
    assert matcher.lookup("pdq", [flip(mine, 3)])[0].positive == []
    assert matcher.lookup("pdq", [theirs])[0].positive  # another victim's hash stays
    with engine.connect() as conn:
        values = conn.execute(select(bank_signals.c.value)).scalars().all()
        secrets_stored = conn.execute(select(victim_submissions.c.secret_hash)).scalars().all()
        audit_text = " ".join(str(r) for r in conn.execute(select(audit_log)).all())
        logged = conn.execute(select(func.count()).select_from(hash_changes)).scalar_one()
    assert mine not in values  # the withdrawn hash is nowhere in the database
    assert receipt.secret not in secrets_stored and receipt.secret not in audit_text
    assert mine not in audit_text
    assert logged == 3  # two adds, one delete: ids only
    with engine.begin() as conn, pytest.raises(victims.SubmissionError):
        victims.withdraw(conn, receipt.reference, receipt.secret)  # not twice
    assert other.reference != receipt.reference
