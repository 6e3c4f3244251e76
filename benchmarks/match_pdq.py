"""PDQ matching at scale: Iolaus's exact index against python-threatexchange's ``PDQIndex``.

Builds both indexes over the same ``--hashes`` random 256-bit hashes and runs the same queries
through both: half are stored hashes with 1-30 bits flipped (all within the match distance of
31), half are random (almost surely misses). Prints for each index the build time, bytes per
hash (arrays held and the process's RSS growth), lookups/s one query at a time and in batches,
and recall and false matches at distance 31 against a brute-force scan (FAISS
``IndexBinaryFlat``) of a query subset; then Iolaus's speed over pytx's.

    python benchmarks/match_pdq.py --hashes 10000000 --queries 20000

Timings are the fastest of ``--repeat`` passes, alternating between the indexes, so other load
on the machine skews neither. pytx's build is slow and large (it keeps Python objects per hash
and a C++ hash map per table); ``--pytx-hashes`` builds it over a prefix of the hashes instead,
which the output then states.

Targets (issue "Media hashing and matching", 10M hashes, this 2-core machine): >= 5,000
lookups/s in batches, recall 1.0 at distance 31, <= 64 bytes per hash, >= 5x pytx's lookups/s.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import os
import time
from collections.abc import Callable

import faiss
import numpy as np
import psutil
from threatexchange.signal_type.pdq.pdq_index import PDQIndex as PytxPDQIndex

from iolaus.hashing.index import DEFAULT_RADIUS, PdqIndex

Pairs = set[tuple[int, int]]


def rss() -> int:
    """Resident bytes after returning freed heap to the OS, so build temporaries don't count."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return psutil.Process().memory_info().rss


def make_queries(rng: np.random.Generator, stored: np.ndarray, count: int) -> np.ndarray:
    """Stored hashes with 1-30 random bits flipped, and as many random hashes, shuffled."""
    near = count // 2
    flips = rng.integers(1, 31, size=near)
    noise = rng.random((near, 256))
    kth = np.take_along_axis(np.sort(noise, axis=1), (flips - 1)[:, None], axis=1)
    masks = np.packbits(noise <= kth, axis=1)
    picks = rng.integers(len(stored), size=near)
    queries = np.vstack([stored[picks] ^ masks, rng.integers(0, 256, (count - near, 32), np.uint8)])
    return queries[rng.permutation(count)]


