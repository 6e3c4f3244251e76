"""Engines for the embedded default (SQLite in WAL mode) and for PostgreSQL.

SQLite gets WAL so that readers (the console) never block the importer, ``synchronous=NORMAL``
(durable at checkpoints, safe with WAL), enforced foreign keys and a busy timeout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from iolaus.errors import IolausError


class DatabaseURLError(IolausError, ValueError):
    """The database URL names no driver Iolaus supports."""


def normalise_url(url: str) -> str:
    """Accept the URL forms operators type and map them to the drivers Iolaus ships with."""
    if "://" not in url:
        # A bare path means an SQLite file: friendlier than a URL for the embedded default.
        return f"sqlite:///{Path(url)}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def open_engine(url: str) -> Engine:
    """Create an engine for ``url`` with the per-backend settings Iolaus relies on."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError as exc:
        raise DatabaseURLError(f"not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True)
    raise DatabaseURLError(
        f"unsupported database {backend!r}: use sqlite:///PATH or postgresql://USER@HOST/DB"
    )
