"""Matching hashes against the banks: one in-memory index per indexed signal type, kept current
from the store's change log, plus the bank rules (thresholds, enable state, allow-lists, ratios).

A matcher never rebuilds to add or delete: ``refresh`` replays ``hash_changes`` from its
checkpoint, and every lookup refreshes first when the last refresh is older than
``max_staleness`` seconds (one by default), so a new hash is matchable and a withdrawn one gone
within about a second in every process that matches.

Which index serves a type is the type's own declaration (``index_cls``, see
:mod:`iolaus.hashing.types`): PDQ's is the multi-index-hashing :class:`PdqIndex`; exact signal
types (MD5 family) are looked up through the database's own index.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine

from iolaus.hashing.index import PdqIndex
from iolaus.hashing.types import SIGNAL_TYPES, SignalType
from iolaus.model.banks import Match
from iolaus.store import banks as bank_store


@dataclass
class LookupResult:
    """Matches for one query hash. Positive matches are void when an allow-list bank matches."""

    matches: list[Match] = field(default_factory=list)
    allowed_by: list[Match] = field(default_factory=list)

    @property
    def positive(self) -> list[Match]:
        return [] if self.allowed_by else self.matches


def pdq_bytes(values: Sequence[str]) -> np.ndarray:
    """64-hex strings (what an index holds) to an (n, 32) uint8 array."""
    if not values:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(values)), dtype=np.uint8).reshape(-1, 32)


@dataclass
class _Index:
    """One indexed signal type's in-memory index and the change-log position it reflects."""

    index: PdqIndex
    checkpoint: int