def seconds(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def brute_force(stored: np.ndarray, queries: np.ndarray) -> Pairs:
    flat = faiss.IndexBinaryFlat(256)
    flat.add(stored)
    lims, _, labels = flat.range_search(queries, DEFAULT_RADIUS + 1)
    return {(q, int(labels[j])) for q in range(len(queries)) for j in range(lims[q], lims[q + 1])}


def recall_line(name: str, got: Pairs, truth: Pairs) -> str:
    recall = len(got & truth) / len(truth) if truth else 1.0
    return (
        f"{name}: recall {recall:.4f} ({len(got & truth)}/{len(truth)}), false {len(got - truth)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hashes", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=10_000, help="batch size for lookups/s")
    parser.add_argument("--single", type=int, default=1_000, help="one-at-a-time lookups (ours)")
    parser.add_argument("--pytx-queries", type=int, default=1_000, help="queries given to pytx")
    parser.add_argument("--brute", type=int, default=500, help="queries checked by brute force")
    parser.add_argument("--pytx-hashes", type=int, default=None, help="build pytx over a prefix")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n, pytx_n = args.hashes, min(args.pytx_hashes or args.hashes, args.hashes)
    rng = np.random.default_rng(args.seed)
    stored = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    queries = make_queries(rng, stored, args.queries)
    print(
        f"{n:,} random hashes, {args.queries:,} queries (half 1-30 bits from a stored hash), "
        f"{os.cpu_count()} CPUs, numpy {np.__version__}, faiss {faiss.__version__}"
    )

    before = rss()
    start = time.perf_counter()
    ours = PdqIndex()
    ours.add(np.arange(n, dtype=np.int64), stored)
    ours_build = time.perf_counter() - start
    ours_rss = rss() - before
    print(
        f"\nIolaus PdqIndex: build {ours_build:.1f} s, {ours.nbytes / n:.1f} B/hash in arrays, "
        f"RSS +{ours_rss / n:.1f} B/hash, segments {ours.segment_sizes}"
    )

    hexes = stored[:pytx_n].tobytes().hex()
    before = rss()
    start = time.perf_counter()
    entries = ((hexes[64 * i : 64 * i + 64], i) for i in range(pytx_n))
    pytx = PytxPDQIndex(entries)
    pytx_build = time.perf_counter() - start
    pytx_rss = rss() - before
    del hexes
    scope = "" if pytx_n == n else f" OVER THE FIRST {pytx_n:,} HASHES ONLY"
    print(
        f"pytx PDQIndex (FAISS IndexBinaryMultiHash 16x16 bits){scope}: build {pytx_build:.1f} s,"
        f" RSS +{pytx_rss / pytx_n:.1f} B/hash (hex strings and Python objects included)"
    )

    single_n = min(args.single, len(queries))
    pytx_q = queries[: args.pytx_queries]
    pytx_hex = [row.tobytes().hex() for row in pytx_q]
    pytx_single_n = min(len(pytx_hex), max(1, args.pytx_queries // 3))
    runs: dict[str, tuple[Callable[[], object], int]] = {
        "ours batch": (lambda: ours.query_batch(queries), len(queries)),
        "ours single": (lambda: [ours.query(q) for q in queries[:single_n]], single_n),
        "pytx batch": (
            lambda: pytx.index.search_with_distance_in_result(pytx_hex, DEFAULT_RADIUS),
            len(pytx_hex),
        ),
        "pytx single": (lambda: [pytx.query(h) for h in pytx_hex[:pytx_single_n]], pytx_single_n),
    }
    rates = dict.fromkeys(runs, 0.0)
    for _ in range(args.repeat):  # alternate so load drift hits both indexes alike
        for name, (run, count) in runs.items():
            rates[name] = max(rates[name], count / seconds(run))

    brute_q = queries[: args.brute]
    start = time.perf_counter()
    truth = brute_force(stored, brute_q)
    brute_rate = len(brute_q) / (time.perf_counter() - start)
    found = ours.query_batch(brute_q)
    ours_pairs = set(zip(found.query_idx.tolist(), found.ids.tolist(), strict=True))
    pytx_truth = {(q, i) for q, i in truth if i < pytx_n}
    pytx_pairs = {
        (q, int(match.metadata))
        for q, h in enumerate(pytx_hex[: args.brute])
        for match in pytx.query(h)
    }
    pytx_checked = min(args.brute, len(pytx_hex))
    pytx_truth = {(q, i) for q, i in pytx_truth if q < pytx_checked}

    print(f"\nlookups/s (fastest of {args.repeat} passes)")
    print(f"  Iolaus batch  {rates['ours batch']:>10,.0f}   ({len(queries):,} queries per batch)")
    print(f"  Iolaus single {rates['ours single']:>10,.0f}")
    print(f"  pytx batch    {rates['pytx batch']:>10,.0f}   ({len(pytx_hex):,} queries per batch)")
    print(f"  pytx single   {rates['pytx single']:>10,.0f}")
    print(f"  FAISS flat    {brute_rate:>10,.0f}   (brute force, {len(brute_q)} queries)")
    print(f"\nat distance {DEFAULT_RADIUS}, against brute force")
    print("  " + recall_line(f"Iolaus ({len(brute_q)} queries)", ours_pairs, truth))
    print("  " + recall_line(f"pytx   ({pytx_checked} queries)", pytx_pairs, pytx_truth))
    print("\nIolaus / pytx")
    print(f"  batch lookups/s  {rates['ours batch'] / rates['pytx batch']:.1f}x")
    print(f"  single lookups/s {rates['ours single'] / rates['pytx single']:.1f}x")
    print(f"  RSS per hash     {ours_rss / n / (pytx_rss / pytx_n):.2f}x")
    if pytx_n != n:
        print(f"  (pytx measured over {pytx_n:,} hashes, Iolaus over {n:,})")


if __name__ == "__main__":
    main()
