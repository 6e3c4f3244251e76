"""Exchanges in the store, and the sync that turns their deltas into bank content.

Each delta is applied in one transaction together with the checkpoint it leads to, so a sync
that dies half-way resumes from the last applied delta and never adds a record twice
(``exchange_records`` maps each remote record key to the bank item it produced). Removals go
through ``banks.delete_content``, whose change log makes every in-memory index drop the hashes
within a poll; once deleted, a withdrawn hash exists nowhere in the database.

A record's bank item may also hold a curator's hashes or be shared with another record (banks
never store one item twice): a removal then only unlinks the record, and the item is deleted
when the last exchange record that created it goes.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, or_, select, update

from iolaus.errors import NotFound
from iolaus.exchanges.base import (
    Checkpoint,
    ExchangeAPI,
    ExchangeError,
    FetchDelta,
    InvalidExchange,
    Record,
    Sleep,
    get_api,
)
from iolaus.exchanges.secrets import SecretKeyError, Vault
from iolaus.hashing.types import by_name
from iolaus.model.banks import InvalidBank
from iolaus.store import audit
from iolaus.store import banks as bank_store
from iolaus.store.tables import bank_content, bank_signals, banks, exchange_records, exchanges

NAME = re.compile(r"^[A-Z0-9_]+$")  # HMA's collaboration names
NAME_MAX = 100  # "exchange:<name>" must fit bank_content.source
SOURCE_PREFIX = "exchange:"
STALE_RUN = timedelta(hours=6)  # a sync "running" longer than this is taken to have crashed

Clock = Callable[[], datetime]


class ExchangeExists(InvalidExchange):
    """An exchange of that name exists already."""


class NoSuchExchange(NotFound):
    """No exchange of that name."""


class SyncFailed(ExchangeError):
    """A sync stopped; deltas applied before the failure stay applied (``report`` counts them)."""

    def __init__(self, message: str, report: SyncReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class SyncReport:
    exchange: str
    fetched: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    ignored: int = 0
    checkpoint: Checkpoint | None = None

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if isinstance(v, int)}

    def to_json(self) -> dict[str, Any]:
        return {"exchange": self.exchange, **self.counts(), "checkpoint": self.checkpoint}


@dataclass(frozen=True)
class ExchangeInfo:
    name: str
    api: str
    bank: str
    enabled: bool
    config: dict[str, Any]
    has_credentials: bool
    checkpoint: Checkpoint | None
    fetch_started_at: datetime | None
    fetch_completed_at: datetime | None
    fetch_succeeded: bool | None
    fetch_error: str | None
    fetched_items: int

    @property
    def running(self) -> bool:
        started, completed = self.fetch_started_at, self.fetch_completed_at
        return started is not None and (completed is None or completed < started)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("fetch_started_at", "fetch_completed_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return {**data, "running": self.running}


def check_name(name: str) -> str:
    if not NAME.match(name) or len(name) > NAME_MAX:
        raise InvalidExchange(
            f"invalid exchange name {name!r}: use upper-case letters, digits and _ "
            f"(at most {NAME_MAX}), e.g. NCMEC_INDUSTRY"
        )
    return name


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _info(row: Any) -> ExchangeInfo:
    return ExchangeInfo(
        name=row.name,
        api=row.api,
        bank=row.bank_name,
        enabled=row.enabled,
        config=json.loads(row.config_json),
        has_credentials=row.credentials is not None,
        checkpoint=json.loads(row.checkpoint_json) if row.checkpoint_json else None,
        fetch_started_at=row.fetch_started_at,
        fetch_completed_at=row.fetch_completed_at,
        fetch_succeeded=row.fetch_succeeded,
        fetch_error=row.fetch_error,
        fetched_items=row.fetched_items,
    )


def _select() -> Any:
    return select(exchanges, banks.c.name.label("bank_name")).join(
        banks, banks.c.id == exchanges.c.bank_id
    )


def get_exchange(conn: Connection, name: str) -> ExchangeInfo | None:
    row = conn.execute(_select().where(exchanges.c.name == name)).first()
    return _info(row) if row else None


def list_exchanges(conn: Connection) -> list[ExchangeInfo]:
    return [_info(row) for row in conn.execute(_select().order_by(exchanges.c.name))]


def _row(conn: Connection, name: str) -> Any:
    row = conn.execute(_select().where(exchanges.c.name == name)).first()
    if row is None:
        raise NoSuchExchange(f"no exchange named {name!r}")
    return row


def create_exchange(
    conn: Connection,
    name: str,
    api: str,
    bank_name: str,
    config: Mapping[str, Any],
    credentials: Mapping[str, str] | None = None,
    *,
    vault: Vault | None = None,
    category: str | None = None,
    actor: str = "system",
) -> ExchangeInfo:
    """Register an exchange filling ``bank_name`` (created if missing, in ``category`` or the
    API's own). Credentials are validated and stored sealed; the first sync fetches."""
    check_name(name)
    api_cls = get_api(api)
    checked = api_cls.check_config(config)
    secret = api_cls.check_credentials(credentials or {})
    if get_exchange(conn, name) is not None:
        raise ExchangeExists(f"exchange {name} already exists")
    if secret and vault is None:
        raise InvalidExchange("a secret key is needed to store credentials")
    bank = bank_store.get_bank(conn, bank_name)
    if bank is None:
        chosen = category or api_cls.category
        if chosen is None:
            raise InvalidExchange(f"bank {bank_name} does not exist: give its category")
        bank = bank_store.create_bank(conn, bank_name, category=chosen)
        audit.record(conn, actor, "bank.create", bank_name, category=chosen, exchange=name)
    elif bank.is_allowlist:
        raise InvalidBank(f"bank {bank_name} is an allow-list: an exchange would void matches")
    conn.execute(
        insert(exchanges).values(
            name=name,
            api=api,
            bank_id=bank.id,
            enabled=True,
            config_json=json.dumps(checked, sort_keys=True),
            credentials=vault.seal(name, secret) if secret and vault else None,
            fetched_items=0,
        )
    )
    audit.record(conn, actor, "exchange.create", name, api=api, bank=bank_name)
    info = get_exchange(conn, name)
    assert info is not None
    return info


def set_credentials(
    conn: Connection,
    name: str,
    credentials: Mapping[str, str],
    *,
    vault: Vault,
    actor: str = "system",
) -> None:
    """Replace an exchange's credentials (rotated keys, or a lost secret key)."""
    row = _row(conn, name)
    secret = get_api(row.api).check_credentials(credentials)
    conn.execute(
        update(exchanges)
        .where(exchanges.c.id == row.id)
        .values(credentials=vault.seal(name, secret) if secret else None)
    )
    audit.record(conn, actor, "exchange.credentials", name)


def remove_exchange(conn: Connection, name: str, *, actor: str = "system") -> int:
    """Delete an exchange and the bank items only it vouched for; returns records removed.

    Its hashes go too: nobody would apply the list's later withdrawals to them.
    """
    row = _row(conn, name)
    records = conn.execute(
        select(exchange_records.c.record_key, exchange_records.c.content_id).where(
            exchange_records.c.exchange_id == row.id
        )
    ).all()
    for record in records:
        _unlink(conn, row.id, record.record_key, record.content_id)
    conn.execute(delete(exchanges).where(exchanges.c.id == row.id))
    audit.record(conn, actor, "exchange.remove", name, records=len(records))
    return len(records)


# -- sync ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    exchange_id: int
    name: str
    bank: str

    @property
    def source(self) -> str:
        return SOURCE_PREFIX + self.name


def sync_exchange(
    engine: Engine,
    name: str,
    *,
    vault: Vault | None = None,
    now: Clock = _utcnow,
    sleep: Sleep = time.sleep,
    progress: Callable[[SyncReport], None] | None = None,
    actor: str = "system",
) -> SyncReport:
    """Fetch from the stored checkpoint and apply every delta; raises ``SyncFailed``.

    The fetch status columns and the audit log record the outcome either way; error texts are
    the APIs' own (never credentials) with any credential value masked as a last resort.
    """
    with engine.begin() as conn:
        row = _row(conn, name)
        _claim(conn, row, now())
    target = _Target(row.id, name, row.bank_name)
    checkpoint = json.loads(row.checkpoint_json) if row.checkpoint_json else None
    report = SyncReport(name, checkpoint=checkpoint)
    credentials: dict[str, str] = {}
    try:
        if row.credentials is not None:
            if vault is None:
                raise SecretKeyError(f"exchange {name} has credentials: a secret key is needed")
            credentials = vault.open(name, row.credentials)
        api = get_api(row.api)(json.loads(row.config_json), credentials, sleep=sleep)
        _run(engine, api, target, checkpoint, report, progress)
    except BaseException as exc:  # an interrupted sync must not stay "running"
        known = isinstance(exc, ExchangeError | SecretKeyError | InvalidExchange)
        # Unexpected errors may quote SQL parameters (hash values): keep only their type.
        if known:
            message = _redact(str(exc), credentials)
        elif isinstance(exc, Exception):
            message = f"internal error ({type(exc).__name__})"
        else:
            message = f"interrupted ({type(exc).__name__})"
        _finish(engine, target, now(), report, actor, error=message)
        if known:
            raise SyncFailed(message, report) from None
        raise
    _finish(engine, target, now(), report, actor)
    return report


def _claim(conn: Connection, row: Any, started: datetime) -> None:
    """Mark the sync as running, unless another one is (a crashed one goes stale)."""
    claimed = conn.execute(
        update(exchanges)
        .where(exchanges.c.id == row.id)
        .where(
            or_(
                exchanges.c.fetch_started_at.is_(None),
                exchanges.c.fetch_completed_at >= exchanges.c.fetch_started_at,
                exchanges.c.fetch_started_at < started - STALE_RUN,
            )
        )
        .values(fetch_started_at=started)
    ).rowcount
    if not claimed:
        raise SyncFailed(
            f"exchange {row.name} is already being synced (since {row.fetch_started_at})",
            SyncReport(row.name),
        )


def _run(
    engine: Engine,
    api: ExchangeAPI,
    target: _Target,
    checkpoint: Checkpoint | None,
    report: SyncReport,
    progress: Callable[[SyncReport], None] | None,
) -> None:
    seen: set[str] = set()  # for whole-list APIs only
    with contextlib.closing(api.fetch(checkpoint)) as deltas:
        for delta in deltas:
            if api.snapshot:
                seen.update(delta.updates)
            with engine.begin() as conn:
                _apply(conn, target, delta, report)
                if delta.checkpoint is not None:
                    conn.execute(
                        update(exchanges)
                        .where(exchanges.c.id == target.exchange_id)
                        .values(checkpoint_json=json.dumps(delta.checkpoint, sort_keys=True))
                    )
            if delta.checkpoint is not None:
                report.checkpoint = delta.checkpoint
            if progress is not None:
                progress(report)
    if api.snapshot:
        # Only after the whole list was read: a failed read must never look like deletions.
        with engine.begin() as conn:
            _sweep(conn, target, seen, report)


def _apply(conn: Connection, target: _Target, delta: FetchDelta, report: SyncReport) -> None:
    linked = _linked(conn, target.exchange_id, list(delta.updates))
    report.ignored += delta.ignored
    for key, record in delta.updates.items():
        report.fetched += 1
        content_id = linked.get(key)
        if record is None or not record.usable:
            if content_id is not None:
                _unlink(conn, target.exchange_id, key, content_id)
                report.deleted += 1
            elif record is not None and not record.signals:
                report.ignored += 1
            continue
        if content_id is not None:
            owned, stored_metadata = _ownership(conn, content_id)
            if _unchanged(conn, content_id, record, owned=owned):
                # Opinions change without the hashes changing (NCMEC feedback, for one).
                if owned and stored_metadata != _metadata_json(record):
                    conn.execute(
                        update(bank_content)
                        .where(bank_content.c.id == content_id)
                        .values(metadata_json=_metadata_json(record))
                    )
                report.unchanged += 1
                continue
            _unlink(conn, target.exchange_id, key, content_id)
            report.updated += 1
        else:
            report.added += 1
        new_id, _ = bank_store.add_content(
            conn,
            target.bank,
            by_name(record.signals),
            source=target.source,
            metadata=record.metadata(),
        )
        conn.execute(
            insert(exchange_records).values(
                exchange_id=target.exchange_id, record_key=key, content_id=new_id
            )
        )


def _sweep(conn: Connection, target: _Target, seen: set[str], report: SyncReport) -> None:
    """For whole-list APIs: records the list no longer holds are deleted."""
    for row in conn.execute(
        select(exchange_records.c.record_key, exchange_records.c.content_id).where(
            exchange_records.c.exchange_id == target.exchange_id
        )
    ).all():
        if row.record_key not in seen:
            _unlink(conn, target.exchange_id, row.record_key, row.content_id)
            report.deleted += 1


def _linked(conn: Connection, exchange_id: int, keys: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for row in conn.execute(
            select(exchange_records.c.record_key, exchange_records.c.content_id)
            .where(exchange_records.c.exchange_id == exchange_id)
            .where(exchange_records.c.record_key.in_(chunk))
        ):
            found[row.record_key] = int(row.content_id)
    return found


def _unchanged(conn: Connection, content_id: int, record: Record, *, owned: bool) -> bool:
    """Whether the linked item already holds exactly what the record says.

    An item holding more hashes than the record, and not the record's own, is one the record
    merely points at (a curator's, or one shared with other records): that is unchanged too.
    """
    current = {
        r.signal_type: r.value
        for r in conn.execute(
            select(bank_signals.c.signal_type, bank_signals.c.value).where(
                bank_signals.c.content_id == content_id
            )
        )
    }
    wanted = by_name(record.signals)
    if current == wanted:
        return True
    return wanted.items() <= current.items() and not owned


def _metadata_json(record: Record) -> str | None:
    """As ``banks.add_content`` stores it, so stored and fetched metadata compare as text."""
    metadata = record.metadata()
    return json.dumps(metadata) if metadata else None


def _ownership(conn: Connection, content_id: int) -> tuple[bool, str | None]:
    """(owned, stored metadata). Owned: created by an exchange and linked from one record only,
    i.e. that record's own item rather than a curator's or one shared between records."""
    links = (
        select(func.count())
        .select_from(exchange_records)
        .where(exchange_records.c.content_id == content_id)
        .scalar_subquery()
    )
    row = conn.execute(
        select(bank_content.c.source, bank_content.c.metadata_json, links.label("links")).where(
            bank_content.c.id == content_id
        )
    ).one()
    owned = bool(row.source and row.source.startswith(SOURCE_PREFIX)) and row.links <= 1
    return owned, row.metadata_json


def _unlink(conn: Connection, exchange_id: int, key: str, content_id: int) -> None:
    """Drop a record's link; delete its item once no exchange record vouches for it."""
    owned, _ = _ownership(conn, content_id)
    conn.execute(
        delete(exchange_records)
        .where(exchange_records.c.exchange_id == exchange_id)
        .where(exchange_records.c.record_key == key)
    )
    if owned:
        bank_store.delete_content(conn, [content_id])


def _finish(
    engine: Engine,
    target: _Target,
    completed: datetime,
    report: SyncReport,
    actor: str,
    error: str | None = None,
) -> None:
    with engine.begin() as conn:
        items = conn.execute(
            select(func.count())
            .select_from(exchange_records)
            .where(exchange_records.c.exchange_id == target.exchange_id)
        ).scalar_one()
        conn.execute(
            update(exchanges)
            .where(exchanges.c.id == target.exchange_id)
            .values(
                fetch_completed_at=completed,
                fetch_succeeded=error is None,
                fetch_error=error,
                fetched_items=items,
            )
        )
        details: dict[str, Any] = {**report.counts(), "ok": error is None}
        if error is not None:
            details["error"] = error
        audit.record(conn, actor, "exchange.sync", target.name, **details)


def _redact(text: str, credentials: Mapping[str, str]) -> str:
    for value in credentials.values():
        if value:
            text = text.replace(value, "***")
    return text
