"""report.html: a self-contained, accessible page built from summary.json (no scripts, no links out
except NICE's; plots are inline SVG with text alternatives; every table has headers)."""

from __future__ import annotations

import html
from typing import Any

from earlypath.audit.funnel import BLUE, funnel_svg, outside
from earlypath.svg_chart import Chart

__all__ = ["render_report"]

_CSS = """
body{font-family:system-ui,sans-serif;max-width:72rem;margin:1rem auto;padding:0 1rem;color:#111;line-height:1.45}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #999;padding:.25rem .5rem;text-align:left}
th{background:#e8eef5}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1rem 0}figcaption{font-size:.95rem}.note{color:#333;font-size:.95rem}
dl.gov{display:grid;grid-template-columns:12rem 1fr;gap:.2rem .8rem}dl.gov dt{font-weight:600}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _count(n: int | None) -> str:
    return "withheld" if n is None else f"{n:,}"


def _rate_cells(rate: dict[str, Any]) -> str:
    if rate.get("suppressed"):
        return '<td class="num" colspan="4">withheld (small numbers)</td>'
    ci = (
        f"{_pct(rate['ci95_low'])} to {_pct(rate['ci95_high'])}"
        if rate["ci95_low"] is not None
        else "n/a"
    )
    return (
        f'<td class="num">{rate["numerator"]:,}</td><td class="num">{rate["denominator"]:,}</td>'
        f'<td class="num">{_pct(rate["rate"])}</td><td class="num">{ci}</td>'
    )


_RATE_HEAD = (
    '<th scope="col">numerator</th><th scope="col">denominator</th>'
    '<th scope="col">rate</th><th scope="col">95% CI (Wilson)</th>'
)


def _trend_svg(points: list[tuple[str, float | None]], title: str) -> str:
    points = [(m, r) for m, r in points if r is not None]
    if len(points) < 2:
        return ""
    chart = Chart(0.0, len(points) - 1.0, width=800, height=300, bottom=70)
    xs = [float(i) for i in range(len(points))]
    chart.line(xs, [r for _, r in points], BLUE, width=1.5)
    for x, (month, rate) in zip(xs, points, strict=True):
        chart.point(x, rate, BLUE, f"{month}: {rate:.1%}", radius=2)
    step = max(1, len(points) // 12)
    chart.axes(
        [(x, points[int(x)][0]) for x in xs[::step]],
        [(t / 10, f"{t / 10:.1f}") for t in range(0, 11, 2)],
        "month",
        "proportion",
        title,
        slant_x=True,
    )
    return chart.svg()


def _figure(svg: str, fig_id: str, alt: str) -> str:
    if not svg:
        return f'<p class="note">{_e(alt)} (not enough data to plot)</p>'
    svg = svg.replace("<svg ", f'<svg role="img" aria-labelledby="{fig_id}-cap" ', 1)
    return f'<figure>{svg}<figcaption id="{fig_id}-cap">{_e(alt)}</figcaption></figure>'


def render_report(summary: dict[str, Any]) -> str:
    rec = summary["reconciliation"]
    measures = summary["measures"]
    headline = next(m for m in measures if m["headline"])
    parts: list[str] = []
    add = parts.append
    add('<!doctype html><html lang="en-GB"><head><meta charset="utf-8">')
    add('<meta name="viewport" content="width=device-width, initial-scale=1">')
    add("<title>earlypath audit: progesterone for threatened miscarriage (NICE NG126)</title>")
    add(f"<style>{_CSS}</style></head><body><main>")
    add("<h1>Progesterone for threatened miscarriage: cohort audit against NICE NG126</h1>")
    add(
        f'<p class="note">Input {_e(summary["input"])}; engine {_e(summary["engine"])}; '
        f"earlypath {_e(summary['earlypath_version'])}; generated {_e(summary['generated_at'])}. "
        "Each episode is judged against the NG126 version in force on its assessment date.</p>"
    )
    add(
        f"<p><strong>Rows in {rec['rows_in']:,} = evaluated {rec['evaluated']:,} + rejected "
        f"{rec['rejected']:,}</strong> ({'balanced' if rec['balanced'] else 'NOT BALANCED'}).</p>"
    )

    add("<h2>Headline measures</h2>")
    add("<table><caption>Adherence measures over all evaluated episodes</caption><thead><tr>")
    add(
        f'<th scope="col">measure</th>{_RATE_HEAD}<th scope="col">better is</th></tr></thead><tbody>'
    )
    for m in measures:
        add(
            f'<tr><th scope="row">{_e(m["title"])}</th>{_rate_cells(m["overall"])}'
            f"<td>{_e(m['direction'].replace(' is better', ''))}</td></tr>"
        )
    add("</tbody></table>")

    funnel = summary.get("funnel")
    add("<h2>Sites: funnel plot</h2>")
    if funnel:
        svg = funnel_svg(funnel["points"], funnel["overall_rate"], headline["title"] + " by site")
        flagged = [p["group"] for p in funnel["points"] if outside(p, funnel["overall_rate"])]
        alt = (
            f"Funnel plot of {headline['title'].lower()} for {len(funnel['points'])} sites against "
            f"the overall rate {_pct(funnel['overall_rate'])}, with exact binomial 95% and 99.8% "
            "limits. "
            + (
                f"Sites outside the 99.8% limits: {', '.join(flagged)}."
                if flagged
                else "No site is outside the 99.8% limits."
            )
            + (
                f" {funnel['suppressed_groups']} sites with small numbers are not plotted."
                if funnel.get("suppressed_groups")
                else ""
            )
        )
        add(_figure(svg, "funnel", alt))
    else:
        add('<p class="note">The cohort has no site column.</p>')

    by_group = summary["by_group"]
    if by_group.get("month"):  # empty when no row was evaluated
        add("<h2>Trend by month</h2>")
        months = sorted(by_group["month"].items())
        trend = [(m, cell["measures"][headline["id"]]["rate"]) for m, cell in months]
        shown = [m for m, r in trend if r is not None] or [months[0][0], months[-1][0]]
        add(
            _figure(
                _trend_svg(trend, headline["title"] + " by month"),
                "trend",
                f"Line chart of {headline['title'].lower()} by month of assessment, "
                f"{shown[0]} to {shown[-1]} (months with eligible women whose care is "
                "recorded); the table below gives the figures.",
            )
        )
    add("<h2>Breakdown by group</h2>")
    add(f'<p class="note">Small numbers: {_e(summary["disclosure_control"]["rule"])}</p>')
    for g, cells in by_group.items():
        add(f"<h3>By {_e(g.replace('_', ' '))}</h3>")
        add(f"<table><caption>{_e(headline['title'])}, by {_e(g)}</caption><thead><tr>")
        add(
            f'<th scope="col">{_e(g)}</th><th scope="col">episodes</th>{_RATE_HEAD}</tr></thead><tbody>'
        )
        for value, cell in cells.items():
            add(
                f'<tr><th scope="row">{_e(value)}</th><td class="num">{_count(cell["episodes"])}</td>'
                f"{_rate_cells(cell['measures'][headline['id']])}</tr>"
            )
        add("</tbody></table>")

    dq = summary["data_quality"]
    add("<h2>Data quality</h2>")
    add(
        f"<p>Undecidable for missing data: {dq['undecidable']:,} episodes; care not recorded: "
        f"{dq['care_unknown']:,}; empty miscarriage_diagnosed or on_progesterone cells read as "
        f"false (the episode contract's default): {dq['empty_cells_read_as_false']:,}.</p>"
    )
    add(
        _kv_table(
            "Rejected rows by field at fault (a row can have several)",
            "field",
            "rows",
            dq["rejects_by_field"],
        )
    )
    add(
        _kv_table(
            "Facts the rules needed and did not have", "fact", "episodes", dq["missing_facts"]
        )
    )

    add("<h2>Guideline versions applied</h2>")
    add(
        "<table><caption>NG126 versions, by assessment date</caption><thead><tr>"
        '<th scope="col">version</th><th scope="col">in force</th><th scope="col">episodes</th>'
        '<th scope="col">what changed</th></tr></thead><tbody>'
    )
    for v in summary["guideline_versions"]:
        add(
            f'<tr><th scope="row"><a href="{_e(v["url"])}">{_e(v["guideline"])} {_e(v["version"])}</a></th>'
            f"<td>{_e(v['in_force_from'])} to {_e(v['in_force_to'] or 'now')}</td>"
            f'<td class="num">{v["episodes"]:,}</td><td>{_e(v["summary"])}</td></tr>'
        )
    add("</tbody></table>")
    add("<h2>Policy settings</h2><ul>")
    for name, s in summary["policy"].items():
        add(
            f"<li><strong>{_e(name)}</strong>: {_e(s['value'])} (default {_e(s['default'])}). "
            f"{_e(s['reason'])}</li>"
        )
    add("</ul>")

    add("<h2>Measure definitions and governance</h2>")
    for m in measures:
        gov = m["governance"]
        add(f'<h3>{_e(m["title"])}</h3><dl class="gov">')
        for key in (
            "definition",
            "numerator",
            "denominator",
            "recommendation",
            "why",
            "authored_by",
            "checked_by",
            "date_written",
            "review_by",
        ):
            value = ", ".join(gov[key]) if isinstance(gov[key], list) else gov[key]
            add(f"<dt>{_e(key.replace('_', ' '))}</dt><dd>{_e(value)}</dd>")
        add("</dl>")
    add("</main></body></html>")
    return "\n".join(parts)


def _kv_table(caption: str, key: str, value: str, data: dict[str, int]) -> str:
    if not data:
        return f'<p class="note">{_e(caption)}: none.</p>'
    rows = "".join(
        f'<tr><th scope="row">{_e(k)}</th><td class="num">{v:,}</td></tr>' for k, v in data.items()
    )
    return (
        f'<table><caption>{_e(caption)}</caption><thead><tr><th scope="col">{_e(key)}</th>'
        f'<th scope="col">{_e(value)}</th></tr></thead><tbody>{rows}</tbody></table>'
    )
