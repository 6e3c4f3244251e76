"""Risk scoring weighs signals by their typed fields (scope, category, references), never by
the name of the detector that found them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from iolaus.model.signals import BankRef, Category, RuleRef, Scope, Signal, Targets
from iolaus.signals.risk import weigh


def _signal(scope: Scope, ref: RuleRef | BankRef, n: int, detector: str = "x") -> Signal:
    return Signal(
        detector=detector,
        key=f"{detector}:{n}",
        category=Category.NCII,
        severity=4,
        score=0.9,
        scope=scope,
        refs=(ref,),
        targets=Targets(1, 2, 10 + n, 20 + n, 30 + n),
        explanation=f"finding {n}: «words»",
        example={"message": str(n), "channel": "#c", "terms": "«words»"},
    )


SIGNALS = [
    _signal(Scope.COMMUNITY, RuleRef("name"), 1),
    _signal(Scope.CHANNEL, RuleRef("channel"), 2),
    _signal(Scope.MESSAGE, RuleRef("message"), 3),
    _signal(Scope.MESSAGE, RuleRef("message"), 4),
    _signal(Scope.MESSAGE, BankRef("NCII_BANK", "pdq", 3, 7), 5),
]


@pytest.mark.parametrize("name", ["rules", "hash_match", "anything", ""])
def test_the_detector_name_does_not_change_the_score(name: str) -> None:
    renamed = [replace(s, detector=name) for s in SIGNALS]
    assert weigh(renamed, 100) == weigh(SIGNALS, 100)


def test_each_kind_of_evidence_weighs_by_its_fields() -> None:
    score, reasons = weigh(SIGNALS, 100)
    texts = {r.text for r in reasons}
    assert "finding 1: «words»" in texts  # a community finding, structural
    assert "finding 2: «words»" in texts  # a channel finding, structural
    assert "2 messages (2.0%) by 2 members: finding 3" in texts  # message findings, tallied
    assert "1 attachment match known ncii media in the hash banks" in texts  # a bank reference
    strengths = {r.text: r.strength for r in reasons}
    assert strengths["finding 1: «words»"] == pytest.approx(0.6 * 4 / 5 * 0.9)
    assert strengths["finding 2: «words»"] == pytest.approx(0.5 * 4 / 5 * 0.9)
    assert strengths["1 attachment match known ncii media in the hash banks"] == pytest.approx(
        4 / 5 * 0.65
    )
    assert 0 < score < 1 and [r.strength for r in reasons] == sorted(
        (r.strength for r in reasons), reverse=True
    )


def test_a_bank_reference_counts_as_known_media_whatever_its_scope() -> None:
    as_channel = replace(SIGNALS[4], scope=Scope.CHANNEL)
    assert weigh([as_channel], 10) == weigh([SIGNALS[4]], 10)
