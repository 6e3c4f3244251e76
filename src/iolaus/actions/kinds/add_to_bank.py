"""``add_to_bank``: the flagged messages' media hashes go to the receiver's hash bank."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from iolaus.actions.kinds.base import MAX_TARGETS, CaseEvidence, DeliveredOnly, InvalidAction
from iolaus.store.tables import attachment_hashes, attachments


class AddToBank(DeliveredOnly):
    kind = "add_to_bank"

    def targets(self, conn: Connection, evidence: CaseEvidence) -> dict[str, Any]:
        rows = conn.execute(
            select(attachment_hashes.c.sha256)
            .join(attachments, attachments.c.id == attachment_hashes.c.attachment_id)
            .where(
                attachments.c.message_id.in_(evidence.message_ids),
                attachment_hashes.c.sha256.is_not(None),
            )
            .distinct()
        )
        hashes = sorted(rows.scalars())[:MAX_TARGETS]
        if not hashes:
            raise InvalidAction(f"{self.kind}: no hashed media among the flagged messages")
        return {"sha256": hashes}
