"""What text detection runs with, loaded once at the edge and handed to every entry point.

The operator's rule file (``IOLAUS_RULES``) and extra term lists (``IOLAUS_LEXICON``) must apply
to every detection — ``iolaus scan``, detection on import, the worker, the event API — or the
next import replaces custom-rule signals with default-rule ones. So they are loaded into one
``DetectionConfig`` by whoever reads the settings, and passed down; nothing below reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from iolaus.signals.lexicon import Lexicon
from iolaus.signals.rules import RuleSet, load_default, load_file


@dataclass(frozen=True)
class DetectionConfig:
    """A rule set and a lexicon; the watch list is read from the database at each scan."""

    rules: RuleSet
    lexicon: Lexicon

    @classmethod
    def load(
        cls, rules_path: Path | None = None, lexicon_paths: Sequence[Path] = ()
    ) -> DetectionConfig:
        """The default rules (or ``rules_path`` instead) and the default lexicon plus
        ``lexicon_paths``. Raises ``RuleError`` / ``LexiconError`` naming file and line."""
        rules = load_file(rules_path) if rules_path else load_default()
        lexicon = Lexicon.load_default()
        if lexicon_paths:
            lexicon = lexicon.merge(*(Lexicon.from_file(p) for p in lexicon_paths))
        return cls(rules, lexicon)

    @classmethod
    def default(cls) -> DetectionConfig:
        """The built-in rules and lexicon (loaded once per process)."""
        return _default()


@cache
def _default() -> DetectionConfig:
    return DetectionConfig(load_default(), Lexicon.load_default())
