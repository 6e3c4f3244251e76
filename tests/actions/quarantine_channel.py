"""An example action kind, the way a plug-in adds one: this module and one ``register`` call.

``quarantine_channel`` asks the platform to disable the channels the flagged messages were
posted in; a statement of reasons records it as content disabled. Nothing else in Iolaus
changes: the console offers it, a decision derives its targets, the outbox stores it and a
transport delivers it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from iolaus.actions.kinds.base import CaseEvidence, DeliveredOnly, InvalidAction, Restriction
from iolaus.store.tables import messages


class QuarantineChannel(DeliveredOnly):
    kind = "quarantine_channel"
    restriction = Restriction(
        "decision_visibility",
        "DECISION_VISIBILITY_CONTENT_DISABLED",
        "The channel where it was shared was quarantined.",
    )

    def targets(self, conn: Connection, evidence: CaseEvidence) -> dict[str, Any]:
        channel_ids = sorted(
            conn.execute(
                select(messages.c.channel_id)
                .where(messages.c.id.in_(evidence.message_ids))
                .distinct()
            ).scalars()
        )
        if not channel_ids:
            raise InvalidAction(f"{self.kind}: no flagged message in this case")
        return {"channel_ids": channel_ids}
