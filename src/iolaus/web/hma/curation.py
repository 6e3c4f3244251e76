"""HMA's curation routes (``/c``): banks, their content (added by URL, upload or hashes) and the
server's signal and content types. ``DELETE /c/bank/<name>`` answers "Done" even for a missing
bank, as HMA does; where HMA is lax this is stricter and says so: content ids must belong to the
bank named in the path, and a change is matchable (or gone) by the time the write returns.
Every write is recorded in the audit log under the token's name."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from iolaus.hashing.types import MEDIA_CONTENT, SIGNAL_TYPES, SignalType, by_name
from iolaus.model.banks import NOTE_MAX, Bank, BankContent, InvalidBank, InvalidSignal
from iolaus.store import audit
from iolaus.store import banks as bank_store
from iolaus.web.auth import CurateToken, curate_access
from iolaus.web.hma.params import UPLOAD_BODY, flag, short
from iolaus.web.media import has_files, hash_url, uploaded
from iolaus.web.settings import Services, Svc

FIVE_YEARS = 5 * 365 * 24 * 3600

router = APIRouter(prefix="/c", tags=["Curation (HMA)"], dependencies=[Depends(curate_access)])


class BankCreate(BaseModel):
    name: str
    enabled_ratio: float | None = None
    enabled: bool | None = None


class BankUpdate(BaseModel):
    name: str | None = None
    enabled_ratio: float | None = None
    enabled: bool | None = None


class ContentUpdate(BaseModel):
    disable_until_ts: int | None = None
    note: str | None = None


def bank_json(bank: Bank) -> dict[str, Any]:
    return {"name": bank.name, "matching_enabled_ratio": bank.enabled_ratio}


def ratio_of(enabled_ratio: float | None, enabled: bool | None) -> float | None:
    """HMA's rule: ``enabled_ratio`` wins, else ``enabled`` means 1 or 0."""
    if enabled_ratio is not None:
        return enabled_ratio
    if enabled is not None:
        return 1.0 if enabled else 0.0
    return None


def bank_or_404(conn: Connection, name: str) -> Bank:
    bank = bank_store.get_bank(conn, name)
    if bank is None:
        raise HTTPException(404, f"bank '{short(name)}' not found")
    return bank


def _bank_error(exc: InvalidBank) -> HTTPException:
    if isinstance(exc, bank_store.BankExists):
        return HTTPException(403, "Bank already exists")
    return HTTPException(400, short(str(exc), 300))


@router.get("/banks", summary="List banks")
def banks_list(svc: Svc) -> list[dict[str, Any]]:
    with svc.engine.connect() as conn:
        return [bank_json(b) for b in bank_store.list_banks(conn)]


@router.post("/banks", status_code=201, summary="Create a bank")
def bank_create(body: BankCreate, svc: Svc, token: CurateToken) -> dict[str, Any]:
    ratio = ratio_of(body.enabled_ratio, body.enabled)
    try:
        with svc.engine.begin() as conn:
            bank = bank_store.create_bank(
                conn, body.name, enabled_ratio=1.0 if ratio is None else ratio
            )
            audit.record(
                conn, token.actor, "bank.create", bank.name, enabled_ratio=bank.enabled_ratio
            )
    except InvalidBank as exc:
        raise _bank_error(exc) from None
    return bank_json(bank)


@router.get("/bank/{name}", summary="Get a bank")
def bank_get(name: str, svc: Svc) -> dict[str, Any]:
    with svc.engine.connect() as conn:
        return bank_json(bank_or_404(conn, name))


@router.put("/bank/{name}", summary="Rename, enable or disable a bank")
def bank_update(name: str, body: BankUpdate, svc: Svc, token: CurateToken) -> dict[str, Any]:
    ratio = ratio_of(body.enabled_ratio, body.enabled)
    try:
        with svc.engine.begin() as conn:
            if bank_store.get_bank(conn, name) is None:
                raise HTTPException(404, "Bank not found")
            bank = bank_store.update_bank(conn, name, new_name=body.name, enabled_ratio=ratio)
            audit.record(
                conn, token.actor, "bank.update", name, new_name=bank.name, enabled_ratio=ratio
            )
    except bank_store.BankExists:
        raise HTTPException(403, "Bank name already exists") from None
    except InvalidBank as exc:
        raise _bank_error(exc) from None
    return bank_json(bank)


@router.delete("/bank/{name}", summary="Delete a bank and all its content")
def bank_delete(name: str, svc: Svc, token: CurateToken) -> dict[str, str]:
    with svc.engine.begin() as conn:
        if bank_store.delete_bank(conn, name):
            audit.record(conn, token.actor, "bank.delete", name)
    svc.matcher.refresh()
    return {"message": "Done"}


