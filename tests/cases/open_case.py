"""An open community case ready to decide, built from the test factories: two authors, three flagged
messages in two channels (one with hashed media), a notice, and a reviewer holding the lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from iolaus.model.cases import UserRole
from iolaus.store.users import User
from tests import factories

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
    platform = factories.platform(conn)
    uploader = factories.account(conn, platform, "9001", username="uploader", observed_at=NOW)
    helper = factories.account(conn, platform, "9002", username="helper", observed_at=NOW)
    community = factories.community(conn, platform, "800", name="a place", observed_at=NOW)
    channel_ids = tuple(
        factories.channel(conn, community, f"70{n}", name=f"c{n}", observed_at=NOW)
        for n in range(2)
    )
    authors = (uploader, uploader, helper)
    message_ids = tuple(
        factories.message(
            conn,
            channel_ids[min(n, 1)],
            f"60{n}",
            author,
            created_at=NOW - timedelta(days=3 - n),
            observed_at=NOW,
        )
        for n, author in enumerate(authors)
    )
    factories.attachment(conn, message_ids[0], "500", sha256=SHA, hashed_at=NOW)
    reviewer = factories.user(conn, "rev", role=UserRole.REVIEWER.value, created_at=NOW)
    case = factories.case(
        conn,
        subject_kind="community" if with_community else "account",
        subject_key=f"community:{community}" if with_community else f"account:{uploader}",
        community_id=community if with_community else None,
        account_id=uploader,
        category="ncii",
        status="open",
        reports_count=len(message_ids),
        received_at=NOW - timedelta(hours=2),
        deadline_at=NOW + timedelta(hours=22),
        locked_by=reviewer,
        lock_expires_at=NOW + timedelta(minutes=10),
    )
    for n, message in enumerate(message_ids):
        factories.report(
            conn,
            case,
            f"R-TEST000{n}",
            target=f"https://discord.com/channels/800/70{min(n, 1)}/60{n}",
            message_id=message,
            category="ncii",
            status="triaged",
            received_at=NOW - timedelta(hours=2),
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
