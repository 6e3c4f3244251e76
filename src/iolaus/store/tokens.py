"""API tokens: bearer secrets for the HTTP API, stored as SHA-256 digests only.

A token is ``iol_`` followed by 32 random bytes (URL-safe base64), shown once at creation. Only
its SHA-256 is stored. A slow password hash (Argon2, bcrypt) protects *low-entropy* secrets
against guessing after a database leak; a 256-bit random token cannot be guessed, so a fast hash
loses nothing and lets every request be checked with one indexed lookup. Looking up by digest
also means no secret is ever compared byte by byte, so no constant-time compare is needed.

Creation and revocation are written to the audit log with the token's id, name and role, never
the token or its digest.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from iolaus.errors import IolausError
from iolaus.model.access import Role, Token
from iolaus.model.signals import Category
from iolaus.store import audit
from iolaus.store.digest import secret_digest
from iolaus.store.tables import api_tokens

PREFIX = "iol_"
_MAX_TOKEN_LENGTH = 128  # a real token is 47 characters; anything far longer is not one of ours
LAST_USED_RESOLUTION = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per token: a busy client must not turn every
request into a database write."""

TOKEN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")


class TokenError(IolausError, ValueError):
    """A token request that cannot be accepted (bad name or role, unknown token)."""


def _token(row: Any) -> Token:
    return Token(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        trusted_flagger=row.trusted_flagger,
        expertise=tuple(row.expertise.split(",")) if row.expertise else (),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def _check_name(conn: Connection, name: str) -> None:
    """Names appear in the audit log as ``token:<name>``: plain characters, unique while active,
    so that every logged action points at one live credential."""
    if not TOKEN_NAME.match(name):
        raise TokenError(
            f"invalid token name {name[:40]!r}: 1–128 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    taken = conn.execute(
        select(api_tokens.c.id).where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
    ).first()
    if taken is not None:
        raise TokenError(f"an active token is already named {name!r}: revoke it or pick another")


def create_token(
    conn: Connection,
    name: str,
    role: Role | str,
    *,
    trusted_flagger: bool = False,
    expertise: Sequence[str] = (),
    actor: str = "cli",
) -> tuple[int, str]:
    """Create a token; returns (id, plaintext). The plaintext is not stored and cannot be
    recovered: hand it to its holder now. ``expertise`` limits a trusted flagger's priority to
    those categories."""
    areas = sorted(set(expertise))
    unknown = [a for a in areas if a not in {c.value for c in Category}]
    if unknown:
        raise TokenError(
            f"unknown categories {unknown} (one of {', '.join(c.value for c in Category)})"
        )
    if areas and not trusted_flagger:
        raise TokenError("areas of expertise are for trusted flaggers only")
    try:
        role = Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise TokenError(f"unknown role {role!r} (one of {choices})") from None
    _check_name(conn, name)
    plaintext = PREFIX + secrets.token_urlsafe(32)
    token_id = conn.execute(
        insert(api_tokens)
        .values(
            name=name,
            role=role.value,
            token_hash=secret_digest(plaintext),
            trusted_flagger=trusted_flagger,
            expertise=",".join(areas) or None,
            created_at=datetime.now(UTC),
        )
        .returning(api_tokens.c.id)
    ).scalar_one()
    audit.record(
        conn,
        actor,
        "token.create",
        f"token:{token_id}",
        name=name,
        role=role.value,
        trusted_flagger=trusted_flagger,
        **({"expertise": areas} if areas else {}),
    )
    return int(token_id), plaintext


def verify_token(conn: Connection, plaintext: str, *, now: datetime | None = None) -> Token | None:
    """The active token with this secret, or None. Records when it was last used."""
    if not plaintext.startswith(PREFIX) or len(plaintext) > _MAX_TOKEN_LENGTH:
        return None
    row = conn.execute(
        select(api_tokens).where(api_tokens.c.token_hash == secret_digest(plaintext))
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    token = _token(row)
    now = now or datetime.now(UTC)
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        conn.execute(update(api_tokens).where(api_tokens.c.id == token.id).values(last_used_at=now))
        token = replace(token, last_used_at=now)
    return token


def list_tokens(conn: Connection, *, include_revoked: bool = True) -> list[Token]:
    query = select(api_tokens).order_by(api_tokens.c.id)
    if not include_revoked:
        query = query.where(api_tokens.c.revoked_at.is_(None))
    return [_token(row) for row in conn.execute(query)]


def revoke_token(conn: Connection, token_id: int, *, actor: str = "cli") -> Token:
    """Revoke a token at once: the next request made with it is refused."""
    row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
    if row is None:
        raise TokenError(f"no token with id {token_id}")
    if row.revoked_at is not None:
        raise TokenError(f"token {token_id} ({row.name}) was already revoked")
    now = datetime.now(UTC)
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=now))
    audit.record(conn, actor, "token.revoke", f"token:{token_id}", name=row.name, role=row.role)
    return replace(_token(row), revoked_at=now)
