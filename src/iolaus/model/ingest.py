"""Counts reported by an ingest run: what a replay is expected to leave at zero new rows."""

from __future__ import annotations

from dataclasses import dataclass, field

ENTITIES = ("communities", "channels", "accounts", "messages", "attachments")


@dataclass
class EntityCounts:
    """Rows created, changed and found identical for one kind of object."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: EntityCounts) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged

    def to_json(self) -> dict[str, int]:
        return {"new": self.new, "updated": self.updated, "unchanged": self.unchanged}


def empty_counts() -> dict[str, EntityCounts]:
    return {name: EntityCounts() for name in ENTITIES}


@dataclass
class MediaCounts:
    """Local media files met during an import: hashed, matching a bank, refused."""

    hashed: int = 0
    matched: int = 0
    refused: int = 0

    def add(self, other: MediaCounts) -> None:
        self.hashed += other.hashed
        self.matched += other.matched
        self.refused += other.refused

    def to_json(self) -> dict[str, int]:
        return {"hashed": self.hashed, "matched": self.matched, "refused": self.refused}


@dataclass
class FileFailure:
    """A file that was rolled back, with where it broke."""

    path: str
    error: str


@dataclass
class ImportSummary:
    """The outcome of importing a set of files: totals over the files that were committed."""

    files_imported: int = 0
    failures: list[FileFailure] = field(default_factory=list)
    counts: dict[str, EntityCounts] = field(default_factory=empty_counts)
    media: MediaCounts = field(default_factory=MediaCounts)
    community_ids: set[int] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.failures

    def merge(self, counts: dict[str, EntityCounts]) -> None:
        for name, value in counts.items():
            self.counts[name].add(value)

    def to_json(self) -> dict[str, object]:
        return {
            "files_imported": self.files_imported,
            "files_failed": len(self.failures),
            "failures": [{"path": f.path, "error": f.error} for f in self.failures],
            "counts": {name: value.to_json() for name, value in self.counts.items()},
            "media": self.media.to_json(),
        }
