"""Hash exchanges: remote hash lists (NCMEC, StopNCII, a local file) imported into banks.

``base`` is the one seam, each API is a small module registered by name, ``sync`` applies
their deltas to banks, and ``secrets`` keeps their credentials encrypted. Importing this
package registers the built-in APIs.
"""

from iolaus.exchanges import file_api, ncmec, stopncii
from iolaus.exchanges.base import (
    ExchangeAPI,
    ExchangeError,
    FetchDelta,
    InvalidExchange,
    Record,
    api_names,
    get_api,
    register,
)

__all__ = [
    "ExchangeAPI",
    "ExchangeError",
    "FetchDelta",
    "InvalidExchange",
    "Record",
    "api_names",
    "file_api",
    "get_api",
    "ncmec",
    "register",
    "stopncii",
]
