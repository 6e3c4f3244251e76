"""The append-only audit log: every privileged action, who did it, to what, and when.

Details never hold secrets (tokens, credentials, victim withdrawal secrets) nor hash values of
victim submissions; callers pass identifiers only.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from iolaus.store.tables import audit_log


def record(
    conn: Connection, actor: str, action: str, target: str | None = None, **details: Any
) -> None:
    conn.execute(
        insert(audit_log).values(
            at=datetime.now(UTC),
            actor=actor,
            action=action,
            target=target,
            details=json.dumps(details, default=str, sort_keys=True) if details else None,
        )
    )


def recent(conn: Connection, limit: int = 100) -> list[dict[str, Any]]:
    rows = conn.execute(select(audit_log).order_by(audit_log.c.id.desc()).limit(limit))
    return [
        {
            "at": r.at.isoformat(),
            "actor": r.actor,
            "action": r.action,
            "target": r.target,
            "details": json.loads(r.details) if r.details else {},
        }
        for r in rows
    ]
