"""The Alembic migrations and the table definitions agree, on both backends, both ways."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from iolaus.store import migrate
from iolaus.store.engine import open_engine
from iolaus.store.tables import metadata


def test_upgrade_matches_tables_and_downgrade_empties(db_url: str) -> None:
    engine = open_engine(db_url)
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], f"tables.py and the migrations differ: {diff}"
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_ensure_schema_refuses_an_old_schema_when_auto_migrate_is_off(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    engine = open_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(migrate.SchemaOutOfDateError, match="iolaus db upgrade"):
        migrate.ensure_schema(engine, auto_migrate=False)
    migrate.ensure_schema(engine, auto_migrate=True)
    migrate.ensure_schema(engine, auto_migrate=False)  # now at head: accepted


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = open_engine(str(tmp_path / "plain-path.db"))  # a bare path means SQLite
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
