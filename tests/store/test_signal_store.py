"""Signals go into the store typed and come back typed; migration 0011 types older rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Engine, column, insert, select, table

from iolaus.model.signals import (
    BankRef,
    Category,
    CommunityRef,
    RuleRef,
    Scope,
    Signal,
    Targets,
)
from iolaus.store import migrate
from iolaus.store import signals as signal_store
from iolaus.store.engine import open_engine
from iolaus.store.tables import signals
from tests.cases.test_intake import seed_community

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
# The signals table as revision 0007 left it: details as JSON text.
OLD_SIGNALS = table(
    "signals",
    *(
        column(name)
        for name in (
            "dedupe_key",
            "detector",
            "category",
            "severity",
            "score",
            "explanation",
            "details",
            "community_id",
            "channel_id",
            "message_id",
            "created_at",
        )
    ),
)


def _signal(ids: dict[str, int], key: str, *refs: RuleRef | BankRef | CommunityRef) -> Signal:
    return Signal(
        detector="somebody",
        key=key,
        category=Category.DOXXING,
        severity=3,
        score=0.5,
        scope=Scope.MESSAGE,
        refs=refs,
        targets=Targets(ids["community"], ids["channel"], ids["message"], None, ids["author"]),
        explanation="doxxing: «address»",
        terms=("address",),
        protected=("A. Person",),
        example={"message": "333", "channel": "#general", "terms": "address"},
    )


def test_signals_round_trip_typed(engine: Engine) -> None:
    with engine.begin() as conn:
        ids = seed_community(conn)
    with engine.begin() as conn:
        first = _signal(ids, "k1", RuleRef("r"), CommunityRef(ids["community"]))
        second = _signal(ids, "k2", BankRef("B", "md5", 0, 9))
        assert signal_store.add(conn, [first, second], NOW) == [first, second]
        assert signal_store.add(conn, [first], NOW) == []  # stored once, by key
    with engine.connect() as conn:
        assert signal_store.of_community(conn, ids["community"], "somebody") == [first, second]
        about = signal_store.about(conn, community_id=None, account_id=ids["author"], limit=1)
        assert about == [first]
    with engine.begin() as conn:
        signal_store.replace(conn, ids["community"], "somebody", [second], NOW)
    with engine.connect() as conn:
        assert signal_store.of_community(conn, ids["community"], "somebody") == [second]


def test_migration_0011_types_older_rows(db_url: str) -> None:
    engine = open_engine(db_url)
    migrate.upgrade(engine, "0007")
    with engine.begin() as conn:
        ids = seed_community(conn)
        old = [
            ("rules:r:m1", "rules", {"rule": "r", "terms": ["x"], "protected": []}, "message_id"),
            (
                "hash_match:1:B:9",
                "hash_match",
                {"bank": "B", "content_id": 9, "signal_type": "pdq", "distance": 3},
                "message_id",
            ),
            ("rules:c:c1", "rules", {"rule": "c", "terms": [], "protected": []}, "channel_id"),
        ]
        for key, detector, details, target in old:
            conn.execute(
                insert(OLD_SIGNALS).values(
                    dedupe_key=key,
                    detector=detector,
                    category="ncii",
                    severity=4,
                    score=1.0,
                    explanation="e",
                    details=json.dumps(details),
                    community_id=ids["community"],
                    channel_id=ids["channel"],
                    message_id=ids["message"] if target == "message_id" else None,
                    created_at=NOW,
                )
            )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        typed = {s.key: s for s in signal_store.of_community(conn, ids["community"], "rules")}
        typed |= {s.key: s for s in signal_store.of_community(conn, ids["community"], "hash_match")}
        raw = conn.execute(select(signals.c.dedupe_key, signals.c.details)).all()
    assert typed["rules:r:m1"].refs == (RuleRef("r"),) and typed["rules:r:m1"].terms == ("x",)
    assert typed["rules:r:m1"].scope is Scope.MESSAGE
    assert typed["rules:c:c1"].scope is Scope.CHANNEL
    assert typed["hash_match:1:B:9"].refs == (BankRef("B", "pdq", 3, 9),)
    assert dict(raw)["rules:r:m1"] == {"rule": "r", "terms": ["x"], "protected": []}
    migrate.downgrade(engine, "0007")
    engine.dispose()
