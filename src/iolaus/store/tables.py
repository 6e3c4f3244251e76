"""The relational schema. Platform ids are natural keys: every table that mirrors a platform
object has a unique constraint on its external id within its parent, which is what makes
replaying a source idempotent. Surrogate integer keys keep joins and indexes small.

Changing anything here requires a new Alembic migration (``tests/store/test_migrations.py``
fails until the migrations and these tables agree).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
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
    Column("deleted_at", UTCDateTime),  # deleted on the platform; kept here (it may be evidence)
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

# -- media hashes on attachments ----------------------------------------------------------------

attachment_hashes = Table(
    "attachment_hashes",
    metadata,
    Column("attachment_id", ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True),
    Column("pdq", String(64)),
    Column("pdq_quality", Integer),
    Column("md5", String(32)),
    Column("sha256", String(64)),
    Column("video_frames", Integer),
    Column("error", Text),
    Column("hashed_at", UTCDateTime, nullable=False),
    Index("ix_attachment_hashes_md5", "md5"),
    Index("ix_attachment_hashes_pdq", "pdq"),
)

# -- hash banks (HMA's curation model) ----------------------------------------------------------

banks = Table(
    "banks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("description", Text),
    Column("category", String(32), nullable=False),
    Column("pdq_threshold", Integer, nullable=False, default=31),
    Column("is_allowlist", Boolean, nullable=False, default=False),
    Column("enabled_ratio", Float, nullable=False, default=1.0),
    Column("created_at", UTCDateTime, nullable=False),
)

bank_content = Table(
    "bank_content",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("bank_id", ForeignKey("banks.id", ondelete="CASCADE"), nullable=False),
    Column("disable_until_ts", BigInteger, nullable=False, default=1),
    Column("content_ref", Text),
    Column("content_uri", Text),
    Column("original_media_uri", Text),
    Column("metadata_json", Text),
    Column("note", String(255)),
    Column("source", String(128), nullable=False, default="manual"),
    Column("submission_id", ForeignKey("victim_submissions.id", ondelete="CASCADE")),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_bank_content_bank_id", "bank_id"),
    Index("ix_bank_content_submission_id", "submission_id"),
)

bank_signals = Table(
    "bank_signals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("content_id", ForeignKey("bank_content.id", ondelete="CASCADE"), nullable=False),
    Column("signal_type", String(32), nullable=False),
    Column("value", String(128), nullable=False),
    UniqueConstraint("content_id", "signal_type"),
    Index("ix_bank_signals_type_value", "signal_type", "value"),
)

hash_changes = Table(
    "hash_changes",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("signal_type", String(32), nullable=False),
    Column("content_id", Integer, nullable=False),
    Column("op", String(8), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

victim_submissions = Table(
    "victim_submissions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reference", String(32), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    Column("status", String(16), nullable=False, default="active"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("withdrawn_at", UTCDateTime),
)

# -- exchanges (python-threatexchange's SignalExchangeAPI model) ---------------------------------

exchanges = Table(
    "exchanges",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("api", String(64), nullable=False),
    Column("bank_id", ForeignKey("banks.id", ondelete="CASCADE"), nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("config_json", Text, nullable=False, default="{}"),
    Column("credentials", LargeBinary),
    Column("checkpoint_json", Text),
    Column("fetch_started_at", UTCDateTime),
    Column("fetch_completed_at", UTCDateTime),
    Column("fetch_succeeded", Boolean),
    Column("fetch_error", Text),
    Column("fetched_items", Integer, nullable=False, default=0),
)

exchange_records = Table(
    "exchange_records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("exchange_id", ForeignKey("exchanges.id", ondelete="CASCADE"), nullable=False),
    Column("record_key", String(255), nullable=False),
    Column("content_id", ForeignKey("bank_content.id", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("exchange_id", "record_key"),
    Index("ix_exchange_records_content_id", "content_id"),
)

# -- access and accountability ------------------------------------------------------------------

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("role", String(32), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("trusted_flagger", Boolean, nullable=False, default=False),
    Column("expertise", Text),  # comma-separated categories; NULL: every area
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", Text),
    Column("details", Text),
    Index("ix_audit_log_at", "at"),
)

# -- signals: a detector's finding, with a human explanation -------------------------------------

signals = Table(
    "signals",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("dedupe_key", String(255), nullable=False, unique=True),
    Column("detector", String(64), nullable=False),
    Column("category", String(32), nullable=False),
    Column("severity", Integer, nullable=False),
    Column("score", Float, nullable=False),
    # What the finding is about (message, channel, community, network) and what fired: a list
    # of typed references ({"kind": "rule" | "bank" | "community", ...}); see store/signals.py.
    Column("scope", String(16), nullable=False, server_default="community"),
    Column("refs", JSON, nullable=False, server_default=text("'[]'")),
    Column("explanation", Text, nullable=False),
    Column("details", JSON(none_as_null=True)),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE")),
    Column("channel_id", ForeignKey("channels.id", ondelete="CASCADE")),
    Column("message_id", ForeignKey("messages.id", ondelete="CASCADE")),
    Column("attachment_id", ForeignKey("attachments.id", ondelete="CASCADE")),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE")),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_signals_community_id", "community_id"),
    Index("ix_signals_message_id", "message_id"),
    Index("ix_signals_account_id", "account_id"),
)

# -- detection ------------------------------------------------------------------------------------

pending_detection = Table(
    # Communities an ingest touched and detection has not yet covered, written in the ingest's
    # own transaction: a crash between ingest and detection leaves the row, and the next drain
    # (next import, the worker's tick) does the work. ``generation`` grows with every touch, so
    # a drain removes only what it covered; ``claimed_by`` / ``claimed_until`` lease rows to one
    # drain at a time, and an expired lease (a crashed drain) frees them again.
    "pending_detection",
    metadata,
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True),
    Column("queued_at", UTCDateTime, nullable=False),
    Column("generation", Integer, nullable=False, default=1),
    Column("claimed_by", String(36)),
    Column("claimed_until", UTCDateTime),
)

protected_persons = Table(
    "protected_persons",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("aliases", Text, nullable=False, default="[]"),
    Column("note", Text),
    Column("created_at", UTCDateTime, nullable=False),
)

community_risk = Table(
    "community_risk",
    metadata,
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True),
    Column("score", Float, nullable=False),
    Column("band", String(16), nullable=False),
    Column("reasons", Text, nullable=False),
    Column("stats", Text, nullable=False),
    Column("computed_at", UTCDateTime, nullable=False),
    Index("ix_community_risk_score", "score"),
)

# -- reports, cases, decisions (DSA Arts. 16, 17, 20, 22) ------------------------------------------

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_login_at", UTCDateTime),
    Column("disabled_at", UTCDateTime),
)

user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject_kind", String(16), nullable=False),  # community | account | media
    Column("subject_key", String(255), nullable=False),  # e.g. community:12, media:<sha256>
    Column("community_id", ForeignKey("communities.id", ondelete="SET NULL")),
    Column("account_id", ForeignKey("accounts.id", ondelete="SET NULL")),
    Column("category", String(32), nullable=False),
    Column("severity", Integer, nullable=False),
    Column("priority", Float, nullable=False),
    Column("status", String(16), nullable=False),  # open | decided | closed
    Column("reports_count", Integer, nullable=False, default=0),
    Column("signals_count", Integer, nullable=False, default=0),
    Column("trusted_flagger", Boolean, nullable=False, default=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("triaged_at", UTCDateTime),
    Column("first_viewed_at", UTCDateTime),
    Column("decided_at", UTCDateTime),
    Column("actioned_at", UTCDateTime),
    Column("deadline_at", UTCDateTime, nullable=False),
    Column("escalated_at", UTCDateTime),
    Column("locked_by", ForeignKey("users.id", ondelete="SET NULL")),
    Column("lock_expires_at", UTCDateTime),
    Index("ix_cases_status_priority", "status", "priority"),
    Index("ix_cases_subject_key", "subject_key"),
    # One open case per subject, even when two first reports arrive at the same instant.
    Index(
        "uq_cases_open_subject",
        "subject_key",
        unique=True,
        sqlite_where=text("status = 'open'"),
        postgresql_where=text("status = 'open'"),
    ),
    Index("ix_cases_deadline_at", "deadline_at"),
)

reports = Table(
    "reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reference", String(32), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    Column("case_id", ForeignKey("cases.id", ondelete="SET NULL")),
    Column("target_kind", String(16), nullable=False),  # community|channel|message|account|media
    Column("target", Text, nullable=False),  # platform id or URL as given
    Column("community_id", ForeignKey("communities.id", ondelete="SET NULL")),
    Column("channel_id", ForeignKey("channels.id", ondelete="SET NULL")),
    Column("message_id", ForeignKey("messages.id", ondelete="SET NULL")),
    Column("account_id", ForeignKey("accounts.id", ondelete="SET NULL")),
    Column("category", String(32), nullable=False),
    Column("explanation", Text, nullable=False),
    Column("notifier_name", Text),
    Column("notifier_email", Text),
    Column("good_faith", Boolean, nullable=False),
    Column("trusted_flagger", Boolean, nullable=False, default=False),
    Column("source", String(128), nullable=False),  # web | api:<token name>
    Column("status", String(16), nullable=False),  # received | triaged | decided
    Column("received_at", UTCDateTime, nullable=False),
    Column("acknowledged_at", UTCDateTime),
    Column("notifier_informed_at", UTCDateTime),
    Index("ix_reports_case_id", "case_id"),
)

case_events = Table(
    "case_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("details", Text),
    Index("ix_case_events_case_id", "case_id"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("reviewer_id", ForeignKey("users.id", ondelete="SET NULL")),
    Column("violation", Boolean, nullable=False),
    Column("category", String(32)),
    Column("ground", String(16)),  # illegal | terms
    Column("legal_reference", Text),
    Column("terms_reference", Text),
    Column("explanation", Text, nullable=False),
    Column("actions", Text, nullable=False, default="[]"),
    Column("automated_detection", Boolean, nullable=False, default=False),
    Column("decided_at", UTCDateTime, nullable=False),
    Column("reversed_by_appeal_id", Integer),
    Index("ix_decisions_case_id", "case_id"),
)

statements_of_reasons = Table(
    "statements_of_reasons",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("decision_id", ForeignKey("decisions.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", ForeignKey("accounts.id", ondelete="SET NULL")),
    Column("puid", String(128), nullable=False, unique=True),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("exported_at", UTCDateTime),
)

appeals = Table(
    "appeals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("decision_id", ForeignKey("decisions.id", ondelete="CASCADE"), nullable=False),
    Column("reference", String(32), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    Column("appellant", Text, nullable=False),  # account platform id or report reference
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False),  # open | upheld | reversed
    Column("filed_at", UTCDateTime, nullable=False),
    Column("reviewer_id", ForeignKey("users.id", ondelete="SET NULL")),
    Column("decided_at", UTCDateTime),
    Column("outcome", Text),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("decision_id", ForeignKey("decisions.id", ondelete="SET NULL")),
    Column("kind", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
)

# -- web state shared by every server process ------------------------------------------------------

media_reveals = Table(
    "media_reveals",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("revealed_at", UTCDateTime, nullable=False),
)
"""A reviewer's choice to see a case's media unshielded; the row's absence is the shield."""

rate_limit_windows = Table(
    "rate_limit_windows",
    metadata,
    Column("scope", String(32), primary_key=True),  # e.g. report.submit, appeal.status
    Column("client", String(128), primary_key=True),  # the peer address
    Column("hits", Integer, nullable=False),
    Column("expires_at", Float, nullable=False),  # seconds since the epoch
    Index("ix_rate_limit_windows_expires_at", "expires_at"),
)
"""One open window per client and limit: its hits so far and when it ends. Rows of ended
windows are deleted as new windows open, so the table holds only recent clients."""
