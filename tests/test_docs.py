"""The README documents what the code declares: every setting in ``config.SETTINGS`` has a row
in the Configuration table with its real default, and the table names no variable that is not
a setting (Datasette keeps its settings documented the same way)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from iolaus.config import SETTINGS, Setting

README = Path(__file__).resolve().parent.parent / "README.md"


def configuration_table() -> dict[str, tuple[str, str]]:
    """Variable → (default cell, meaning cell) for each row of the Configuration table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if not line.startswith("| `IOLAUS_") or len(cells) != 3:
            continue
        names = re.findall(r"`(IOLAUS_[A-Z_]+)`", cells[0])
        assert len(names) == 1, f"one variable per row: {line}"
        assert names[0] not in rows, f"{names[0]} has two rows"
        rows[names[0]] = (cells[1], cells[2])
    return rows


def test_the_table_lists_exactly_the_settings() -> None:
    documented = set(configuration_table())
    declared = {s.env for s in SETTINGS}
    assert declared - documented == set(), "settings missing from the README's table"
    assert documented - declared == set(), "the README's table names variables that are no setting"


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env)
def test_each_row_gives_the_real_default_and_a_meaning(setting: Setting[object]) -> None:
    default, meaning = configuration_table()[setting.env]
    written = setting.show(setting.default)
    if written and not setting.secret:
        assert default.startswith(f"`{written}`"), f"{setting.env}: the default is `{written}`"
    else:
        assert default.startswith(("unset", "empty")), f"{setting.env} has no default value"
    assert len(meaning) > 20


def test_config_show_is_documented() -> None:
    assert "### `iolaus config show [--json]`" in README.read_text(encoding="utf-8")
