"""The demo's stand-in for a hotline hash list: a bank holding the hashes of the abstract images
that the demo's abusive-pattern communities re-post, so that importing the demo world shows hash
matches end to end (hashed at import, matched, recorded as signals)."""

from __future__ import annotations

from sqlalchemy import Engine

from iolaus.demo.world import World
from iolaus.hashing.media import hash_file
from iolaus.hashing.signals import signals_of
from iolaus.hashing.types import by_name
from iolaus.store import audit
from iolaus.store import banks as bank_store

DEMO_BANK = "DEMO_KNOWN_NCII"


def seed_demo_bank(engine: Engine, world: World) -> int:
    """Create the demo bank if needed and add the world's known images; returns items added."""
    added = 0
    with engine.begin() as conn:
        if bank_store.get_bank(conn, DEMO_BANK) is None:
            bank_store.create_bank(
                conn,
                DEMO_BANK,
                category="ncii",
                description="Demo: hashes of generated abstract images standing in for known NCII",
            )
            audit.record(conn, "demo", "bank.create", DEMO_BANK)
        for path in world.bank_media:
            signals = by_name(signals_of(hash_file(path)))
            added += bank_store.add_content(conn, DEMO_BANK, signals, note="demo known image")[1]
    return added


DEMO_REVIEWER = "demo-reviewer"


def demo_reviewer(engine: Engine) -> tuple[str, str]:
    """The demo's reviewer account with a fresh random password (printed by ``iolaus demo``);
    returns (username, password). Only for the demo database: a real deployment creates its
    users with ``iolaus user create``."""
    import secrets

    from iolaus.store.users import create_user, set_password

    password = secrets.token_urlsafe(12)
    with engine.begin() as conn:
        if not set_password(conn, DEMO_REVIEWER, password):
            create_user(conn, DEMO_REVIEWER, password, "reviewer")
        audit.record(conn, "demo", "user.demo_reviewer", DEMO_REVIEWER)
    return DEMO_REVIEWER, password
