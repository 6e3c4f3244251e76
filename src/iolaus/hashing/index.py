"""Exact Hamming-radius index for PDQ hashes (256 bits), built for 10M hashes at distance 31.

Why not FAISS: its flat scan is exact but reads every hash for every query (about 100 lookups/s
at 10M on two cores). Its ``IndexBinaryMultiHash``, which python-threatexchange wraps, keeps a
C++ hash map per table (about 600 bytes per hash at 10M), and pytx's 16 tables x 16 bits setting
verifies about 41,000 candidates per query at 10M.

Multi-index hashing (Norouzi, Punjani & Fleet), exact by the pigeonhole principle:

* 11 tables, table ``t`` keyed by the disjoint 23-bit substring at bits ``[23t, 23t + 23)``
  (most significant bit of the first byte is bit 0; bits 253-255 are in no table, which can only
  add candidates, never lose one). A table probed at radius ``r_t`` holds ``r_t + 1`` credits.
  When the credits sum to more than the query radius, any hash within the radius has some table
  whose substring is within ``r_t`` of the query's. At radius 31 that is ten tables at radius 2
  and one at radius 1: 2,794 probes per query and about one stored hash per probe at 10M. Fewer
  tables cost far more probes (8 tables of 32 bits need radius 3: 16,000 probes); more tables
  cost more memory and candidates.
* Ring filter: the credits minus the substring distances sum to a positive number, so by the
  cycle lemma some table ``t`` also satisfies ``d_t + d_(t+1) <= r_t + r_(t+1) + 1`` (tables in
  a ring). Each table entry carries the first bits of the next table's substring, and a probe
  result failing that bound is dropped before its full hash is read; at 10M this cuts full-hash
  reads from about 3,300 to about 1,200 per query.
* Layout, all flat numpy arrays so a segment memory-maps from disk: per table one ``uint32`` per
  hash packing ``row | key residual | ring bits``, sorted by key, and a two-level bucket directory
  (one ``uint32`` per 32 buckets plus one ``uint8`` per bucket) over ``floor(log2 n)`` key bits.
  At 10M: 32 B hash + 4 B id (8 when ids span 2**32 or more) + 44 B entries + about 10 B
  directory = about 90 bytes per hash. The 11 tables of row references (at least 3 bytes each
  at 10M) are what keeps radius 31 at a few thousand probes, so 64 bytes per hash is out of reach
  for this design; 8 tables would fit in 64 but need about six times the probes.

Updates, LSM style: adds go to a small flat-scanned buffer that becomes an immutable segment
when full; segments of similar size merge (and a segment rewrites itself once a quarter of it is
deleted). Deletes set tombstone bits, so changes are visible at once without a rebuild. An id has
at most one live hash: adding an existing id replaces its hash. Segments persist as ``.npy``
files named by a random token plus a ``manifest.json`` written last through a rename, which is
the commit point; ``load`` memory-maps the files instead of rebuilding.

Queries run in chunks of 16, numpy vectorised over all probes of a chunk (small enough for its
arrays to stay in L2 cache), the chunks spread over threads (numpy's gathers and popcounts
release the GIL). Radii whose probe count would cost more
than reading the segment fall back to an exact flat scan, so every radius 0-256 is exact.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import numpy as np

HASH_BYTES = 32
HASH_BITS = 256
DEFAULT_RADIUS = 31  # PDQ_CONFIDENT_MATCH_THRESHOLD
N_TABLES = 11
KEY_BITS = 23
_KEY_MASK = (1 << KEY_BITS) - 1
_GROUP_BITS = 5  # directory groups of 32 buckets: one uint32 base, then uint8 offsets
_CHUNK = 16  # queries per vectorised step: a chunk's probe arrays stay in L2 cache
_BUFFER_ROWS = 4096  # flat-scanned adds before they become a segment
_MERGE_FACTOR = 4  # merge the newest segment into the previous one once within this ratio
_MAX_DEAD_FRACTION = 0.25
_PROBE_COST = 5.0  # one probe costs about five flat-scanned hashes (measured at 3k-1M hashes)
_FORMAT = "iolaus-pdq-mih"
_FORMAT_VERSION = 1
_MANIFEST = "manifest.json"
_OWN_FILE = re.compile(r"seg-[0-9a-f]{32}\..+\.npy|.+\.[0-9a-f]{8}\.tmp")
_HEX_HASH = re.compile(r"[0-9a-fA-F]{64}")


class Matches(NamedTuple):
    """Matches of a query batch, one row per (query, id), sorted by query, distance, id."""

    query_idx: np.ndarray  # int64, index into the query batch
    ids: np.ndarray  # int64
    distances: np.ndarray  # int32


def as_hashes(value: Any) -> np.ndarray:
    """Hashes as a C-contiguous ``(n, 32)`` uint8 array.

    Accepts a uint8 array of shape ``(32,)`` or ``(n, 32)``, raw bytes (32 per hash), one
    64-character hex string, or an iterable of hex strings or 32-byte values.
    """
    if isinstance(value, str):
        value = [value]
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
    elif isinstance(value, np.ndarray):
        if value.dtype != np.uint8 or value.shape[-1:] != (HASH_BYTES,) or value.ndim > 2:
            raise ValueError(f"hash arrays must be uint8 of shape (n, {HASH_BYTES})")
        return np.ascontiguousarray(value.reshape(-1, HASH_BYTES))
    else:
        parts = []
        for item in value:
            if isinstance(item, str):
                if not _HEX_HASH.fullmatch(item):
                    raise ValueError(f"not a 64-hex-digit PDQ hash: {item!r}")
                parts.append(bytes.fromhex(item))
            else:
                parts.append(bytes(item))
                if len(parts[-1]) != HASH_BYTES:
                    raise ValueError(f"a hash is {HASH_BYTES} bytes, not {len(parts[-1])}")
        raw = b"".join(parts)
    if len(raw) % HASH_BYTES:
        raise ValueError(f"hash bytes must be a multiple of {HASH_BYTES}")
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, HASH_BYTES).copy()


def to_hex(hashes: Any) -> list[str]:
    """Lowercase hex strings (the PDQ wire form) of hashes in any form ``as_hashes`` accepts."""
    return [row.tobytes().hex() for row in as_hashes(hashes)]


def substring_keys(hashes: np.ndarray) -> np.ndarray:
    """The ``(n, 11)`` int64 table keys of ``(n, 32)`` uint8 hashes, most significant bit first.

    A transposed view of a table-major array: a table's keys are contiguous, which makes
    building the tables several times faster than reading strided columns.
    """
    words = hashes.view(">u8").astype(np.uint64).T.copy()  # (4, n) big-endian words
    keys = np.empty((N_TABLES, len(hashes)), dtype=np.uint64)
    for t in range(N_TABLES):
        word, shift = divmod(t * KEY_BITS, 64)
        spill = shift + KEY_BITS - 64
        if spill <= 0:
            np.right_shift(words[word], np.uint64(-spill), out=keys[t])
        else:
            np.left_shift(words[word], np.uint64(spill), out=keys[t])
            keys[t] |= words[word + 1] >> np.uint64(64 - spill)
        keys[t] &= np.uint64(_KEY_MASK)
    keys = keys.view(np.int64)
    return keys.T


def table_radii(radius: int) -> tuple[int, ...]:
    """Per-table probe radii whose credits (radius + 1 each) sum to ``radius + 1``.

    Credits are spread evenly; -1 means the table is not probed (small radii need few tables).
    """
    base, extra = divmod(radius + 1, N_TABLES)
    return tuple(base - 1 + (t < extra) for t in range(N_TABLES))


@functools.lru_cache(maxsize=256)
def _probe_count(bits: int, radii: tuple[int, ...]) -> int:
    return sum(math.comb(bits, h) for r in radii for h in range(min(r, bits) + 1))


@functools.lru_cache(maxsize=64)
def _flip_masks(bits: int, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """All masks of ``bits`` bits with at most ``radius`` ones, and their popcounts.

    Sorted by the bits above the sixth so that probes landing in the same 64-bucket stretch of
    a directory are adjacent and hit the same cache lines.
    """
    masks = [0]
    for h in range(1, min(radius, bits) + 1):
        masks += [sum(1 << b for b in combo) for combo in itertools.combinations(range(bits), h)]
    arr = np.array(masks, dtype=np.int64)
    arr = arr[np.argsort(arr >> 6, kind="stable")]
    return arr, np.bitwise_count(arr).astype(np.int64)


@dataclass(frozen=True)
class _Plan:
    """Every probe of one query for a segment's directory width and a radius split.

    ``info`` holds, per probe, the two filter bounds in bits 32-39 (key residual distance) and
    40-47 (ring bound); the query's own bits are or-ed in per chunk.
    """

    table: np.ndarray  # int64 (P,), table of each probe
    mask: np.ndarray  # int64 (P,), bucket-key flip mask
    bucket_offset: np.ndarray  # int64 (P,), first global bucket of the probe's table
    info: np.ndarray  # uint64 (P,)


@functools.lru_cache(maxsize=64)
def _plan(dir_bits: int, radii: tuple[int, ...]) -> _Plan:
    tables, masks, offsets, residual_bound, ring_bound = [], [], [], [], []
    for t, r in enumerate(radii):
        if r < 0:
            continue
        mask, flips = _flip_masks(dir_bits, r)
        tables.append(np.full(len(mask), t, dtype=np.int64))
        masks.append(mask)
        offsets.append(np.full(len(mask), t << dir_bits, dtype=np.int64))
        residual_bound.append(r - flips)
        ring_bound.append(r + radii[(t + 1) % N_TABLES] + 1 - flips)
    info = (np.concatenate(residual_bound).astype(np.uint64) << np.uint64(32)) | (
        np.concatenate(ring_bound).astype(np.uint64) << np.uint64(40)
    )
    return _Plan(np.concatenate(tables), np.concatenate(masks), np.concatenate(offsets), info)


def _flat_search(
    query_words: np.ndarray, words: np.ndarray, radius: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact scan of every stored hash: (query index, row, distance) within ``radius``.

    Word-by-word popcounts summed in place: four times faster than one reduction over words.
    """
    block = max(1, 65536 // max(1, len(query_words)))
    found_q, found_r, found_d = [], [], []
    for lo in range(0, len(words), block):
        stored = words[lo : lo + block]
        dist = np.bitwise_count(query_words[:, :1] ^ stored[:, 0]).astype(np.uint16)
        for k in range(1, HASH_BYTES // 8):
            dist += np.bitwise_count(query_words[:, k : k + 1] ^ stored[:, k])
        q, r = np.nonzero(dist <= radius)
        found_q.append(q)
        found_r.append(r + lo)
        found_d.append(dist[q, r].astype(np.int32))
    if not found_q:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32)
    return np.concatenate(found_q), np.concatenate(found_r), np.concatenate(found_d)


def _expand_ranges(start: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ``range(start[i], start[i] + lengths[i])`` and the ``i`` of each element.

    Built from a cumulative sum of run markers: ``np.repeat`` is several times slower here.
    """
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if len(ends) else 0
    firsts = ends - lengths
    nonempty = np.flatnonzero(lengths)
    marks = np.zeros(total, dtype=np.int32)
    marks[firsts[nonempty]] = 1
    owner = np.take(nonempty, np.cumsum(marks) - 1)
    positions = np.arange(total, dtype=np.int64) + np.take(start - firsts, owner)
    return owner, positions


def _uint_for(largest: int) -> type[np.unsignedinteger]:
    """The narrowest unsigned dtype holding ``largest``."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if largest <= np.iinfo(dtype).max:
            return dtype
    return np.uint64


@dataclass(frozen=True)
class _Layout:
    """How a segment of ``n`` hashes packs its tables.

    A row reference needs ``row_bits``; the directory indexes the top ``dir_bits`` of each 23-bit
    key (one to two hashes per bucket); the other ``resid_bits`` of the key and ``ring_bits`` of
    the next table's key fill the rest of the uint32 entry and filter probes before any hash is
    read.
    """

    row_bits: int
    dir_bits: int
    resid_bits: int
    ring_bits: int
    group_bits: int

    @classmethod
    def for_rows(cls, n: int) -> _Layout:
        row_bits = max(1, (n - 1).bit_length())
        dir_bits = min(KEY_BITS, max(0, n.bit_length() - 1))
        resid_bits = KEY_BITS - dir_bits
        ring_bits = min(KEY_BITS, 32 - row_bits - resid_bits)
        return cls(row_bits, dir_bits, resid_bits, ring_bits, min(_GROUP_BITS, dir_bits))


def _build_tables(hashes: np.ndarray, lay: _Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries (all tables, each sorted by key), directory offsets in groups, group bases."""
    n, buckets, group = len(hashes), 1 << lay.dir_bits, 1 << lay.group_bits
    keys = substring_keys(hashes).T  # (11, n), contiguous per table
    bucket_keys = keys >> lay.resid_bits
    # The fullest directory group decides the offset dtype (uint8 for random hashes at any n).
    fullest = max(int(np.bincount(bucket_keys[t] >> lay.group_bits).max()) for t in range(N_TABLES))
    rel = np.empty(N_TABLES * buckets + 1, dtype=_uint_for(fullest))
    base = np.empty(N_TABLES * (buckets // group) + 1, dtype=_uint_for(N_TABLES * n))
    entries = np.empty(N_TABLES * n, dtype=np.uint32)
    rows = np.arange(n, dtype=np.uint64)
    ring_shift = np.uint64(KEY_BITS - lay.ring_bits)

    def fill(t: int) -> None:
        """Table t's slices of the three arrays (tables are independent: built in threads)."""
        packed = keys[t].astype(np.uint64) << np.uint64(32)
        packed |= rows
        ring = keys[(t + 1) % N_TABLES].astype(np.uint64) >> ring_shift
        packed |= ring << np.uint64(lay.row_bits + lay.resid_bits)
        packed.sort()
        resid = (packed >> np.uint64(32)) & np.uint64((1 << lay.resid_bits) - 1)
        packed &= np.uint64(0xFFFFFFFF)
        packed |= resid << np.uint64(lay.row_bits)
        entries[t * n : (t + 1) * n] = packed
        starts = np.empty(buckets + 1, dtype=np.int64)
        starts[0] = 0
        np.cumsum(np.bincount(bucket_keys[t], minlength=buckets), out=starts[1:])
        starts += t * n
        group_starts = starts[:-1:group]
        base[t * len(group_starts) : (t + 1) * len(group_starts)] = group_starts
        rel[t * buckets : (t + 1) * buckets] = starts[:-1] - np.repeat(group_starts, group)

    list(_executor(os.cpu_count() or 1).map(fill, range(N_TABLES)))
    base[-1] = N_TABLES * n
    rel[-1] = 0
    return entries, rel, base


_SEGMENT_ARRAYS = ("hashes", "ids", "entries", "rel", "base")
_U64 = 0xFFFFFFFFFFFFFFFF


class _Segment:
    """An immutable run of hashes with its 11 tables; only the tombstone bitmap changes.

    Rows are sorted by id, so deletes find rows by binary search without an id-to-row map, and
    ids are stored as offsets from the smallest (uint32 when they span less than 2**32).
    """

    def __init__(
        self,
        name: str,
        id_base: int,
        arrays: Mapping[str, np.ndarray],
        dead: np.ndarray,
    ) -> None:
        self.name = name
        self.id_base = id_base
        self.hashes = arrays["hashes"]
        self.id_offsets = arrays["ids"]
        self.entries = arrays["entries"]
        self.rel = arrays["rel"]
        self.base = arrays["base"]
        self.dead = dead  # bitmap, little bit order
        self.n = len(self.hashes)
        self.lay = _Layout.for_rows(self.n)
        self.words = self.hashes.view(np.uint64)  # (n, 4); popcount of xor ignores byte order
        self.n_dead = int(np.bitwise_count(dead).sum())
        self.last_id = int(self.ids_of(np.array([self.n - 1]))[0])

    @classmethod
    def build(cls, hashes: np.ndarray, ids: np.ndarray) -> _Segment:
        """A segment of ``hashes`` keyed by unique, non-empty ``ids``."""
        if len(ids) >= 1 << 32:
            raise ValueError("a segment holds fewer than 2**32 hashes")
        if not _strictly_increasing(ids):
            order = np.argsort(ids, kind="stable")
            ids, hashes = ids[order], np.take(hashes, order, axis=0)
        id_base = int(ids[0])
        offsets = ids.view(np.uint64) - np.uint64(id_base & _U64)
        if int(ids[-1]) - id_base < 1 << 32:
            offsets = offsets.astype(np.uint32)
        entries, rel, base = _build_tables(hashes, _Layout.for_rows(len(ids)))
        arrays = {"hashes": hashes, "ids": offsets, "entries": entries, "rel": rel, "base": base}
        dead = np.zeros((len(ids) + 7) // 8, dtype=np.uint8)
        return cls(f"seg-{uuid.uuid4().hex}", id_base, arrays, dead)

    @property
    def live(self) -> int:
        return self.n - self.n_dead

    @property
    def nbytes(self) -> int:
        arrays = (self.hashes, self.id_offsets, self.entries, self.rel, self.base, self.dead)
        return sum(a.nbytes for a in arrays)

    def ids_of(self, rows: np.ndarray) -> np.ndarray:
        offsets = np.take(self.id_offsets, rows).astype(np.uint64)
        return (offsets + np.uint64(self.id_base & _U64)).view(np.int64)

    def live_rows(self) -> np.ndarray:
        dead = np.unpackbits(self.dead, count=self.n, bitorder="little")
        return np.flatnonzero(dead == 0)

    def is_dead(self, rows: np.ndarray) -> np.ndarray:
        return ((np.take(self.dead, rows >> 3) >> (rows & 7).astype(np.uint8)) & 1).astype(bool)

    def kill(self, ids: np.ndarray) -> int:
        """Tombstone the live rows holding any of the unique ``ids``; returns how many."""
        ids = ids[(ids >= self.id_base) & (ids <= self.last_id)]
        targets = (ids.view(np.uint64) - np.uint64(self.id_base & _U64)).astype(
            self.id_offsets.dtype
        )
        rows = np.searchsorted(self.id_offsets, targets)
        found = rows < self.n
        found[found] = np.take(self.id_offsets, rows[found]) == targets[found]
        rows = rows[found]
        rows = rows[~self.is_dead(rows)]
        np.bitwise_or.at(self.dead, rows >> 3, np.left_shift(1, rows & 7).astype(np.uint8))
        self.n_dead += len(rows)
        return len(rows)

    def search(
        self, query_words: np.ndarray, query_keys: np.ndarray, radius: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query index, id, distance) of live hashes within ``radius`` of a query chunk."""
        radii = table_radii(radius)
        per_probe = 1.0 + self.n / (1 << self.lay.dir_bits)
        if _probe_count(self.lay.dir_bits, radii) * per_probe * _PROBE_COST < self.n:
            q, rows, dist = self._table_search(query_words, query_keys, radius, radii)
        else:
            q, rows, dist = _flat_search(query_words, self.words, radius)
        if self.n_dead and len(rows):
            alive = ~self.is_dead(rows)
            q, rows, dist = q[alive], rows[alive], dist[alive]
        return q, self.ids_of(rows), dist

    def _table_search(
        self,
        query_words: np.ndarray,
        query_keys: np.ndarray,
        radius: int,
        radii: tuple[int, ...],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lay = self.lay
        plan = _plan(lay.dir_bits, radii)
        # Directory lookups for every probe of every query in the chunk at once.
        probe_keys = np.take(query_keys, plan.table, axis=1)
        bucket = (((probe_keys >> lay.resid_bits) ^ plan.mask) + plan.bucket_offset).ravel()
        after = bucket + 1
        start = np.take(self.base, bucket >> lay.group_bits).astype(np.int64)
        start += np.take(self.rel, bucket)
        end = np.take(self.base, after >> lay.group_bits).astype(np.int64)
        end += np.take(self.rel, after)
        owner, positions = _expand_ranges(start, end - start)
        # The query's side of each entry: its key residual and the next table's ring bits,
        # above them the probe's bounds and the query's index within the chunk.
        ring = np.roll(query_keys, -1, axis=1) >> (KEY_BITS - lay.ring_bits)
        pattern = ((query_keys & ((1 << lay.resid_bits) - 1)) << lay.row_bits) | (
            ring << (lay.row_bits + lay.resid_bits)
        )
        probe_info = np.take(pattern, plan.table, axis=1).astype(np.uint64)
        probe_info |= plan.info
        probe_info |= np.arange(len(query_keys), dtype=np.uint64)[:, None] << np.uint64(48)
        # entry ^ info: row bits intact, residual and ring bits become differences.
        x = np.take(self.entries, positions).astype(np.uint64)
        x ^= np.take(probe_info.ravel(), owner)
        spare = x >> np.uint64(lay.row_bits)
        ring_dist = np.bitwise_count(
            (spare >> np.uint64(lay.resid_bits)) & np.uint64((1 << lay.ring_bits) - 1)
        )
        ring_bound = ((x >> np.uint64(40)) & np.uint64(0xFF)).astype(np.uint8)
        if lay.resid_bits:
            resid_dist = np.bitwise_count(spare & np.uint64((1 << lay.resid_bits) - 1))
            resid_bound = ((x >> np.uint64(32)) & np.uint64(0xFF)).astype(np.uint8)
            keep = (resid_dist <= resid_bound) & (resid_dist + ring_dist <= ring_bound)
        else:
            keep = ring_dist <= ring_bound
        x = np.take(x, np.flatnonzero(keep))
        q = (x >> np.uint64(48)).astype(np.int64)
        rows = (x & np.uint64((1 << lay.row_bits) - 1)).astype(np.int64)
        diff = np.take(self.words, rows, axis=0) ^ np.take(query_words, q, axis=0)
        dist = np.bitwise_count(diff).sum(axis=1, dtype=np.int32)
        hit = np.flatnonzero(dist <= radius)
        return np.take(q, hit), np.take(rows, hit), np.take(dist, hit)

    def write(self, directory: Path) -> list[str]:
        """Write the immutable arrays unless already there (names are unique); their names."""
        arrays = (self.hashes, self.id_offsets, self.entries, self.rel, self.base)
        names = []
        for field, array in zip(_SEGMENT_ARRAYS, arrays, strict=True):
            name = f"{self.name}.{field}.npy"
            if not (directory / name).is_file():
                _write_atomic(directory / name, functools.partial(np.save, arr=array))
            names.append(name)
        return names

    @classmethod
    def read(cls, directory: Path, entry: Mapping[str, Any], mmap: bool) -> _Segment:
        name, rows = entry["name"], int(entry["rows"])
        arrays = {
            field: np.asarray(
                np.load(directory / f"{name}.{field}.npy", mmap_mode="r" if mmap else None)
            )
            for field in _SEGMENT_ARRAYS
        }
        lay = _Layout.for_rows(rows)
        buckets = N_TABLES << lay.dir_bits
        expected = {
            "hashes": (rows, HASH_BYTES),
            "ids": (rows,),
            "entries": (N_TABLES * rows,),
            "rel": (buckets + 1,),
            "base": ((buckets >> lay.group_bits) + 1,),
        }
        for field, shape in expected.items():
            if arrays[field].shape != shape:
                raise ValueError(f"{name}.{field}.npy has shape {arrays[field].shape}, not {shape}")
        dead = np.zeros((rows + 7) // 8, dtype=np.uint8)
        if entry.get("dead"):
            dead[:] = np.load(directory / entry["dead"])
        return cls(name, int(entry["id_base"]), arrays, dead)


def _rebuild(segments: Iterable[_Segment]) -> _Segment:
    """One segment holding the live rows of ``segments``."""
    parts = [(s, s.live_rows()) for s in segments]
    hashes = np.concatenate([np.take(s.hashes, rows, axis=0) for s, rows in parts])
    ids = np.concatenate([s.ids_of(rows) for s, rows in parts])
    return _Segment.build(hashes, ids)


def _write_atomic(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write to a temporary name, fsync, then rename: a reader never sees a partial file."""
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _strictly_increasing(ids: np.ndarray) -> bool:
    """True when ids are sorted and unique: bulk loads in row-id order skip two sorts."""
    return bool((ids[1:] > ids[:-1]).all())


def _as_ids(ids: Any) -> np.ndarray:
    arr = np.asarray(ids).reshape(-1)
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError("ids must be integers")
    if arr.dtype == np.uint64 and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
        raise ValueError("ids must fit in int64")
    return arr.astype(np.int64)


def _check_radius(radius: int) -> int:
    radius = int(radius)
    if not 0 <= radius <= HASH_BITS:
        raise ValueError(f"radius must be within 0-{HASH_BITS}")
    return radius


@functools.lru_cache(maxsize=8)
def _executor(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pdq-index")


@dataclass(frozen=True)
class _State:
    """What a query reads: replaced whole on every change, so queries need no lock."""

    segments: tuple[_Segment, ...]
    buffer_hashes: np.ndarray
    buffer_ids: np.ndarray

    @classmethod
    def unbuffered(cls, segments: tuple[_Segment, ...]) -> _State:
        return cls(segments, np.zeros((0, HASH_BYTES), np.uint8), np.zeros(0, np.int64))


def _match_chunk(
    state: _State, queries: np.ndarray, radius: int, lo: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Matches of ``queries[lo : lo + _CHUNK]`` in every segment and the buffer (one task)."""
    chunk = queries[lo : lo + _CHUNK]
    words = chunk.view(np.uint64)
    keys = substring_keys(chunk)
    found = [seg.search(words, keys, radius) for seg in state.segments]
    if len(state.buffer_ids):
        q, rows, dist = _flat_search(words, state.buffer_hashes.view(np.uint64), radius)
        found.append((q, np.take(state.buffer_ids, rows), dist))
    if not found:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32)
    q, ids, dist = (np.concatenate(parts) for parts in zip(*found, strict=True))
    return q.astype(np.int64) + lo, ids, dist


class PdqIndex:
    """Exact index of 256-bit PDQ hashes by int64 id: every hash within the radius, no other.

    Thread-safe: queries run lock-free on a snapshot; adds, deletes and saves serialise. An id
    holds one hash; ``add`` with a known id replaces it. Changes are visible immediately.
    """

    def __init__(self, *, threads: int | None = None, buffer_rows: int = _BUFFER_ROWS) -> None:
        self.threads = threads or os.cpu_count() or 1
        self.buffer_rows = buffer_rows
        self.metadata: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._state = _State.unbuffered(())

    def __len__(self) -> int:
        state = self._state
        return sum(s.live for s in state.segments) + len(state.buffer_ids)

    @property
    def nbytes(self) -> int:
        """Bytes held by the index's arrays (hashes, ids, tables, tombstones, buffer)."""
        state = self._state
        buffered = state.buffer_hashes.nbytes + state.buffer_ids.nbytes
        return sum(s.nbytes for s in state.segments) + buffered

    @property
    def segment_sizes(self) -> list[int]:
        """Live hashes per segment, oldest first (the buffer is not a segment)."""
        return [s.live for s in self._state.segments]

    # -- changes ---------------------------------------------------------------------------

    def add(self, ids: Any, hashes: Any) -> None:
        """Index ``hashes`` under ``ids``, replacing any hash those ids had.

        Within one call a repeated id keeps its last hash, as in a dict update.
        """
        ids, hashes = _as_ids(ids), as_hashes(hashes)
        if len(ids) != len(hashes):
            raise ValueError(f"{len(ids)} ids for {len(hashes)} hashes")
        if not len(ids):
            return
        if not _strictly_increasing(ids):
            _, last = np.unique(ids[::-1], return_index=True)
            keep = np.sort(len(ids) - 1 - last)
            ids, hashes = ids[keep], hashes[keep]
        with self._lock:
            state = self._state
            stay = ~np.isin(state.buffer_ids, ids)
            buffer_hashes = np.concatenate([state.buffer_hashes[stay], hashes])
            buffer_ids = np.concatenate([state.buffer_ids[stay], ids])
            # Publish the new hashes before retiring the old ones, so a concurrent query sees
            # an id at least once (results keep each id's nearest hash).
            self._state = _State(state.segments, buffer_hashes, buffer_ids)
            for seg in state.segments:
                seg.kill(ids)
            if len(buffer_ids) >= self.buffer_rows:
                self._flush_locked()
            else:
                self._tidy_locked()

    def delete(self, ids: Any) -> int:
        """Stop matching ``ids`` at once; returns how many were indexed."""
        ids = np.unique(_as_ids(ids))
        with self._lock:
            state = self._state
            gone = np.isin(state.buffer_ids, ids)
            self._state = _State(
                state.segments, state.buffer_hashes[~gone], state.buffer_ids[~gone]
            )
            removed = int(gone.sum()) + sum(seg.kill(ids) for seg in state.segments)
            self._tidy_locked()
        return removed

    def flush(self) -> None:
        """Turn the buffered adds into a segment (merging segments as the size policy says)."""
        with self._lock:
            self._flush_locked()

    def compact(self) -> None:
        """Merge everything into one segment without tombstones: the fastest layout to query."""
        with self._lock:
            self._flush_locked()
            segments = self._state.segments
            if len(segments) > 1 or any(s.n_dead for s in segments):
                self._state = _State.unbuffered((_rebuild(segments),) if len(self) else ())

    def _flush_locked(self) -> None:
        state = self._state
        if len(state.buffer_ids):
            fresh = _Segment.build(state.buffer_hashes, state.buffer_ids)
            self._state = _State.unbuffered((*state.segments, fresh))
        self._tidy_locked()

    def _tidy_locked(self) -> None:
        """Size-tiered merging: rewrite segments a quarter deleted, then merge the newest
        segment into the one before while they are within ``_MERGE_FACTOR`` of each other,
        which keeps the segment count logarithmic in the number of hashes."""
        state = self._state
        segments = [
            _rebuild([s]) if s.n_dead > _MAX_DEAD_FRACTION * s.n else s
            for s in state.segments
            if s.live
        ]
        while len(segments) >= 2 and segments[-2].live <= _MERGE_FACTOR * segments[-1].live:
            segments[-2:] = [_rebuild(segments[-2:])]
        if tuple(segments) != state.segments:
            self._state = _State(tuple(segments), state.buffer_hashes, state.buffer_ids)

    # -- queries ---------------------------------------------------------------------------

    def query_batch(self, hashes: Any, radius: int = DEFAULT_RADIUS) -> Matches:
        """Every (query, id) pair within Hamming distance ``radius``, exactly."""
        queries, radius = as_hashes(hashes), _check_radius(radius)
        state = self._state
        work = functools.partial(_match_chunk, state, queries, radius)
        starts = range(0, len(queries), _CHUNK)
        if len(starts) > 1 and self.threads > 1:
            parts = list(_executor(self.threads).map(work, starts))
        else:
            parts = [work(lo) for lo in starts]
        if not parts:
            return Matches(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32))
        q, ids, dist = (np.concatenate(p) for p in zip(*parts, strict=True))
        # One row per (query, id) at its nearest distance: tables report a hash more than once
        # and, briefly during a replacing add, an id can match through two hashes.
        order = np.lexsort((dist, ids, q))
        q, ids, dist = q[order], ids[order], dist[order]
        first = np.ones(len(q), dtype=bool)
        first[1:] = (q[1:] != q[:-1]) | (ids[1:] != ids[:-1])
        q, ids, dist = q[first], ids[first], dist[first]
        order = np.lexsort((ids, dist, q))
        return Matches(q[order], ids[order], dist[order])

    def query(self, hash_: Any, radius: int = DEFAULT_RADIUS) -> list[tuple[int, int]]:
        """``(id, distance)`` of every hash within ``radius`` of one hash, nearest first."""
        queries = as_hashes(hash_)
        if len(queries) != 1:
            raise ValueError("query takes exactly one hash; use query_batch for more")
        found = self.query_batch(queries, radius)
        return list(zip(found.ids.tolist(), found.distances.tolist(), strict=True))

    def search(self, hashes: Any, radius: int = DEFAULT_RADIUS) -> list[list[tuple[int, int]]]:
        """Per query, ``(id, distance)`` of its matches, nearest first."""
        queries = as_hashes(hashes)
        found = self.query_batch(queries, radius)
        bounds = np.searchsorted(found.query_idx, np.arange(len(queries) + 1))
        ids, dist = found.ids.tolist(), found.distances.tolist()
        return [
            list(zip(ids[lo:hi], dist[lo:hi], strict=True))
            for lo, hi in itertools.pairwise(bounds.tolist())
        ]

    # -- persistence -----------------------------------------------------------------------

    @staticmethod
    def exists(directory: str | os.PathLike[str]) -> bool:
        return (Path(directory) / _MANIFEST).is_file()

    def save(
        self, directory: str | os.PathLike[str], metadata: Mapping[str, Any] | None = None
    ) -> None:
        """Persist to ``directory``, writing only segments it lacks; crash-safe.

        The manifest, written last by rename, is the commit point: a crash before it leaves the
        previous save intact. ``metadata`` (JSON-able, e.g. a change-log checkpoint) is committed
        with the same rename, so it always describes exactly the saved hashes.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._flush_locked()
            if metadata is not None:
                self.metadata = dict(metadata)
            token = uuid.uuid4().hex[:12]
            keep = {_MANIFEST}
            listed = []
            for seg in self._state.segments:
                keep.update(seg.write(directory))
                dead_name = None
                if seg.n_dead:
                    dead_name = f"{seg.name}.dead-{token}.npy"
                    _write_atomic(directory / dead_name, functools.partial(np.save, arr=seg.dead))
                    keep.add(dead_name)
                listed.append(
                    {"name": seg.name, "rows": seg.n, "id_base": seg.id_base, "dead": dead_name}
                )
            manifest = {
                "format": _FORMAT,
                "version": _FORMAT_VERSION,
                "segments": listed,
                "metadata": self.metadata,
            }
            _fsync_dir(directory)
            text = json.dumps(manifest, indent=1).encode()
            _write_atomic(directory / _MANIFEST, lambda fh: fh.write(text))
            _fsync_dir(directory)
            for path in directory.iterdir():
                if path.name not in keep and _OWN_FILE.fullmatch(path.name):
                    path.unlink(missing_ok=True)

    @classmethod
    def load(
        cls, directory: str | os.PathLike[str], *, mmap: bool = True, threads: int | None = None
    ) -> PdqIndex:
        """Open a saved index; with ``mmap`` the segment files are mapped, not read or rebuilt."""
        directory = Path(directory)
        manifest = json.loads((directory / _MANIFEST).read_text())
        if manifest.get("format") != _FORMAT or manifest.get("version") != _FORMAT_VERSION:
            raise ValueError(f"{directory} does not hold a version {_FORMAT_VERSION} PDQ index")
        index = cls(threads=threads)
        segments = tuple(_Segment.read(directory, e, mmap) for e in manifest["segments"])
        index._state = _State.unbuffered(segments)
        index.metadata = dict(manifest.get("metadata") or {})
        return index
