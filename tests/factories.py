"""Test factories: one function per stored row kind, so that tests name what their world holds
and a schema change is fixed here, once, rather than in every test's column list.

Each factory takes the connection first, the parents it hangs from, and keyword-only values
with defaults a test only overrides when it asserts on them. Each returns the new row's id.
Rows are written with a single insert each: the mirror writer adds name history and
memberships as side effects, which these narrow fixtures must not grow.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, insert

from iolaus.store.mirror import platform_id
from iolaus.store.tables import (
    account_names,
    accounts,
    attachment_hashes,
    attachments,
    cases,
    channels,
    communities,
    decisions,
    memberships,
    messages,
    reports,
    users,
)

AT = datetime(2026, 1, 1, tzinfo=UTC)
"""The default observation time: tests pass their own when they assert on dates."""


def _new(conn: Connection, table: Table, values: dict[str, Any]) -> int:
    return int(conn.execute(insert(table).values(**values).returning(table.c.id)).scalar_one())


def platform(conn: Connection, name: str = "discord") -> int:
    """The platform's row id, created on first use (through the mirror's own helper)."""
    return platform_id(conn, name)


def account(
    conn: Connection,
    platform_id: int,
    external_id: str,
    *,
    username: str = "someone",
    display_name: str | None = None,
    observed_at: datetime = AT,
) -> int:
    """A platform account."""
    return _new(
        conn,
        accounts,
        {
            "platform_id": platform_id,
            "external_id": external_id,
            "username": username,
            "display_name": display_name,
            "observed_at": observed_at,
        },
    )


def account_name(
    conn: Connection, account_id: int, name: str, *, kind: str = "username", seen_at: datetime = AT
) -> None:
    """A name the account was seen under earlier, in its name history."""
    conn.execute(
        insert(account_names).values(
            account_id=account_id, kind=kind, name=name, first_seen_at=seen_at, last_seen_at=seen_at
        )
    )


def community(
    conn: Connection,
    platform_id: int,
    external_id: str,
    *,
    name: str = "a community",
    owner_account_id: int | None = None,
    observed_at: datetime = AT,
) -> int:
    """A community (server) on a platform."""
    return _new(
        conn,
        communities,
        {
            "platform_id": platform_id,
            "external_id": external_id,
            "name": name,
            "owner_account_id": owner_account_id,
            "observed_at": observed_at,
        },
    )


def membership(
    conn: Connection, community_id: int, account_id: int, *, seen_at: datetime = AT
) -> None:
    """An account's membership of a community, first and last seen at ``seen_at``."""
    conn.execute(
        insert(memberships).values(
            community_id=community_id,
            account_id=account_id,
            first_seen_at=seen_at,
            last_seen_at=seen_at,
        )
    )


def channel(
    conn: Connection,
    community_id: int,
    external_id: str,
    *,
    name: str = "general",
    kind: str = "text",
    observed_at: datetime = AT,
) -> int:
    """A channel of a community."""
    return _new(
        conn,
        channels,
        {
            "community_id": community_id,
            "external_id": external_id,
            "name": name,
            "kind": kind,
            "observed_at": observed_at,
        },
    )


def message(
    conn: Connection,
    channel_id: int,
    external_id: str,
    author_id: int,
    *,
    content: str = "",
    created_at: datetime = AT,
    observed_at: datetime = AT,
) -> int:
    """A plain message posted by ``author_id``."""
    return _new(
        conn,
        messages,
        {
            "channel_id": channel_id,
            "external_id": external_id,
            "author_id": author_id,
            "kind": "Default",
            "content": content,
            "created_at": created_at,
            "observed_at": observed_at,
        },
    )


def attachment(
    conn: Connection,
    message_id: int,
    external_id: str,
    *,
    media_kind: str = "image",
    sha256: str | None = None,
    hashed_at: datetime = AT,
) -> int:
    """A one-byte file attached to a message, with its SHA-256 stored when one is given."""
    attachment_id = _new(
        conn,
        attachments,
        {
            "message_id": message_id,
            "external_id": external_id,
            "file_name": "file",
            "size_bytes": 1,
            "media_kind": media_kind,
            "url": "https://cdn.invalid/file",
        },
    )
    if sha256 is not None:
        conn.execute(
            insert(attachment_hashes).values(
                attachment_id=attachment_id, sha256=sha256, hashed_at=hashed_at
            )
        )
    return attachment_id


def user(
    conn: Connection,
    username: str,
    *,
    role: str = "reviewer",
    password_hash: str = "x",
    created_at: datetime = AT,
) -> int:
    """A console user whose password hash is a placeholder: no test logs in with it."""
    return _new(
        conn,
        users,
        {
            "username": username,
            "password_hash": password_hash,
            "role": role,
            "created_at": created_at,
        },
    )


def case(conn: Connection, **values: Any) -> int:
    """A case row; the caller gives every column it asserts on (subject, status, dates...)."""
    return _new(conn, cases, {"severity": 4, "priority": 1.0, **values})


def report(conn: Connection, case_id: int, reference: str, **values: Any) -> None:
    """A web notice attached to a case, in good faith, from a non-trusted notifier unless told."""
    _new(
        conn,
        reports,
        {
            "reference": reference,
            "secret_hash": "0" * 64,
            "case_id": case_id,
            "target_kind": "message",
            "explanation": "reported",
            "good_faith": True,
            "trusted_flagger": False,
            "source": "web",
            **values,
        },
    )


def decision(conn: Connection, case_id: int, reviewer_id: int, **values: Any) -> int:
    """A reviewer's decision on a case, not automated unless told."""
    return _new(
        conn,
        decisions,
        {"case_id": case_id, "reviewer_id": reviewer_id, "automated_detection": False, **values},
    )
