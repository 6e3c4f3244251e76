"""The durable hand-off from ingest to detection: communities waiting to be scanned.

The writer queues every community a unit touched inside that unit's transaction, so the queue
and the mirror never disagree. A drain claims the free rows under a lease (a drain that dies
holds them only until the lease runs out), runs detection and triage, then removes the rows it
covered. A row touched again while its drain ran has a newer ``generation`` and stays queued.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, delete, func, or_, select, update

from iolaus.store.tables import pending_detection as t
from iolaus.store.upsert import upsert


def queue(conn: Connection, community_ids: Iterable[int], now: datetime) -> None:
    """Mark communities as waiting for detection (again, if they already were)."""
    upsert(
        conn,
        t,
        [{"community_id": cid, "queued_at": now, "generation": 1} for cid in sorted(community_ids)],
        ("community_id",),
        lambda _excluded: {"generation": t.c.generation + 1},
    )


def claim(conn: Connection, token: str, now: datetime, until: datetime) -> dict[int, int]:
    """Lease every free row (never claimed, or its lease expired) to ``token``; returns the
    claimed community ids with the generation each was claimed at."""
    conn.execute(
        update(t)
        .where(or_(t.c.claimed_by.is_(None), t.c.claimed_until < now))
        .values(claimed_by=token, claimed_until=until)
    )
    rows = conn.execute(
        select(t.c.community_id, t.c.generation).where(t.c.claimed_by == token)
    ).all()
    return {int(row.community_id): int(row.generation) for row in rows}


def complete(conn: Connection, token: str, claimed: Mapping[int, int]) -> None:
    """Remove the rows ``token`` covered; rows touched since they were claimed stay, freed."""
    if claimed:
        conn.execute(
            delete(t).where(
                and_(
                    t.c.community_id == bindparam("cid"),
                    t.c.generation == bindparam("gen"),
                    t.c.claimed_by == token,
                )
            ),
            [{"cid": cid, "gen": gen} for cid, gen in claimed.items()],
        )
    release(conn, token)


def release(conn: Connection, token: str) -> None:
    """Give back what ``token`` still holds, for the next drain to take at once."""
    conn.execute(
        update(t).where(t.c.claimed_by == token).values(claimed_by=None, claimed_until=None)
    )


def waiting(conn: Connection) -> int:
    """How many communities wait for detection (claimed or not)."""
    return int(conn.execute(select(func.count()).select_from(t)).scalar_one())
