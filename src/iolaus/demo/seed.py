"""The demo's stand-in for a hotline hash list: a bank holding the hashes of the abstract images
that the demo's abusive-pattern communities re-post, so that importing the demo world shows hash
matches end to end (hashed at import, matched, recorded as signals)."""

from __future__ import annotations

from sqlalchemy import Engine

from iolaus.demo.world import World
from iolaus.hashing.media import hash_file
from iolaus.hashing.signals import signals_of
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
            signals = signals_of(hash_file(path))
            added += bank_store.add_content(conn, DEMO_BANK, signals, note="demo known image")[1]
    return added
