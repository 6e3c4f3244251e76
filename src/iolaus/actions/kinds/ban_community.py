"""``ban_community``: the platform closes the case's community."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update

from iolaus.actions.kinds.base import CommunityAction, Restriction
from iolaus.store import audit
from iolaus.store.tables import communities


class BanCommunity(CommunityAction):
    """Marks the community banned at once (the hydra watch and the console rely on the status),
    whether or not the platform has acted yet."""

    kind = "ban_community"
    restriction = Restriction(
        "decision_provision",
        "DECISION_PROVISION_TOTAL_TERMINATION",
        "The community where it was shared was closed.",
    )

    def apply(
        self, conn: Connection, decision_id: int, payload: dict[str, Any], now: datetime
    ) -> None:
        conn.execute(
            update(communities)
            .where(communities.c.id == payload["community_id"])
            .values(status="banned")
        )
        audit.record(
            conn,
            f"decision:{decision_id}",
            "community.ban",
            f"community:{payload['community_id']}",
        )
