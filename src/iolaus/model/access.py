"""Who may call what: API token roles and the HTTP route groups each one opens.

HMA splits its API into route groups by path prefix (``/h`` hashing, ``/m`` matching, ``/c``
curation) and enables them per node; Iolaus keeps the split but grants it per token, so one
server can face hashing clients, matching clients and curators at once. Roles nest: each one
can do everything the roles below it can, which keeps the matrix small enough to audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class RouteGroup(StrEnum):
    """HMA's route groups, named by their path prefix."""

    HASH = "h"
    MATCH = "m"
    CURATE = "c"


class Role(StrEnum):
    ADMIN = "admin"
    """Everything, including what later administrative routes add."""
    CURATOR = "curator"
    """Edits banks and their content (/c), and matches and hashes (/m, /h)."""
    MATCHER = "matcher"
    """Matches hashes and files (/m) and hashes files (/h); cannot change banks."""
    HASHER = "hasher"
    """Hashes files (/h) only: learns nothing about bank content."""
    REPORTER = "reporter"
    """Reserved for the report API (trusted flaggers, hotlines); no HMA route at all."""


# Every role that may match may also hash: HMA's lookups by file hash the file first.
GRANTS: dict[Role, frozenset[RouteGroup]] = {
    Role.ADMIN: frozenset(RouteGroup),
    Role.CURATOR: frozenset({RouteGroup.CURATE, RouteGroup.MATCH, RouteGroup.HASH}),
    Role.MATCHER: frozenset({RouteGroup.MATCH, RouteGroup.HASH}),
    Role.HASHER: frozenset({RouteGroup.HASH}),
    Role.REPORTER: frozenset(),
}


def allows(role: Role, group: RouteGroup) -> bool:
    return group in GRANTS[role]


@dataclass(frozen=True)
class Token:
    """An API token as stored: its secret exists only in the caller's hands."""

    id: int
    name: str
    role: Role
    trusted_flagger: bool
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    expertise: tuple[str, ...] = ()

    def prioritised_for(self, category: str) -> bool:
        """DSA Art. 22: a trusted flagger's notices get priority within its designated areas of
        expertise (every area when none is recorded), not outside them."""
        return self.trusted_flagger and (not self.expertise or category in self.expertise)

    @property
    def actor(self) -> str:
        """The name the audit log records for actions taken with this token."""
        return f"token:{self.name}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.value,
            "trusted_flagger": self.trusted_flagger,
            "created_at": self.created_at.isoformat(),
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }
