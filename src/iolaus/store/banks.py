"""Hash banks in the store, and the change log that keeps every in-memory index current.

Every insert or delete of a bank hash appends to ``hash_changes`` (signal type, content id, op)
in the same transaction. Indexes replay the log from their checkpoint instead of rebuilding,
so a new hash is matchable, and a withdrawn one gone, as soon as a matcher polls (every second).
The log holds ids only: once a row is deleted its hash value exists nowhere in the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from iolaus.errors import NotFound
from iolaus.model.banks import (
    NOTE_MAX,
    PDQ_MAX_THRESHOLD,
    Bank,
    BankContent,
    InvalidBank,
    check_bank_name,
)
from iolaus.model.signals import Category
from iolaus.store.tables import (
    bank_content,
    bank_signals,
    banks,
    exchange_records,
    exchanges,
    hash_changes,
)


class BankExists(InvalidBank):
    """A bank of that name exists already."""


class NoSuchBank(NotFound):
    """No bank of that name."""


def _bank(row: Any, size: int = 0) -> Bank:
    return Bank(
        id=row.id,
        name=row.name,
        category=Category(row.category),
        pdq_threshold=row.pdq_threshold,
        is_allowlist=row.is_allowlist,
        enabled_ratio=row.enabled_ratio,
        description=row.description,
        created_at=row.created_at,
        size=size,
    )


def _check_settings(
    category: str | None, pdq_threshold: int | None, enabled_ratio: float | None
) -> None:
    if category is not None:
        try:
            Category(category)
        except ValueError:
            choices = ", ".join(c.value for c in Category)
            raise InvalidBank(f"unknown category {category!r} (one of {choices})") from None
    if pdq_threshold is not None and not 0 <= pdq_threshold <= PDQ_MAX_THRESHOLD:
        raise InvalidBank(f"PDQ threshold must be between 0 and {PDQ_MAX_THRESHOLD}")
    if enabled_ratio is not None and not 0.0 <= enabled_ratio <= 1.0:
        raise InvalidBank("enabled ratio must be between 0 and 1")


def create_bank(
    conn: Connection,
    name: str,
    *,
    category: str = Category.CSAM.value,
    pdq_threshold: int = PDQ_MAX_THRESHOLD,
    is_allowlist: bool = False,
    enabled_ratio: float = 1.0,
    description: str | None = None,
) -> Bank:
    check_bank_name(name)
    _check_settings(category, pdq_threshold, enabled_ratio)
    if get_bank(conn, name) is not None:
        raise BankExists(f"bank {name} already exists")
    try:
        with conn.begin_nested():
            conn.execute(
                insert(banks).values(
                    name=name,
                    category=category,
                    pdq_threshold=pdq_threshold,
                    is_allowlist=is_allowlist,
                    enabled_ratio=enabled_ratio,
                    description=description,
                    created_at=datetime.now(UTC),
                )
            )
    except IntegrityError:
        raise BankExists(f"bank {name} already exists") from None
    bank = get_bank(conn, name)
    assert bank is not None
    return bank


def _size_subquery() -> Any:
    return (
        select(bank_content.c.bank_id, func.count().label("n"))
        .group_by(bank_content.c.bank_id)
        .subquery()
    )


def get_bank(conn: Connection, name: str) -> Bank | None:
    sizes = _size_subquery()
    row = conn.execute(
        select(banks, sizes.c.n)
        .outerjoin(sizes, sizes.c.bank_id == banks.c.id)
        .where(banks.c.name == name)
    ).first()
    return _bank(row, row.n or 0) if row else None


def require_bank(conn: Connection, name: str) -> Bank:
    bank = get_bank(conn, name)
    if bank is None:
        raise NoSuchBank(f"no bank named {name!r}")
    return bank


def list_banks(conn: Connection) -> list[Bank]:
    sizes = _size_subquery()
    rows = conn.execute(
        select(banks, sizes.c.n)
        .outerjoin(sizes, sizes.c.bank_id == banks.c.id)
        .order_by(banks.c.name)
    )
    return [_bank(row, row.n or 0) for row in rows]


def update_bank(
    conn: Connection,
    name: str,
    *,
    new_name: str | None = None,
    category: str | None = None,
    pdq_threshold: int | None = None,
    is_allowlist: bool | None = None,
    enabled_ratio: float | None = None,
    description: str | None = None,
) -> Bank:
    bank = require_bank(conn, name)
    _check_settings(category, pdq_threshold, enabled_ratio)
    values: dict[str, Any] = {}
    if new_name is not None and new_name != name:
        check_bank_name(new_name)
        if get_bank(conn, new_name) is not None:
            raise BankExists(f"bank {new_name} already exists")
        values["name"] = new_name
    for key, value in (
        ("category", category),
        ("pdq_threshold", pdq_threshold),
        ("is_allowlist", is_allowlist),
        ("enabled_ratio", enabled_ratio),
        ("description", description),
    ):
        if value is not None:
            values[key] = value
    if values:
        conn.execute(update(banks).where(banks.c.id == bank.id).values(**values))
    return require_bank(conn, values.get("name", name))


def delete_bank(conn: Connection, name: str) -> bool:
    """Delete a bank with all its hashes (and the exchanges that fill it)."""
    bank = get_bank(conn, name)
    if bank is None:
        return False
    ids = (
        conn.execute(select(bank_content.c.id).where(bank_content.c.bank_id == bank.id))
        .scalars()
        .all()
    )
    delete_content(conn, list(ids))
    conn.execute(delete(exchanges).where(exchanges.c.bank_id == bank.id))
    conn.execute(delete(banks).where(banks.c.id == bank.id))
    return True


# -- content -----------------------------------------------------------------------------------


def _log(conn: Connection, rows: Iterable[tuple[str, int]], op: str) -> None:
    now = datetime.now(UTC)
    values = [{"signal_type": t, "content_id": c, "op": op, "at": now} for t, c in rows]
    if values:
        conn.execute(insert(hash_changes), values)


def find_content(conn: Connection, bank_id: int, signal_type: str, value: str) -> int | None:
    """The content id holding exactly this hash in this bank, if any (adds are idempotent)."""
    found = conn.execute(
        select(bank_content.c.id)
        .join(bank_signals, bank_signals.c.content_id == bank_content.c.id)
        .where(bank_content.c.bank_id == bank_id)
        .where(bank_signals.c.signal_type == signal_type)
        .where(bank_signals.c.value == value)
        .limit(1)
    ).scalar()
    return int(found) if found is not None else None


def add_content(
    conn: Connection,
    bank_name: str,
    signals: Mapping[str, str],
    *,
    note: str | None = None,
    content_ref: str | None = None,
    content_uri: str | None = None,
    original_media_uri: str | None = None,
    metadata: dict[str, Any] | None = None,
    source: str = "manual",
    submission_id: int | None = None,
    disable_until_ts: int = 1,
) -> tuple[int, bool]:
    """Add one item; returns (content id, created). ``signals`` maps signal type names to
    values already validated by their type (``iolaus.hashing.types``): the store keeps names.

    An item whose hashes are already all in the bank is not added twice.
    """
    if not signals:
        raise ValueError("no usable signal to add")
    if note is not None and len(note) > NOTE_MAX:
        raise ValueError(f"note longer than {NOTE_MAX} characters")
    bank = require_bank(conn, bank_name)
    existing = {find_content(conn, bank.id, t, v) for t, v in signals.items()}
    if len(existing) == 1 and None not in existing and submission_id is None:
        return int(existing.pop()), False  # type: ignore[arg-type]
    content_id = conn.execute(
        insert(bank_content)
        .values(
            bank_id=bank.id,
            disable_until_ts=disable_until_ts,
            content_ref=content_ref,
            content_uri=content_uri,
            original_media_uri=original_media_uri,
            metadata_json=json.dumps(metadata) if metadata else None,
            note=note,
            source=source,
            submission_id=submission_id,
            created_at=datetime.now(UTC),
        )
        .returning(bank_content.c.id)
    ).scalar_one()
    conn.execute(
        insert(bank_signals),
        [{"content_id": content_id, "signal_type": t, "value": v} for t, v in signals.items()],
    )
    _log(conn, ((t, content_id) for t in signals), "add")
    return int(content_id), True


def delete_content(conn: Connection, content_ids: Sequence[int]) -> int:
    """Delete items and their hashes; the change log tells every index to drop them."""
    deleted = 0
    for start in range(0, len(content_ids), 500):
        chunk = list(content_ids[start : start + 500])
        typed = conn.execute(
            select(bank_signals.c.signal_type, bank_signals.c.content_id).where(
                bank_signals.c.content_id.in_(chunk)
            )
        ).all()
        _log(conn, ((r.signal_type, r.content_id) for r in typed), "delete")
        conn.execute(delete(bank_signals).where(bank_signals.c.content_id.in_(chunk)))
        conn.execute(delete(exchange_records).where(exchange_records.c.content_id.in_(chunk)))
        deleted += conn.execute(delete(bank_content).where(bank_content.c.id.in_(chunk))).rowcount
    return deleted


def update_content(
    conn: Connection,
    content_id: int,
    *,
    disable_until_ts: int | None = None,
    note: str | None = None,
) -> None:
    """Enable state and notes are read at match time: no index change is needed."""
    values: dict[str, Any] = {}
    if disable_until_ts is not None:
        values["disable_until_ts"] = disable_until_ts
    if note is not None:
        if len(note) > NOTE_MAX:
            raise ValueError(f"note longer than {NOTE_MAX} characters")
        values["note"] = note
    if values:
        conn.execute(update(bank_content).where(bank_content.c.id == content_id).values(**values))


def get_content(conn: Connection, content_id: int) -> BankContent | None:
    items = _contents(conn, bank_content.c.id == content_id)
    return items[0] if items else None


def list_content(
    conn: Connection, bank_name: str, *, limit: int | None = 100, offset: int = 0
) -> list[BankContent]:
    bank = require_bank(conn, bank_name)
    return _contents(conn, bank_content.c.bank_id == bank.id, limit=limit, offset=offset)


def _contents(
    conn: Connection, condition: Any, *, limit: int | None = None, offset: int = 0
) -> list[BankContent]:
    query = (
        select(bank_content, banks.c.name.label("bank_name"))
        .join(banks, banks.c.id == bank_content.c.bank_id)
        .where(condition)
        .order_by(bank_content.c.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = conn.execute(query).all()
    ids = [r.id for r in rows]
    signals: dict[int, dict[str, str]] = {i: {} for i in ids}
    collab: dict[int, dict[str, list[str]]] = {i: {} for i in ids}
    if ids:
        for s in conn.execute(select(bank_signals).where(bank_signals.c.content_id.in_(ids))):
            signals[s.content_id][s.signal_type] = s.value
        for r in conn.execute(
            select(exchange_records.c.content_id, exchange_records.c.record_key, exchanges.c.name)
            .join(exchanges, exchanges.c.id == exchange_records.c.exchange_id)
            .where(exchange_records.c.content_id.in_(ids))
        ):
            collab[r.content_id].setdefault(r.name, []).append(r.record_key)
    return [
        BankContent(
            id=r.id,
            bank=r.bank_name,
            signals=signals[r.id],
            disable_until_ts=r.disable_until_ts,
            note=r.note,
            content_ref=r.content_ref,
            content_uri=r.content_uri,
            original_media_uri=r.original_media_uri,
            metadata=json.loads(r.metadata_json) if r.metadata_json else None,
            source=r.source,
            created_at=r.created_at,
            collab=collab[r.id],
        )
        for r in rows
    ]


# -- what indexes read ---------------------------------------------------------------------------


def last_change(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(hash_changes.c.seq), 0))).scalar_one())


def signals_of_type(conn: Connection, signal_type: str) -> Iterator[tuple[int, str]]:
    """Every stored (content id, hash) of one type: what a full index build reads."""
    result = conn.execute(
        select(bank_signals.c.content_id, bank_signals.c.value).where(
            bank_signals.c.signal_type == signal_type
        )
    )
    for row in result:
        yield int(row.content_id), row.value


def count_signals(conn: Connection, signal_type: str) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(bank_signals)
            .where(bank_signals.c.signal_type == signal_type)
        ).scalar_one()
    )


def changes_since(
    conn: Connection, seq: int, signal_type: str, limit: int = 100_000
) -> tuple[int, list[tuple[str, int, str | None]]]:
    """Changes after ``seq`` for one signal type: (op, content id, current value or None).

    Returns the new checkpoint. An add whose item has since been deleted comes back with
    value None and is skipped by the caller; its delete follows in the log.
    """
    rows = conn.execute(
        select(
            hash_changes.c.seq, hash_changes.c.op, hash_changes.c.content_id, bank_signals.c.value
        )
        .outerjoin(
            bank_signals,
            and_(
                bank_signals.c.content_id == hash_changes.c.content_id,
                bank_signals.c.signal_type == hash_changes.c.signal_type,
            ),
        )
        .where(hash_changes.c.seq > seq)
        .where(hash_changes.c.signal_type == signal_type)
        .order_by(hash_changes.c.seq)
        .limit(limit)
    ).all()
    if not rows:
        return max(seq, _last_of_type(conn, seq)), []
    return int(rows[-1].seq), [(r.op, int(r.content_id), r.value) for r in rows]


def _last_of_type(conn: Connection, seq: int) -> int:
    # Changes of other types still advance the checkpoint, so the next poll starts after them.
    return int(
        conn.execute(
            select(func.coalesce(func.max(hash_changes.c.seq), seq)).where(hash_changes.c.seq > seq)
        ).scalar_one()
    )


def content_banks(conn: Connection, content_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """For match resolution: each item's bank settings and enable state."""
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(content_ids), 500):
        chunk = list(content_ids[start : start + 500])
        for r in conn.execute(
            select(
                bank_content.c.id,
                bank_content.c.disable_until_ts,
                bank_content.c.note,
                banks.c.name,
                banks.c.category,
                banks.c.pdq_threshold,
                banks.c.is_allowlist,
                banks.c.enabled_ratio,
            )
            .join(banks, banks.c.id == bank_content.c.bank_id)
            .where(bank_content.c.id.in_(chunk))
        ):
            found[int(r.id)] = r._asdict()
    return found


def exact_matches(
    conn: Connection, signal_type: str, values: Sequence[str]
) -> list[tuple[str, int]]:
    """(value, content id) for exact-match signal types (MD5 family), via the database index."""
    result: list[tuple[str, int]] = []
    for start in range(0, len(values), 500):
        chunk = list(values[start : start + 500])
        result.extend(
            (r.value, int(r.content_id))
            for r in conn.execute(
                select(bank_signals.c.value, bank_signals.c.content_id)
                .where(bank_signals.c.signal_type == signal_type)
                .where(bank_signals.c.value.in_(chunk))
            )
        )
    return result
