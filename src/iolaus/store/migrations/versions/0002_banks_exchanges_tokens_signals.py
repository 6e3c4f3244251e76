"""hash banks, exchanges, tokens, audit log, signals

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 14:45:48.275424
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import iolaus.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("trusted_flagger", sa.Boolean(), nullable=False),
        sa.Column("created_at", iolaus.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", iolaus.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", iolaus.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", iolaus.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_at", ["at"], unique=False)

    op.create_table(
        "banks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("pdq_threshold", sa.Integer(), nullable=False),
        sa.Column("is_allowlist", sa.Boolean(), nullable=False),
        sa.Column("enabled_ratio", sa.Float(), nullable=False),
        sa.Column("created_at", iolaus.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_banks")),
        sa.UniqueConstraint("name", name=op.f("uq_banks_name")),
    )
    op.create_table(
        "hash_changes",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("signal_type", sa.String(length=32), nullable=False),
        sa.Column("content_id", sa.Integer(), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("at", iolaus.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_hash_changes")),
    )
    op.create_table(
        "victim_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", iolaus.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", iolaus.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_victim_submissions")),
        sa.UniqueConstraint("reference", name=op.f("uq_victim_submissions_reference")),
    )
    op.create_table(
        "bank_content",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("disable_until_ts", sa.BigInteger(), nullable=False),
        sa.Column("content_ref", sa.Text(), nullable=True),
        sa.Column("content_uri", sa.Text(), nullable=True),
        sa.Column("original_media_uri", sa.Text(), nullable=True),
        sa.Column("metadata_json", sa.Text(), nullable=True),
        sa.Column("note", sa.String(length=255), nullable=True),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("created_at", iolaus.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_id"],
            ["banks.id"],
            name=op.f("fk_bank_content_bank_id_banks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["victim_submissions.id"],
            name=op.f("fk_bank_content_submission_id_victim_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_content")),
    )
    with op.batch_alter_table("bank_content", schema=None) as batch_op:
        batch_op.create_index("ix_bank_content_bank_id", ["bank_id"], unique=False)
        batch_op.create_index("ix_bank_content_submission_id", ["submission_id"], unique=False)

    op.create_table(
        "exchanges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("api", sa.String(length=64), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("config_json", sa.Text(), nullable=False),
        sa.Column("credentials", sa.LargeBinary(), nullable=True),
        sa.Column("checkpoint_json", sa.Text(), nullable=True),
        sa.Column("fetch_started_at", iolaus.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "fetch_completed_at", iolaus.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("fetch_succeeded", sa.Boolean(), nullable=True),
        sa.Column("fetch_error", sa.Text(), nullable=True),
        sa.Column("fetched_items", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["banks.id"], name=op.f("fk_exchanges_bank_id_banks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchanges")),
        sa.UniqueConstraint("name", name=op.f("uq_exchanges_name")),
    )
    op.create_table(
        "bank_signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_id", sa.Integer(), nullable=False),
        sa.Column("signal_type", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["bank_content.id"],
            name=op.f("fk_bank_signals_content_id_bank_content"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_signals")),
        sa.UniqueConstraint("content_id", "signal_type", name=op.f("uq_bank_signals_content_id")),
    )
    with op.batch_alter_table("bank_signals", schema=None) as batch_op:
        batch_op.create_index("ix_bank_signals_type_value", ["signal_type", "value"], unique=False)

    op.create_table(
        "exchange_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exchange_id", sa.Integer(), nullable=False),
        sa.Column("record_key", sa.String(length=255), nullable=False),
        sa.Column("content_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["bank_content.id"],
            name=op.f("fk_exchange_records_content_id_bank_content"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["exchange_id"],
            ["exchanges.id"],
            name=op.f("fk_exchange_records_exchange_id_exchanges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_records")),
        sa.UniqueConstraint(
            "exchange_id", "record_key", name=op.f("uq_exchange_records_exchange_id")
        ),
    )
    with op.batch_alter_table("exchange_records", schema=None) as batch_op:
        batch_op.create_index("ix_exchange_records_content_id", ["content_id"], unique=False)

    op.create_table(
        "attachment_hashes",
        sa.Column(
            "attachment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("pdq", sa.String(length=64), nullable=True),
        sa.Column("pdq_quality", sa.Integer(), nullable=True),
        sa.Column("md5", sa.String(length=32), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("video_frames", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("hashed_at", iolaus.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachments.id"],
            name=op.f("fk_attachment_hashes_attachment_id_attachments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("attachment_id", name=op.f("pk_attachment_hashes")),
    )
    with op.batch_alter_table("attachment_hashes", schema=None) as batch_op:
        batch_op.create_index("ix_attachment_hashes_md5", ["md5"], unique=False)
        batch_op.create_index("ix_attachment_hashes_pdq", ["pdq"], unique=False)

    op.create_table(
        "signals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("detector", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "attachment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", iolaus.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_signals_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachments.id"],
            name=op.f("fk_signals_attachment_id_attachments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_signals_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_signals_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_signals_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signals")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_signals_dedupe_key")),
    )
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.create_index("ix_signals_community_id", ["community_id"], unique=False)
        batch_op.create_index("ix_signals_message_id", ["message_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_index("ix_signals_message_id")
        batch_op.drop_index("ix_signals_community_id")

    op.drop_table("signals")
    with op.batch_alter_table("attachment_hashes", schema=None) as batch_op:
        batch_op.drop_index("ix_attachment_hashes_pdq")
        batch_op.drop_index("ix_attachment_hashes_md5")

    op.drop_table("attachment_hashes")
    with op.batch_alter_table("exchange_records", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_records_content_id")

    op.drop_table("exchange_records")
    with op.batch_alter_table("bank_signals", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_signals_type_value")

    op.drop_table("bank_signals")
    op.drop_table("exchanges")
    with op.batch_alter_table("bank_content", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_content_submission_id")
        batch_op.drop_index("ix_bank_content_bank_id")

    op.drop_table("bank_content")
    op.drop_table("victim_submissions")
    op.drop_table("hash_changes")
    op.drop_table("banks")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_at")

    op.drop_table("audit_log")
    op.drop_table("api_tokens")
