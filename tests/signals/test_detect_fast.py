"""The fast paths of detection give exactly the results of the plain ones."""

from __future__ import annotations

import random

from iolaus.signals.lexicon import Lexicon
from iolaus.signals.normalise import normalise, skeleton
from iolaus.signals.rules import Program, fails_at_zero, fired, load_default, load_text
from iolaus.signals.watchlist import ProtectedPerson, Watchlist

KINDS = ("ncii", "csam", "solicitation", "sexual_context", "age_indicator", "voyeurism")
TEXTS = ("", "nudes de son ex", "j ai signale ses nudes", "how do i report this", "trade folder")


def test_program_fires_exactly_the_rules_that_fire() -> None:
    rules = load_default()
    for scope in ("message", "channel", "community"):
        program = rules.program(scope)
        rng = random.Random(scope)
        for _ in range(3000):
            features = {k: rng.choice((0, 0, 0.0, 0.1, 0.25, 0.5, 1.0)) for k in KINDS}
            features.update(
                text=rng.choice(TEXTS),
                protected_mentions=rng.choice((0, 1)),
                hash_matches=rng.choice((0, 0, 1)),
                name=rng.choice(TEXTS),
                nsfw=rng.choice((True, False)),
                adult_marker=rng.choice((True, False)),
                channel_nsfw=rng.choice((True, False)),
            )
            assert program.fired(features) == fired(program.rules, features)


def test_gates_are_exact_for_odd_thresholds() -> None:
    rules = load_text(
        """
[[rule]]
name = "negative"
category = "ncii"
all = ["ncii > -1"]
explain = "x"

[[rule]]
name = "below"
category = "ncii"
all = ["ncii < 0.5", "text contains \\"x\\""]
explain = "x"
"""
    )
    assert [fails_at_zero(c) for r in rules.rules for c in r.all] == [False, False, False]
    program = Program(rules.for_scope("message"))
    assert [r.name for r in program.fired({"text": "x"})] == ["negative", "below"]


def test_watchlist_with_a_shared_skeleton() -> None:
    watch = Watchlist([ProtectedPerson(1, "LunaVex", ("luna_vex",))])
    for text in ("L.u.n.a V3x nudes", "lunatic vexing", "ask lunavex", "nothing here"):
        norm = normalise(text).text
        assert watch.mentioned(norm, key=skeleton(norm)) == watch.mentioned(norm)
    assert watch.mentioned(normalise("L.u.n.a V3x").text) == ["LunaVex"]
    assert watch.mentioned(normalise("lunavexing").text) == []


def test_lexicon_find_with_a_shared_skeleton() -> None:
    lexicon = Lexicon.load_default()
    for text in ("envoie tes nudes", "t.r.1.b folder", "15 ans snap", "rien"):
        norm = normalise(text)
        assert lexicon.find(norm, key=skeleton(norm.text)) == lexicon.find(norm)
