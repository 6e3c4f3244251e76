"""Every registered plug-in has its tests (Datasette's "every hook has a test", for our seams).

Registering a source, detector, signal type, action kind, transport or subscriber without adding
it to ``TESTED_BY`` (and the named module not saying its name) fails here: a plug-in nobody tests
is a plug-in that breaks unseen. The registries are read in a fresh interpreter that imports
only Iolaus, so the toy plug-ins other tests register are not counted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from iolaus.pipeline.plugins import SEAMS

TESTS = Path(__file__).parent

TESTED_BY: dict[tuple[str, str], str] = {
    ("source", "discord-export"): "cli/test_cli_import.py",
    ("media_subscriber", "hashing"): "ingest/test_media_subscribers.py",
    ("detector", "hash_match"): "signals/test_detector_hashes.py",
    ("detector", "rules"): "signals/test_detector_text.py",
    **{("signal_type", n): "hashing/test_signal_types.py" for n in ("pdq", "video_md5", "md5")},
    ("signal_type", "sha256"): "hashing/test_signal_types.py",
    **{
        ("action", n): "actions/test_kinds.py"
        for n in (
            "remove_content",
            "ban_community",
            "ban_accounts",
            "preserve_evidence",
            "report_ncmec",
            "add_to_bank",
            "watch_successors",
        )
    },
    ("transport", "webhook"): "actions/test_transports.py",
    ("decision_subscriber", "iolaus.actions.enqueue"): "cases/test_decisions.py",
    ("decision_subscriber", "iolaus.legal.dsa.statements"): "cases/test_decisions.py",
}

SHIPPED: dict[str, list[str]] = json.loads(
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from iolaus.pipeline.plugins import registered; "
            "print(json.dumps(registered()))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
)
PLUGINS = [(seam, name) for seam, names in SHIPPED.items() for name in names]


def test_every_seam_is_described() -> None:
    assert set(SHIPPED) == set(SEAMS)


@pytest.mark.parametrize(("seam", "name"), PLUGINS, ids=[f"{s}:{n}" for s, n in PLUGINS])
def test_registered_plugin_has_tests(seam: str, name: str) -> None:
    module = TESTED_BY.get((seam, name))
    assert module is not None, f"{seam} {name!r} is registered but TESTED_BY names no test for it"
    text = (TESTS / module).read_text(encoding="utf-8")
    assert "def test_" in text
    short = name.rpartition(".")[2]
    assert name in text or short in text, f"{module} never mentions the {seam} {name!r}"


def test_the_table_names_only_registered_plugins() -> None:
    assert set(TESTED_BY) <= set(PLUGINS), set(TESTED_BY) - set(PLUGINS)


def test_iolaus_plugins_lists_every_seam() -> None:
    import json

    from typer.testing import CliRunner

    from iolaus.cli import app

    result = CliRunner().invoke(app, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown.keys() == SHIPPED.keys()
    for seam, names in SHIPPED.items():  # and any toy plug-in this process registered
        assert set(names) <= set(shown[seam])
    assert "rules" in shown["detector"] and "webhook" in shown["transport"]
