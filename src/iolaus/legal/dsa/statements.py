"""Statements of reasons built from a decision (Art. 17), validated and stored: the subscriber
to ``DecisionRecorded`` that the DSA asks for.

What a statement says a decision restricts comes from the registered action kinds: each kind's
``Restriction`` names the decision field, its value and the sentence of ``decision_facts``, and
whether it restricts the accounts the action names (an account ban) or the case's content as a
whole (a removal, a community closed).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from iolaus.actions.kinds import Restriction, handlers
from iolaus.cases.events import DecisionRecorded
from iolaus.legal.dsa.enums import COUNTRY_CODES
from iolaus.legal.dsa.model import (
    AUTOMATED,
    FINDING,
    ILLEGAL,
    MAPPING,
    MEDIA_CONTENT_TYPES,
    ORIGIN,
    REDRESS,
    TERMS,
    StatementError,
    new_puid,
)
from iolaus.legal.dsa.validate import personal_data_problems, validate_statement
from iolaus.model.cases import Ground
from iolaus.model.signals import Category
from iolaus.store.tables import (
    account_names,
    accounts,
    attachments,
    cases,
    communities,
    decisions,
    messages,
    reports,
    statements_of_reasons,
)

ARRAY_FIELDS = frozenset({"decision_visibility"})
"""Decision fields that list several restrictions; the others hold one value."""


def decision_actions(decision: Row[Any]) -> list[dict[str, Any]]:
    """The decision's actions as payloads with their ``kind``.

    Stored items may be ``{"kind": …, …payload}``, a ``[kind, payload]`` pair (the shape
    ``enqueue_actions`` takes) or a bare kind. ``ban_accounts`` may name the accounts it bans
    in ``account_ids`` (store ids); without them it bans the case's account.
    """
    found = []
    for item in json.loads(decision.actions or "[]"):
        if isinstance(item, str):
            found.append({"kind": item})
        elif isinstance(item, list):
            kind, payload = item
            found.append({**payload, "kind": kind})
        else:
            found.append(dict(item))
    return found


def _restrictions(decision: Row[Any]) -> list[tuple[Restriction, list[dict[str, Any]]]]:
    """Each restriction the decision's actions impose, in the registry's order, with the
    actions that impose it."""
    actions = decision_actions(decision)
    found = []
    for handler in handlers():
        chosen = [a for a in actions if a["kind"] == handler.kind]
        if handler.restriction is not None and chosen:
            found.append((handler.restriction, chosen))
    return found


def _named_accounts(actions: Iterable[Mapping[str, Any]], case: Row[Any]) -> set[int]:
    """The accounts actions name in ``account_ids``, the case's account for one naming none."""
    named: set[int] = set()
    for action in actions:
        ids = action.get("account_ids")
        if ids:
            named.update(int(i) for i in ids)
        elif case.account_id is not None:
            named.add(case.account_id)
    return named


def banned_account_ids(decision: Row[Any], case: Row[Any]) -> set[int]:
    """Accounts a decision terminates (or otherwise restricts one by one), or an empty set."""
    banned: set[int] = set()
    for restriction, actions in _restrictions(decision):
        if restriction.per_account:
            banned |= _named_accounts(actions, case)
    return banned


