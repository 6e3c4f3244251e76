"""Text detection throughput: normalisation + lexicon + rules, one core, messages per second.

Generates N synthetic chat messages (deterministic seed) from the demo world's phrase tables:
ordinary chatter and hard-negative channel talk of 30-120 characters, and about 5% signal
phrases whose keyword is disguised the way evaders do (leetspeak, separators, zero-width
characters, Cyrillic look-alikes, accents, case). Then runs every message through
``normalise`` and ``Lexicon.find`` in this process and prints the rate, the hits per category,
and (outside the timed loop) how many signal messages got a hit; then runs the whole per-message
path of a scan (normalisation, lexicon, protected-persons watch, every message rule) and prints
that rate too, with the cost of the rules as a ratio.

    python benchmarks/detect_throughput.py --messages 200000

Target (issue 4): ≥ 100,000 messages/s on one core for normalisation + lexicon + rules.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from iolaus.demo import phrases
from iolaus.demo.world import render_signal
from iolaus.signals.detect import TextEngine
from iolaus.signals.lexicon import Lexicon
from iolaus.signals.normalise import normalise
from iolaus.signals.rules import load_default
from iolaus.signals.watchlist import ProtectedPerson, Watchlist

SIGNAL_SHARE = 0.05
EVASION_RATE = 0.6
# Signal patterns the lexicon is meant to see (ban evasion is found by comparing communities).
SIGNAL_PATTERNS = ("ncii", "voyeurism", "doxxing", "deepfake", "csam")
# Chatter of the abusive demo communities is not "ordinary": left out of the background.
ABUSIVE_THEMES = ("lurk_", "rules_abusive_")


def generate(n: int, seed: int) -> tuple[list[str], list[bool]]:
    """``n`` messages and, for each, whether it carries a signal phrase."""
    rng = random.Random(seed)
    ordinary = [line for lines in phrases.CHATTER.values() for line in lines]
    ordinary += [
        line
        for theme, lines in phrases.THEMES.items()
        if not theme.startswith(ABUSIVE_THEMES)
        for line in lines
    ]
    signals = [line for pattern in SIGNAL_PATTERNS for line in phrases.SIGNALS[pattern]]
    messages: list[str] = []
    flags: list[bool] = []
    for _ in range(n):
        is_signal = rng.random() < SIGNAL_SHARE
        parts = [render_signal(rng.choice(signals), rng, EVASION_RATE)] if is_signal else []
        target = rng.randint(30, 120)
        while sum(len(p) + 1 for p in parts) < target:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(ordinary))
        messages.append(" ".join(parts))
        flags.append(is_signal)
    return messages, flags


def run(messages: Iterable[str], lexicon: Lexicon | None = None) -> dict[str, Any]:
    """Normalise and match every message; the loop whose rate the benchmark reports."""
    lexicon = lexicon or Lexicon.load_default()
    by_category: Counter[str] = Counter()
    count = with_hits = 0
    start = time.perf_counter()
    for message in messages:
        hits = lexicon.find(normalise(message))
        count += 1
        if hits:
            with_hits += 1
            by_category.update(hit.category for hit in hits)
    seconds = time.perf_counter() - start
    return {
        "messages": count,
        "seconds": seconds,
        "per_second": count / seconds if seconds else float("inf"),
        "messages_with_hits": with_hits,
        "hits": dict(by_category.most_common()),
    }


def run_rules(
    messages: Iterable[str], detector: TextEngine, *, explain: bool = False
) -> dict[str, Any]:
    """The per-message path of a scan: what ``scan_communities`` does for each message; with
    ``explain``, also the explanation of every finding (quoting the original words)."""
    channel = {"name": "general", "display": "#general"}
    fired: Counter[str] = Counter()
    count = 0
    start = time.perf_counter()
    for message in messages:
        _, findings = detector.message(message, channel)
        count += 1
        fired.update(f.rule.name for f in findings)
        if explain:
            for finding in findings:
                _ = finding.explanation
    seconds = time.perf_counter() - start
    return {
        "messages": count,
        "seconds": seconds,
        "per_second": count / seconds if seconds else float("inf"),
        "fired": dict(fired.most_common()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    messages, flags = generate(args.messages, args.seed)
    lexicon = Lexicon.load_default()
    mean = sum(map(len, messages)) / len(messages)
    print(f"{len(messages):,} messages, mean {mean:.0f} characters, lexicon {len(lexicon)} terms")
    run(messages[:2000], lexicon)  # warm the character table and the automaton
    stats = run(messages, lexicon)
    print(f"{stats['per_second']:,.0f} messages/s ({stats['seconds']:.2f} s)")
    print(f"messages with a hit: {stats['messages_with_hits']:,}")
    for category, hits in stats["hits"].items():
        print(f"  {category:16s} {hits:,}")

    found = Counter(
        (is_signal, bool(lexicon.find(normalise(message))))
        for message, is_signal in zip(messages, flags, strict=True)
    )
    signals = sum(flags)
    print(f"signal messages with a hit: {found[True, True]:,} / {signals:,}")
    print(f"ordinary messages with a hit: {found[False, True]:,} / {len(messages) - signals:,}")

    watch = Watchlist([ProtectedPerson(1, "LunaVex", ("luna_vex", "lunav"))])
    detector = TextEngine(load_default(), lexicon, watch)
    run_rules(messages[:2000], detector)
    full = run_rules(messages, detector)
    explained = run_rules(messages, detector, explain=True)
    print(
        f"with the rules and the watch list: {full['per_second']:,.0f} messages/s "
        f"({full['seconds']:.2f} s; {stats['per_second'] / full['per_second']:.2f}x the time "
        f"of normalisation + lexicon), {len(detector.rules)} rules"
    )
    print(
        f"and every finding explained (original words quoted): "
        f"{explained['per_second']:,.0f} messages/s ({explained['seconds']:.2f} s)"
    )
    for rule, n in list(full["fired"].items())[:8]:
        print(f"  {rule:32s} {n:,}")


if __name__ == "__main__":
    main()
