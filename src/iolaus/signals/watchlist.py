"""Protected persons: people at risk of sexual deepfakes and image abuse (creators, streamers),
registered with their names, handles and aliases.

Names are matched on normalised text with the same skeleton the lexicon uses, as whole words, so
``L.u.n.a V3x`` finds ``LunaVex`` and ``luna`` does not find ``lunatic``. A mention alone is not a
signal (fans talk about the people they follow); the rules combine it with sexual or deepfake
terms.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert, select

from iolaus.signals.normalise import normalise, skeleton
from iolaus.store.tables import protected_persons


@dataclass(frozen=True)
class ProtectedPerson:
    id: int
    name: str
    aliases: tuple[str, ...]
    note: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "aliases": list(self.aliases), "note": self.note}


def _form(name: str) -> str:
    return skeleton(normalise(name).text)


class Watchlist:
    """Finds protected persons mentioned in a text."""

    def __init__(self, persons: Iterable[ProtectedPerson]) -> None:
        self.persons = tuple(persons)
        names: dict[str, str] = {}
        for person in self.persons:
            for alias in (person.name, *person.aliases):
                form = _form(alias)
                if len(form.replace(" ", "")) >= 3:  # shorter forms would match everywhere
                    names.setdefault(form, person.name)
        self._names = names
        alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        self._pattern = (
            re.compile(r"(?<![a-z0-9])(" + alternatives + r")(?![a-z0-9])") if names else None
        )
        # The names anywhere, whole words or not: a necessary condition for ``_pattern``, tested
        # first on every message. A pattern that starts with the names lets the regular
        # expression engine skip ahead to their first letters (the look-behind above prevents
        # that), which makes it several times faster on the many texts that mention no one.
        self._hint = re.compile(alternatives) if names else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def mentioned(self, normalised_text: str, *, key: str | None = None) -> list[str]:
        """Names of the protected persons the (already normalised) text mentions.

        ``key``, when given, must be ``skeleton(normalised_text)`` (the detector computes it
        once for the lexicon and the watch list). A quick ``search`` for the bare names first:
        almost no message mentions anyone."""
        if self._pattern is None or self._hint is None or not normalised_text:
            return []
        if key is None:
            key = skeleton(normalised_text)
        if self._hint.search(key) is None:
            return []
        return sorted({self._names[m.group(1)] for m in self._pattern.finditer(key)})


# -- store -----------------------------------------------------------------------------------


def add_person(
    conn: Connection, name: str, aliases: Sequence[str] = (), note: str | None = None
) -> ProtectedPerson:
    if len(_form(name).replace(" ", "")) < 3:
        raise ValueError("a protected name needs at least three letters or digits")
    clean_aliases = tuple(dict.fromkeys(a.strip() for a in aliases if a.strip()))
    person_id = conn.execute(
        insert(protected_persons)
        .values(
            name=name.strip(),
            aliases=json.dumps(list(clean_aliases), ensure_ascii=False),
            note=note,
            created_at=datetime.now(UTC),
        )
        .returning(protected_persons.c.id)
    ).scalar_one()
    return ProtectedPerson(int(person_id), name.strip(), clean_aliases, note)


def list_persons(conn: Connection) -> list[ProtectedPerson]:
    return [
        ProtectedPerson(r.id, r.name, tuple(json.loads(r.aliases or "[]")), r.note)
        for r in conn.execute(select(protected_persons).order_by(protected_persons.c.id))
    ]


def remove_person(conn: Connection, person_id: int) -> bool:
    result = conn.execute(delete(protected_persons).where(protected_persons.c.id == person_id))
    return bool(result.rowcount)


def load_watchlist(conn: Connection) -> Watchlist:
    return Watchlist(list_persons(conn))
