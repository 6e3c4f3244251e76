"""Alembic, driven from Python: the migrations ship inside the package, so ``iolaus db upgrade``
works from an installed wheel with no ``alembic.ini`` lying around."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from iolaus.errors import IolausError


class SchemaOutOfDateError(IolausError, RuntimeError):
    """The database is behind the code and automatic migration is switched off."""


def _config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "iolaus.store:migrations")
    cfg.attributes["engine"] = engine
    return cfg


def head_revision(engine: Engine) -> str | None:
    """The revision the code expects."""
    return ScriptDirectory.from_config(_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    command.upgrade(_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Revert migrations down to ``revision`` (``base`` empties the schema)."""
    command.downgrade(_config(engine), revision)


def ensure_schema(engine: Engine, *, auto_migrate: bool) -> None:
    """Bring the schema to head, or refuse to run against an out-of-date one."""
    if current_revision(engine) == head_revision(engine):
        return
    if not auto_migrate:
        raise SchemaOutOfDateError(
            "the database schema is not at the current revision: run `iolaus db upgrade`"
        )
    upgrade(engine)
