"""API tokens in the store and through the ``iolaus token`` and ``iolaus serve`` commands."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

import iolaus.cli.web  # noqa: F401  (registers `serve` and `token` until the CLI imports it)
from iolaus.cli import app
from iolaus.model.access import Role
from iolaus.store import audit
from iolaus.store import tokens as store
from iolaus.store.digest import secret_digest
from iolaus.store.tables import api_tokens

runner = CliRunner()


def test_token_lifecycle(engine: Engine) -> None:
    with engine.begin() as conn:
        token_id, plaintext = store.create_token(conn, "ci-matcher", "matcher")
    assert plaintext.startswith("iol_") and len(plaintext) >= 40
    with engine.begin() as conn:
        row = conn.execute(select(api_tokens)).one()
        assert row.token_hash == secret_digest(plaintext) and plaintext not in str(row._mapping)
        token = store.verify_token(conn, plaintext)
    assert token is not None
    assert (token.id, token.name, token.role, token.actor) == (
        token_id,
        "ci-matcher",
        Role.MATCHER,
        "token:ci-matcher",
    )
    assert token.last_used_at is not None

    with engine.begin() as conn:
        other = plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")
        assert store.verify_token(conn, other) is None
        assert store.verify_token(conn, "") is None
        revoked = store.revoke_token(conn, token_id)
        assert revoked.revoked_at is not None
        assert store.verify_token(conn, plaintext) is None
        with pytest.raises(store.TokenError, match="already revoked"):
            store.revoke_token(conn, token_id)
        with pytest.raises(store.TokenError, match="no token"):
            store.revoke_token(conn, 12345)
        assert [t.id for t in store.list_tokens(conn)] == [token_id]
        assert store.list_tokens(conn, include_revoked=False) == []


def test_last_used_is_written_at_most_once_a_minute(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        _, plaintext = store.create_token(conn, "busy", Role.HASHER)
        first = store.verify_token(conn, plaintext)
        assert first is not None and first.last_used_at is not None
        soon = store.verify_token(conn, plaintext, now=first.last_used_at + timedelta(seconds=30))
        assert soon is not None and soon.last_used_at == first.last_used_at
        later = first.last_used_at + timedelta(minutes=2)
        assert store.verify_token(conn, plaintext, now=later).last_used_at == later  # type: ignore[union-attr]
        stored = conn.execute(select(api_tokens.c.last_used_at)).scalar_one()
        assert stored == later


def test_names_and_roles_are_checked(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        for name in ("", "has space", "[bold]x", "-dash-first", "x" * 129, "tab\tname"):
            with pytest.raises(store.TokenError, match="invalid token name"):
                store.create_token(conn, name, Role.HASHER)
        with pytest.raises(store.TokenError, match="unknown role"):
            store.create_token(conn, "ok", "superuser")
        store.create_token(conn, "same", Role.HASHER)
        with pytest.raises(store.TokenError, match="already named"):
            store.create_token(conn, "same", Role.ADMIN)


def test_audit_log_never_holds_the_token(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        token_id, plaintext = store.create_token(
            conn, "hotline", Role.REPORTER, trusted_flagger=True, actor="token:root"
        )
        store.revoke_token(conn, token_id, actor="cli")
        entries = audit.recent(conn)
    assert [(e["action"], e["actor"], e["target"]) for e in reversed(entries)] == [
        ("token.create", "token:root", f"token:{token_id}"),
        ("token.revoke", "cli", f"token:{token_id}"),
    ]
    assert entries[1]["details"] == {"name": "hotline", "role": "reporter", "trusted_flagger": True}
    dumped = json.dumps(entries)
    assert plaintext not in dumped and secret_digest(plaintext) not in dumped


def run(db: Path, *args: str) -> Any:
    return runner.invoke(app, ["--db", str(db), *args])


def test_token_commands(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    created = run(db, "token", "create", "--name", "ci-curator", "--role", "curator")
    assert created.exit_code == 0, created.output
    plaintext = next(line for line in created.stdout.splitlines() if line.startswith("iol_"))
    assert "cannot be shown again" in created.stdout

    listed = run(db, "token", "list", "--json")
    [entry] = json.loads(listed.stdout)
    assert entry["name"] == "ci-curator" and entry["role"] == "curator"
    assert entry["revoked_at"] is None and plaintext not in listed.stdout
    assert "ci-curator" in run(db, "token", "list").stdout

    assert run(db, "token", "create", "--name", "x", "--role", "root").exit_code != 0
    duplicate = run(db, "token", "create", "--name", "ci-curator", "--role", "hasher")
    assert duplicate.exit_code == 1 and "already named" in duplicate.stderr

    assert run(db, "token", "revoke", str(entry["id"])).exit_code == 0
    assert json.loads(run(db, "token", "list", "--json").stdout)[0]["revoked_at"] is not None
    again = run(db, "token", "revoke", str(entry["id"]))
    assert again.exit_code == 1 and "already revoked" in again.stderr


def test_serve_runs_uvicorn_on_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(options))
    result = run(tmp_path / "s.db", "serve", "--port", "8123")
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123" in result.stdout and "no API token yet" in result.stdout
    assert calls[0]["host"] == "127.0.0.1" and calls[0]["port"] == 8123
