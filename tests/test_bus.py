"""The in-process bus: subscribers in order, on the publisher's connection, notes merged."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

from iolaus.bus import Topic


def test_subscribers_run_in_order_on_the_publishers_connection(sqlite_engine: Engine) -> None:
    topic: Topic[str] = Topic("test")
    calls: list[tuple[str, Any]] = []

    def first(conn: Connection, event: str) -> dict[str, Any]:
        calls.append(("first", conn.execute(text("select 1")).scalar_one()))
        return {"a": 1, "b": 1}

    def second(conn: Connection, event: str) -> dict[str, Any]:
        calls.append(("second", event))
        return {"b": 2}

    topic.subscribe(first)
    topic.subscribe(second)
    with sqlite_engine.begin() as conn:
        assert topic.publish(conn, "hello") == {"a": 1, "b": 2}
    assert calls == [("first", 1), ("second", "hello")]
    assert repr(topic) == "<Topic 'test': 2 subscribers>"

    with pytest.raises(ValueError, match="already subscribes"):
        topic.subscribe(first)
    topic.unsubscribe(first)
    assert topic.subscribers() == (second,)
