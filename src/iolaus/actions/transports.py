"""The registry of transports: how a claimed outbox row reaches whoever carries it out.

Signed webhooks are the built-in transport (``webhooks``); a platform's API is the next. Each is
registered by name with a factory that builds it from the settings; the edge picks one by
name (``iolaus actions dispatch --transport``, the worker uses ``DEFAULT_TRANSPORT``) and the
dispatcher hands it each row it claims.
"""

from __future__ import annotations

from collections.abc import Callable

from iolaus.actions import webhooks
from iolaus.actions.delivery import Transport, TransportConfigError
from iolaus.config import Settings

DEFAULT_TRANSPORT = "webhook"

TransportFactory = Callable[[Settings], Transport]
_FACTORIES: dict[str, TransportFactory] = {}


def register(name: str, factory: TransportFactory) -> None:
    if name in _FACTORIES:
        raise ValueError(f"a transport named {name} is already registered")
    _FACTORIES[name] = factory


def names() -> tuple[str, ...]:
    return tuple(_FACTORIES)


def create(name: str, settings: Settings) -> Transport:
    """The transport ``name``, configured from ``settings``; raises ``TransportConfigError``
    (``WebhookConfigError`` is one) for an unknown name or a bad configuration."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        known = ", ".join(_FACTORIES)
        raise TransportConfigError(f"unknown transport {name!r} (known: {known})") from None
    return factory(settings)


register(DEFAULT_TRANSPORT, webhooks.from_settings)
