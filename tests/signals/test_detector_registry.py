"""The detector registry: built-ins registered through it, names unique, narrowest scope first,
and every registered detector tested in its own module."""

from __future__ import annotations

from pathlib import Path

import pytest

from iolaus.model.signals import Scope, Signal
from iolaus.signals.detectors import BUILTINS, CommunityScan, Detector, register, registered
from iolaus.signals.detectors.hashes import HashMatchDetector
from iolaus.signals.detectors.text import TextRulesDetector

TESTS = Path(__file__).parent


def test_builtins_are_registered_narrowest_scope_first() -> None:
    assert set(BUILTINS) <= set(registered())
    # The text rules count a message's hash matches: the matcher must run before them.
    order = registered()
    assert order.index(HashMatchDetector) < order.index(TextRulesDetector)
    assert [c.scope for c in order] == sorted((c.scope for c in order), key=list(Scope).index)


def test_every_registered_detector_has_its_own_tests() -> None:
    for cls in registered():
        module = cls.__module__.rsplit(".", 1)[-1]
        assert (TESTS / f"test_detector_{module}.py").is_file(), f"{cls.__name__} has no tests"


def test_names_are_unique_and_required() -> None:
    class Clash(Detector):
        name = TextRulesDetector.name
        scope = Scope.MESSAGE

        def detect(self, scan: CommunityScan) -> list[Signal]:
            return []

    class Nameless(Detector):
        scope = Scope.MESSAGE

        def detect(self, scan: CommunityScan) -> list[Signal]:
            return []

    with pytest.raises(ValueError, match="already registered"):
        register(Clash)
    with pytest.raises(TypeError, match="name and a Scope"):
        register(Nameless)
    register(TextRulesDetector)  # registering the same class again is harmless
    assert registered().count(TextRulesDetector) == 1
