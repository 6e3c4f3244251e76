"""Report intake (DSA Art. 16): validate a notice, locate what it points at, store it and merge it
into the open case about the same community, account or media item.

The public form and the API share :func:`validate`, so both accept exactly the same notices and
explain a refusal field by field. Name and e-mail are optional for every category: Art. 16(2)(c)
requires CSAM notices to be accepted anonymously, and nothing is gained by demanding them
elsewhere. A notice that fails validation stores nothing.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from iolaus.cases import triage
from iolaus.cases.triage import DEFAULT_POLICY, Subject, TriagePolicy
from iolaus.errors import IolausError
from iolaus.model.cases import ReportStatus, SubjectKind, TargetKind
from iolaus.model.signals import Category
from iolaus.store import audit
from iolaus.store.digest import secret_digest
from iolaus.store.tables import accounts, channels, communities, messages, platforms, reports

MAX_TARGET = 2048
MIN_EXPLANATION, MAX_EXPLANATION = 20, 5000
MAX_NAME, MAX_EMAIL = 200, 254
CATEGORY_LABELS: dict[Category, str] = {
    Category.CSAM: "Child sexual abuse material",
    Category.NCII: "Intimate images shared without consent (revenge porn)",
    Category.VOYEURISM: "Covert or stolen intimate images (voyeurism)",
    Category.SEXUAL_DEEPFAKE: "Sexual deepfakes",
    Category.SEXTORTION: "Sextortion (threats to share intimate images)",
    Category.DOXXING: "Doxxing (publishing someone's personal details)",
    Category.SOLICITATION: "Asking others to share such images",
    Category.BAN_EVASION: "A banned community or account back under another name",
}
OTHER_REFUSED = (
    "this service handles the categories listed only; report other illegal content through "
    "the platform's general reporting channel"
)
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone
_DISCORD = r"https?://(?:(?:ptb|canary)\.)?discord(?:app)?\.com"
_CHANNELS_LINK = re.compile(_DISCORD + r"/channels/(\d{1,25})(?:/(\d{1,25}))?(?:/(\d{1,25}))?/?")
_USER_LINK = re.compile(_DISCORD + r"/users/(\d{1,25})/?")
_ID_PATH = re.compile(r"(\d{1,25})(?:/(\d{1,25}))?(?:/(\d{1,25}))?")
_PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRUE = (True, "true", "on", "yes", "1")


class InvalidReport(IolausError, ValueError):
    """Field → message for every problem found, so a form can show them all at once."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Target:
    """Where the notice points (Art. 16(2)(b)), as platform ids."""

    kind: TargetKind
    raw: str
    platform: str | None = None
    """``discord`` when the notifier gave a Discord link; None for bare ids (any platform)."""
    community: str | None = None
    channel: str | None = None
    message: str | None = None
    account: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class ValidReport:
    target: Target
    category: Category
    explanation: str
    notifier_name: str | None
    notifier_email: str | None


@dataclass(frozen=True)
class Receipt:
    """What the notifier gets back; ``secret`` exists nowhere else (only its SHA-256 is kept)."""

    reference: str
    secret: str
    case_id: int
    received_at: datetime


