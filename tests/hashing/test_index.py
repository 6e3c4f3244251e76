"""The exact PDQ index: same matches as FAISS's flat scan, live updates, persistence."""

from __future__ import annotations

import json
from pathlib import Path

import faiss
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import iolaus.hashing.index as index_module
from iolaus.hashing.index import (
    DEFAULT_RADIUS,
    KEY_BITS,
    N_TABLES,
    PdqIndex,
    as_hashes,
    substring_keys,
    table_radii,
    to_hex,
)

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def random_hashes(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 256, size=(n, 32), dtype=np.uint8)


def flip(hashes: np.ndarray, positions: list[list[int]]) -> np.ndarray:
    """Copies of ``hashes`` with the given bit positions (0 = MSB of byte 0) inverted."""
    bits = np.unpackbits(hashes, axis=1)
    for row, where in enumerate(positions):
        bits[row, where] ^= 1
    return np.packbits(bits, axis=1)


def near(rng: np.random.Generator, hashes: np.ndarray, distances: list[int]) -> np.ndarray:
    """One copy of each hash at exactly the matching distance."""
    return flip(hashes, [list(rng.choice(256, d, replace=False)) for d in distances])


def oracle(
    stored: np.ndarray, ids: np.ndarray, queries: np.ndarray, radius: int
) -> list[tuple[int, int, int]]:
    """Brute force by FAISS's flat binary index: sorted (query, id, distance) triples."""
    flat = faiss.IndexBinaryFlat(256)
    if len(stored):
        flat.add(stored)
    lims, dist, labels = flat.range_search(queries, radius + 1)
    return sorted(
        (q, int(ids[labels[j]]), int(dist[j]))
        for q in range(len(queries))
        for j in range(lims[q], lims[q + 1])
    )


def found(index: PdqIndex, queries: np.ndarray, radius: int) -> list[tuple[int, int, int]]:
    m = index.query_batch(queries, radius)
    return sorted(zip(m.query_idx.tolist(), m.ids.tolist(), m.distances.tolist(), strict=True))


@pytest.fixture(scope="module")
def corpus() -> tuple[np.ndarray, np.ndarray, PdqIndex]:
    """40,000 random hashes under scattered, non-contiguous ids, in one segment."""
    rng = np.random.default_rng(7)
    stored = random_hashes(rng, 40_000)
    ids = rng.choice(10**12, size=len(stored), replace=False).astype(np.int64) - 5 * 10**11
    index = PdqIndex()
    index.add(ids, stored)
    return stored, ids, index


def test_boundary_distances_match_the_flat_scan(corpus):
    stored, ids, index = corpus
    rng = np.random.default_rng(1)
    picks = rng.choice(len(stored), 500, replace=False)
    distances = [0, 1, 30, 31, 32] * 100
    queries = np.vstack([near(rng, stored[picks], distances), random_hashes(rng, 500)])
    expected = oracle(stored, ids, queries, DEFAULT_RADIUS)
    assert found(index, queries, DEFAULT_RADIUS) == expected
    hits = {(q, i) for q, i, _ in expected}
    for row, (pick, d) in enumerate(zip(picks, distances, strict=True)):
        assert ((row, int(ids[pick])) in hits) == (d <= DEFAULT_RADIUS)


@pytest.mark.parametrize("radius", [0, 1, 7, 15, 20, 31, 32, 40, 64])
def test_every_radius_matches_the_flat_scan(corpus, radius):
    stored, ids, index = corpus
    rng = np.random.default_rng(radius)
    picks = rng.choice(len(stored), 200)
    distances = list(rng.integers(0, radius + 3, size=200))
    queries = np.vstack([near(rng, stored[picks], distances), random_hashes(rng, 50)])
    assert found(index, queries, radius) == oracle(stored, ids, queries, radius)


# Bits [23t, 23t + 23) form table t; bits 253-255 belong to no table.
REGIONS = [list(range(KEY_BITS * t, KEY_BITS * (t + 1))) for t in range(N_TABLES)]
REGIONS.append(list(range(KEY_BITS * N_TABLES, 256)))


@pytest.mark.parametrize("radius", [31, 20, 9])
def test_tightest_pigeonhole_cases(corpus, radius):
    """Exactly ``radius`` flips with only table t within its probe radius, for every t."""
    stored, ids, index = corpus
    rng = np.random.default_rng(radius)
    radii = table_radii(radius)
    for t, r in enumerate(radii):
        if r < 0:
            continue
        counts = [r if j == t else rj + 1 for j, rj in enumerate(radii)]
        where = [
            int(b)
            for c, reg in zip(counts, REGIONS, strict=False)
            for b in rng.choice(reg, c, False)
        ]
        assert len(where) == radius
        query = flip(stored[t : t + 1], [where])
        assert dict(index.query(query, radius)).get(int(ids[t])) == radius


