"""Reports, cases and decisions: the vocabulary shared by intake, triage, the console and the
legal exports. Plain enums and constants, no I/O."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from iolaus.model.signals import Category


class UserRole(StrEnum):
    """Console roles: ``legal`` exports statements of reasons and reports; ``viewer`` reads."""

    ADMIN = "admin"
    REVIEWER = "reviewer"
    LEGAL = "legal"
    VIEWER = "viewer"


class SubjectKind(StrEnum):
    """What a case is about: a community when there is one, else an account or a media item."""

    COMMUNITY = "community"
    ACCOUNT = "account"
    MEDIA = "media"


class TargetKind(StrEnum):
    """What a notifier points at (DSA Art. 16(2)(b): the exact location)."""

    COMMUNITY = "community"
    CHANNEL = "channel"
    MESSAGE = "message"
    ACCOUNT = "account"
    MEDIA = "media"


class CaseStatus(StrEnum):
    OPEN = "open"
    DECIDED = "decided"
    CLOSED = "closed"


class ReportStatus(StrEnum):
    RECEIVED = "received"
    TRIAGED = "triaged"
    DECIDED = "decided"


class Ground(StrEnum):
    """The basis of a decision: illegal content (with a legal reference) or terms of service."""

    ILLEGAL = "illegal"
    TERMS = "terms"


class CaseEvent(StrEnum):
    """Every step of a case is timestamped (received → triaged → viewed → decided → actioned)."""

    RECEIVED = "received"
    SUBJECT_RESOLVED = "subject_resolved"
    REPORT_MERGED = "report_merged"
    SIGNAL_MERGED = "signal_merged"
    TRIAGED = "triaged"
    VIEWED = "viewed"
    LOCKED = "locked"
    UNLOCKED = "unlocked"
    ESCALATED = "escalated"
    MEDIA_REVEALED = "media_revealed"
    DECIDED = "decided"
    ACTIONED = "actioned"
    APPEALED = "appealed"
    APPEAL_DECIDED = "appeal_decided"


# Default deadlines per category (configurable): CSAM within the hour, NCII and sexual deepfakes
# within a day, the rest within three days.
DEFAULT_DEADLINES: dict[Category, timedelta] = {
    Category.CSAM: timedelta(hours=1),
    Category.NCII: timedelta(hours=24),
    Category.SEXUAL_DEEPFAKE: timedelta(hours=24),
}
OTHER_DEADLINE = timedelta(hours=72)
APPEAL_WINDOW = timedelta(days=183)  # DSA Art. 20(1): at least six months
LOCK_DURATION = timedelta(minutes=15)
