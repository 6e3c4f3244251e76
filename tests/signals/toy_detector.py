"""An example detector, the whole of it: a phrase in a community's name.

This is what adding a detector takes: one class naming itself and its scope and returning typed
signals, plus ``register(PhraseInNameDetector)``. Nothing else in Iolaus changes."""

from __future__ import annotations

from iolaus.model.signals import Category, RuleRef, Scope, Signal, Targets
from iolaus.signals.detectors import CommunityScan, Detector

PHRASE = "trade pics"


class PhraseInNameDetector(Detector):
    name = "phrase_in_name"
    scope = Scope.COMMUNITY

    def detect(self, scan: CommunityScan) -> list[Signal]:
        community = scan.community
        if PHRASE not in community.name.lower():
            return []
        return [
            Signal(
                detector=self.name,
                key=f"{self.name}:{community.id}",
                category=Category.SOLICITATION,
                severity=5,
                score=1.0,
                scope=Scope.COMMUNITY,
                refs=(RuleRef("phrase-in-name"),),
                targets=Targets(community.id),
                explanation=f"community {community.name} is named «{PHRASE}»",
            )
        ]
