"""``POST /m/lookup/batch``: many hashes in one request (an Iolaus extension to HMA's API).

HMA has no batch lookup, so a platform scanning a backlog makes one HTTP request per hash. Here
up to 10,000 hashes of one type are validated together (one bad hash refuses the whole batch
and names its index, so nothing is half-done) and matched in one pass over the index, with the
same bank rules, coin flip and answer shape per hash as ``GET /m/lookup``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from iolaus.hashing.types import SignalType
from iolaus.model.banks import InvalidSignal
from iolaus.web.auth import match_access
from iolaus.web.hma.matching import matches_by_bank
from iolaus.web.hma.params import signal_type_of
from iolaus.web.settings import Svc

MAX_BATCH = 10_000

router = APIRouter(prefix="/m", tags=["Matching (Iolaus)"], dependencies=[Depends(match_access)])


class BatchLookup(BaseModel):
    signal_type: str = Field(examples=["pdq"])
    signals: list[str] = Field(max_length=MAX_BATCH)
    banks: list[str] | None = None
    seed: str | None = None
    bypass_coinflip: bool = False


def normalised(kind: SignalType, signals: list[str]) -> list[str]:
    values = []
    for index, signal in enumerate(signals):
        try:
            values.append(kind.validate(signal))
        except InvalidSignal as exc:
            raise HTTPException(400, f"invalid signal at index {index}: {exc}") from None
    return values


@router.post("/lookup/batch", summary="Matching banks for up to 10,000 hashes of one type")
def lookup_batch(body: BatchLookup, svc: Svc) -> dict[str, list[dict[str, Any]]]:
    kind = signal_type_of(body.signal_type)
    values = normalised(kind, body.signals)
    results = svc.matcher.lookup(
        kind.name,
        values,
        banks=set(body.banks) if body.banks is not None else None,
        seed=body.seed,
        bypass_coinflip=body.bypass_coinflip,
    )
    return {
        "results": [
            {"signal": value, "matches": matches_by_bank(result, kind)}
            for value, result in zip(values, results, strict=True)
        ]
    }
