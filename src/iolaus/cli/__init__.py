"""The ``iolaus`` command. Each module adds the commands of one area to the one Typer app."""

from iolaus.cli import platform as _platform  # noqa: F401  (registers its commands)
from iolaus.cli.main import app

__all__ = ["app"]
