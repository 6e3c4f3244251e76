"""Console users: Argon2 passwords, server-side sessions that expire, the user commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from iolaus.cli import app
from iolaus.store import users
from iolaus.store.tables import user_sessions
from iolaus.store.tables import users as users_table

PASSWORD = "correct horse battery"


def test_passwords_are_argon2_and_sessions_expire(engine: Engine) -> None:
    with engine.begin() as conn:
        user = users.create_user(conn, "rev.one", PASSWORD, "reviewer")
        stored = conn.execute(select(users_table.c.password_hash)).scalar_one()
        assert stored.startswith("$argon2id$") and PASSWORD not in stored
        with pytest.raises(users.UserError, match="at least"):
            users.create_user(conn, "short", "tiny", "viewer")
        with pytest.raises(users.UserError, match="role"):
            users.create_user(conn, "odd", PASSWORD, "superuser")
        assert users.authenticate(conn, "rev.one", "wrong password!") is None
        assert users.authenticate(conn, "nobody", PASSWORD) is None
        assert users.authenticate(conn, "rev.one", PASSWORD) == user

        now = datetime(2026, 1, 1, tzinfo=UTC)
        token, csrf = users.start_session(conn, user, now)
        assert conn.execute(select(user_sessions.c.token_hash)).scalar_one() != token
        session = users.resume_session(conn, token, now + timedelta(minutes=30))
        assert session is not None and session.csrf_token == csrf and session.user == user
        assert users.resume_session(conn, token, now + timedelta(hours=3)) is None  # idle
        assert users.resume_session(conn, token, now) is None  # deleted when it expired

        token, _ = users.start_session(conn, user, now)
        users.set_disabled(conn, "rev.one", True)
        assert users.resume_session(conn, token, now) is None
        assert users.authenticate(conn, "rev.one", PASSWORD) is None


def test_user_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    db = str(tmp_path / "u.db")
    monkeypatch.setenv("REVIEWER_PASSWORD", PASSWORD)
    result = runner.invoke(
        app,
        [
            "--db",
            db,
            "user",
            "create",
            "--username",
            "demo",
            "--role",
            "reviewer",
            "--password-env",
            "REVIEWER_PASSWORD",
        ],
    )
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(
        app,
        ["--db", db, "user", "create", "--username", "typed", "--role", "viewer"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0
    listing = runner.invoke(app, ["--db", db, "user", "list", "--json"]).stdout
    assert '"username": "demo"' in listing and '"role": "reviewer"' in listing
    assert runner.invoke(app, ["--db", db, "user", "disable", "demo"]).exit_code == 0
    assert runner.invoke(app, ["--db", db, "user", "disable", "ghost"]).exit_code == 1
