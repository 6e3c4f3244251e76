"""Rate-limit windows in the database, so that every server process counts against one budget.

Each (scope, client) has one open window: the first hit opens it for ``window`` seconds, later
hits count up to the limit, and a hit after the window's end opens a new one. One upsert per hit
does all of it atomically on SQLite and PostgreSQL alike (a refused hit leaves the count at
``limit + 1`` and the window's end unchanged, so it is not counted and a client that waits is let
in). Opening a window also deletes every window that has ended, so the table only ever holds the
clients seen within the longest window.
"""

from __future__ import annotations

import math

from sqlalchemy import Connection, case, delete
from sqlalchemy.dialects import postgresql, sqlite

from iolaus.store.tables import rate_limit_windows as windows

MAX_CLIENT = 128
"""Longest client key stored (an IPv6 address is at most 45 characters)."""


def count_hit(
    conn: Connection, scope: str, client: str, *, limit: int, window: int, now: float
) -> int | None:
    """Count one hit by ``client`` against ``limit`` per ``window`` seconds (``now`` in seconds
    since the epoch). None when allowed, else the whole seconds until the window ends."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(windows).values(
        scope=scope, client=client[:MAX_CLIENT], hits=1, expires_at=now + window
    )
    ended = windows.c.expires_at <= now
    statement = statement.on_conflict_do_update(
        index_elements=[windows.c.scope, windows.c.client],
        set_={
            "hits": case((ended, 1), (windows.c.hits < limit, windows.c.hits + 1), else_=limit + 1),
            "expires_at": case((ended, statement.excluded.expires_at), else_=windows.c.expires_at),
        },
    ).returning(windows.c.hits, windows.c.expires_at)
    hits, expires_at = conn.execute(statement).one()
    if hits == 1:
        conn.execute(delete(windows).where(windows.c.expires_at <= now))
    if hits > limit:
        return max(1, math.ceil(expires_at - now))
    return None
