"""An open community case ready to decide, inserted directly: two authors, three flagged
messages in two channels (one with hashed media), a notice, and a reviewer holding the lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, insert

from iolaus.model.cases import UserRole
from iolaus.store.tables import (
    accounts,
    attachment_hashes,
    attachments,
    cases,
    channels,
    communities,
    messages,
    platforms,
    reports,
    users,
)
from iolaus.store.users import User

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SHA = "ab" * 32


@dataclass(frozen=True)
class OpenCase:
    case_id: int
    community_id: int
    account_id: int
    other_account_id: int
    channel_ids: tuple[int, int]
    message_ids: tuple[int, ...]  # oldest first
    reviewer: User


def seed_open_case(conn: Connection, *, with_community: bool = True) -> OpenCase:
    def new(table, **values):  # type: ignore[no-untyped-def]
        return conn.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()

    platform = new(platforms, name="discord")
    uploader = new(
        accounts, platform_id=platform, external_id="9001", username="uploader", observed_at=NOW
    )
    helper = new(
        accounts, platform_id=platform, external_id="9002", username="helper", observed_at=NOW
    )
    community = new(
        communities, platform_id=platform, external_id="800", name="a place", observed_at=NOW
    )
    channel_ids = tuple(
        new(
            channels,
            community_id=community,
            external_id=f"70{n}",
            name=f"c{n}",
            kind="text",
            observed_at=NOW,
        )
        for n in range(2)
    )
    authors = (uploader, uploader, helper)
    message_ids = tuple(
        new(
            messages,
            channel_id=channel_ids[min(n, 1)],
            external_id=f"60{n}",
            author_id=author,
            kind="Default",
            content="",
            created_at=NOW - timedelta(days=3 - n),
            observed_at=NOW,
        )
        for n, author in enumerate(authors)
    )
    attachment = new(
        attachments,
        message_id=message_ids[0],
        external_id="500",
        file_name="file",
        size_bytes=1,
        media_kind="image",
        url="https://cdn.invalid/file",
    )
    conn.execute(
        insert(attachment_hashes).values(attachment_id=attachment, sha256=SHA, hashed_at=NOW)
    )
    reviewer = new(
        users, username="rev", password_hash="x", role=UserRole.REVIEWER.value, created_at=NOW
    )
    case = new(
        cases,
        subject_kind="community" if with_community else "account",
        subject_key=f"community:{community}" if with_community else f"account:{uploader}",
        community_id=community if with_community else None,
        account_id=uploader,
        category="ncii",
        severity=4,
        priority=1.0,
        status="open",
        reports_count=len(message_ids),
        received_at=NOW - timedelta(hours=2),
        deadline_at=NOW + timedelta(hours=22),
        locked_by=reviewer,
        lock_expires_at=NOW + timedelta(minutes=10),
    )
    for n, message in enumerate(message_ids):
        conn.execute(
            insert(reports).values(
                reference=f"R-TEST000{n}",
                secret_hash="0" * 64,
                case_id=case,
                target_kind="message",
                target=f"https://discord.com/channels/800/70{min(n, 1)}/60{n}",
                message_id=message,
                category="ncii",
                explanation="reported",
                good_faith=True,
                trusted_flagger=False,
                source="web",
                status="triaged",
                received_at=NOW - timedelta(hours=2),
            )
        )
    return OpenCase(
        case,
        community,
        uploader,
        helper,
        channel_ids,  # type: ignore[arg-type]
        message_ids,
        User(reviewer, "rev", UserRole.REVIEWER),
    )
