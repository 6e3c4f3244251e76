"""``iolaus worker``: the duties that run on a timer, in one process beside ``iolaus serve``."""

from __future__ import annotations

import signal
import threading
from contextlib import ExitStack, closing
from datetime import UTC, datetime
from types import FrameType
from typing import Annotated

import typer

from iolaus import logs
from iolaus.actions import transports
from iolaus.actions.delivery import Transport, TransportConfigError
from iolaus.actions.dispatcher import dispatch_once
from iolaus.actions.webhooks import URL_ENV
from iolaus.cases.triage import escalate_due
from iolaus.cli.main import app, fail, out, state
from iolaus.cli.platform import build_pipeline


@app.command("worker")
def worker_command(
    interval: Annotated[float, typer.Option(min=1.0, help="Seconds between passes.")] = 30.0,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
) -> None:
    """Finish pending detection, escalate cases nearing their deadline and deliver due actions
    as signed webhooks, every INTERVAL seconds until Ctrl-C or SIGTERM.

    Webhooks need IOLAUS_WEBHOOK_URL and IOLAUS_WEBHOOK_SECRET; without a URL the worker only
    escalates (escalations then wait in the outbox until a URL is set). Several workers may run:
    escalation happens once per case and outbox rows are leased.
    """
    logs.configure(state.settings.log_level, state.settings.log_format)
    engine = state.engine()
    pipeline = build_pipeline()
    policy = state.policy()
    with ExitStack() as stack:
        sender: Transport | None = None
        if state.settings.webhook_urls:
            try:
                transport = transports.create(transports.DEFAULT_TRANSPORT, state.settings)
                sender = stack.enter_context(closing(transport))
            except TransportConfigError as exc:
                fail(str(exc))
        else:
            out.print(f"no {URL_ENV}: escalating only; actions wait in the outbox", highlight=False)
        stop = threading.Event()

        def on_signal(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        previous = signal.signal(signal.SIGTERM, on_signal)
        try:
            while True:
                detected = pipeline.drain()  # what an interrupted import left queued
                now = datetime.now(UTC)
                escalated = escalate_due(engine, now, policy=policy)
                delivered = dispatch_once(engine, now, sender).delivered if sender else 0
                out.print(
                    f"{now:%H:%M:%S} detection on {len(detected.community_ids)} community(ies), "
                    f"escalated {len(escalated)} case(s), "
                    f"delivered {delivered} action(s)",
                    highlight=False,
                )
                if once or stop.wait(interval):
                    break
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
