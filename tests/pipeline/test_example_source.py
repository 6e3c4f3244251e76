"""Adding a source is one module plus its registration (``memory_source.py``); its events go
through the same writer, queue and detection as an export's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from iolaus.cases.triage import DEFAULT_POLICY
from iolaus.ingest.discord_export import DiscordExportSource
from iolaus.ingest.source import Source, UnknownSource, register_source, source_class, source_names
from iolaus.model.clock import FixedClock
from iolaus.model.events import (
    ChannelRef,
    MemberSeen,
    MessageDeleted,
    MessageEdited,
    MessageSeen,
)
from iolaus.model.platform import Account, Message
from iolaus.pipeline import Pipeline
from iolaus.signals.config import DetectionConfig
from iolaus.store import tables as T
from tests.pipeline.memory_source import MemorySource
from tests.pipeline.worlds import COMMUNITY, NOW, outcome, risky_events


def _pipeline(engine: Engine) -> Pipeline:
    return Pipeline(
        engine, config=DetectionConfig.default(), policy=DEFAULT_POLICY, clock=FixedClock(NOW)
    )


def test_sources_are_found_by_name() -> None:
    assert source_class("memory") is MemorySource
    assert source_class("discord-export") is DiscordExportSource
    assert {"discord-export", "memory"} <= set(source_names())
    with pytest.raises(UnknownSource, match="no source 'nats'"):
        source_class("nats")


def test_a_name_is_registered_once() -> None:
    class Impostor(MemorySource):
        name = "memory"

    with pytest.raises(ValueError, match="already registered"):
        register_source(Impostor)

    class Nameless(Source):
        def units(self, progress=None):  # type: ignore[no-untyped-def]
            return iter(())

    with pytest.raises(TypeError, match="name"):
        register_source(Nameless)


def test_a_new_source_runs_through_the_pipeline(engine: Engine) -> None:
    general = ChannelRef(COMMUNITY, "410000000000000001")
    later = NOW + timedelta(hours=1)
    lurker = Account("299", "lurker", display_name="Lurks")
    follow_up = [
        MemberSeen(COMMUNITY, lurker, ("member",), later),
        # a channel stored by an earlier unit needs no channel-seen event again
        MessageSeen(general, Message("m900", lurker, "Default", "bonjour", NOW), later),
        MessageEdited(general, "m1", "edited text", later),
        MessageEdited(general, "m1", "an older edit loses", NOW - timedelta(days=3)),
        MessageDeleted(general, "m2", later),
    ]
    stray = ChannelRef(COMMUNITY, "never-seen")
    broken = [MessageSeen(stray, Message("x1", lurker, "Default", "hello", NOW), NOW)]

    summary = _pipeline(engine).run(MemorySource([risky_events(), follow_up, broken]))

    assert summary.files_imported == 2
    ((failure),) = summary.failures
    assert failure.path == "memory unit 2" and "never-seen" in failure.error
    result = outcome(engine)
    ((_, band, _, _),) = result["risk"]
    assert band in {"high", "critical"}
    ((subject, category, status, _),) = result["cases"]
    assert (subject.startswith("community:"), category, status) == (True, "ncii", "open")
    with engine.connect() as conn:
        m1 = conn.execute(select(T.messages).where(T.messages.c.external_id == "m1")).one()
        m2 = conn.execute(select(T.messages).where(T.messages.c.external_id == "m2")).one()
        (revision,) = conn.execute(select(T.message_revisions)).all()
        late = conn.execute(
            select(T.accounts.c.username)
            .join(T.messages, T.messages.c.author_id == T.accounts.c.id)
            .where(T.messages.c.external_id == "m900")
        ).scalar_one()
        member = conn.execute(
            select(T.memberships.c.roles, T.memberships.c.last_seen_at)
            .join(T.accounts, T.accounts.c.id == T.memberships.c.account_id)
            .where(T.accounts.c.external_id == "299")
        ).one()
        assert conn.execute(select(T.pending_detection)).all() == []
    assert late == "lurker"
    assert (m1.content, m1.edited_at) == ("edited text", later)
    assert (revision.message_id, revision.content) == (m1.id, "quelqu'un joue ce soir ?")
    assert m2.deleted_at == later and m2.content  # kept as it was, marked deleted
    assert (member.roles, member.last_seen_at) == ('["member"]', later)


def test_replaying_events_counts_nothing_new(sqlite_engine: Engine) -> None:
    pipeline = _pipeline(sqlite_engine)
    first = pipeline.run(MemorySource([risky_events()]))
    again = pipeline.run(MemorySource([risky_events()]))
    assert first.counts["messages"].new == 66
    assert sum(c.new + c.updated for c in again.counts.values()) == 0
