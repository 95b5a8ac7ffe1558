"""report.html: a self-contained, accessible page built from summary.json (no scripts, no links out
except NICE's; plots are inline SVG with text alternatives; every table has headers)."""

from __future__ import annotations

import html
from typing import Any

from earlypath.audit.case_list import CASE_LIST
from earlypath.audit.evaluated import NO_SITE, UNTIED_CARE_KEY
from earlypath.audit.funnel import funnel_svg, outside
from earlypath.audit.report_charts import panel_svg, trend_svg

__all__ = ["render_report"]

_CSS = """
body{font-family:system-ui,sans-serif;max-width:72rem;margin:1rem auto;padding:0 1rem;color:#111;line-height:1.45}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #999;padding:.25rem .5rem;text-align:left}
th{background:#e8eef5}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.months th{white-space:nowrap}
figure{margin:1rem 0}figcaption{font-size:.95rem}.note{color:#333;font-size:.95rem}
dl.gov{display:grid;grid-template-columns:12rem 1fr;gap:.2rem .8rem}dl.gov dt{font-weight:600}
svg{max-width:100%;height:auto}.wide{overflow-x:auto;max-width:100%}
.wide:focus,a:focus{outline:3px solid #ffdd00;box-shadow:0 0 0 5px #111}
.first{border-left:8px solid #1f4e79;background:#f3f5f8;padding:.5rem 1rem;margin:1rem 0}
.first p{margin:.4rem 0}.panels{display:flex;flex-wrap:wrap;gap:.5rem 1rem}
.panels svg{width:340px}
.chart:focus{outline:3px solid #ffdd00}
@media (max-width:40rem){dl.gov{grid-template-columns:1fr}body{padding:0 .6rem}
.chart{overflow-x:auto}.chart svg{min-width:700px}}
"""

# The outputs an audit writes beside report.html, linked from it (relative: the folder travels).
FILES = (
    ("episodes.parquet", "every judged episode: decision, recommendations, care given"),
    (CASE_LIST, "site and episode id of each eligible woman not offered progesterone"),
    ("rejects.csv", "rows that could not be judged, with the reason"),
    ("summary.json", "every figure in this report"),
    ("measure-report.json", "the measures as a FHIR R4 MeasureReport"),
)


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


