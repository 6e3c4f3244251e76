"""Parameters shared by the HMA route groups, parsed as HMA parses them (its messages included),
and the OpenAPI description of the one-file upload the hashing, matching and curation routes
accept."""

from __future__ import annotations

from fastapi import HTTPException

from iolaus.hashing.types import MEDIA_CONTENT, SIGNAL_TYPES, SignalType
from iolaus.model.banks import InvalidSignal

UPLOAD_BODY = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "description": "Exactly one file; its field name is its content type.",
                    "properties": {
                        name: {"type": "string", "format": "binary"} for name in MEDIA_CONTENT
                    },
                }
            }
        }
    }
}


def short(text: str, limit: int = 64) -> str:
    """Echo a client's value in a message without reflecting megabytes of it back."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def required(value: str | None, name: str) -> str:
    if value is None:
        raise HTTPException(400, f"{name} is required")
    return value


def flag(value: str) -> bool:
    """HMA's boolean query parameters: true/1 or false/0."""
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise HTTPException(400, "invalid boolean parameter - prefer true/false")


def signal_type_of(name: str) -> SignalType:
    try:
        return SIGNAL_TYPES.from_name(name)
    except ValueError:
        raise HTTPException(400, f"No such SignalType '{short(name)}'") from None


def valid_signal(kind: SignalType, value: str) -> str:
    try:
        return kind.validate(value)
    except InvalidSignal as exc:
        raise HTTPException(400, f"invalid signal: {exc}") from None


def bank_names(banks: str | None) -> set[str] | None:
    return set(banks.split(",")) if banks else None