class Matcher:
    """Thread-safe matcher over the banks stored in ``engine``.

    With ``index_dir``, each indexed type's index is saved in (and loaded from) a folder of its
    type's name there, with its checkpoint, so a restart replays only newer changes.
    """

    def __init__(
        self, engine: Engine, *, index_dir: Path | None = None, max_staleness: float = 1.0
    ) -> None:
        self.engine = engine
        self.index_dir = index_dir
        self.max_staleness = max_staleness
        self._lock = threading.RLock()
        self._indexes: dict[str, _Index] | None = None  # by signal type name
        self._refreshed_at = 0.0
        self._built_at = 0.0

    # -- keeping current -------------------------------------------------------------------

    def _load(self) -> None:
        with self.engine.connect() as conn:
            self._indexes = {
                kind.name: self._load_index(conn, kind, kind.index_cls)
                for kind in SIGNAL_TYPES
                if kind.index_cls is not None
            }
        self._built_at = time.time()

    def _load_index(self, conn: Connection, kind: SignalType, index_cls: type[PdqIndex]) -> _Index:
        """The saved index if there is one, else one built from the store."""
        if self.index_dir is not None and index_cls.exists(self.index_dir / kind.name):
            index = index_cls.load(self.index_dir / kind.name)
            return _Index(index, int(index.metadata.get("checkpoint", 0)))
        checkpoint = bank_store.last_change(conn)
        pairs = list(bank_store.signals_of_type(conn, kind.name))
        index = index_cls()
        if pairs:
            ids = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
            index.add(ids, pdq_bytes([p[1] for p in pairs]))
        return _Index(index, checkpoint)

    def refresh(self) -> int:
        """Apply changes logged since the last refresh; returns how many were applied."""
        with self._lock:
            if self._indexes is None:
                self._load()
            assert self._indexes is not None
            with self.engine.connect() as conn:
                applied = sum(_replay(conn, name, entry) for name, entry in self._indexes.items())
            self._refreshed_at = time.monotonic()
            return applied

    def _ensure_fresh(self) -> dict[str, _Index]:
        if self._indexes is None or time.monotonic() - self._refreshed_at > self.max_staleness:
            self.refresh()
        assert self._indexes is not None
        return self._indexes

    def save(self) -> None:
        """Persist the indexes with their checkpoints, so a restart replays only newer changes."""
        with self._lock:
            indexes = self._ensure_fresh()
            if self.index_dir is not None:
                for name, entry in indexes.items():
                    entry.index.save(
                        self.index_dir / name, metadata={"checkpoint": entry.checkpoint}
                    )

    # -- lookups ---------------------------------------------------------------------------

    def raw_lookup(self, signal_type: str, values: Sequence[str]) -> list[list[tuple[int, int]]]:
        """(content id, distance) per query, at the index's radius: no bank rules applied."""
        kind = SIGNAL_TYPES.from_name(signal_type)
        if kind.uses_index:
            with self._lock:
                index = self._ensure_fresh()[kind.name].index
                return index.search(pdq_bytes(list(values)), kind.max_distance)
        with self.engine.connect() as conn:
            hits = bank_store.exact_matches(conn, kind.name, list(values))
        by_value: dict[str, list[tuple[int, int]]] = {}
        for value, content_id in hits:
            by_value.setdefault(value, []).append((content_id, 0))
        return [by_value.get(v, []) for v in values]

    def lookup(
        self,
        signal_type: str,
        values: Sequence[str],
        *,
        banks: set[str] | None = None,
        seed: str | None = None,
        bypass_coinflip: bool = False,
        now: float | None = None,
    ) -> list[LookupResult]:
        """Matches per query with every bank rule applied (HMA's semantics, plus allow-lists).

        A bank takes part when its enabled ratio reaches the request's coin flip (HMA's rule:
        1.0 always, 0.0 never); ``seed`` makes the flip deterministic.
        """
        kind = SIGNAL_TYPES.from_name(signal_type)
        normalised = [kind.validate(v) for v in values]
        raw = self.raw_lookup(signal_type, normalised)
        ids = sorted({cid for hits in raw for cid, _ in hits})
        with self.engine.connect() as conn:
            info = bank_store.content_banks(conn, ids)
        flip = 0.0 if bypass_coinflip else random.Random(seed).random()  # noqa: S311 - not crypto
        now_ts = time.time() if now is None else now
        results = []
        for value, hits in zip(normalised, raw, strict=True):
            result = LookupResult()
            for content_id, distance in hits:
                item = info.get(content_id)
                if item is None or not _participates(item, distance, kind, banks, flip, now_ts):
                    continue
                match = Match(
                    bank=item["name"],
                    content_id=content_id,
                    signal_type=signal_type,
                    value=value,
                    distance=distance,
                    category=item["category"],
                    is_allowlist=item["is_allowlist"],
                    note=item["note"],
                )
                (result.allowed_by if match.is_allowlist else result.matches).append(match)
            result.matches.sort(key=lambda m: (m.distance, m.bank, m.content_id))
            results.append(result)
        return results

    def status(self) -> dict[str, dict[str, Any]]:
        """HMA's ``/m/index/status`` shape, per signal type."""
        with self._lock:
            sizes = {name: len(entry.index) for name, entry in self._ensure_fresh().items()}
        status = {}
        with self.engine.connect() as conn:
            for kind in SIGNAL_TYPES:
                if kind.name in sizes:
                    built_to, size = int(self._built_at), sizes[kind.name]
                else:
                    built_to, size = int(time.time()), bank_store.count_signals(conn, kind.name)
                status[kind.name] = {"present": True, "built_to": built_to, "size": size}
        return status


def _replay(conn: Connection, signal_type: str, entry: _Index) -> int:
    """Apply one type's logged changes after its checkpoint; returns how many."""
    applied = 0
    while True:
        seq, changes = bank_store.changes_since(conn, entry.checkpoint, signal_type)
        entry.checkpoint = seq
        if not changes:
            return applied
        deletes = [cid for op, cid, _ in changes if op == "delete"]
        adds = [(cid, v) for op, cid, v in changes if op == "add" and v is not None]
        if deletes:
            entry.index.delete(np.array(deletes, dtype=np.int64))
        if adds:
            entry.index.add(
                np.array([a[0] for a in adds], dtype=np.int64), pdq_bytes([a[1] for a in adds])
            )
        applied += len(changes)


def _participates(
    item: dict[str, Any],
    distance: int,
    kind: SignalType,
    banks: set[str] | None,
    flip: float,
    now_ts: float,
) -> bool:
    if banks is not None and item["name"] not in banks:
        return False
    if not kind.matches_at(distance, item["pdq_threshold"]):
        return False
    disable_until = item["disable_until_ts"]
    if disable_until == 0 or (disable_until != 1 and now_ts < disable_until):
        return False
    return item["enabled_ratio"] > 0 and item["enabled_ratio"] >= flip
