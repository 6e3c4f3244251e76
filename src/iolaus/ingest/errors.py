"""Errors raised while reading a source; they name the file and where it broke."""

from __future__ import annotations

from iolaus.errors import IolausError


class SourceError(IolausError):
    """One input could not be imported; nothing of it was written."""

    def __init__(self, source: str, where: str, problem: str) -> None:
        super().__init__(f"{source}: {where}: {problem}" if where else f"{source}: {problem}")
        self.source = source
        self.where = where
        self.problem = problem
