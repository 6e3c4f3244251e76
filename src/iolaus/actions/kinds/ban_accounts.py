"""``ban_accounts``: the platform terminates the most active authors of the flagged messages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from iolaus.actions.kinds.base import CaseEvidence, DeliveredOnly, InvalidAction, Restriction
from iolaus.store.tables import messages

MAX_BANNED_ACCOUNTS = 20
"""Account bans go to the most active flagged authors only: a community's bystanders are not
banned for being members."""


class BanAccounts(DeliveredOnly):
    kind = "ban_accounts"
    restriction = Restriction(
        "decision_account",
        "DECISION_ACCOUNT_TERMINATED",
        "The account was terminated.",
        per_account=True,
    )

    def targets(self, conn: Connection, evidence: CaseEvidence) -> dict[str, Any]:
        """The most active authors of flagged messages, else the case's own account."""
        authors: list[int] = []
        if evidence.message_ids:
            count = func.count().label("n")
            rows = conn.execute(
                select(messages.c.author_id, count)
                .where(messages.c.id.in_(evidence.message_ids))
                .group_by(messages.c.author_id)
                .order_by(count.desc(), messages.c.author_id)
                .limit(MAX_BANNED_ACCOUNTS)
            )
            authors = [r.author_id for r in rows]
        if not authors and evidence.account_id is not None:
            authors = [evidence.account_id]
        if not authors:
            raise InvalidAction(f"{self.kind}: no flagged author or account in this case")
        return {"account_ids": authors}
