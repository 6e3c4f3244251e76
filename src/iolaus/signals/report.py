"""The HTML report of ``iolaus scan --html``: a chart of scores and each community's reasons.

A self-contained file (inline SVG chart, inline CSS, no script) so that it can be attached to a
ticket or opened offline. Every name, reason and term comes from hostile chat text and is escaped.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from matplotlib.figure import Figure

from iolaus.signals.risk import BANDS, CommunityRisk
from iolaus.terminal import printable

BAND_COLOURS = {"critical": "#b91c1c", "high": "#ea580c", "watch": "#ca8a04", "low": "#64748b"}
CHART_LIMIT = 40


def _chart(risks: Sequence[CommunityRisk]) -> str:
    shown = list(risks[:CHART_LIMIT])
    height = max(2.5, 0.32 * len(shown) + 1)
    # A bare Figure, not pyplot: no global state, no display backend, safe in a web worker.
    figure = Figure(figsize=(8, height))
    axes = figure.subplots()
    # "$" would start matplotlib mathtext (and can fail to parse): show it literally.
    names = [printable(r.name, 40).replace("$", r"\$") for r in shown][::-1]
    scores = [r.score for r in shown][::-1]
    colours = [BAND_COLOURS[r.band] for r in shown][::-1]
    axes.barh(range(len(shown)), scores, color=colours)
    axes.set_yticks(range(len(shown)), names, fontsize=8)
    axes.set_xlim(0, 1)
    axes.set_xlabel("risk score")
    for name, floor in BANDS[:-1]:
        axes.axvline(floor, color=BAND_COLOURS[name], linestyle=":", linewidth=1)
    axes.set_title(f"Community risk (top {len(shown)})")
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # drop the XML prologue: the SVG is inlined in HTML


def render_html(risks: Sequence[CommunityRisk]) -> str:
    """The whole report as one HTML document."""
    rows = []
    for rank, risk in enumerate(risks, 1):
        reasons = "".join(
            f"<li>{escape(printable(reason.text))}"
            + (
                "<ul class=ex>"
                + "".join(
                    "<li>"
                    + escape(" · ".join(printable(f"{k}: {v}") for k, v in example.items() if v))
                    + "</li>"
                    for example in reason.examples
                )
                + "</ul>"
                if reason.examples
                else ""
            )
            + "</li>"
            for reason in risk.reasons[:6]
        )
        rows.append(
            f"<tr><td>{rank}</td><td>{escape(printable(risk.name))}<br>"
            f"<small>{escape(risk.external_id)}</small></td>"
            f"<td class=score>{risk.score:.2f}</td>"
            f"<td><span class='band {risk.band}'>{risk.band}</span></td>"
            f"<td><ul>{reasons or '<li>nothing found</li>'}</ul></td></tr>"
        )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Iolaus community risk</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #111; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .4em; vertical-align: top; text-align: left; }}
.score {{ font-variant-numeric: tabular-nums; }}
.band {{ color: white; padding: .1em .5em; border-radius: .3em; }}
{"".join(f".{band} {{ background: {colour}; }} " for band, colour in BAND_COLOURS.items())}
ul {{ margin: 0; padding-left: 1.2em; }} .ex {{ color: #555; font-size: 90%; }}
</style></head><body>
<h1>Community risk</h1>
<p>{len(risks)} communities scanned, {generated}. A low score means nothing was found, not that a
community is safe.</p>
{_chart(risks)}
<table><tr><th>#</th><th>community</th><th>score</th><th>band</th><th>top reasons</th></tr>
{"".join(rows)}
</table></body></html>
"""
