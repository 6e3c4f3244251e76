"""One seam for actions: an ``ActionHandler`` per ``ActionKind``, found in a registry.

A handler checks and completes an action's payload, names its target (which, with the decision
and the kind, makes the idempotency key), and applies the action's local effects on the store,
inside the decision's transaction, so that a decision and its effects commit or roll back
together. Every action is also written to the outbox and delivered as a webhook event: the
platform does the banning and the removing; Iolaus records what it ordered.

Adding an action is adding a handler class and one ``register`` call; nothing else branches on
the kind. The decision code calls ``enqueue_actions`` in its transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, select, update

from iolaus.actions import outbox
from iolaus.model.cases import ActionKind
from iolaus.store import audit
from iolaus.store.tables import communities, platforms


class InvalidAction(ValueError):
    """An action whose payload does not name what it needs (or names what does not exist)."""


class ActionHandler(Protocol):
    """What the seam asks of each kind of action."""

    kind: ActionKind

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


_REGISTRY: dict[ActionKind, ActionHandler] = {}


def register(handler: ActionHandler) -> ActionHandler:
    if handler.kind in _REGISTRY:
        raise ValueError(f"a handler for {handler.kind} is already registered")
    _REGISTRY[handler.kind] = handler
    return handler


def handler_for(kind: ActionKind | str) -> ActionHandler:
    try:
        return _REGISTRY[ActionKind(kind)]
    except (KeyError, ValueError):
        raise InvalidAction(f"unknown action {kind!r}") from None


def enqueue_actions(
    conn: Connection,
    decision_id: int,
    actions: Iterable[tuple[ActionKind, dict[str, Any]]],
    now: datetime,
) -> list[int]:
    """Write a decision's actions to the outbox and apply their local effects, in the caller's
    (the decision's) transaction; returns the outbox ids in order. Calling it again for the
    same decision and actions adds nothing and applies nothing twice."""
    ids = []
    for kind, raw in actions:
        handler = handler_for(kind)
        payload = handler.prepare(conn, dict(raw))
        action_id, created = outbox.insert_once(
            conn, decision_id, handler.kind, payload, now, target=handler.target(payload)
        )
        if created:
            handler.apply(conn, decision_id, payload, now)
        ids.append(action_id)
    return ids


class WebhookOnly:
    """Actions the platform carries out from the webhook alone (removal, account bans, NCMEC
    reports, evidence preservation, banking media): no local effect. The payload is the
    decision code's to shape; it is the target as a whole."""

    def __init__(self, kind: ActionKind) -> None:
        self.kind = kind

    def prepare(self, conn: Connection, payload: dict[str, Any]) -> dict[str, Any]:
        return payload

    def target(self, payload: dict[str, Any]) -> str:
        return outbox.canonical(payload)

    def apply(
        self, conn: Connection, decision_id: int, payload: dict[str, Any], now: datetime
    ) -> None:
        return None


class _CommunityAction:
    """Actions aimed at one community: ``{"community_id": <store id>}``, completed with the
    platform's name and the community's platform id, which is what the receiver acts on."""

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


class BanCommunity(_CommunityAction):
    """Marks the community banned at once (the hydra watch and the console rely on the status),
    whether or not the platform has acted yet."""

    kind = ActionKind.BAN_COMMUNITY

    def apply(
        self, conn: Connection, decision_id: int, payload: dict[str, Any], now: datetime
    ) -> None:
        conn.execute(
            update(communities)
            .where(communities.c.id == payload["community_id"])
            .values(status="banned")
        )
        audit.record(
            conn,
            f"decision:{decision_id}",
            "community.ban",
            f"community:{payload['community_id']}",
        )


class WatchSuccessors(_CommunityAction):
    """Records that the community's successors are watched for; the hydra linker reads it."""

    kind = ActionKind.WATCH_SUCCESSORS

    def apply(
        self, conn: Connection, decision_id: int, payload: dict[str, Any], now: datetime
    ) -> None:
        audit.record(
            conn,
            f"decision:{decision_id}",
            "community.watch_successors",
            f"community:{payload['community_id']}",
        )


register(BanCommunity())
register(WatchSuccessors())
for _kind in (
    ActionKind.REMOVE_CONTENT,
    ActionKind.BAN_ACCOUNTS,
    ActionKind.PRESERVE_EVIDENCE,
    ActionKind.REPORT_NCMEC,
    ActionKind.ADD_TO_BANK,
):
    register(WebhookOnly(_kind))