def _text(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    return value.strip() if isinstance(value, str) else ""


def parse_target(kind: TargetKind, text: str) -> Target:
    """Read a link or id for ``kind``; ValueError says which forms are accepted."""
    link = _CHANNELS_LINK.fullmatch(text)
    path = None if link else _ID_PATH.fullmatch(text)
    parts = link or path
    platform = "discord" if link else None
    if kind is TargetKind.MEDIA:
        if not _SHA256.fullmatch(text):
            raise ValueError(
                "give the file's SHA-256 (64 hexadecimal characters); to point at where it was "
                "posted, report the message instead"
            )
        return Target(kind, text, sha256=text.lower())
    if kind is TargetKind.ACCOUNT:
        user = _USER_LINK.fullmatch(text)
        if user:
            return Target(kind, text, platform="discord", account=user.group(1))
        if _PLAIN_ID.fullmatch(text):
            return Target(kind, text, account=text)
        raise ValueError("give the account's id or its profile link (https://discord.com/users/…)")
    if kind is TargetKind.COMMUNITY:
        if parts:
            return Target(kind, text, platform=platform, community=parts.group(1))
        if _PLAIN_ID.fullmatch(text):
            return Target(kind, text, community=text)
        raise ValueError("give the server's id or a link into it (https://discord.com/channels/…)")
    depth = 2 if kind is TargetKind.CHANNEL else 3
    if parts is None or parts.group(depth) is None:
        example = "server/channel" if depth == 2 else "server/channel/message"
        raise ValueError(
            f"give the {kind.value} link (https://discord.com/channels/{example}) or the ids as "
            f"{example}, so that the {kind.value} can be located"
        )
    return Target(
        kind,
        text,
        platform=platform,
        community=parts.group(1),
        channel=parts.group(2),
        message=parts.group(3) if depth == 3 else None,
    )


def validate(raw: Mapping[str, Any]) -> ValidReport:
    """Check a notice from the form or the API; raises :class:`InvalidReport` with every problem."""
    errors: dict[str, str] = {}
    kinds = ", ".join(k.value for k in TargetKind)
    kind = None
    try:
        kind = TargetKind(_text(raw, "target_kind"))
    except ValueError:
        errors["target_kind"] = f"choose what you are reporting ({kinds})"
    target_text = _text(raw, "target")
    target = None
    if not target_text:
        errors["target"] = "give the link or id of what you are reporting"
    elif len(target_text) > MAX_TARGET or _CONTROL.search(target_text):
        errors["target"] = f"a link or id of at most {MAX_TARGET} plain characters"
    elif kind is not None:
        try:
            target = parse_target(kind, target_text)
        except ValueError as exc:
            errors["target"] = str(exc)

    category_text = _text(raw, "category")
    category = None
    if category_text == "other":
        errors["category"] = OTHER_REFUSED
    else:
        try:
            category = Category(category_text)
        except ValueError:
            errors["category"] = "choose a category: " + ", ".join(c.value for c in Category)

    explanation = _text(raw, "explanation")
    if not MIN_EXPLANATION <= len(explanation) <= MAX_EXPLANATION:
        errors["explanation"] = (
            f"explain in {MIN_EXPLANATION}–{MAX_EXPLANATION} characters why this is illegal or "
            f"abusive (you wrote {len(explanation)})"
        )
    elif _CONTROL.search(explanation):
        errors["explanation"] = "remove the control characters from the explanation"

    name = _text(raw, "notifier_name") or None
    if name is not None and (len(name) > MAX_NAME or _CONTROL.search(name)):
        errors["notifier_name"] = f"a name of at most {MAX_NAME} plain characters, or nothing"
    email = _text(raw, "notifier_email") or None
    if email is not None and (len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email)):
        errors["notifier_email"] = "an e-mail address such as name@example.org, or nothing"

    if raw.get("good_faith") not in _TRUE:
        errors["good_faith"] = "confirm that you believe in good faith the notice is accurate"
    if errors:
        raise InvalidReport(errors)
    assert target is not None and category is not None
    return ValidReport(target, category, explanation, name, email)


# -- locating the target ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Located:
    community_id: int | None = None
    channel_id: int | None = None
    message_id: int | None = None
    account_id: int | None = None


def _platform_ids(conn: Connection, platform: str | None) -> list[int]:
    query = select(platforms.c.id).order_by(platforms.c.id)
    if platform is not None:
        query = query.where(platforms.c.name == platform)
    return list(conn.execute(query).scalars())


def _unique(conn: Connection, table: Any, platform_ids: list[int], external_id: str) -> int | None:
    """The row with this platform id when exactly one platform has it: a bare id that two
    platforms share is left for the reviewer rather than guessed."""
    found = conn.execute(
        select(table.c.id)
        .where(table.c.platform_id.in_(platform_ids), table.c.external_id == external_id)
        .limit(2)
    ).all()
    return found[0][0] if len(found) == 1 else None


