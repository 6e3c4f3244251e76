"""Fixtures for the HTTP API tests: the app over a fresh database, with a token per role."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.web.helpers import Api, make_api


@pytest.fixture
def api(engine: Engine) -> Api:
    """The API on each database backend."""
    return make_api(engine)


@pytest.fixture
def sqlite_api(sqlite_engine: Engine) -> Api:
    """The API on SQLite only, for tests whose subject is not the database."""
    return make_api(sqlite_engine)
