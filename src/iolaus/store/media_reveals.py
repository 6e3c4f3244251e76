"""Which reviewers chose to see which case's media unshielded.

Stored, not held in a server's memory, so that every process serving the console agrees and a
restart forgets nothing; a reveal belongs to the reviewer (any of their sessions) and one case.
Iolaus keeps no image bytes, so a reveal changes what the page says, not what it can show.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from iolaus.store.tables import media_reveals


def is_revealed(conn: Connection, user_id: int, case_id: int) -> bool:
    row = conn.execute(
        select(media_reveals.c.user_id).where(
            media_reveals.c.user_id == user_id, media_reveals.c.case_id == case_id
        )
    ).first()
    return row is not None


def toggle_reveal(conn: Connection, user_id: int, case_id: int, now: datetime) -> bool:
    """Reveal the case's media to the reviewer, or shield them again; True when now revealed."""
    removed = conn.execute(
        delete(media_reveals).where(
            media_reveals.c.user_id == user_id, media_reveals.c.case_id == case_id
        )
    ).rowcount
    if removed:
        return False
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    reveal = dialect.insert(media_reveals).values(user_id=user_id, case_id=case_id, revealed_at=now)
    conn.execute(reveal.on_conflict_do_nothing())  # a double click reveals once
    return True
