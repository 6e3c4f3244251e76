"""Every seam of the pipeline and what is registered in it, in one place.

Each seam keeps its own registry next to its interface (sources in ``ingest.source``, detectors in
``signals.detectors``, …); this module only reads them, so ``iolaus plugins`` can show an operator
what a deployment runs, and the test suite can insist that every registered plug-in is tested.
"""

from __future__ import annotations

from iolaus.actions import kinds, transports
from iolaus.cases.events import decision_recorded
from iolaus.hashing.types import SIGNAL_TYPES
from iolaus.ingest.source import source_names
from iolaus.ingest.subscribers import media_subscriber_names
from iolaus.signals import detectors

SEAMS: dict[str, str] = {
    "source": "yields a platform's events (iolaus.ingest.source.Source)",
    "media_subscriber": "receives media bytes before they are dropped (ingest.subscribers)",
    "detector": "turns what was seen into typed signals (signals.detectors.base.Detector)",
    "signal_type": "a kind of hash: validate, compare, index (hashing.types.SignalType)",
    "action": "what a decision orders, its targets and DSA wording (actions.kinds)",
    "transport": "how an ordered action reaches the platform (actions.transports)",
    "decision_subscriber": "runs inside a recorded decision's transaction (cases.events)",
}


def registered() -> dict[str, tuple[str, ...]]:
    """Seam name → the names of its registered plug-ins, in the order they run."""
    return {
        "source": tuple(source_names()),
        "media_subscriber": tuple(media_subscriber_names()),
        "detector": tuple(d.name for d in detectors.registered()),
        "signal_type": tuple(t.name for t in SIGNAL_TYPES),
        "action": kinds.kind_names(),
        "transport": transports.names(),
        "decision_subscriber": tuple(s.__module__ for s in decision_recorded.subscribers()),
    }