def _figure(svg: str, fig_id: str, alt: str) -> str:
    if not svg:
        return f'<p class="note">{_e(alt)} (not enough data to plot)</p>'
    svg = svg.replace("<svg ", f'<svg role="img" aria-labelledby="{fig_id}-cap" ', 1)
    # on a phone the chart keeps a readable size and scrolls sideways in its own region
    return (
        f'<figure><div class="chart" role="region" aria-label="{_e(fig_id)} chart" tabindex="0">'
        f'{svg}</div><figcaption id="{fig_id}-cap">{_e(alt)}</figcaption></figure>'
    )


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
    excluded = rec.get("excluded_by_reason") or {}
    add(
        f"<p><strong>Rows in {rec['rows_in']:,} = evaluated {rec['evaluated']:,} + "
        + (f"excluded {rec.get('excluded', 0):,} + " if excluded else "")
        + f"rejected {rec['rejected']:,}</strong> "
        f"({'balanced' if rec['balanced'] else 'NOT BALANCED'}).</p>"
    )
    if excluded:  # a FHIR export's encounters that are not episodes
        reasons = "; ".join(f"{_e(reason)}: {n:,}" for reason, n in excluded.items())
        add(f'<p class="note">Excluded (not episodes): {reasons}.</p>')
    orphans = (summary.get("fhir_export") or {}).get("episodes_without_patient") or 0
    if orphans:  # Encounter.subject names no Patient in the export
        add(
            f'<p class="note">{orphans:,} episode{"s" if orphans != 1 else ""} judged without '
            "her Patient in the export (Encounter.subject names none): sex and age unknown, "
            "so the age-band figures count them under (not recorded).</p>"
        )

    export = summary.get("fhir_export") or {}
    merges = export.get("patient_merges") or {}
    if merges.get("records_read_as_another"):  # Patient.link: one woman under several ids
        n = merges["records_read_as_another"]
        add(
            f'<p class="note">{n:,} merged patient record{"s" if n != 1 else ""} '
            "(Patient.link) read as the record in use: their encounters and resources are "
            "that woman's.</p>"
        )
    for why, n in (merges.get("encounters_of_unresolved_merges") or {}).items():
        add(
            f'<p class="note">{n:,} encounter{"s" if n != 1 else ""} of a patient record that '
            f"{_e(why)}: judged on that record alone (her history may be split).</p>"
        )
    ties = export.get("subjects_by_identifier") or {}
    if ties:  # resources naming their patient by an identifier only (a logical reference)
        n, untied = ties["resources_tied"], sum(ties["resources_not_tied"].values())
        add(
            f'<p class="note">{n:,} resource{"s" if n != 1 else ""} naming their patient by an '
            "identifier only (FHIR logical reference, as an NHS number) read as the record of the "
            f"Patient carrying it; {untied:,} tied to nobody and not read (an identifier "
            "without a system, an NHS number that is not a valid one, carried by no Patient, or "
            "by two Patients: "
            f"{ties['identifiers_on_two_patients']:,} such identifier"
            f"{'s' if ties['identifiers_on_two_patients'] != 1 else ''}).</p>"
        )
    if export.get("without_medication_requests"):  # an export filtered by _type, say
        add(
            '<p class="note">The export holds no MedicationRequest file: whether progesterone '
            "was prescribed is known only where a dispense or an administration at the "
            "encounter shows it; every other episode's care is counted as not recorded "
            "(care unknown), never as not offered. Export MedicationRequest to measure it.</p>"
        )
    for other in export.get("lines_of_another_type") or []:
        # a mixed or mislabelled export file: named by file and type, never by content
        what = _e(other["resourceType"] or "no resourceType")
        fate = f"read as {_e(other['read_as'])}" if other["read_as"] else "not read"
        if other["file_type"]:
            kind = f"a file of {_e(other['file_type'])} resources"
        elif export.get("manifest"):  # not part of the export by its manifest
            kind = f"a file {_e(export['manifest'])} does not list"
        else:
            kind = "a file whose name gives no resource type"
        add(
            f'<p class="note">{_e(other["file"])}, {kind}, holds '
            f"{other['lines']:,} line{'s' if other['lines'] != 1 else ''} of {what}: {fate}.</p>"
        )

    add(_first_box(summary, headline))

    add("<h2>Headline measures</h2>")
    add('<div class="wide" role="region" aria-label="Headline measures" tabindex="0">')
    add("<table><caption>Adherence measures over all evaluated episodes</caption><thead><tr>")
    add(
        f'<th scope="col">measure</th>{_RATE_HEAD}<th scope="col">better is</th></tr></thead><tbody>'
    )
    for m in measures:
        add(
            f'<tr><th scope="row">{_e(m["title"])}</th>{_rate_cells(m["overall"])}'
            f"<td>{_e(m['direction'].replace(' is better', ''))}</td></tr>"
        )
    add("</tbody></table></div>")

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
        add(_trend(by_group["month"], headline))
    add("<h2>Breakdown by group</h2>")
    add(f'<p class="note">Small numbers: {_e(summary["disclosure_control"]["rule"])}</p>')
    for g, cells in by_group.items():
        if g != "month":  # the trend above shows the months
            add(_breakdown(g, cells, measures, headline))

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
        '<div class="wide" role="region" aria-label="Guideline versions applied" tabindex="0">'
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
    add("</tbody></table></div>")
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


