"""Declarative detection rules: data an operator edits, compiled and checked before they go live.

A rule file is TOML (a list of ``[[rule]]`` tables). Each rule names a scope (``message``,
``channel`` or ``community``), a category and severity, a mode (``live`` raises signals; ``shadow``
is evaluated and counted, never raising a case), and conditions over *named features* of its
scope: ``all`` must all hold, at least one of ``any`` (when given), none of ``none``. A condition
is ``FEATURE OP VALUE`` with OP among ``> >= < <= == !=`` for numbers, ``is true|false`` for flags,
and ``matches /regex/`` or ``contains "text"`` for text features (text features are normalised,
so patterns are written in lower-case plain Latin letters).

Everything is checked at load, like Osprey compiles its rules before they run: an unknown
feature, an operator that does not fit the feature's type, a bad regular expression, an unknown
placeholder in the explanation, a duplicate rule name or a bad mode is an error naming the file
and line. Nothing is left to fail on a live event.

A regular expression used by many rules is written once under ``[patterns]`` (``name = '…'``)
and referred to as ``text matches @name``.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iolaus.model.signals import Category
from iolaus.signals.errors import DataFileError

SCOPES = ("message", "channel", "community")
MODES = ("live", "shadow")
LEXICON_KINDS = (
    *(c.value for c in Category if c is not Category.BAN_EVASION),
    "age_indicator",
    "sexual_context",
)

# Named features per scope and their types: number, flag or text.
_COMMON_NUMBERS = {f"{kind}": "number" for kind in LEXICON_KINDS}
FEATURES: dict[str, dict[str, str]] = {
    "message": {
        **_COMMON_NUMBERS,
        "text": "text",
        "attachments": "number",
        "media_attachments": "number",
        "hash_matches": "number",
        "protected_mentions": "number",
        "channel_nsfw": "flag",
        "channel_name": "text",
        **{f"channel_{kind}": "number" for kind in LEXICON_KINDS},
    },
    "channel": {
        **_COMMON_NUMBERS,
        "name": "text",
        "topic": "text",
        "category_name": "text",
        "nsfw": "flag",
        "adult_marker": "flag",
        "protected_mentions": "number",
    },
    "community": {
        **_COMMON_NUMBERS,
        "name": "text",
        "description": "text",
        "nsfw": "flag",
        "adult_marker": "flag",
    },
}
# Placeholders an explanation may use, besides any feature of the scope.
PLACEHOLDERS = {
    "message": {"terms", "protected", "channel"},
    "channel": {"terms", "protected", "channel"},
    "community": {"terms", "community"},
}

_CONDITION = re.compile(
    r"^\s*(?P<feature>[a-z_]+)\s+(?P<op>>=|<=|==|!=|>|<|is|matches|contains)\s+(?P<value>.+?)\s*$"
)
_NUMBER_OPS = {">", ">=", "<", "<=", "==", "!="}


class RuleError(DataFileError):
    """A rule file that cannot go live, with where the problem is."""


@dataclass(frozen=True)
class Condition:
    feature: str
    op: str
    value: Any
    text: str

    def holds(self, features: Mapping[str, Any]) -> bool:
        actual = features.get(self.feature)
        op = self.op
        if op == "is":
            return bool(actual) is self.value
        if op == "matches":
            return bool(actual) and self.value.search(actual) is not None
        if op == "contains":
            return actual is not None and bool(actual) and self.value in actual
        number = float(actual or 0)
        if op == ">":
            return number > self.value
        if op == ">=":
            return number >= self.value
        if op == "<":
            return number < self.value
        if op == "<=":
            return number <= self.value
        if op == "==":
            return number == self.value
        return number != self.value


@dataclass(frozen=True)
class Rule:
    name: str
    scope: str
    category: Category
    severity: int
    mode: str
    all: tuple[Condition, ...]
    any: tuple[Condition, ...]
    none: tuple[Condition, ...]
    explain: str
    weight: float
    source: str
    line: int

    def fires(self, features: Mapping[str, Any]) -> bool:
        return (
            all(c.holds(features) for c in self.all)
            and (not self.any or any(c.holds(features) for c in self.any))
            and not any(c.holds(features) for c in self.none)
        )

    def explanation(self, values: Mapping[str, Any]) -> str:
        return self.explain.format_map(_Defaulting(values))


class _Defaulting(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "—"


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...] = field(default_factory=tuple)

    def for_scope(self, scope: str) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.scope == scope)

    def program(self, scope: str) -> Program:
        """The rules of ``scope`` compiled for evaluation on many feature sets (see Program)."""
        return Program(self.for_scope(scope))

    def __len__(self) -> int:
        return len(self.rules)

    def merged(self, other: RuleSet) -> RuleSet:
        names = {r.name for r in self.rules}
        for rule in other.rules:
            if rule.name in names:
                raise RuleError(rule.source, rule.line, f"duplicate rule name {rule.name!r}")
        return RuleSet(self.rules + other.rules)


DEFAULT_RULES = Path(__file__).with_name("default.toml")


def load_default() -> RuleSet:
    return load_file(DEFAULT_RULES)


def load_file(path: Path) -> RuleSet:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(str(path), None, f"cannot read: {exc}") from None
    return load_text(text, str(path))


def _rule_lines(text: str) -> list[int]:
    """Line number of each ``[[rule]]`` header, to point errors at the right rule."""
    return [i for i, line in enumerate(text.splitlines(), 1) if line.strip() == "[[rule]]"]


def _key_line(text: str, start: int, key: str) -> int:
    lines = text.splitlines()
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number in range(start, len(lines) + 1):
        if number > start and lines[number - 1].strip() == "[[rule]]":
            break
        if pattern.match(lines[number - 1]):
            return number
    return start


def load_text(text: str, source: str = "<rules>") -> RuleSet:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's TOMLDecodeError carries the position only in its message.
        found = re.search(r"at line (\d+)", str(exc))
        raise RuleError(
            source, int(found[1]) if found else None, f"not valid TOML: {exc}"
        ) from None
    unknown_top = set(data) - {"rule", "patterns"}
    if unknown_top:
        raise RuleError(source, None, f"unknown top-level keys {sorted(unknown_top)}")
    patterns = _patterns(data.get("patterns", {}), source, text)
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list):
        raise RuleError(source, None, "'rule' must be an array of tables ([[rule]])")
    lines = _rule_lines(text)
    rules: list[Rule] = []
    names: dict[str, int] = {}
    for index, raw in enumerate(raw_rules):
        line = lines[index] if index < len(lines) else 1
        rule = _compile(raw, source, line, text, patterns)
        if rule.name in names:
            raise RuleError(
                source,
                line,
                f"duplicate rule name {rule.name!r} (first at line {names[rule.name]})",
            )
        names[rule.name] = line
        rules.append(rule)
    return RuleSet(tuple(rules))


_ALLOWED_KEYS = {
    "name",
    "scope",
    "category",
    "severity",
    "mode",
    "all",
    "any",
    "none",
    "explain",
    "weight",
}


def _patterns(raw: Any, source: str, text: str) -> dict[str, re.Pattern[str]]:
    """Named regular expressions (``[patterns]``), written once and used by many rules as
    ``text matches @name``."""
    if not isinstance(raw, dict):
        raise RuleError(source, None, "'patterns' must be a table of name = 'regex'")
    compiled = {}
    for name, pattern in raw.items():
        line = _key_line(text, 1, name) if name else None
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", name) or not isinstance(pattern, str):
            raise RuleError(source, line, f"pattern {name!r}: a lower-case name and a string")
        try:
            compiled[name] = re.compile(pattern)
        except re.error as exc:
            raise RuleError(source, line, f"bad pattern {name!r}: {exc}") from None
    return compiled


def _compile(
    raw: Any, source: str, line: int, text: str, patterns: dict[str, re.Pattern[str]]
) -> Rule:
    def error(key: str | None, problem: str) -> RuleError:
        return RuleError(source, _key_line(text, line, key) if key else line, problem)

    if not isinstance(raw, dict):
        raise error(None, "a rule must be a table")
    unknown = set(raw) - _ALLOWED_KEYS
    if unknown:
        raise error(sorted(unknown)[0], f"unknown key {sorted(unknown)[0]!r}")
    name = raw.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,99}", name):
        raise error("name", "name must be lower-case letters, digits, '_', '-', '.'")
    scope = raw.get("scope", "message")
    if scope not in SCOPES:
        raise error("scope", f"scope must be one of {', '.join(SCOPES)}")
    try:
        category = Category(str(raw.get("category")))
    except ValueError:
        raise error("category", f"unknown category {raw.get('category')!r}") from None
    severity = raw.get("severity", 3)
    if not isinstance(severity, int) or not 1 <= severity <= 5:
        raise error("severity", "severity must be an integer from 1 to 5")
    mode = raw.get("mode", "live")
    if mode not in MODES:
        raise error("mode", "mode must be 'live' or 'shadow'")
    weight = raw.get("weight", 1.0)
    if not isinstance(weight, int | float) or not 0 < weight <= 1:
        raise error("weight", "weight must be a number in (0, 1]")
    groups: dict[str, tuple[Condition, ...]] = {}
    for key in ("all", "any", "none"):
        items = raw.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise error(key, f"{key!r} must be a list of condition strings")
        try:
            groups[key] = tuple(_condition(item, scope, patterns) for item in items)
        except ValueError as exc:
            raise error(key, str(exc)) from None
    if not groups["all"] and not groups["any"]:
        raise error(None, "a rule needs at least one condition in 'all' or 'any'")
    explain = raw.get("explain", "")
    if not isinstance(explain, str) or not explain.strip():
        raise error("explain", "explain must be a non-empty template")
    allowed = set(FEATURES[scope]) | PLACEHOLDERS[scope]
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(explain) if f is not None}
    except ValueError as exc:
        raise error("explain", f"bad template: {exc}") from None
    for placeholder in fields:
        if placeholder not in allowed:
            raise error("explain", f"unknown placeholder {{{placeholder}}} for scope {scope}")
    return Rule(
        name=name,
        scope=scope,
        category=category,
        severity=severity,
        mode=mode,
        all=groups["all"],
        any=groups["any"],
        none=groups["none"],
        explain=explain,
        weight=float(weight),
        source=source,
        line=line,
    )


def _condition(text: str, scope: str, patterns: dict[str, re.Pattern[str]]) -> Condition:
    match = _CONDITION.match(text)
    if not match:
        raise ValueError(f"cannot read condition {text!r}: write FEATURE OP VALUE")
    feature, op, value = match["feature"], match["op"], match["value"]
    kind = FEATURES[scope].get(feature)
    if kind is None:
        known = ", ".join(sorted(FEATURES[scope]))
        raise ValueError(f"unknown feature {feature!r} for scope {scope} (known: {known})")
    if kind == "number":
        if op not in _NUMBER_OPS:
            raise ValueError(f"{feature} is a number: use > >= < <= == !=")
        try:
            return Condition(feature, op, float(value), text)
        except ValueError:
            raise ValueError(f"{feature} {op} needs a number, got {value!r}") from None
    if kind == "flag":
        if op != "is" or value not in {"true", "false"}:
            raise ValueError(f"{feature} is a flag: write '{feature} is true' or 'is false'")
        return Condition(feature, op, value == "true", text)
    if op == "matches":
        if value.startswith("@"):
            if value[1:] not in patterns:
                raise ValueError(f"unknown pattern {value}: define it under [patterns]")
            return Condition(feature, op, patterns[value[1:]], text)
        if not (len(value) >= 2 and value.startswith("/") and value.endswith("/")):
            raise ValueError(f"write the pattern between slashes: {feature} matches /…/")
        try:
            return Condition(feature, op, re.compile(value[1:-1]), text)
        except re.error as exc:
            raise ValueError(f"bad pattern {value}: {exc}") from None
    if op == "contains":
        if not (len(value) >= 2 and value[0] == value[-1] == '"'):
            raise ValueError(f'write the text in double quotes: {feature} contains "…"')
        return Condition(feature, op, value[1:-1], text)
    raise ValueError(f"{feature} is text: use 'matches /…/' or 'contains \"…\"'")


def fails_at_zero(condition: Condition) -> bool:
    """True when the condition cannot hold while its (number) feature is zero or missing, such
    as ``ncii >= 0.25`` or ``age_indicator > 0`` (but not ``ncii > -1`` nor ``ncii < 0.5``).

    Decided by evaluating the condition itself on a zero, so it stays exact whatever the
    operator and threshold: a rule with such a condition in ``all`` is skipped, without looking
    at its other conditions, on every feature set where that feature is zero."""
    if condition.op not in _NUMBER_OPS:  # only number features take these (checked at load)
        return False
    return not condition.holds({condition.feature: 0.0})


# One rule in a Program: the rule, its gates, its any-gates, and its all, any and none
# conditions as indexes into the program's distinct conditions.
_Step = tuple[
    Rule, frozenset[str], frozenset[str], tuple[int, ...], tuple[int, ...], tuple[int, ...]
]


class Program:
    """The rules of one scope, compiled once to be evaluated on many feature sets.

    Gives exactly the rules :meth:`Rule.fires` would (conditions are pure, so order and sharing
    do not change a result), faster, because on a busy community almost every message with a
    lexicon hit has evidence for one or two categories only:

    * *gates*: a condition that cannot hold while its feature is zero (:func:`fails_at_zero`,
      e.g. ``ncii >= 0.25``) makes that feature a gate of the rule when it is in ``all``; when
      every ``any`` condition is such, at least one of their features must be non-zero. The
      set of non-zero gate features of a feature set picks the candidate rules, and the
      candidates of each such set are computed once and remembered (there are at most
      2 ** len(gate features) sets, a few dozen in practice), so most rules are never looked at;
    * each distinct condition is evaluated at most once per feature set, however many rules
      share it: the ``@protective`` counter-signal in ``none`` of every message rule is one
      regular-expression search per message, not one per candidate rule.
    """

    __slots__ = ("_candidates", "_conditions", "_gate_features", "_plan", "rules")

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        index: dict[Condition, int] = {}
        for rule in self.rules:
            for condition in (*rule.all, *rule.any, *rule.none):
                index.setdefault(condition, len(index))
        self._conditions = tuple(index)
        # rule -> (rule, gates: features that must all be non-zero, any-gates: features of which
        # one must be non-zero, or empty, and its conditions as indexes into _conditions)
        self._plan: list[_Step] = []
        gate_features: dict[str, None] = {}
        for rule in self.rules:
            gates = frozenset(c.feature for c in rule.all if fails_at_zero(c))
            any_gates = (
                frozenset(c.feature for c in rule.any)
                if rule.any and all(fails_at_zero(c) for c in rule.any)
                else frozenset()
            )
            gate_features.update(dict.fromkeys(sorted(gates | any_gates)))
            self._plan.append(
                (
                    rule,
                    gates,
                    any_gates,
                    tuple(index[c] for c in rule.all),
                    tuple(index[c] for c in rule.any),
                    tuple(index[c] for c in rule.none),
                )
            )
        self._gate_features = tuple(gate_features)
        self._candidates: dict[frozenset[str], list[_Step]] = {}

    def __len__(self) -> int:
        return len(self.rules)

    def _candidates_for(self, live: frozenset[str]) -> list[_Step]:
        """The plan entries whose gates the non-zero gate features ``live`` open, in order."""
        candidates = self._candidates.get(live)
        if candidates is None:
            candidates = self._candidates[live] = [
                entry
                for entry in self._plan
                if entry[1] <= live and (not entry[2] or not entry[2].isdisjoint(live))
            ]
        return candidates

    def fired(self, features: Mapping[str, Any]) -> list[Rule]:
        """The rules that fire on ``features``, in rule order, live and shadow alike."""
        # ``filter(features.get, ...)`` keeps the gate features with a truthy value, as a
        # generator testing ``features.get(f)`` would, without a Python frame per feature.
        candidates = self._candidates_for(frozenset(filter(features.get, self._gate_features)))
        if not candidates:
            return []
        conditions = self._conditions
        known: dict[int, bool] = {}  # condition index -> whether it holds, once computed

        def holds(i: int) -> bool:
            result = known.get(i)
            if result is None:
                result = known[i] = conditions[i].holds(features)
            return result

        out: list[Rule] = []
        for rule, _, _, all_, any_, none in candidates:
            if (
                all(holds(i) for i in all_)
                and (not any_ or any(holds(i) for i in any_))
                and not any(holds(i) for i in none)
            ):
                out.append(rule)
        return out


def fired(rules: Sequence[Rule], features: Mapping[str, Any]) -> list[Rule]:
    """The rules of one scope that fire on these features, live and shadow alike."""
    return [rule for rule in rules if rule.fires(features)]
