"""Matching hashes against the banks: one in-memory index per signal type, kept current from
the store's change log, plus the bank rules (thresholds, enable state, allow-lists, ratios).

A matcher never rebuilds to add or delete: ``refresh`` replays ``hash_changes`` from its
checkpoint, and every lookup refreshes first when the last refresh is older than
``max_staleness`` seconds (one by default), so a new hash is matchable and a withdrawn one gone
within about a second in every process that matches.

Exact signal types (MD5 family) are looked up through the database's own index.
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
from sqlalchemy import Engine

from iolaus.hashing.index import PdqIndex
from iolaus.model.banks import PDQ_MAX_THRESHOLD, Match, SignalType, normalise_signal
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
    """64-hex PDQ strings to an (n, 32) uint8 array."""
    if not values:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(values)), dtype=np.uint8).reshape(-1, 32)


class Matcher:
    """Thread-safe matcher over the banks stored in ``engine``."""

    def __init__(
        self, engine: Engine, *, index_dir: Path | None = None, max_staleness: float = 1.0
    ) -> None:
        self.engine = engine
        self.index_dir = index_dir
        self.max_staleness = max_staleness
        self._lock = threading.RLock()
        self._pdq: PdqIndex | None = None
        self._checkpoint = 0
        self._refreshed_at = 0.0
        self._built_at = 0.0

    # -- keeping current -------------------------------------------------------------------

    def _load(self) -> None:
        with self.engine.connect() as conn:
            if self.index_dir is not None and PdqIndex.exists(self.index_dir):
                self._pdq = PdqIndex.load(self.index_dir)
                self._checkpoint = int(self._pdq.metadata.get("checkpoint", 0))
            else:
                self._checkpoint = bank_store.last_change(conn)
                pairs = list(bank_store.signals_of_type(conn, SignalType.PDQ.value))
                self._pdq = PdqIndex()
                if pairs:
                    ids = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
                    self._pdq.add(ids, pdq_bytes([p[1] for p in pairs]))
        self._built_at = time.time()

    def refresh(self) -> int:
        """Apply changes logged since the last refresh; returns how many were applied."""
        with self._lock:
            if self._pdq is None:
                self._load()
            assert self._pdq is not None
            applied = 0
            with self.engine.connect() as conn:
                while True:
                    seq, changes = bank_store.changes_since(
                        conn, self._checkpoint, SignalType.PDQ.value
                    )
                    self._checkpoint = seq
                    if not changes:
                        break
                    deletes = [cid for op, cid, _ in changes if op == "delete"]
                    adds = [(cid, v) for op, cid, v in changes if op == "add" and v is not None]
                    if deletes:
                        self._pdq.delete(np.array(deletes, dtype=np.int64))
                    if adds:
                        self._pdq.add(
                            np.array([a[0] for a in adds], dtype=np.int64),
                            pdq_bytes([a[1] for a in adds]),
                        )
                    applied += len(changes)
            self._refreshed_at = time.monotonic()
            return applied

    def _ensure_fresh(self) -> None:
        if self._pdq is None or time.monotonic() - self._refreshed_at > self.max_staleness:
            self.refresh()

    def save(self) -> None:
        """Persist the index with its checkpoint, so a restart replays only newer changes."""
        with self._lock:
            self._ensure_fresh()
            if self.index_dir is not None and self._pdq is not None:
                self._pdq.save(self.index_dir, metadata={"checkpoint": self._checkpoint})

    # -- lookups ---------------------------------------------------------------------------

    def raw_lookup(self, signal_type: str, values: Sequence[str]) -> list[list[tuple[int, int]]]:
        """(content id, distance) per query, at the index's radius: no bank rules applied."""
        kind = SignalType(signal_type)
        if kind is SignalType.PDQ:
            with self._lock:
                self._ensure_fresh()
                assert self._pdq is not None
                return self._pdq.search(pdq_bytes(list(values)), PDQ_MAX_THRESHOLD)
        with self.engine.connect() as conn:
            hits = bank_store.exact_matches(conn, kind.value, list(values))
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
        normalised = [normalise_signal(signal_type, v)[1] for v in values]
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
                if item is None or not _participates(
                    item, distance, signal_type, banks, flip, now_ts
                ):
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
            self._ensure_fresh()
            size = len(self._pdq) if self._pdq is not None else 0
        with self.engine.connect() as conn:
            exact = {
                kind.value: bank_store.count_signals(conn, kind.value)
                for kind in SignalType
                if kind is not SignalType.PDQ
            }
        status = {
            SignalType.PDQ.value: {"present": True, "built_to": int(self._built_at), "size": size}
        }
        for name, count in exact.items():
            status[name] = {"present": True, "built_to": int(time.time()), "size": count}
        return status


def _participates(
    item: dict[str, Any],
    distance: int,
    signal_type: str,
    banks: set[str] | None,
    flip: float,
    now_ts: float,
) -> bool:
    if banks is not None and item["name"] not in banks:
        return False
    if signal_type == SignalType.PDQ.value and distance > item["pdq_threshold"]:
        return False
    disable_until = item["disable_until_ts"]
    if disable_until == 0 or (disable_until != 1 and now_ts < disable_until):
        return False
    return item["enabled_ratio"] > 0 and item["enabled_ratio"] >= flip
