"""``local_file``: a plain-text hash list on disk, in python-threatexchange's file format.

One hash per line, either ``<signal_type> <hash>`` or, when the config names a signal type, the
bare hash. The file is the whole truth on every sync (there is no checkpoint), so a hash whose
line disappears is deleted from the bank: this is how a partner's list export, or a list kept
by hand, withdraws entries.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from pathlib import Path
from typing import Any

from iolaus.exchanges.base import (
    Checkpoint,
    ExchangeAPI,
    ExchangeError,
    FetchDelta,
    InvalidExchange,
    Record,
    register,
    reject_unknown_keys,
    to_signal,
)
from iolaus.hashing.types import SIGNAL_TYPES, SignalType

BATCH = 1000  # records per delta: one transaction each, bounded memory


@register
class LocalFileAPI(ExchangeAPI):
    name = "local_file"
    snapshot = True

    @classmethod
    def check_config(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        reject_unknown_keys(cls.name, config, {"filename", "signal_type"})
        filename = config.get("filename")
        if not isinstance(filename, str) or not filename.strip():
            raise InvalidExchange("local_file config: filename is required")
        # Absolute, as pytx requires: a later sync may run from another directory.
        checked: dict[str, Any] = {"filename": str(Path(filename).expanduser().absolute())}
        kind = config.get("signal_type")
        if kind is not None:
            try:
                checked["signal_type"] = SIGNAL_TYPES.from_name(kind).name
            except ValueError:
                choices = ", ".join(t.name for t in SIGNAL_TYPES)
                raise InvalidExchange(
                    f"local_file config: unknown signal_type {kind!r} (one of {choices})"
                ) from None
        return checked

    def fetch(self, checkpoint: Checkpoint | None) -> Generator[FetchDelta, None, None]:
        path = Path(self.config["filename"])
        kind = self.config.get("signal_type")
        try:
            handle = path.open(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ExchangeError(f"local_file: cannot read {path}: {exc.strerror}") from None
        updates: dict[str, Record | None] = {}
        ignored = 0
        with handle:
            for line in handle:
                parsed = _parse(line, kind)
                if parsed is None:
                    if line.strip():
                        ignored += 1
                    continue
                signal_type, value = parsed
                updates[f"{signal_type.name} {value}"] = Record({signal_type: value})
                if len(updates) >= BATCH:
                    yield FetchDelta(updates, None, ignored)
                    updates, ignored = {}, 0
        yield FetchDelta(updates, None, ignored)


def _parse(line: str, kind: str | None) -> tuple[SignalType, str] | None:
    """A line's (type, canonical hash); None for blank lines and hashes Iolaus cannot use."""
    text = line.strip()
    if not text:
        return None
    if kind is None:
        name, _, text = text.partition(" ")
        try:
            signal_type = SIGNAL_TYPES.from_name(name)
        except ValueError:
            return None  # a pytx type Iolaus does not hold (raw_text, url…)
    else:
        signal_type = SIGNAL_TYPES.from_name(kind)
    value = to_signal(signal_type, text)
    return (signal_type, value) if value is not None else None