def _first_box(summary: dict[str, Any], headline: dict[str, Any]) -> str:
    """What the audit team should look at first: the headline figure, the sites outside the
    funnel's 99.8% limits, and the case list to review; then the files of this audit."""
    rate = headline["overall"]
    funnel = summary.get("funnel")
    if funnel:
        flagged = [p for p in funnel["points"] if outside(p, funnel["overall_rate"])]
        sites = (
            "Sites outside the 99.8% limits of the funnel plot: "
            + ", ".join(f"{_e(p['group'])} ({_pct(p['rate'])})" for p in flagged)
            + "."
            if flagged
            else "No site is outside the 99.8% limits of the funnel plot."
        )
    else:
        sites = "The cohort has no site column, so sites are not compared."
    cases = rate["numerator"]
    files = "".join(
        f'<li><a href="{_e(name)}">{_e(name)}</a>: {_e(what)}</li>' for name, what in FILES
    )
    return (
        '<section class="first" aria-labelledby="first-h"><h2 id="first-h">Look at first</h2>'
        f"<p><strong>{_e(headline['title'])}: {_pct(rate['rate'])}</strong> "
        f"({_count(rate['numerator'])} of {_count(rate['denominator'])}"
        + (
            f"; 95% CI {_pct(rate['ci95_low'])} to {_pct(rate['ci95_high'])}"
            if rate["ci95_low"] is not None
            else ""
        )
        + f").</p>{_untied_care(summary)}<p>{sites}</p>"
        + (
            f'<p>Review the {_count(cases)} cases one by one: <a href="{CASE_LIST}">{CASE_LIST}</a>'
            " lists each one's site and episode id, and nothing else. It identifies episodes: keep"
            " it within the care team, never publish it.</p>"
            if cases
            else _no_case(summary, rate["denominator"])
        )
        + f"<h3>Files of this audit</h3><ul>{files}</ul></section>"
    )


def _untied_care(summary: dict[str, Any]) -> str:
    """Beside the not-offered figure: the progesterone care records tied to nobody and the bound
    they put on it (`earlypath.audit.untied_care`), never a corrected figure."""
    untied = (summary.get("fhir_export") or {}).get(UNTIED_CARE_KEY)
    if not untied:
        return ""
    n, bound = untied["records"], untied["not_offered_may_have_been_offered_at_most"]
    not_offered = (summary.get("adherence") or {}).get("not_offered", 0)
    text = (
        f"{_count(n)} progesterone care record{'s' if n != 1 else ''} (prescription, dispense or "
        f"dose) in this export name{'s' if n == 1 else ''} no patient we hold, so "
        f"{'it was' if n == 1 else 'they were'} not read: up to {_count(bound)} of the "
        f"{_count(not_offered)} women counted not offered may have been offered."
    )
    sites = untied.get("by_site") or {}
    if len(sites) > 1 or (sites and NO_SITE not in sites):
        listed = ", ".join(
            f"{_e(site)} {'(a small number, withheld)' if k is None else _count(k)}"
            for site, k in sites.items()
        )
        text += f" By the site of the encounter each names: {listed}."
    return f'<p class="note">{text}</p>'


def _no_case(summary: dict[str, Any], denominator: int) -> str:
    """The empty case list, said without reassuring: with no eligible episode whose care is
    recorded (an export without prescriptions, say) it shows nothing, and episodes decided
    "offer" whose care is not recorded are counted, never taken as offered."""
    link = f'<a href="{CASE_LIST}">{CASE_LIST}</a>'
    if denominator:
        text = f"No eligible woman went without an offer: {link} is empty."
    else:
        text = (
            f"No eligible episode has the care given recorded, so {link} is empty: it cannot"
            " show whether any eligible woman went without an offer."
        )
    decided = (summary.get("decisions") or {}).get("offer", 0)
    care = summary.get("adherence") or {}
    unknown = decided - care.get("offered", 0) - care.get("not_offered", 0)
    if unknown > 0:
        text += (
            f" For {_count(unknown)} episode{'s' if unknown != 1 else ''} where the guideline"
            " says offer, the care given is not recorded (care unknown)."
        )
    return f"<p>{text}</p>"


