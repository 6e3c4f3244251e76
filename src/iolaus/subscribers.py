"""The built-in subscribers, in the order they run: the one place that composes the domain's
events with the packages that react to them (``iolaus.bus`` imports it before the first event).

- decision recorded → the actions enqueued in the outbox (with their local effects), then the
  statements of reasons (DSA Art. 17) built, validated and stored.
"""

from __future__ import annotations

from iolaus.actions import enqueue
from iolaus.cases.events import decision_recorded
from iolaus.legal.dsa import statements

decision_recorded.subscribe(enqueue.on_decision_recorded)
decision_recorded.subscribe(statements.on_decision_recorded)