@SETTINGS
@given(
    counts=st.lists(st.integers(0, 4), min_size=len(REGIONS), max_size=len(REGIONS)),
    seed=st.integers(0, 2**32 - 1),
)
def test_flips_spread_over_tables_adversarially(corpus, counts, seed):
    """Distances near 31 made of a few flips per table: the cases the pigeonhole and the ring
    filter must not lose (e.g. three flips in ten tables and one in the eleventh)."""
    stored, ids, index = corpus
    rng = np.random.default_rng(seed)
    counts = [min(c, len(region)) for c, region in zip(counts, REGIONS, strict=True)]
    where = [int(b) for c, r in zip(counts, REGIONS, strict=True) for b in rng.choice(r, c, False)]
    pick = int(rng.integers(len(stored)))
    query = flip(stored[pick : pick + 1], [where])
    distance = len(where)
    result = dict(index.query(query))
    assert (result.get(int(ids[pick])) == distance) == (distance <= DEFAULT_RADIUS)
    assert found(index, query, DEFAULT_RADIUS) == oracle(stored, ids, query, DEFAULT_RADIUS)


@SETTINGS
@given(
    n=st.integers(1, 3000),
    radius=st.integers(0, 48),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_indexes_match_the_flat_scan(n, radius, seed):
    """Every segment size (directory widths 0-11 bits) and radius, duplicates included."""
    rng = np.random.default_rng(seed)
    stored = random_hashes(rng, n)
    stored[rng.integers(n, size=n // 10)] = stored[0]  # exact duplicates under other ids
    ids = rng.permutation(n).astype(np.int64) * 3 - n
    index = PdqIndex(buffer_rows=1)  # straight into a segment: exercise the tables
    index.add(ids, stored)
    picks = rng.integers(n, size=40)
    distances = list(rng.integers(0, radius + 4, size=40))
    queries = np.vstack([near(rng, stored[picks], distances), random_hashes(rng, 10)])
    assert found(index, queries, radius) == oracle(stored, ids, queries, radius)


def test_full_width_directory_layout(monkeypatch):
    """From 2**23 hashes up the directory covers whole keys (no residual bits); force that
    layout on a small index so its code path is checked against the flat scan too."""
    real = index_module._Layout.for_rows.__func__

    def full_width(cls, n):
        lay = real(cls, n)
        return cls(lay.row_bits, KEY_BITS, 0, 32 - lay.row_bits, index_module._GROUP_BITS)

    monkeypatch.setattr(index_module._Layout, "for_rows", classmethod(full_width))
    rng = np.random.default_rng(3)
    stored = random_hashes(rng, 20_000)
    ids = np.arange(len(stored), dtype=np.int64)
    index = PdqIndex()
    index.add(ids, stored)
    assert index._state.segments[0].lay.resid_bits == 0
    queries = np.vstack([near(rng, stored[:300], [0, 1, 30, 31, 32] * 60), random_hashes(rng, 100)])
    assert found(index, queries, DEFAULT_RADIUS) == oracle(stored, ids, queries, DEFAULT_RADIUS)


def test_complement_is_at_distance_256():
    """The largest distance (every bit differs) must not wrap around in any counter."""
    rng = np.random.default_rng(4)
    stored = random_hashes(rng, 5_000)
    index = PdqIndex(buffer_rows=4_000)
    index.add(np.arange(4_000), stored[:4_000])
    index.add(np.arange(4_000, 5_000), stored[4_000:])  # a segment, then a buffer
    assert index.segment_sizes == [4_000]
    for row in (0, 4_999):
        complement = ~stored[row]
        assert (row, 256) not in index.query(complement, 255)
        assert (row, 256) in index.query(complement, 256)


def test_layout_fits_a_uint32_entry_at_every_size():
    for n in [1, 2, 3, 63, 64, 65, 4095, 10**6, 2**23 - 1, 2**23, 10**7, 2**24 + 1, 2**32 - 1]:
        lay = index_module._Layout.for_rows(n)
        assert lay.row_bits + lay.resid_bits + lay.ring_bits <= 32
        assert 1 << lay.row_bits >= n
        assert lay.dir_bits + lay.resid_bits == KEY_BITS
        assert lay.ring_bits >= (8 if n <= 2**24 else 0)


def test_table_radii_give_enough_credits():
    for radius in range(257):
        radii = table_radii(radius)
        assert sum(r + 1 for r in radii) == radius + 1
        assert max(radii) - min(radii) <= 1
    assert table_radii(31) == (2,) * 10 + (1,)


def test_substring_keys_follow_hex_bit_order():
    h = np.zeros((1, 32), dtype=np.uint8)
    h[0, 0] = 0x80  # bit 0: top bit of table 0's key
    h[0, 2] = 0x01  # bit 23: top bit of table 1's key
    keys = substring_keys(h)
    assert keys[0, 0] == 1 << (KEY_BITS - 1)
    assert keys[0, 1] == 1 << (KEY_BITS - 1)
    assert not keys[0, 2:].any()


def test_adds_and_deletes_take_effect_at_once():
    rng = np.random.default_rng(5)
    stored = random_hashes(rng, 30_000)
    index = PdqIndex()
    index.add(np.arange(30_000), stored)
    fresh = random_hashes(rng, 3)
    index.add([10**15, 10**15 + 1, 10**15 + 2], fresh)
    assert index.query(fresh[0]) == [(10**15, 0)]
    assert index.delete([10**15, 17, 123_456_789]) == 2
    assert index.query(fresh[0]) == []
    assert index.query(stored[17]) == []
    assert len(index) == 30_001
    # Replacing an id's hash: only the new one matches, in the buffer and in segments alike.
    index.add([18, 10**15 + 1], [fresh[2], stored[19]])
    assert index.query(stored[18]) == []
    assert sorted(index.query(fresh[2])) == [(18, 0), (10**15 + 2, 0)]
    assert index.query(stored[19]) == [(19, 0), (10**15 + 1, 0)]
    assert len(index) == 30_001


def test_repeated_id_in_one_add_keeps_the_last_hash():
    rng = np.random.default_rng(6)
    a, b = random_hashes(rng, 2)
    index = PdqIndex()
    index.add([4, 4], np.stack([a, b]))
    assert index.query(a) == []
    assert index.query(b) == [(4, 0)]
    assert len(index) == 1


def test_incremental_updates_match_a_model():
    """Many small adds, replacements and deletes with a tiny buffer: the LSM merges stay
    logarithmic and the results stay those of a brute force over the live hashes."""
    rng = np.random.default_rng(8)
    index = PdqIndex(buffer_rows=256)
    model: dict[int, np.ndarray] = {}
    for step in range(60):
        ids = rng.integers(0, 30_000, size=int(rng.integers(1, 800)))
        hashes = random_hashes(rng, len(ids))
        index.add(ids, hashes)
        model.update(zip(ids.tolist(), hashes, strict=True))
        gone = rng.integers(0, 30_000, size=int(rng.integers(0, 200)))
        expected_removed = len(set(gone.tolist()) & model.keys())
        assert index.delete(gone) == expected_removed
        for i in gone.tolist():
            model.pop(i, None)
        assert len(index) == len(model)
        if step % 20 == 19:
            check_against_model(index, model, rng)
    assert len(index.segment_sizes) <= 8
    index.compact()
    assert len(index.segment_sizes) == 1
    check_against_model(index, model, rng)


def check_against_model(index: PdqIndex, model: dict[int, np.ndarray], rng) -> None:
    ids = np.array(list(model), dtype=np.int64)
    stored = np.stack(list(model.values()))
    picks = rng.integers(len(ids), size=150)
    queries = np.vstack(
        [near(rng, stored[picks], list(rng.integers(0, 34, size=150))), random_hashes(rng, 50)]
    )
    assert found(index, queries, DEFAULT_RADIUS) == oracle(stored, ids, queries, DEFAULT_RADIUS)


def test_heavily_deleted_segment_is_rewritten():
    rng = np.random.default_rng(9)
    index = PdqIndex()
    index.add(np.arange(20_000), random_hashes(rng, 20_000))
    index.delete(np.arange(6_000))
    assert index.segment_sizes == [14_000]
    assert index._state.segments[0].n == 14_000
    index.delete(np.arange(20_000))
    assert index.segment_sizes == []
    assert len(index) == 0


def test_save_and_load_restore_the_same_matches(tmp_path: Path, corpus):
    stored, ids, _ = corpus
    rng = np.random.default_rng(10)
    index = PdqIndex()
    index.add(ids[:30_000], stored[:30_000])
    index.delete(ids[:50])
    index.add(ids[30_000:30_100], stored[30_000:30_100])  # still buffered: save flushes it
    index.save(tmp_path, metadata={"checkpoint": 41})
    assert PdqIndex.exists(tmp_path)
    live = np.r_[50:30_100]
    queries = np.vstack([near(rng, stored[live[::100]], [31] * 301), random_hashes(rng, 20)])
    expected = oracle(stored[live], ids[live], queries, DEFAULT_RADIUS)
    for mmap in (True, False):
        loaded = PdqIndex.load(tmp_path, mmap=mmap)
        assert loaded.metadata == {"checkpoint": 41}
        assert len(loaded) == len(live)
        assert found(loaded, queries, DEFAULT_RADIUS) == expected
    # A loaded (memory-mapped) index keeps taking changes, and saves them incrementally.
    loaded = PdqIndex.load(tmp_path)
    loaded.delete(ids[50:60])
    loaded.add([-1], stored[:1])
    loaded.save(tmp_path)
    again = PdqIndex.load(tmp_path)
    assert again.metadata == {"checkpoint": 41}
    assert again.query(stored[55]) == []
    assert sorted(again.query(stored[0])) == [(-1, 0)]
    assert len(again) == len(live) - 10 + 1


def test_save_writes_only_new_segments_and_removes_stale_files(tmp_path: Path):
    rng = np.random.default_rng(11)
    index = PdqIndex()
    index.add(np.arange(20_000), random_hashes(rng, 20_000))
    index.save(tmp_path)
    first = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("seg-*.npy")}
    index.add(np.arange(20_000, 20_100), random_hashes(rng, 100))
    index.save(tmp_path)
    second = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("seg-*.npy")}
    assert all(second[name] == mtime for name, mtime in first.items())
    assert len(second) == len(first) + 5
    index.compact()  # both segments replaced by one: their files go at the next save
    index.save(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert len(manifest["segments"]) == 1
    assert len(list(tmp_path.glob("seg-*.npy"))) == 5


def test_interrupted_save_leaves_the_previous_one_loadable(tmp_path: Path):
    """Files of a save that never reached its manifest rename are ignored, then cleaned up."""
    rng = np.random.default_rng(12)
    stored = random_hashes(rng, 5_000)
    index = PdqIndex()
    index.add(np.arange(5_000), stored)
    index.save(tmp_path, metadata={"checkpoint": 1})
    (tmp_path / f"seg-{'0' * 32}.hashes.npy").write_bytes(b"partial")
    (tmp_path / "manifest.json.abcd1234.tmp").write_text("{")
    loaded = PdqIndex.load(tmp_path)
    assert loaded.metadata == {"checkpoint": 1}
    assert loaded.query(stored[9]) == [(9, 0)]
    loaded.save(tmp_path)
    assert not list(tmp_path.glob("*.tmp"))
    assert not (tmp_path / f"seg-{'0' * 32}.hashes.npy").exists()


def test_load_rejects_a_foreign_directory(tmp_path: Path):
    (tmp_path / "manifest.json").write_text(json.dumps({"checkpoint": 3}))
    with pytest.raises(ValueError, match="PDQ index"):
        PdqIndex.load(tmp_path)


def test_hex_convenience_layer():
    rng = np.random.default_rng(13)
    stored = random_hashes(rng, 3)
    hexes = to_hex(stored)
    assert all(len(h) == 64 and h == h.lower() for h in hexes)
    assert np.array_equal(as_hashes(hexes), stored)
    assert np.array_equal(as_hashes(hexes[0].upper()), stored[:1])
    assert np.array_equal(as_hashes(stored[1].tobytes()), stored[1:2])
    index = PdqIndex()
    index.add([1, 2, 3], hexes)
    assert index.query(hexes[1]) == [(2, 0)]
    assert index.search([hexes[2], hexes[0], "f" * 64]) == [[(3, 0)], [(1, 0)], []]
    for bad in ["abc", "g" * 64, b"\x00" * 31]:
        with pytest.raises(ValueError):
            as_hashes(bad)
    with pytest.raises(ValueError):
        index.query(hexes[:2])
    with pytest.raises(ValueError):
        index.query_batch(hexes, radius=257)
    with pytest.raises(ValueError):
        index.add([1, 2], hexes)


def test_empty_index_and_empty_batches():
    index = PdqIndex()
    assert index.query("0" * 64) == []
    empty = index.query_batch(np.zeros((0, 32), dtype=np.uint8))
    assert len(empty.ids) == len(empty.query_idx) == len(empty.distances) == 0
    assert index.search([]) == []
    assert index.delete([]) == 0
    index.add([], np.zeros((0, 32), dtype=np.uint8))
    assert len(index) == 0


def test_threaded_batches_equal_single_threaded(corpus):
    stored, _, index = corpus
    rng = np.random.default_rng(14)
    queries = np.vstack([near(rng, stored[:400], [3, 30] * 200), random_hashes(rng, 400)])
    serial = PdqIndex(threads=1)
    serial._state = index._state
    a, b = index.query_batch(queries), serial.query_batch(queries)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    # Sorted by query, then distance, then id; one row per (query, id).
    order = np.lexsort((a.ids, a.distances, a.query_idx))
    assert np.array_equal(order, np.arange(len(order)))
