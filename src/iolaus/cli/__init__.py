"""The ``iolaus`` command. Each module adds the commands of one area to the one Typer app."""

from iolaus.cli import actions as _actions  # noqa: F401  (each import registers its commands)
from iolaus.cli import banks as _banks  # noqa: F401
from iolaus.cli import cases as _cases  # noqa: F401
from iolaus.cli import config as _config  # noqa: F401
from iolaus.cli import detection as _detection  # noqa: F401
from iolaus.cli import exchanges as _exchanges  # noqa: F401
from iolaus.cli import legal as _legal  # noqa: F401
from iolaus.cli import platform as _platform  # noqa: F401
from iolaus.cli import users as _users  # noqa: F401
from iolaus.cli import web as _web  # noqa: F401
from iolaus.cli import worker as _worker  # noqa: F401
from iolaus.cli.main import app

__all__ = ["app"]
