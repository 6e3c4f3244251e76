"""Settings read from the environment, so one binary serves a laptop and a cluster alike.

Every setting has an embedded default (SQLite next to the working directory) so that Iolaus runs
with no configuration at all; operators override with ``IOLAUS_*`` variables or CLI options.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///iolaus.db"


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one process."""

    database_url: str = DEFAULT_DATABASE_URL
    data_dir: Path = Path("iolaus-data")
    auto_migrate: bool = True

    @classmethod
    def from_env(cls, database_url: str | None = None) -> Settings:
        """Build settings from ``IOLAUS_*`` variables; an explicit ``database_url`` wins."""
        env = os.environ
        return cls(
            database_url=database_url or env.get("IOLAUS_DATABASE_URL") or DEFAULT_DATABASE_URL,
            data_dir=Path(env.get("IOLAUS_DATA_DIR", "iolaus-data")),
            auto_migrate=env.get("IOLAUS_AUTO_MIGRATE", "1").strip().lower()
            not in {"0", "false", "no", "off"},
        )