def parse_metadata(value: Any) -> dict[str, Any]:
    """HMA's content metadata ``{content_id?, content_uri?, json?}`` (``collab`` ignored)."""
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise HTTPException(400, "Invalid metadata: not JSON") from None
    if not isinstance(value, dict):
        raise HTTPException(400, "metadata should be a json object")
    unknown = set(value) - {"content_id", "content_uri", "json", "collab"}
    if unknown:
        raise HTTPException(400, f"Invalid metadata: unknown keys {sorted(unknown)[:5]}")
    for key in ("content_id", "content_uri"):
        if value.get(key) is not None and not isinstance(value[key], str):
            raise HTTPException(400, f"Invalid metadata: {key} must be a string")
    if value.get("json") is not None and not isinstance(value["json"], dict):
        raise HTTPException(400, "Invalid metadata: json must be an object")
    return {k: value.get(k) for k in ("content_id", "content_uri", "json")}


def parse_note(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > NOTE_MAX:
        raise HTTPException(400, f"note must be a string of at most {NOTE_MAX} characters")
    return value


def store_signals(
    svc: Services,
    bank: str,
    signals: dict[SignalType, str],
    *,
    actor: str,
    note: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Add one item to a bank, make it matchable now, answer HMA's ``{id, signals}``."""
    metadata = metadata or {}
    try:
        with svc.engine.begin() as conn:
            content_id, created = bank_store.add_content(
                conn,
                bank,
                by_name(signals),
                note=note,
                content_ref=metadata.get("content_id"),
                content_uri=metadata.get("content_uri"),
                metadata=metadata.get("json"),
                source="api",
            )
            audit.record(
                conn,
                actor,
                "bank.add",
                bank,
                content_id=content_id,
                created=created,
                signal_types=sorted(k.name for k in signals),
            )
    except bank_store.NoSuchBank:
        raise HTTPException(404, f"bank '{short(bank)}' not found") from None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    svc.matcher.refresh()
    return {"id": content_id, "signals": by_name(signals)}


def content_fields(fields: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The optional ``note`` and ``metadata`` of a content upload (JSON body or form fields)."""
    return parse_note(fields.get("note")), parse_metadata(fields.get("metadata"))


def usable_signals(hashes: dict[str, str]) -> dict[SignalType, str]:
    signals = {SIGNAL_TYPES.from_name(name): value for name, value in hashes.items() if value}
    if not signals:
        raise HTTPException(400, "No usable signal: the photo is too plain to hash")
    return signals


def require_bank(svc: Services, name: str) -> None:
    with svc.engine.connect() as conn:
        bank_or_404(conn, name)


async def _json_object(request: Request) -> dict[str, Any]:
    if not request.headers.get("content-type", "").startswith("application/json"):
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise HTTPException(400, "Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "this endpoint expects a json object payload")
    return body


@router.post(
    "/bank/{name}/content",
    summary="Add a photo or video to a bank, by URL or upload (only its hashes are kept)",
    openapi_extra=UPLOAD_BODY,
)
async def content_add(
    name: str,
    request: Request,
    svc: Svc,
    token: CurateToken,
    url: str | None = None,
    content_type: str | None = None,
    types: str | None = None,
) -> dict[str, Any]:
    await run_in_threadpool(require_bank, svc, name)
    max_bytes = svc.settings.max_file_size
    if url:
        note, metadata = content_fields(await _json_object(request))
        hashes = await run_in_threadpool(hash_url, url, content_type, types, svc.settings)
    elif has_files(request):
        async with uploaded(request, max_bytes) as upload:
            note, metadata = content_fields(upload.fields)
            hashes = await run_in_threadpool(upload.hashes, types, max_bytes)
    else:
        raise HTTPException(400, "Neither `url` nor multipart file upload was received")
    signals = usable_signals(hashes)
    return await run_in_threadpool(
        store_signals, svc, name, signals, actor=token.actor, note=note, metadata=metadata
    )


@router.post("/bank/{name}/signal", summary="Add hashes to a bank")
def signal_add(
    name: str, body: Annotated[Any, Body()], svc: Svc, token: CurateToken
) -> dict[str, Any]:
    require_bank(svc, name)
    if not isinstance(body, dict):
        raise HTTPException(400, "this endpoint expects a json object payload")
    values = dict(body)
    note = parse_note(values.pop("note", None))
    if not values:
        raise HTTPException(400, "No signals given")
    signals: dict[SignalType, str] = {}
    for key, value in values.items():
        try:
            kind = SIGNAL_TYPES.from_name(key)
        except ValueError:
            raise HTTPException(400, f"No such signal type {short(key)}") from None
        try:
            signals[kind] = kind.validate(str(value))
        except InvalidSignal as exc:
            raise HTTPException(400, f"Invalid {kind.name} signal: {exc}") from None
    return store_signals(svc, name, signals, actor=token.actor, note=note)


def content_or_404(conn: Connection, bank: Bank, content_id: int) -> BankContent:
    """The item, if it is in this bank (HMA does not check the bank; Iolaus does)."""
    item = bank_store.get_content(conn, content_id)
    if item is None or item.bank != bank.name:
        raise HTTPException(404, f"content '{content_id}' not found")
    return item


def content_json(
    item: BankContent, bank: Bank, *, include_signals: bool, include_metadata: bool
) -> dict[str, Any]:
    """HMA's content record. Victims' hashes are never shown: they leave only by withdrawal."""
    found: dict[str, Any] = {
        "id": item.id,
        "disable_until_ts": item.disable_until_ts,
        "original_media_uri": item.original_media_uri,
        "bank": bank_json(bank),
    }
    if include_signals and item.signals and item.source != "victim":
        found["signals"] = dict(item.signals)
    metadata = {
        "content_id": item.content_ref,
        "content_uri": item.content_uri,
        "json": item.metadata,
        "collab": item.collab,
    }
    if include_metadata and any(metadata.values()):
        found["metadata"] = metadata
    if item.note:
        found["note"] = item.note
    return found


@router.get("/bank/{name}/content/{content_id}", summary="Get one item of a bank")
def content_get(
    name: str,
    content_id: int,
    svc: Svc,
    include_signals: str = "false",
    include_metadata: str = "true",
) -> dict[str, Any]:
    with svc.engine.connect() as conn:
        bank = bank_or_404(conn, name)
        item = content_or_404(conn, bank, content_id)
    return content_json(
        item,
        bank,
        include_signals=flag(include_signals),
        include_metadata=flag(include_metadata),
    )


def check_disable_until(value: int) -> int:
    if value < 0:
        raise HTTPException(400, "disable_until_ts must be a non-negative integer")
    if value > time.time() + FIVE_YEARS:
        raise HTTPException(400, "disable_until_ts must be less than 5 years in the future")
    return value


@router.put("/bank/{name}/content/{content_id}", summary="Enable, disable or annotate an item")
def content_update(
    name: str, content_id: int, body: ContentUpdate, svc: Svc, token: CurateToken
) -> dict[str, Any]:
    until = None if body.disable_until_ts is None else check_disable_until(body.disable_until_ts)
    note = parse_note(body.note)
    with svc.engine.begin() as conn:
        bank = bank_or_404(conn, name)
        content_or_404(conn, bank, content_id)
        bank_store.update_content(conn, content_id, disable_until_ts=until, note=note)
        audit.record(
            conn,
            token.actor,
            "bank.content.update",
            name,
            content_id=content_id,
            disable_until_ts=until,
            note_changed=note is not None,
        )
        item = content_or_404(conn, bank, content_id)
    record = {
        "id": item.id,
        "disable_until_ts": item.disable_until_ts,
        "collab_metadata": item.collab,
        "original_media_uri": item.original_media_uri,
        "bank": bank_json(bank),
    }
    return record | ({"note": item.note} if item.note else {})


@router.delete("/bank/{name}/content/{content_id}", summary="Delete an item and its hashes")
def content_delete(name: str, content_id: int, svc: Svc, token: CurateToken) -> dict[str, int]:
    with svc.engine.begin() as conn:
        bank = bank_or_404(conn, name)
        item = bank_store.get_content(conn, content_id)
        if item is not None and item.bank != bank.name:
            raise HTTPException(404, f"content '{content_id}' not found")
        deleted = bank_store.delete_content(conn, [content_id]) if item is not None else 0
        if deleted:
            audit.record(conn, token.actor, "bank.content.delete", name, content_id=content_id)
    svc.matcher.refresh()
    return {"deleted": deleted}


@router.get("/signal_type", summary="Signal types this server hashes and matches")
def signal_types() -> list[dict[str, Any]]:
    return [{"name": kind.name, "enabled_ratio": 1.0} for kind in SIGNAL_TYPES]


@router.get("/content_type", summary="Content types this server hashes")
def content_types() -> list[dict[str, Any]]:
    return [{"name": name, "enabled": True} for name in MEDIA_CONTENT]
