"""The Transparency Database's wire format for export and checking (Art. 24(5)): one statement
body per line for ``POST /api/v1/statement``, or ``{"statements": [...]}`` batches of at most
``MAX_BATCH`` for ``POST /api/v1/statements`` (all or nothing)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

MAX_BATCH = 100  # POST /api/v1/statements takes 1 to 100 statements, all or nothing


def export_lines(statements: Sequence[dict[str, Any]], batch: bool) -> list[str]:
    """The JSON lines to send: one per statement, or one per batch of ``MAX_BATCH``."""
    if not batch:
        return [json.dumps(s, ensure_ascii=False) for s in statements]
    return [
        json.dumps({"statements": statements[i : i + MAX_BATCH]}, ensure_ascii=False)
        for i in range(0, len(statements), MAX_BATCH)
    ]


def read_statements(text: str) -> list[Any]:
    """Statements from a batch object, an array, or JSON lines of statements or batch objects;
    raises ``ValueError`` for text that is none of these or a batch of the wrong size."""
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        items = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        items = whole if isinstance(whole, list) else [whole]
    statements: list[Any] = []
    for item in items:
        if isinstance(item, dict) and set(item) == {"statements"}:
            batch = item["statements"]
            if not isinstance(batch, list) or not 1 <= len(batch) <= MAX_BATCH:
                raise ValueError(f"a batch holds 1 to {MAX_BATCH} statements")
            statements.extend(batch)
        else:
            statements.append(item)
    return statements
