"""Detectors: the :class:`Detector` seam, its registry, and the built-ins registered through it
(as an outside detector would be: one class, one ``register`` call)."""

from iolaus.signals.detectors.base import (
    CommunityInfo,
    CommunityScan,
    Detector,
    DetectorSetup,
    register,
    registered,
    unregister,
)
from iolaus.signals.detectors.hashes import HashMatchDetector
from iolaus.signals.detectors.text import TextRulesDetector

BUILTINS: tuple[type[Detector], ...] = (HashMatchDetector, TextRulesDetector)
for _builtin in BUILTINS:
    register(_builtin)

__all__ = [
    "BUILTINS",
    "CommunityInfo",
    "CommunityScan",
    "Detector",
    "DetectorSetup",
    "register",
    "registered",
    "unregister",
]
