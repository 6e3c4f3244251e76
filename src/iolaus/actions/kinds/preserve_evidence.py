"""``preserve_evidence``: the receiver preserves the case's messages and media."""

from __future__ import annotations

from iolaus.actions.kinds.base import CaseAction


class PreserveEvidence(CaseAction):
    kind = "preserve_evidence"