def locate(conn: Connection, target: Target) -> Located:
    """Stored rows for the target, as far as they are mirrored (uses the natural-key indexes)."""
    platform_ids = _platform_ids(conn, target.platform)
    if target.account is not None:
        return Located(account_id=_unique(conn, accounts, platform_ids, target.account))
    if target.community is None:
        return Located()
    community_id = _unique(conn, communities, platform_ids, target.community)
    channel_id = message_id = author_id = None
    if community_id is not None and target.channel is not None:
        channel_id = conn.execute(
            select(channels.c.id).where(
                channels.c.community_id == community_id, channels.c.external_id == target.channel
            )
        ).scalar()
    if channel_id is not None and target.message is not None:
        found = conn.execute(
            select(messages.c.id, messages.c.author_id).where(
                messages.c.channel_id == channel_id, messages.c.external_id == target.message
            )
        ).first()
        if found is not None:
            message_id, author_id = found
    return Located(community_id, channel_id, message_id, author_id)


def subject_of(target: Target, located: Located) -> Subject:
    """The case a notice belongs to: its community when there is one, else its account or media
    item. A community or account not mirrored yet is keyed by its platform id, so that notices
    about it still gather in one case."""
    if located.community_id is not None:
        key = f"community:{located.community_id}"
        return Subject(SubjectKind.COMMUNITY, key, community_id=located.community_id)
    if target.community is not None:
        return Subject(SubjectKind.COMMUNITY, f"community-ext:{target.community}")
    if located.account_id is not None:
        key = f"account:{located.account_id}"
        return Subject(SubjectKind.ACCOUNT, key, account_id=located.account_id)
    if target.account is not None:
        return Subject(SubjectKind.ACCOUNT, f"account-ext:{target.account}")
    assert target.sha256 is not None
    return Subject(SubjectKind.MEDIA, f"media:{target.sha256}")


# -- storing ---------------------------------------------------------------------------------------


def submit(
    conn: Connection,
    report: ValidReport,
    *,
    source: str,
    actor: str,
    trusted_flagger: bool = False,
    now: datetime | None = None,
    policy: TriagePolicy = DEFAULT_POLICY,
) -> Receipt:
    """Store a validated notice and merge it into its case, in the caller's transaction.

    ``source`` is ``web`` or ``api:<token name>``; ``actor`` is what the audit log records. The
    receipt shown at once is the Art. 16(4) confirmation, hence ``acknowledged_at``."""
    now = now or datetime.now(UTC)
    located = locate(conn, report.target)
    reference = "R-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(10))
    secret = secrets.token_urlsafe(24)
    case_id = triage.merge(
        conn,
        subject_of(report.target, located),
        report.category,
        now=now,
        actor=actor,
        trusted=trusted_flagger,
        new_reports=1,
        policy=policy,
        report=reference,
    )
    conn.execute(
        insert(reports).values(
            reference=reference,
            secret_hash=secret_digest(secret),
            case_id=case_id,
            target_kind=report.target.kind.value,
            target=report.target.raw,
            community_id=located.community_id,
            channel_id=located.channel_id,
            message_id=located.message_id,
            account_id=located.account_id,
            category=report.category.value,
            explanation=report.explanation,
            notifier_name=report.notifier_name,
            notifier_email=report.notifier_email,
            good_faith=True,
            trusted_flagger=trusted_flagger,
            source=source,
            status=ReportStatus.TRIAGED.value,
            received_at=now,
            acknowledged_at=now,
        )
    )
    audit.record(
        conn,
        actor,
        "report.receive",
        reference,
        case=case_id,
        category=report.category.value,
        target_kind=report.target.kind.value,
        located=located.community_id is not None or located.account_id is not None,
        trusted_flagger=trusted_flagger,
        anonymous=report.notifier_email is None and report.notifier_name is None,
    )
    return Receipt(reference, secret, case_id, now)
