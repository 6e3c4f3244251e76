"""``INSERT … ON CONFLICT DO UPDATE`` for the two backends Iolaus runs on.

Both SQLite and PostgreSQL speak the same statement; only the spelling of two-argument min/max
differs (``min``/``max`` versus ``least``/``greatest``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, func
from sqlalchemy.dialects import postgresql, sqlite


def earliest(conn: Connection, a: Any, b: Any) -> ColumnElement[Any]:
    return func.least(a, b) if conn.dialect.name == "postgresql" else func.min(a, b)


def latest(conn: Connection, a: Any, b: Any) -> ColumnElement[Any]:
    return func.greatest(a, b) if conn.dialect.name == "postgresql" else func.max(a, b)


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    updates: Callable[[Any], dict[str, Any]],
) -> None:
    """Insert ``rows``; where ``keys`` already exist, apply ``updates(excluded)`` instead."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys), set_=updates(statement.excluded)
    )
    conn.execute(statement, list(rows))
