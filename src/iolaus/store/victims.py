"""Victim submissions: hashes a victim computed on their own device, never the images.

A submission gets a public case reference and a secret shown once; only a SHA-256 of the secret
is stored (it is 192 random bits, so a fast hash is enough). Withdrawing deletes every hash of
the submission from every bank in one transaction; the change log makes every matcher drop them
at its next refresh (within a second), and nothing of the hash values remains in the database.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from iolaus.errors import NotFound
from iolaus.store import audit
from iolaus.store import banks as bank_store
from iolaus.store.digest import secret_digest
from iolaus.store.tables import bank_content, victim_submissions

_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


class SubmissionError(NotFound):
    """Unknown reference, wrong secret, or already withdrawn: one message for all three, so the
    answer does not reveal which references exist."""


@dataclass(frozen=True)
class Receipt:
    reference: str
    secret: str
    hashes: int


def submit(conn: Connection, bank_name: str, signals: Sequence[tuple[str, str]]) -> Receipt:
    """Store a victim's (signal type name, hash) pairs, already validated, in ``bank_name``;
    returns the receipt."""
    if not signals:
        raise ValueError("a submission needs at least one hash")
    bank_store.require_bank(conn, bank_name)
    reference = "V-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(10))
    secret = secrets.token_urlsafe(24)
    submission_id = conn.execute(
        insert(victim_submissions)
        .values(
            reference=reference,
            secret_hash=secret_digest(secret),
            status="active",
            created_at=datetime.now(UTC),
        )
        .returning(victim_submissions.c.id)
    ).scalar_one()
    for kind, value in signals:
        bank_store.add_content(
            conn,
            bank_name,
            {kind: value},
            source="victim",
            submission_id=submission_id,
            note=f"victim submission {reference}",
        )
    audit.record(conn, "victim", "victim.submit", reference, bank=bank_name, hashes=len(signals))
    return Receipt(reference=reference, secret=secret, hashes=len(signals))


def withdraw(conn: Connection, reference: str, secret: str) -> int:
    """Delete every hash of the submission; returns how many bank items were removed."""
    row = conn.execute(
        select(victim_submissions).where(victim_submissions.c.reference == reference)
    ).first()
    if (
        row is None
        or row.status != "active"
        or not hmac.compare_digest(row.secret_hash, secret_digest(secret))
    ):
        raise SubmissionError("no active submission with that reference and secret")
    ids = (
        conn.execute(select(bank_content.c.id).where(bank_content.c.submission_id == row.id))
        .scalars()
        .all()
    )
    removed = bank_store.delete_content(conn, list(ids))
    conn.execute(
        update(victim_submissions)
        .where(victim_submissions.c.id == row.id)
        .values(status="withdrawn", withdrawn_at=datetime.now(UTC))
    )
    audit.record(conn, "victim", "victim.withdraw", reference, removed=removed)
    return removed


def status(conn: Connection, reference: str, secret: str) -> dict[str, object]:
    """What a victim may see of their own submission."""
    row = conn.execute(
        select(victim_submissions).where(victim_submissions.c.reference == reference)
    ).first()
    if row is None or not hmac.compare_digest(row.secret_hash, secret_digest(secret)):
        raise SubmissionError("no submission with that reference and secret")
    held = conn.execute(
        select(bank_content.c.id).where(bank_content.c.submission_id == row.id)
    ).all()
    return {
        "reference": row.reference,
        "status": row.status,
        "created_at": row.created_at.isoformat(),
        "withdrawn_at": row.withdrawn_at.isoformat() if row.withdrawn_at else None,
        "hashes_held": len(held),
    }
