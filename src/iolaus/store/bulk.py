"""Bulk inserts that go straight to the driver's ``executemany``.

SQLAlchemy's per-row parameter processing costs more than SQLite's own insert; for the rows an
import writes by the million (messages, attachments) the statement is compiled once per table
and column set, and rows are handed to the driver as they are. Only timestamps need converting,
and only on SQLite, into the exact text form SQLAlchemy itself writes and reads back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, insert

from iolaus.store.types import UTCDateTime

_Compiled = tuple[str, tuple[str, ...] | None, tuple[Callable[[Any], Any] | None, ...]]
_cache: dict[tuple[str, str, tuple[str, ...]], _Compiled] = {}


def _sqlite_timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # drop "+00:00": stored text is UTC


def _compile(conn: Connection, table: Table, keys: tuple[str, ...]) -> _Compiled:
    cache_key = (conn.dialect.name, table.name, keys)
    compiled = _cache.get(cache_key)
    if compiled is None:
        statement = insert(table).compile(dialect=conn.dialect, column_keys=list(keys))
        positions = statement.positiontup
        order = tuple(positions) if positions is not None else None
        converters: tuple[Callable[[Any], Any] | None, ...] = ()
        if order is not None and conn.dialect.name == "sqlite":
            converters = tuple(
                _sqlite_timestamp if isinstance(table.c[k].type, UTCDateTime) else None
                for k in order
            )
        compiled = (str(statement), order, converters)
        _cache[cache_key] = compiled
    return compiled


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, values already valid for their columns)."""
    if not rows:
        return
    sql, order, converters = _compile(conn, table, tuple(rows[0]))
    if order is None:  # named parameters (psycopg): the driver adapts aware datetimes itself
        conn.exec_driver_sql(sql, list(rows))
        return
    columns = []
    for key, convert in zip(order, converters or (None,) * len(order), strict=True):
        values = [row[key] for row in rows]
        if convert is not None:
            values = _convert_column(values, convert)
        columns.append(values)
    conn.exec_driver_sql(sql, list(zip(*columns, strict=True)))


def _convert_column(values: list[Any], convert: Callable[[Any], Any]) -> list[Any]:
    """Convert a column, reusing the result for runs of the same object (e.g. one
    observation time shared by a whole batch)."""
    result = []
    last: Any = object()
    converted: Any = None
    for value in values:
        if value is not last:
            last, converted = value, convert(value)
        result.append(converted)
    return result
