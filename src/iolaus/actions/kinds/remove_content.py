"""``remove_content``: the platform removes the case's flagged messages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from iolaus.actions.kinds.base import CaseEvidence, DeliveredOnly, InvalidAction, Restriction


class RemoveContent(DeliveredOnly):
    kind = "remove_content"
    restriction = Restriction(
        "decision_visibility", "DECISION_VISIBILITY_CONTENT_REMOVED", "The content was removed."
    )

    def targets(self, conn: Connection, evidence: CaseEvidence) -> dict[str, Any]:
        if not evidence.message_ids:
            raise InvalidAction(f"{self.kind}: no flagged message in this case")
        return {"message_ids": list(evidence.message_ids)}
