"""Every registered action kind: the targets it derives from the case's evidence, what it
refuses, and the DSA restriction it declares (what a statement of reasons says it restricts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from iolaus.actions.kinds import (
    CaseEvidence,
    InvalidAction,
    Restriction,
    derive,
    handler_for,
    kind_names,
)
from iolaus.legal.dsa import ENUMS
from tests.cases.open_case import SHA, OpenCase, seed_open_case


def evidence(case: OpenCase, **changes: Any) -> CaseEvidence:
    values: dict[str, Any] = {
        "case_id": case.case_id,
        "community_id": case.community_id,
        "account_id": case.account_id,
        "message_ids": tuple(sorted(case.message_ids, reverse=True)),
    }
    return CaseEvidence(**{**values, **changes})


def newest_first(case: OpenCase) -> list[int]:
    return sorted(case.message_ids, reverse=True)


TARGETS: dict[str, Callable[[OpenCase], dict[str, Any]]] = {
    "remove_content": lambda c: {"message_ids": newest_first(c)},
    "ban_community": lambda c: {"community_id": c.community_id},
    # Two flagged messages by the uploader, one by the helper: the most active first.
    "ban_accounts": lambda c: {"account_ids": [c.account_id, c.other_account_id]},
    "preserve_evidence": lambda c: {"case_id": c.case_id, "message_ids": newest_first(c)},
    "report_ncmec": lambda c: {"case_id": c.case_id, "message_ids": newest_first(c)},
    "add_to_bank": lambda c: {"sha256": [SHA]},
    "watch_successors": lambda c: {"community_id": c.community_id},
}
REFUSED: dict[str, tuple[dict[str, Any], str]] = {
    "remove_content": ({"message_ids": ()}, "remove_content: no flagged message in this case"),
    "ban_community": ({"community_id": None}, "ban_community: this case is not about a community"),
    "ban_accounts": (
        {"message_ids": (), "account_id": None},
        "ban_accounts: no flagged author or account in this case",
    ),
    "add_to_bank": ({"message_ids": ()}, "add_to_bank: no hashed media among the flagged"),
    "watch_successors": (
        {"community_id": None},
        "watch_successors: this case is not about a community",
    ),
}
RESTRICTIONS: dict[str, Restriction | None] = {
    "remove_content": Restriction(
        "decision_visibility", "DECISION_VISIBILITY_CONTENT_REMOVED", "The content was removed."
    ),
    "ban_community": Restriction(
        "decision_provision",
        "DECISION_PROVISION_TOTAL_TERMINATION",
        "The community where it was shared was closed.",
    ),
    "ban_accounts": Restriction(
        "decision_account",
        "DECISION_ACCOUNT_TERMINATED",
        "The account was terminated.",
        per_account=True,
    ),
    "preserve_evidence": None,
    "report_ncmec": None,
    "add_to_bank": None,
    "watch_successors": None,
}
_FIELD_ENUMS = {
    "decision_visibility": "DECISION_VISIBILITIES",
    "decision_provision": "DECISION_PROVISIONS",
    "decision_account": "DECISION_ACCOUNTS",
    "decision_monetary": "DECISION_MONETARIES",
}


def test_every_registered_kind_is_tested_here() -> None:
    """A kind added to the registry without its expectations here fails this test."""
    assert set(kind_names()) == set(TARGETS) == set(RESTRICTIONS)


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_targets_come_from_the_case(engine: Engine, kind: str) -> None:
    with engine.begin() as conn:
        case = seed_open_case(conn)
        assert derive(conn, evidence(case), [kind]) == [(kind, TARGETS[kind](case))]


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_a_case_without_a_target_is_refused(sqlite_engine: Engine, kind: str) -> None:
    changes, message = REFUSED[kind]
    with sqlite_engine.begin() as conn:
        case = seed_open_case(conn)
        with pytest.raises(InvalidAction, match=message):
            derive(conn, evidence(case, **changes), [kind])


def test_ban_accounts_falls_back_to_the_case_account(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        case = seed_open_case(conn)
        found = derive(conn, evidence(case, message_ids=()), ["ban_accounts"])
    assert found == [("ban_accounts", {"account_ids": [case.account_id]})]


def test_each_kind_once_in_the_order_given(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        case = seed_open_case(conn)
        found = derive(
            conn, evidence(case), ["watch_successors", "ban_community", "watch_successors"]
        )
    assert [kind for kind, _ in found] == ["watch_successors", "ban_community"]


@pytest.mark.parametrize("kind", sorted(RESTRICTIONS))
def test_dsa_wording(kind: str) -> None:
    restriction = handler_for(kind).restriction
    assert restriction == RESTRICTIONS[kind]
    if restriction is not None:
        assert restriction.value in ENUMS[_FIELD_ENUMS[restriction.field]]


def test_prepare_completes_community_actions_with_platform_ids(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        case = seed_open_case(conn)
        payload = handler_for("ban_community").prepare(conn, {"community_id": case.community_id})
    assert payload == {
        "community_id": case.community_id,
        "platform": "discord",
        "external_id": "800",
    }
