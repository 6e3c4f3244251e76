"""HMA's matching routes (``/m``): lookups by hash or by file, raw lookups without bank rules,
hash comparison and the index's status. Lookup distances are strings (``"-"`` for exact-match
types, as pytx prints them) while ``/m/compare`` distances are numbers; ``GET /m/lookup`` applies
``bypass_coinflip``, which HMA accepts but ignores. Lookups by file hash first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from iolaus.hashing.matcher import LookupResult
from iolaus.hashing.types import SIGNAL_TYPES, SignalType
from iolaus.model.banks import InvalidSignal
from iolaus.store import banks as bank_store
from iolaus.web.auth import match_access
from iolaus.web.hma.params import (
    UPLOAD_BODY,
    bank_names,
    flag,
    required,
    short,
    signal_type_of,
    valid_signal,
)
from iolaus.web.media import hash_url, uploaded
from iolaus.web.settings import Services, Svc

router = APIRouter(prefix="/m", tags=["Matching (HMA)"], dependencies=[Depends(match_access)])


def matches_by_bank(result: LookupResult, kind: SignalType) -> dict[str, list[dict[str, Any]]]:
    """HMA's lookup map: bank name → matches; banks without a match are absent."""
    found: dict[str, list[dict[str, Any]]] = {}
    for match in result.positive:
        found.setdefault(match.bank, []).append(
            {"bank_content_id": match.content_id, "distance": kind.distance_text(match.distance)}
        )
    return found


def lookup_signal(
    svc: Services,
    kind: SignalType,
    value: str,
    *,
    banks: set[str] | None,
    seed: str | None,
    bypass_coinflip: bool,
) -> dict[str, list[dict[str, Any]]]:
    result = svc.matcher.lookup(
        kind.name,
        [valid_signal(kind, value)],
        banks=banks,
        seed=seed,
        bypass_coinflip=bypass_coinflip,
    )[0]
    return matches_by_bank(result, kind)


def lookup_hashes(
    svc: Services, hashes: dict[str, str], **options: Any
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Lookups for a hashed file, keyed by signal type; an unusable ("") hash matches nothing."""
    return {
        name: lookup_signal(svc, SIGNAL_TYPES.from_name(name), value, **options) if value else {}
        for name, value in hashes.items()
    }


def raw_matches(
    svc: Services, kind: SignalType, value: str, banks: set[str] | None
) -> list[tuple[int, int]]:
    """(content id, distance) at the index radius, ignoring enable state and bank ratios.

    Hits are checked against the store, so an item deleted a moment ago is never returned."""
    hits = svc.matcher.raw_lookup(kind.name, [valid_signal(kind, value)])[0]
    with svc.engine.connect() as conn:
        info = bank_store.content_banks(conn, [cid for cid, _ in hits])
    return sorted(
        (cid, distance)
        for cid, distance in hits
        if cid in info and (banks is None or info[cid]["name"] in banks)
    )


def compare_pair(kind: SignalType, pair: Any) -> list[Any]:
    """``[match, similarity]`` for two hashes of one type, as pytx's compare_hash gives it."""
    if not isinstance(pair, list):
        raise HTTPException(400, f"Comparison hashes for {kind.name} was not a list")
    if len(pair) != 2:
        raise HTTPException(400, "Comparison hash list length must be exactly 2")
    try:
        left, right = (kind.validate(str(h)) for h in pair)
    except InvalidSignal as exc:
        raise HTTPException(400, f"Invalid {kind.name} hash: {exc}") from None
    match, distance = kind.compare(left, right)
    return [match, kind.distance_detail(distance)]


@router.get("/raw_lookup", summary="Content ids near a hash, without bank rules")
def raw_lookup(
    svc: Svc,
    signal_type: str | None = None,
    signal: str | None = None,
    banks: str | None = None,
    include_distance: str = "false",
) -> dict[str, list[Any]]:
    kind = signal_type_of(required(signal_type, "signal_type"))
    hits = raw_matches(svc, kind, required(signal, "signal"), bank_names(banks))
    if flag(include_distance):
        return {
            "matches": [
                {"bank_content_id": cid, "distance": kind.distance_text(d)} for cid, d in hits
            ]
        }
    return {"matches": [cid for cid, _ in hits]}


def _lookup_options(banks: str | None, seed: str | None, bypass_coinflip: str) -> dict[str, Any]:
    """The bank filter and coin-flip options shared by every ``/m/lookup`` form."""
    return {"banks": bank_names(banks), "seed": seed, "bypass_coinflip": flag(bypass_coinflip)}


@router.get("/lookup", summary="Matching banks for a hash, or for a file fetched by URL")
def lookup_get(
    svc: Svc,
    signal_type: str | None = None,
    signal: str | None = None,
    url: str | None = None,
    content_type: str | None = None,
    types: str | None = None,
    banks: str | None = None,
    seed: str | None = None,
    bypass_coinflip: str = "false",
) -> dict[str, Any]:
    options = _lookup_options(banks, seed, bypass_coinflip)
    if url:
        found = lookup_hashes(svc, hash_url(url, content_type, types, svc.settings), **options)
        return found.get(signal_type, {}) if signal_type is not None else found
    if not signal or not signal_type:
        raise HTTPException(400, "Either url or both signal and signal_type are required")
    return lookup_signal(svc, signal_type_of(signal_type), signal, **options)


@router.post("/lookup", summary="Matching banks for an uploaded file", openapi_extra=UPLOAD_BODY)
async def lookup_post(
    request: Request,
    svc: Svc,
    types: str | None = None,
    banks: str | None = None,
    seed: str | None = None,
    bypass_coinflip: str = "false",
) -> dict[str, Any]:
    options = _lookup_options(banks, seed, bypass_coinflip)
    async with uploaded(request, svc.settings.max_file_size) as upload:
        hashes = await run_in_threadpool(upload.hashes, types, svc.settings.max_file_size)
    return await run_in_threadpool(lookup_hashes, svc, hashes, **options)


@router.get("/index/status", summary="Size and freshness of each signal type's index")
def index_status(svc: Svc, signal_type: str | None = None) -> dict[str, Any]:
    status = svc.matcher.status()
    if signal_type is None:
        return status
    if signal_type not in status:
        raise HTTPException(400, f"No such signal type '{short(signal_type)}'")
    return {signal_type: status[signal_type]}


@router.post("/compare", summary="Compare pairs of hashes")
def compare(body: Annotated[Any, Body()]) -> dict[str, list[Any]]:
    if not isinstance(body, dict):
        raise HTTPException(400, "Request input was not a dict")
    return {name: compare_pair(signal_type_of(name), pair) for name, pair in body.items()}
