"""The registry of action kinds: what a decision can set in motion.

Each kind is a small module beside this one (see ``base`` for what a kind is made of) and is
registered here through the same ``register`` any other kind uses; the set of kinds, and their
order (the console's form, the order of the measures in a statement of reasons), is the
registry's. A kind's name is what is stored in a decision, written to the outbox, delivered,
and posted by the console's form; nothing branches on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from iolaus.actions.kinds.add_to_bank import AddToBank
from iolaus.actions.kinds.ban_accounts import BanAccounts
from iolaus.actions.kinds.ban_community import BanCommunity
from iolaus.actions.kinds.base import (
    MAX_TARGETS,
    ActionHandler,
    CaseEvidence,
    InvalidAction,
    Restriction,
)
from iolaus.actions.kinds.preserve_evidence import PreserveEvidence
from iolaus.actions.kinds.remove_content import RemoveContent
from iolaus.actions.kinds.report_ncmec import ReportNcmec
from iolaus.actions.kinds.watch_successors import WatchSuccessors

__all__ = [
    "MAX_TARGETS",
    "ActionHandler",
    "CaseEvidence",
    "InvalidAction",
    "Restriction",
    "derive",
    "handler_for",
    "handlers",
    "kind_names",
    "register",
    "unregister",
]

_REGISTRY: dict[str, ActionHandler] = {}


def register(handler: ActionHandler) -> ActionHandler:
    """Add a kind, after those already registered; a name is registered once."""
    if handler.kind in _REGISTRY:
        raise ValueError(f"a handler for {handler.kind} is already registered")
    _REGISTRY[handler.kind] = handler
    return handler


def unregister(kind: str) -> None:
    """Remove a kind (a plug-in unloaded, a test's example kind); decisions already recorded
    keep its name, and a statement built later simply says nothing of it."""
    _REGISTRY.pop(kind, None)


def handler_for(kind: str) -> ActionHandler:
    try:
        return _REGISTRY[str(kind)]
    except KeyError:
        raise InvalidAction(f"unknown action {kind!r}") from None


def handlers() -> tuple[ActionHandler, ...]:
    """Every registered kind, in registration order."""
    return tuple(_REGISTRY.values())


def kind_names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def derive(
    conn: Connection, evidence: CaseEvidence, kinds: Iterable[str]
) -> list[tuple[str, dict[str, Any]]]:
    """Each chosen kind, once and in the order given, with the payload the case's evidence
    gives it; raises ``InvalidAction`` for an unknown kind or one the case gives no target."""
    return [
        (kind, handler_for(kind).targets(conn, evidence)) for kind in dict.fromkeys(map(str, kinds))
    ]


for _builtin in (
    RemoveContent(),
    BanCommunity(),
    BanAccounts(),
    PreserveEvidence(),
    ReportNcmec(),
    AddToBank(),
    WatchSuccessors(),
):
    register(_builtin)
