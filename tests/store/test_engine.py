"""Database URLs operators type are understood, and unsupported ones refused clearly."""

from __future__ import annotations

import pytest

from iolaus.store.engine import DatabaseURLError, normalise_url, open_engine


def test_postgres_urls_use_psycopg() -> None:
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert open_engine("postgresql://u@127.0.0.1/db").dialect.driver == "psycopg"


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(DatabaseURLError, match="unsupported database 'mysql'"):
        open_engine("mysql://u@h/db")
    with pytest.raises(DatabaseURLError, match="not a database URL"):
        open_engine("::::://")
