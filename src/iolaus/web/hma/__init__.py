"""HMA / OpenMediaMatch's HTTP API, so that HMA clients work against Iolaus unchanged; one module
per route group, as HMA splits its blueprints: ``hashing`` (``/h``), ``matching`` (``/m``) and
``curation`` (``/c``), with the parameters they share in ``params``.

Shapes, status codes and messages follow HMA 1.1.7 (see ``formats.md`` §3), quirks included (each
module names its own). Every role that opens ``/m`` also opens ``/h``, so HMA's "needs the
hasher role" check on lookups by file always passes here. Handlers stay thin: they parse, call
the helpers or the store, and shape the answer.
"""

from __future__ import annotations

from iolaus.web.hma import curation, hashing, matching

routers = (hashing.router, matching.router, curation.router)
