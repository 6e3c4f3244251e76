"""One service that takes what a source saw all the way to the review queue.

``ingest`` writes a source's units and, in each unit's transaction, queues the communities it
touched (``store.pending``). ``drain`` claims the queued communities, runs detection on them,
then triage, and only once all of that succeeded removes them from the queue. The hand-off is
durable: a crash after ingest committed, or during detection, leaves the queue as it was, and
the next drain (the next import, ``iolaus worker``'s tick) does the work. The CLI, and later the
event API, the stream consumer and the bot, call this service and nothing else.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from iolaus.cases.triage import TriagePolicy, adopt_mirrored_subjects, open_cases_from_signals
from iolaus.hashing.matcher import Matcher
from iolaus.ingest.source import ProgressFn, Source
from iolaus.ingest.write import UnitFn, write_source
from iolaus.model.clock import Clock
from iolaus.model.ingest import ImportSummary
from iolaus.signals.config import DetectionConfig
from iolaus.signals.scan import scan_communities
from iolaus.store import pending

DEFAULT_LEASE = timedelta(minutes=30)
"""How long a drain holds the communities it claimed. A drain that dies holds them until then;
one that outlives it may see another drain scan them too (harmless: detection is idempotent)."""


@dataclass(frozen=True)
class DrainOutcome:
    """What one drain did: the communities it scanned and the cases triage opened or touched."""

    community_ids: tuple[int, ...] = ()
    case_ids: tuple[int, ...] = ()


class Pipeline:
    """Ingest, detection and triage over one database, with one configuration and clock, and
    one bank matcher: its index is loaded once (on first need) and kept current from the hash
    change log, for the media of every ingest and the hash detector of every drain."""

    def __init__(
        self,
        engine: Engine,
        *,
        config: DetectionConfig,
        policy: TriagePolicy,
        clock: Clock,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.engine = engine
        self.config = config
        self.policy = policy
        self.clock = clock
        self.lease = lease
        self.matcher = Matcher(engine)

    def ingest(
        self,
        source: Source,
        *,
        progress: ProgressFn | None = None,
        on_unit: UnitFn | None = None,
    ) -> ImportSummary:
        """Write ``source`` unit by unit; touched communities are queued for ``drain``."""
        return write_source(
            self.engine,
            source,
            clock=self.clock,
            matcher=self.matcher,
            progress=progress,
            on_unit=on_unit,
        )

    def drain(self) -> DrainOutcome:
        """Detect and triage every queued community not claimed by another drain.

        The claimed rows go only once detection and triage both succeeded; on any failure they
        are released (and the error raised), so the next drain takes them again."""
        token = str(uuid.uuid4())
        now = self.clock()
        with self.engine.begin() as conn:
            claimed = pending.claim(conn, token, now, now + self.lease)
        if not claimed:
            return DrainOutcome()
        try:
            scan_communities(
                self.engine,
                config=self.config,
                community_ids=sorted(claimed),
                matcher=self.matcher,
            )
            # Reports about communities not mirrored until now join their community's case,
            # and what detection rates high or critical waits in the review queue, reported
            # or not.
            adopted = adopt_mirrored_subjects(self.engine, now, policy=self.policy)
            opened = open_cases_from_signals(self.engine, now, policy=self.policy)
        except BaseException:
            with self.engine.begin() as conn:
                pending.release(conn, token)
            raise
        with self.engine.begin() as conn:
            pending.complete(conn, token, claimed)
        return DrainOutcome(
            community_ids=tuple(sorted(claimed)),
            case_ids=tuple(dict.fromkeys([*adopted, *opened])),
        )

    def run(
        self,
        source: Source,
        *,
        progress: ProgressFn | None = None,
        on_unit: UnitFn | None = None,
    ) -> ImportSummary:
        """``ingest`` then ``drain``: what an import does."""
        summary = self.ingest(source, progress=progress, on_unit=on_unit)
        self.drain()
        return summary
