"""Rule files fail loudly at load, with file and line; valid rules evaluate as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from iolaus.signals.rules import RuleError, load_default, load_file, load_text

GOOD = """
[[rule]]
name = "age-and-sexual-context"
category = "csam"
severity = 5
all = ["age_indicator > 0", "sexual_context >= 1"]
explain = "age indicator with a sexual term: {terms}"

[[rule]]
name = "famille-adult-channel"
scope = "channel"
category = "ncii"
severity = 4
mode = "shadow"
all = ["name matches /\\\\bfamille\\\\b/"]
any = ["nsfw is true", "adult_marker is true"]
none = ['topic contains "genealogie"']
explain = "channel {channel} looks like an NCII family channel"
"""


def test_valid_rules_compile_and_evaluate() -> None:
    rules = load_text(GOOD, "good.toml")
    assert len(rules) == 2
    message, channel = rules.rules
    assert (message.scope, message.mode, message.line) == ("message", "live", 2)
    assert channel.mode == "shadow" and channel.line == 9
    assert message.fires({"age_indicator": 1, "sexual_context": 2})
    assert not message.fires({"age_indicator": 1, "sexual_context": 0})
    assert channel.fires({"name": "famille", "nsfw": False, "adult_marker": True, "topic": ""})
    assert not channel.fires({"name": "famille", "nsfw": True, "topic": "genealogie et archives"})
    assert not channel.fires({"name": "familles", "nsfw": True, "topic": ""})
    assert message.explanation({"terms": "15 ans, nudes"}) == (
        "age indicator with a sexual term: 15 ans, nudes"
    )


def _one(body: str) -> str:
    return f'[[rule]]\nname = "r"\ncategory = "ncii"\n{body}\nexplain = "x"\n'


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (_one('all = ["nudity > 0"]'), 4, "unknown feature 'nudity'"),
        (_one('all = ["text matches /(unclosed/"]'), 4, "bad pattern"),
        (_one('all = ["text > 3"]'), 4, "text is text"),
        (_one('all = ["ncii is true"]'), 4, "ncii is a number"),
        (_one('all = ["ncii > many"]'), 4, "needs a number"),
        (_one('all = ["channel_nsfw > 1"]'), 4, "is a flag"),
        (_one('all = ["ncii > 0"]\nmode = "maybe"'), 5, "mode must be"),
        (_one('all = ["ncii > 0"]\nseverity = 9'), 5, "severity"),
        (_one('all = ["ncii > 0"]\ncolour = "red"'), 5, "unknown key 'colour'"),
        (_one("all = []"), 1, "at least one condition"),
        ('[[rule]]\nname = "r"\ncategory = "spam"\nall = ["ncii > 0"]\nexplain = "x"', 3, "spam"),
        (_one('all = ["ncii > 0"]').replace('"x"', '"{nope}"'), 5, "unknown placeholder"),
        (_one('all = ["ncii > 0"]') + _one('all = ["csam > 0"]'), 6, "duplicate rule name 'r'"),
        ("[[rule]\nname =", 1, "not valid TOML"),
    ],
)
def test_bad_rules_name_file_and_line(text: str, line: int, problem: str) -> None:
    with pytest.raises(RuleError) as caught:
        load_text(text, "rules.toml")
    assert caught.value.line == line, str(caught.value)
    assert problem in str(caught.value)
    assert str(caught.value).startswith(f"rules.toml:{line}:")


def test_the_default_rules_load() -> None:
    rules = load_default()
    assert len(rules) >= 5
    assert {r.scope for r in rules.rules} == {"message", "channel", "community"}


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="cannot read"):
        load_file(tmp_path / "missing.toml")


def test_named_patterns_are_written_once_and_checked() -> None:
    text = (
        "[patterns]\nprotective = '\\b(report|signale)\\b'\n\n"
        '[[rule]]\nname = "r"\ncategory = "ncii"\nall = ["ncii > 0"]\n'
        "none = ['text matches @protective']\nexplain = \"x\"\n"
    )
    (rule,) = load_text(text, "p.toml").rules
    assert rule.fires({"ncii": 1, "text": "nudes de son ex"})
    assert not rule.fires({"ncii": 1, "text": "j ai signale ses nudes"})
    with pytest.raises(RuleError, match="unknown pattern @missing"):
        load_text(text.replace("@protective", "@missing"), "p.toml")
    with pytest.raises(RuleError, match=r"p\.toml:2: bad pattern 'protective'"):
        load_text(text.replace("(report", "((report"), "p.toml")
