"""Reviewers' names, for the pages that say who holds or decided something."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from iolaus.store.tables import users


def usernames(conn: Connection, ids: Iterable[int | None]) -> dict[int, str]:
    """Console user id → username, for the ids given (``None`` entries are skipped)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = conn.execute(select(users.c.id, users.c.username).where(users.c.id.in_(wanted)))
    return {r.id: r.username for r in rows}
