"""typed signals: scope and refs columns, details as JSON

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 14:30:00.000000

Existing rows get their scope from what they point at and their references from the details
their detector wrote (``rule`` for rule findings; bank, item, signal type and distance for hash
matches); ``details`` was JSON text and becomes a JSON column.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_BANK_FIELDS = ("bank", "signal_type", "distance", "content_id")


def _refs(details: dict[str, Any]) -> list[dict[str, Any]]:
    if "rule" in details:
        return [{"kind": "rule", "name": details["rule"]}]
    if all(key in details for key in _BANK_FIELDS):
        return [{"kind": "bank", **{key: details[key] for key in _BANK_FIELDS}}]
    return []


def upgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scope", sa.String(length=16), server_default="community", nullable=False)
        )
        batch_op.add_column(
            sa.Column("refs", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.alter_column(
            "details",
            existing_type=sa.Text(),
            type_=sa.JSON(none_as_null=True),
            existing_nullable=True,
            postgresql_using="details::json",
        )
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "UPDATE signals SET scope = CASE WHEN message_id IS NOT NULL THEN 'message' "
            "WHEN channel_id IS NOT NULL THEN 'channel' ELSE 'community' END"
        )
    )
    signals = sa.table(
        "signals",
        sa.column("id", sa.Integer),
        sa.column("details", sa.JSON),
        sa.column("refs", sa.JSON),
    )
    updates = []
    for row_id, details in conn.execute(sa.select(signals.c.id, signals.c.details)):
        refs = _refs(json.loads(details) if isinstance(details, str) else details or {})
        if refs:
            updates.append({"row_id": row_id, "refs": refs})
    if updates:
        conn.execute(signals.update().where(signals.c.id == sa.bindparam("row_id")), updates)


def downgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.alter_column(
            "details",
            existing_type=sa.JSON(none_as_null=True),
            type_=sa.Text(),
            existing_nullable=True,
            postgresql_using="details::text",
        )
        batch_op.drop_column("refs")
        batch_op.drop_column("scope")
