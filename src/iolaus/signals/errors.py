"""Errors in the data files operators edit (rules, lexicons): they name the file and the line,
so a bad edit is found at load, not on a live event."""

from __future__ import annotations

from iolaus.errors import IolausError


class DataFileError(IolausError, ValueError):
    """A data file that cannot be loaded, with where the problem is."""

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.line = line
        self.problem = problem