def build_statement(
    decision: Row[Any],
    case: Row[Any],
    *,
    account: Row[Any] | None = None,
    content_date: date,
    application_date: date,
    source_type: str,
    territorial_scope: Sequence[str] = COUNTRY_CODES,
    media_kinds: Iterable[str] = (),
    other_names: Iterable[str] = (),
    puid: str | None = None,
) -> dict[str, Any]:
    """The statement of reasons for ``decision`` as it affects ``account`` (or the community).

    ``media_kinds`` are the attachment kinds involved (image, video, audio); ``other_names``
    are further strings that must not appear (former names, the community's name, which in
    these communities often names a victim). Raises ``StatementError`` if the decision has no
    category or ground, or if personal data would leak.
    """
    if not decision.violation or decision.category is None or decision.ground is None:
        raise StatementError(f"decision {decision.id} found no violation: no statement is owed")
    try:
        mapping = MAPPING[Category(decision.category)]
        ground = Ground(decision.ground)
    except ValueError as exc:
        raise StatementError(f"decision {decision.id}: {exc}") from exc

    applied = [
        restriction
        for restriction, actions in _restrictions(decision)
        if not restriction.per_account
        or (account is not None and account.id in _named_accounts(actions, case))
    ]
    body: dict[str, Any] = {}
    for restriction in applied:
        if restriction.field in ARRAY_FIELDS:
            values = body.setdefault(restriction.field, [])
            if restriction.value not in values:
                values.append(restriction.value)
        else:
            body.setdefault(restriction.field, restriction.value)

    references = {Ground.ILLEGAL: decision.legal_reference, Ground.TERMS: decision.terms_reference}
    reference = (references[ground] or "").strip()
    if ground is Ground.ILLEGAL:
        body["decision_ground"] = "DECISION_GROUND_ILLEGAL_CONTENT"
        body["illegal_content_legal_ground"] = reference
        body["illegal_content_explanation"] = ILLEGAL.format(finding=mapping.finding)
    else:
        body["decision_ground"] = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
        body["incompatible_content_ground"] = reference
        body["incompatible_content_explanation"] = TERMS.format(finding=mapping.finding)

    if mapping.media:
        found = sorted({MEDIA_CONTENT_TYPES[k] for k in media_kinds if k in MEDIA_CONTENT_TYPES})
        content_types = found or ["CONTENT_TYPE_IMAGE"]
    else:
        content_types = ["CONTENT_TYPE_TEXT"]
    if mapping.synthetic:
        content_types.append("CONTENT_TYPE_SYNTHETIC_MEDIA")
    body["content_type"] = content_types
    body["category"] = mapping.category
    if mapping.keywords:
        body["category_specification"] = list(mapping.keywords)
    body["territorial_scope"] = list(territorial_scope)
    body["content_date"] = content_date.isoformat()
    body["application_date"] = application_date.isoformat()

    automated = bool(decision.automated_detection or case.signals_count)
    facts = [ORIGIN.get(source_type, ORIGIN["SOURCE_TYPE_OTHER_NOTIFICATION"])]
    if automated:
        facts.append(AUTOMATED)
    facts.append(FINDING.format(finding=mapping.finding))
    facts.extend(restriction.measure for restriction in applied)
    facts.append(REDRESS)
    body["decision_facts"] = " ".join(facts)
    body["source_type"] = source_type
    body["automated_detection"] = "Yes" if automated else "No"
    body["automated_decision"] = "AUTOMATED_DECISION_NOT_AUTOMATED"  # a reviewer decided
    body["puid"] = puid or new_puid()

    names = list(other_names)
    if account is not None:
        names += [account.username, account.display_name or ""]
    leaks = personal_data_problems(body, names)
    if leaks:
        raise StatementError(f"decision {decision.id}: personal data in the statement", leaks)
    return body


# -- storing ---------------------------------------------------------------------------------------


def source_type_for(conn: Connection, case: Row[Any]) -> str:
    """Trusted flagger if any notice came from one, Art. 16 if any notice, else own initiative."""
    rows = conn.execute(select(reports.c.trusted_flagger).where(reports.c.case_id == case.id))
    flags = [r.trusted_flagger for r in rows]
    if case.trusted_flagger or any(flags):
        return "SOURCE_TRUSTED_FLAGGER"
    return "SOURCE_ARTICLE_16" if flags else "SOURCE_VOLUNTARY"


