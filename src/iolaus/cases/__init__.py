"""Cases: reports (DSA Art. 16) and signals gathered per community, account or media item,
ranked for review (CSAM always first) with a deadline per category.

``intake`` validates and stores notices, ``triage`` ranks cases and escalates them, ``store``
holds the queue, locks and the timestamps of every step.
"""

from iolaus.cases.intake import InvalidReport, Receipt, ValidReport, submit, validate
from iolaus.cases.store import (
    CaseLocked,
    QueueItem,
    get_case,
    lock,
    mark_actioned,
    mark_decided,
    mark_viewed,
    queue,
    report_for_notifier,
    unlock,
)
from iolaus.cases.triage import (
    DEFAULT_POLICY,
    TriagePolicy,
    escalate_due,
    open_cases_from_signals,
    priority,
)

__all__ = [
    "DEFAULT_POLICY",
    "CaseLocked",
    "InvalidReport",
    "QueueItem",
    "Receipt",
    "TriagePolicy",
    "ValidReport",
    "escalate_due",
    "get_case",
    "lock",
    "mark_actioned",
    "mark_decided",
    "mark_viewed",
    "open_cases_from_signals",
    "priority",
    "queue",
    "report_for_notifier",
    "submit",
    "unlock",
    "validate",
]
