"""Shared fixtures: a fresh database on each backend, and synthetic export files.

PostgreSQL tests use the real server named by ``IOLAUS_TEST_POSTGRES_URL`` (default: the local
server on 127.0.0.1:5432, database ``test``); each test gets a database of its own, dropped
afterwards. Where no server answers they are skipped with that reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from iolaus.store.engine import open_engine
from iolaus.store.migrate import ensure_schema

POSTGRES_URL = os.environ.get(
    "IOLAUS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
SHARED_PHOTOS = Path(
    os.environ.get(
        "IOLAUS_SHARED_PHOTOS",
        Path(__file__).resolve().parents[1].parent / "shared" / "data" / "photos",
    )
)


def _postgres_admin() -> psycopg.Connection:
    try:
        return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}".splitlines()[0])


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a brand-new, empty PostgreSQL database, dropped after the test."""
    admin = _postgres_admin()
    name = f"iolaus_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend Iolaus supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'iolaus.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a migrated, empty database."""
    eng = open_engine(db_url)
    ensure_schema(eng, auto_migrate=True)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    eng = open_engine(f"sqlite:///{tmp_path / 'iolaus.db'}")
    ensure_schema(eng, auto_migrate=True)
    yield eng
    eng.dispose()


@pytest.fixture
def shared_photos() -> Path:
    """The benign reference photos from ``../shared``; absent on a fresh clone elsewhere."""
    if not SHARED_PHOTOS.is_dir():
        pytest.skip(f"reference photos not found at {SHARED_PHOTOS} (set IOLAUS_SHARED_PHOTOS)")
    return SHARED_PHOTOS
