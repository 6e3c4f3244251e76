"""``report_ncmec``: the receiver reports the case to NCMEC's CyberTipline."""

from __future__ import annotations

from iolaus.actions.kinds.base import CaseAction


class ReportNcmec(CaseAction):
    kind = "report_ncmec"
