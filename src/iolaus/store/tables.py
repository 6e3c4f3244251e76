"""The relational schema. Platform ids are natural keys: every table that mirrors a platform
object has a unique constraint on its external id within its parent, which is what makes
replaying a source idempotent. Surrogate integer keys keep joins and indexes small.

Changing anything here requires a new Alembic migration (``tests/store/test_migrations.py``
fails until the migrations and these tables agree).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from iolaus.store.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

platforms = Table(
    "platforms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform_id", ForeignKey("platforms.id"), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("username", Text, nullable=False),
    Column("display_name", Text),
    Column("discriminator", String(16)),
    Column("is_bot", Boolean, nullable=False, default=False),
    Column("avatar_url", Text),
    Column("observed_at", UTCDateTime, nullable=False),
    UniqueConstraint("platform_id", "external_id"),
)

account_names = Table(
    "account_names",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    UniqueConstraint("account_id", "kind", "name"),
)

communities = Table(
    "communities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform_id", ForeignKey("platforms.id"), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("icon_url", Text),
    Column("nsfw_level", String(32), nullable=False, default="default"),
    Column("owner_account_id", ForeignKey("accounts.id")),
    Column("status", String(16), nullable=False, default="active"),
    Column("observed_at", UTCDateTime, nullable=False),
    UniqueConstraint("platform_id", "external_id"),
)

channels = Table(
    "channels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("topic", Text),
    Column("category_external_id", String(128)),
    Column("category", Text),
    Column("nsfw", Boolean, nullable=False, default=False),
    Column("observed_at", UTCDateTime, nullable=False),
    UniqueConstraint("community_id", "external_id"),
)

memberships = Table(
    "memberships",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("roles", Text, nullable=False, default=""),
    UniqueConstraint("community_id", "account_id"),
    Index("ix_memberships_account_id", "account_id"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("channel_id", ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("author_id", ForeignKey("accounts.id"), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("content", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("edited_at", UTCDateTime),
    Column("is_pinned", Boolean, nullable=False, default=False),
    Column("reply_to_external_id", String(128)),
    Column("observed_at", UTCDateTime, nullable=False),
    UniqueConstraint("channel_id", "external_id"),
    Index("ix_messages_author_id", "author_id"),
    Index("ix_messages_channel_created", "channel_id", "created_at"),
)

message_revisions = Table(
    "message_revisions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("message_id", ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("content", Text, nullable=False),
    Column("edited_at", UTCDateTime),
    Column("superseded_at", UTCDateTime, nullable=False),
    Index("ix_message_revisions_message_id", "message_id"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("message_id", ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("content_type", String(128)),
    Column("media_kind", String(16), nullable=False),
    Column("url", Text, nullable=False),
    UniqueConstraint("message_id", "external_id"),
)
