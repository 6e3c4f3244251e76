"""protected persons and community risk

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 15:10:11.896965
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import iolaus.store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "protected_persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("aliases", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", iolaus.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protected_persons")),
    )
    op.create_table(
        "community_risk",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("band", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("stats", sa.Text(), nullable=False),
        sa.Column("computed_at", iolaus.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_community_risk_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_community_risk")),
    )
    with op.batch_alter_table("community_risk", schema=None) as batch_op:
        batch_op.create_index("ix_community_risk_score", ["score"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("community_risk", schema=None) as batch_op:
        batch_op.drop_index("ix_community_risk_score")

    op.drop_table("community_risk")
    op.drop_table("protected_persons")