def _content_facts(conn: Connection, case: Row[Any]) -> tuple[date, set[str]]:
    """When the reported content was posted (else when the case opened), and its media kinds."""
    reported = select(reports.c.message_id).where(
        reports.c.case_id == case.id, reports.c.message_id.is_not(None)
    )
    posted = (
        conn.execute(select(messages.c.created_at).where(messages.c.id.in_(reported)))
        .scalars()
        .all()
    )
    kinds = (
        conn.execute(
            select(attachments.c.media_kind)
            .where(attachments.c.message_id.in_(reported))
            .distinct()
        )
        .scalars()
        .all()
    )
    return min([*posted, case.received_at]).date(), set(kinds)


def create_statements(
    conn: Connection, decision_id: int, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Build, validate and store the statements of reasons of a decision; returns their bodies.

    One per affected account (every banned account, and the case's account when its content
    was removed or its community closed), or one for the community when no account is; none
    when the decision restricts nothing (Art. 17 is owed for restrictions only). All are
    validated before any is stored, so an invalid statement stores nothing. Calling it again
    returns the statements already stored: a puid must never be reused, nor a statement sent
    twice under two puids.
    """
    decision = conn.execute(select(decisions).where(decisions.c.id == decision_id)).one_or_none()
    if decision is None:
        raise StatementError(f"no decision {decision_id}")
    if decision.reversed_by_appeal_id is not None:
        raise StatementError(f"decision {decision_id} was reversed on appeal")
    restrictions = _restrictions(decision)
    if not decision.violation or not restrictions:
        return []
    stored = (
        conn.execute(
            select(statements_of_reasons.c.body)
            .where(statements_of_reasons.c.decision_id == decision_id)
            .order_by(statements_of_reasons.c.id)
        )
        .scalars()
        .all()
    )
    if stored:
        return [json.loads(b) for b in stored]

    case = conn.execute(select(cases).where(cases.c.id == decision.case_id)).one()
    account_ids: set[int] = set()
    for restriction, actions in restrictions:
        if restriction.per_account:
            account_ids |= _named_accounts(actions, case)
        elif case.account_id is not None:
            account_ids.add(case.account_id)
    affected: list[Row[Any] | None] = list(
        conn.execute(select(accounts).where(accounts.c.id.in_(account_ids)).order_by(accounts.c.id))
    )
    other_names: list[str] = []
    if case.community_id is not None:
        other_names += (
            conn.execute(select(communities.c.name).where(communities.c.id == case.community_id))
            .scalars()
            .all()
        )
    content_date, media_kinds = _content_facts(conn, case)
    common = {
        "content_date": content_date,
        "application_date": decision.decided_at.date(),
        "source_type": source_type_for(conn, case),
        "media_kinds": media_kinds,
    }

    built: list[tuple[int | None, dict[str, Any]]] = []
    for account in affected or [None]:
        names = list(other_names)
        if account is not None:
            names += (
                conn.execute(
                    select(account_names.c.name).where(account_names.c.account_id == account.id)
                )
                .scalars()
                .all()
            )
        body = build_statement(decision, case, account=account, other_names=names, **common)
        problems = validate_statement(body)
        if problems:
            raise StatementError(f"decision {decision_id}: invalid statement of reasons", problems)
        built.append((account.id if account is not None else None, body))

    created_at = now or datetime.now(UTC)
    for account_id, body in built:
        conn.execute(
            insert(statements_of_reasons).values(
                decision_id=decision_id,
                account_id=account_id,
                puid=body["puid"],
                body=json.dumps(body, ensure_ascii=False, sort_keys=True),
                created_at=created_at,
            )
        )
    return [body for _, body in built]


def on_decision_recorded(conn: Connection, event: DecisionRecorded) -> dict[str, Any]:
    """The subscriber: a decision finding a violation gets its statements as it is recorded;
    their number goes into the decision's audit entry."""
    if not event.violation:
        return {"statements": 0}
    return {"statements": len(create_statements(conn, event.decision_id, now=event.decided_at))}
