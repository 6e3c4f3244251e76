"""What the cases domain announces: ``DecisionRecorded``, published inside the decision's
transaction to the subscribers of ``decision_recorded``.

Everything a decision sets off beyond the case itself subscribes here (the actions written to
the outbox, the statements of reasons; later the evidence vault and NCMEC reports), so that
deciding a case depends on none of them and a new consequence is one more subscriber.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from iolaus.bus import Topic
from iolaus.model.cases import Ground


@dataclass(frozen=True)
class DecisionRecorded:
    """A decision as recorded; ``actions`` are its action kinds with the payloads the case's
    evidence gave them, in the order chosen."""

    decision_id: int
    case_id: int
    violation: bool
    category: str | None
    ground: Ground | None
    actions: tuple[tuple[str, Mapping[str, Any]], ...]
    reviewer_id: int
    decided_at: datetime


decision_recorded: Topic[DecisionRecorded] = Topic("decision recorded")
