"""``watch_successors``: the hydra linker watches for the community's successors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from iolaus.actions.kinds.base import CommunityAction
from iolaus.store import audit


class WatchSuccessors(CommunityAction):
    """Records that the community's successors are watched for; the hydra linker reads it."""

    kind = "watch_successors"

    def apply(
        self, conn: Connection, decision_id: int, payload: dict[str, Any], now: datetime
    ) -> None:
        audit.record(
            conn,
            f"decision:{decision_id}",
            "community.watch_successors",
            f"community:{payload['community_id']}",
        )
