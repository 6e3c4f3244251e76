"""The dossier groups signals by their typed fields (rule or bank item), not their wording."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from sqlalchemy import Engine

from iolaus.model.signals import BankRef, Category, RuleRef, Scope, Signal, Targets
from iolaus.store import signals as signal_store
from iolaus.store.read_models.case_dossier import _signal_groups
from tests.cases.test_intake import seed_community

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _signal(n: int, ref: RuleRef | BankRef, explanation: str, ids: dict[str, int]) -> Signal:
    return Signal(
        detector="d",
        key=f"d:{n}",
        category=Category.NCII,
        severity=4,
        score=0.5 + n / 100,
        scope=Scope.MESSAGE,
        refs=(ref,),
        targets=Targets(ids["community"], ids["channel"], ids["message"], None, ids["author"]),
        explanation=explanation,
    )


def test_same_wording_from_two_rules_is_two_groups(engine: Engine) -> None:
    with engine.begin() as conn:
        ids = seed_community(conn)
        signal_store.add(
            conn,
            [
                _signal(1, RuleRef("a"), "intimate images: «x»", ids),
                _signal(2, RuleRef("b"), "intimate images: «y»", ids),
                _signal(3, RuleRef("a"), "intimate images: «z»", ids),
                _signal(4, BankRef("B", "md5", 0, 7), "attachment matches item 7 of bank B", ids),
            ],
            NOW,
        )
    case = SimpleNamespace(community_id=ids["community"], account_id=None)
    with engine.connect() as conn:
        groups = _signal_groups(conn, case)  # type: ignore[arg-type]
    assert [(g.explanation, g.count, g.examples) for g in groups] == [
        ("intimate images", 2, ["«x»", "«z»"]),
        ("intimate images", 1, ["«y»"]),
        ("attachment matches item 7 of bank B", 1, []),
    ]