def _trend(months: dict[str, Any], headline: dict[str, Any]) -> str:
    every = [(m, cell["measures"][headline["id"]]) for m, cell in sorted(months.items())]
    # months with no eligible woman (before progesterone was recommended, say) say nothing
    rows = [(m, r) for m, r in every if r.get("denominator") != 0] or every
    shown = [m for m, r in rows if r.get("rate") is not None] or [rows[0][0], rows[-1][0]]
    left_out = len(every) - len(rows)
    title = headline["title"]
    out = [
        "<h2>Trend by month</h2>",
        _figure(
            trend_svg(rows, title + " by month"),
            "trend",
            f"Line chart of {title.lower()} by month of assessment, {shown[0]} to {shown[-1]}, "
            "each month with its 95% interval (Wilson); the table gives the counts.",
        ),
        f"<details><summary>The counts by month ({len(rows)} months shown"
        + (f"; {left_out} months with no eligible woman are left out" if left_out else "")
        + ")</summary>",
        '<div class="wide" role="region" aria-label="Trend by month: figures" tabindex="0">',
        f'<table class="months"><caption>{_e(title)}, by month</caption><thead><tr>'
        f'<th scope="col">month</th>{_RATE_HEAD}</tr></thead><tbody>',
    ]
    out += [f'<tr><th scope="row">{_e(m)}</th>{_rate_cells(r)}</tr>' for m, r in rows]
    out.append("</tbody></table></div></details>")
    return "\n".join(out)


def _breakdown(
    group: str, cells: dict[str, Any], measures: list[dict[str, Any]], headline: dict[str, Any]
) -> str:
    """A small multiple (a panel per measure) and the headline measure's table, for one group."""
    name = group.replace("_", " ")
    slug = "".join(c if c.isalnum() else "-" for c in group)
    panels = []
    for m in measures:
        rows = [(value, cell["measures"][m["id"]]) for value, cell in cells.items()]
        svg = panel_svg(rows, m["overall"]["rate"], m["title"])
        label = f"{m['title']} by {name}: " + "; ".join(
            f"{value} {_pct(r['rate'])}" if r.get("rate") is not None else f"{value} withheld"
            for value, r in rows
        )
        label_id = f"by-{slug}-{m['id']}"
        start = svg.index(">") + 1  # the label is the svg's first child, its accessible name
        panels.append(
            svg[:start].replace("<svg ", f'<svg role="img" aria-labelledby="{label_id}" ', 1)
            + f'<title id="{label_id}">{_e(label)}</title>'
            + svg[start:]
        )
    out = [
        f"<h3>By {_e(name)}</h3>",
        f'<figure aria-labelledby="by-{slug}-cap"><div class="panels">{"".join(panels)}</div>'
        f'<figcaption id="by-{slug}-cap">Each measure by {_e(name)}: a dot for the rate and a '
        "line for its 95% interval; the dashed line is the overall rate. Each panel has its own "
        "scale.</figcaption></figure>",
        f'<div class="wide" role="region" aria-label="By {_e(name)}: figures" tabindex="0">',
        f"<table><caption>{_e(headline['title'])}, by {_e(name)}</caption><thead><tr>"
        f'<th scope="col">{_e(name)}</th><th scope="col">episodes</th>{_RATE_HEAD}</tr></thead>'
        "<tbody>",
    ]
    out += [
        f'<tr><th scope="row">{_e(value)}</th><td class="num">{_count(cell["episodes"])}</td>'
        f"{_rate_cells(cell['measures'][headline['id']])}</tr>"
        for value, cell in cells.items()
    ]
    out.append("</tbody></table></div>")
    return "\n".join(out)


def _kv_table(caption: str, key: str, value: str, data: dict[str, int]) -> str:
    if not data:
        return f'<p class="note">{_e(caption)}: none.</p>'
    rows = "".join(
        f'<tr><th scope="row">{_e(k)}</th><td class="num">{v:,}</td></tr>' for k, v in data.items()
    )
    return (
        f'<div class="wide" role="region" aria-label="{_e(caption)}" tabindex="0">'
        f'<table><caption>{_e(caption)}</caption><thead><tr><th scope="col">{_e(key)}</th>'
        f'<th scope="col">{_e(value)}</th></tr></thead><tbody>{rows}</tbody></table></div>'
    )
