"""Console users and their server-side sessions.

Passwords are hashed with Argon2id (argon2-cffi's defaults, rehashed when the parameters
change). A session is a random token given to the browser in a cookie; the database holds only
its SHA-256, with a CSRF token for the forms of that session. Sessions expire after a period of
inactivity and at an absolute limit, whatever the activity.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, delete, insert, select, update

from iolaus.errors import IolausError
from iolaus.model.cases import UserRole
from iolaus.store.digest import secret_digest
from iolaus.store.tables import user_sessions, users

IDLE_TIMEOUT = timedelta(hours=2)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
MIN_PASSWORD = 12
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown user as slow as one for a known user.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class UserError(IolausError, ValueError):
    """A username, role or password that cannot be accepted."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: UserRole
    disabled: bool = False


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    expires_at: datetime


def create_user(conn: Connection, username: str, password: str, role: str) -> User:
    if not _USERNAME.match(username):
        raise UserError("username: 2–64 lower-case letters, digits, '.', '_' or '-'")
    try:
        user_role = UserRole(role)
    except ValueError:
        raise UserError(f"role must be one of {', '.join(r.value for r in UserRole)}") from None
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password: at least {MIN_PASSWORD} characters")
    if conn.execute(select(users.c.id).where(users.c.username == username)).first():
        raise UserError(f"user {username} exists already")
    user_id = conn.execute(
        insert(users)
        .values(
            username=username,
            password_hash=_hasher.hash(password),
            role=user_role.value,
            created_at=datetime.now(UTC),
        )
        .returning(users.c.id)
    ).scalar_one()
    return User(int(user_id), username, user_role)


def set_password(conn: Connection, username: str, password: str) -> bool:
    """Replace a user's password and end their sessions."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password: at least {MIN_PASSWORD} characters")
    result = conn.execute(
        update(users)
        .where(users.c.username == username)
        .values(password_hash=_hasher.hash(password))
    )
    conn.execute(
        delete(user_sessions).where(
            user_sessions.c.user_id.in_(select(users.c.id).where(users.c.username == username))
        )
    )
    return bool(result.rowcount)


def list_users(conn: Connection) -> list[User]:
    return [
        User(r.id, r.username, UserRole(r.role), r.disabled_at is not None)
        for r in conn.execute(select(users).order_by(users.c.username))
    ]


def set_disabled(conn: Connection, username: str, disabled: bool) -> bool:
    result = conn.execute(
        update(users)
        .where(users.c.username == username)
        .values(disabled_at=datetime.now(UTC) if disabled else None)
    )
    if disabled:
        conn.execute(
            delete(user_sessions).where(
                user_sessions.c.user_id.in_(select(users.c.id).where(users.c.username == username))
            )
        )
    return bool(result.rowcount)


def authenticate(conn: Connection, username: str, password: str) -> User | None:
    """The user if the password is right and the account enabled; None otherwise (same timing)."""
    row = conn.execute(select(users).where(users.c.username == username)).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled_at is not None:
        return None
    values: dict[str, object] = {"last_login_at": datetime.now(UTC)}
    if _hasher.check_needs_rehash(row.password_hash):
        values["password_hash"] = _hasher.hash(password)
    conn.execute(update(users).where(users.c.id == row.id).values(**values))
    return User(row.id, row.username, UserRole(row.role))


def start_session(conn: Connection, user: User, now: datetime | None = None) -> tuple[str, str]:
    """A new session: returns (cookie token, CSRF token). Only the token's hash is stored."""
    now = now or datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    conn.execute(
        insert(user_sessions).values(
            token_hash=secret_digest(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + ABSOLUTE_TIMEOUT,
            last_seen_at=now,
        )
    )
    return token, csrf


def resume_session(conn: Connection, token: str, now: datetime | None = None) -> Session | None:
    """The live session for a cookie token, refreshed; expired sessions are deleted."""
    now = now or datetime.now(UTC)
    row = conn.execute(
        select(user_sessions, users.c.username, users.c.role, users.c.disabled_at)
        .join(users, users.c.id == user_sessions.c.user_id)
        .where(user_sessions.c.token_hash == secret_digest(token))
    ).first()
    if row is None:
        return None
    if (
        row.disabled_at is not None
        or now >= row.expires_at
        or now - row.last_seen_at > IDLE_TIMEOUT
    ):
        conn.execute(delete(user_sessions).where(user_sessions.c.id == row.id))
        return None
    conn.execute(update(user_sessions).where(user_sessions.c.id == row.id).values(last_seen_at=now))
    user = User(row.user_id, row.username, UserRole(row.role))
    return Session(user, row.csrf_token, row.expires_at)


def end_session(conn: Connection, token: str) -> None:
    conn.execute(delete(user_sessions).where(user_sessions.c.token_hash == secret_digest(token)))
