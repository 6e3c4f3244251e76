"""What every kind of action is made of, and the shared shapes a kind module reuses.

A kind (one module each beside this one) names itself, finds its targets in the case's evidence,
completes and checks its payload, names its target for the idempotency key, applies its local
effects in the decision's transaction, and says what a DSA statement of reasons records it as
restricting (``Restriction``), or that it restricts nothing the user sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, select

from iolaus.actions import outbox
from iolaus.errors import IolausError
from iolaus.store.tables import communities, platforms

MAX_TARGETS = 500
"""Most message ids, hashes or accounts one action names; a webhook payload must stay small."""


class InvalidAction(IolausError, ValueError):
    """An action whose payload does not name what it needs (or names what does not exist), or
    one the case gives no target for; the message says why, for the reviewer."""


@dataclass(frozen=True)
class CaseEvidence:
    """What a case points at, as the kinds see it: the reviewer picks *what* to do, this says
    *to whom*. ``message_ids`` are the flagged messages, newest first."""

    case_id: int
    community_id: int | None
    account_id: int | None
    message_ids: tuple[int, ...]


@dataclass(frozen=True)
class Restriction:
    """What a statement of reasons (DSA Art. 17(3)(a)) says an action restricts.

    ``field`` is one of the statement's decision fields (``decision_visibility``, an array, or
    ``decision_provision`` / ``decision_account`` / ``decision_monetary``), ``value`` one of its
    enumeration values, ``measure`` the fixed sentence ``decision_facts`` gives it. An action
    ``per_account`` restricts only the accounts its payload names in ``account_ids`` (else the
    case's account); any other restricts the case's content as a whole, and so every statement
    of the decision, the case's account among those owed one.
    """

    field: str
    value: str
    measure: str
    per_account: bool = False


class ActionHandler(Protocol):
    """What the seam asks of each kind of action (``kind`` and ``restriction`` are plain class
    attributes in the kinds themselves)."""

    @property
    def kind(self) -> str:
        """The name stored in decisions and the outbox, delivered, and posted by the console."""
        ...

    @property
    def restriction(self) -> Restriction | None:
        """What a statement of reasons says the action restricts; ``None``: nothing it owes
        one for (evidence preserved, a report filed)."""
        ...

    def targets(self, conn: Connection, evidence: CaseEvidence) -> dict[str, Any]:
        """The payload the case's evidence gives this action; raises ``InvalidAction`` when it
        gives none (a community ban of an account case, say)."""
        ...

    def prepare(self, conn: Connection, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload to store and deliver, checked and completed (e.g. with platform ids the
        receiver needs); raises ``InvalidAction``."""
        ...

    def target(self, payload: dict[str, Any]) -> str:
        """What the action is aimed at, stable for equal intents (part of the idempotency key)."""
        ...

    def apply(
        self, conn: Connection, decision_id: int, payload: dict[str, Any], now: datetime
    ) -> None:
        """Local store effects, run once, in the decision's transaction."""
        ...


class DeliveredOnly:
    """For actions the platform carries out from the delivered event alone: the payload is
    delivered as derived, it is the target as a whole, and nothing changes locally."""

    kind: str
    restriction: Restriction | None = None

    def prepare(self, conn: Connection, payload: dict[str, Any]) -> dict[str, Any]:
        return payload

    def target(self, payload: dict[str, Any]) -> str:
        return outbox.canonical(payload)

    def apply(
        self, conn: Connection, decision_id: int, payload: dict[str, Any], now: datetime
    ) -> None:
        return None


class CommunityAction:
    """For actions aimed at the case's community: ``{"community_id": <store id>}``, completed
    with the platform's name and the community's platform id, which is what the receiver acts
    on."""

    kind: str
    restriction: Restriction | None = None

    def targets(self, conn: Connection, evidence: CaseEvidence) -> dict[str, Any]:
        if evidence.community_id is None:
            raise InvalidAction(f"{self.kind}: this case is not about a community")
        return {"community_id": evidence.community_id}

    def prepare(self, conn: Connection, payload: dict[str, Any]) -> dict[str, Any]:
        community_id = payload.get("community_id")
        if not isinstance(community_id, int) or isinstance(community_id, bool):
            raise InvalidAction("a community action needs an integer community_id")
        row = conn.execute(
            select(communities.c.external_id, platforms.c.name)
            .join(platforms, platforms.c.id == communities.c.platform_id)
            .where(communities.c.id == community_id)
        ).first()
        if row is None:
            raise InvalidAction(f"no community {community_id}")
        return {**payload, "platform": row.name, "external_id": row.external_id}

    def target(self, payload: dict[str, Any]) -> str:
        return f"community:{payload['community_id']}"


class CaseAction(DeliveredOnly):
    """For actions aimed at the case as a whole (its id and flagged messages), which the
    receiver carries out from the delivered event."""

    def targets(self, conn: Connection, evidence: CaseEvidence) -> dict[str, Any]:
        return {"case_id": evidence.case_id, "message_ids": list(evidence.message_ids)}
