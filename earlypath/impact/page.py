"""A self-contained HTML page for one impact scenario (the web service mounts it at /impact).

No external assets: the tornado plot is inline SVG, the styles are inline. Provenance is shown in
words (sourced / implied / assumed), not by colour alone. A commissioner can put in local figures
(births a year, share with a previous miscarriage, uptake): they become the model's overrides, so
the result and its interval come from the same model run as the national figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlencode

from earlypath.impact.errors import ImpactError
from earlypath.impact.model import OUTPUTS
from earlypath.impact.plot import tornado_svg
from earlypath.impact.run import DEFAULT_DRAWS, DEFAULT_SEED, ImpactResult, run_impact
from earlypath.impact.scenarios import SCENARIOS, get_scenario
from earlypath.impact.trials import TRIAL_GROUPS, statistics_for

_MONEY = {"drug_cost_per_course_gbp", "total_drug_cost_gbp", "cost_per_additional_live_birth_gbp"}

# The site's pages, in the order of the shared header (web/templates/base.html has the same).
SITE_NAV: tuple[tuple[str, str], ...] = (
    ("/", "Clinician page"),
    ("/check", "For women: does NICE's advice cover me?"),
    ("/impact", "Impact"),
    ("/docs", "API"),
)


@dataclass(frozen=True)
class LocalInput:
    """A model input a commissioner can set for their area, as the form asks for it."""

    name: str  # the model parameter
    label: str
    hint: str
    percent: bool  # asked as a percentage, passed to the model as a proportion
    whole: bool = False


LOCAL_INPUTS: tuple[LocalInput, ...] = (
    LocalInput(
        "births_per_year", "Births a year in your area", "A whole number, like 6000.", False, True
    ),
    LocalInput(
        "share_previous_miscarriage",
        "Women with a previous miscarriage (%)",
        "Of women with bleeding and a pregnancy confirmed in the womb. A number from 0 to 100.",
        True,
    ),
    LocalInput(
        "uptake",
        "Uptake (%)",
        "Of eligible women, the share who are offered and take progesterone. From 0 to 100.",
        True,
    ),
)
_LOCAL = {i.name: i for i in LOCAL_INPUTS}
_SHOWN_FOR_LOCAL = (
    "eligible_women",
    "treated_women",
    "additional_live_births",
    "total_drug_cost_gbp",
)


@dataclass
class ImpactQuery:
    """What the page was asked for: a scenario and local inputs, each checked, errors by field."""

    scenario: str = "nice-2021"
    raw: dict[str, str] = field(default_factory=dict)  # as typed, to show back in the form
    overrides: list[str] = field(default_factory=list)  # name=value for the model
    errors: dict[str, str] = field(default_factory=dict)  # field name -> message


def parse_impact_query(query: Mapping[str, str]) -> ImpactQuery:
    """Check the page's query string. Empty fields keep the scenario's own values."""
    q = ImpactQuery(scenario=(query.get("scenario") or "nice-2021").strip())
    if q.scenario not in SCENARIOS:
        q.errors["scenario"] = f"Choose a scenario: {' or '.join(SCENARIOS)}."
        q.scenario = "nice-2021"
    for item in LOCAL_INPUTS:
        text = (query.get(item.name) or "").strip()
        q.raw[item.name] = text
        if not text:
            continue
        try:
            value = float(text.replace(",", "").removesuffix("%" if item.percent else ""))
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            q.errors[item.name] = (
                f"{item.label}: enter a number, like {'6000' if item.whole else '25'}."
            )
        elif item.whole and not (1 <= value <= _top(q.scenario, item) and value == int(value)):
            q.errors[item.name] = (
                f"{item.label}: enter a whole number from 1 to {_top(q.scenario, item):,.0f}."
            )
        elif item.percent and not 0 <= value <= 100:
            q.errors[item.name] = f"{item.label}: enter a number from 0 to 100."
        else:
            exact = str(int(value)) if item.whole else repr(value / 100 if item.percent else value)
            q.overrides.append(f"{item.name}={exact}")
    return q


def _top(scenario: str, item: LocalInput) -> float:
    """The largest value the model accepts for a count (the parameter's own range)."""
    return get_scenario(scenario).parameters[item.name].maximum


def render_impact_request(query: Mapping[str, str], draws: int = DEFAULT_DRAWS) -> tuple[int, str]:
    """The page for a query string as (HTTP status, HTML): 200, or 400 with each error beside
    its field (the national figures are then shown without the local inputs)."""
    q = parse_impact_query(query)
    national = run_impact(q.scenario, draws=draws)
    local = None
    if q.overrides and not q.errors:
        try:
            local = run_impact(q.scenario, overrides=q.overrides, draws=draws)
        except ImpactError as error:  # a range the model itself refuses, named in its message
            name = next((n for n in _LOCAL if repr(n) in str(error)), "local")
            q.errors[name] = f"{_LOCAL[name].label if name in _LOCAL else 'Local inputs'}: {error}"
    return (400 if q.errors else 200), _page(national, local, q)


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1b1b;
background:#fff;line-height:1.45}
main{max-width:70rem;margin:0 auto;padding:1rem 1.5rem 3rem}
table{border-collapse:collapse;margin:0.5rem 0 1.5rem;width:100%}
th,td{border:1px solid #b1b4b6;padding:0.35rem 0.5rem;text-align:left;vertical-align:top}
th{background:#f3f2f1}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.prov{font-weight:600;padding:0 0.3rem;border:1px solid currentColor;border-radius:3px}
.prov-sourced{color:#00703c}.prov-implied{color:#a35200}.prov-assumed{color:#4c2c92}
.ok{color:#00703c;font-weight:600}.bad{color:#b10e1e;font-weight:600}
figure{margin:1rem 0}figure svg{max-width:100%;height:auto}
nav ul{list-style:none;padding:0;display:flex;gap:1rem;flex-wrap:wrap}
a{color:#1d70b8}a:focus,input:focus,button:focus,.wide:focus{outline:3px solid #ffdd00;
box-shadow:0 0 0 5px #1b1b1b}
.note{background:#f3f2f1;border-left:5px solid #1d70b8;padding:0.5rem 1rem}
.skip{position:absolute;left:-999px;top:0;background:#ffdd00;color:#1b1b1b;padding:0.5rem}
.skip:focus{left:0}
header.site{background:#005eb8;color:#fff;padding:0.75rem 1rem}
header.site .name{font-size:1.25rem;margin-right:2rem;font-weight:600}
header.site nav{display:inline}
header.site a{color:#fff;font-weight:600;margin-right:1rem;display:inline-block}
header.site a[aria-current]{text-decoration-thickness:3px}
ul.switch a{display:inline-block;padding:0.4rem 0.8rem;border:2px solid #1d70b8;
text-decoration:none}
ul.switch a[aria-current]{background:#1d70b8;color:#fff}
.wide{overflow-x:auto;max-width:100%}.chart:focus{outline:3px solid #ffdd00}table.many{min-width:60rem}
.answer{border-left:8px solid #00703c;background:#f3f2f1;padding:0.5rem 1rem;margin:1rem 0}
.answer .lead{font-size:1.2rem;margin:0.3rem 0}
form.local{margin:1rem 0}
.field{margin:0 0 1rem}.field label{display:block;font-weight:600}
.hint{color:#4a4a4a;margin:0.1rem 0 0.3rem}
input[type=text]{font:inherit;padding:0.35rem;border:2px solid #1b1b1b;width:12rem;max-width:100%}
.field-error{border-left:5px solid #b10e1e;padding-left:0.8rem}
.field-error input{border-color:#b10e1e}
.error-message{color:#b10e1e;font-weight:700;margin:0.2rem 0}
.errors{border:4px solid #b10e1e;padding:0.5rem 1rem;margin:1rem 0}
.errors h2{color:#b10e1e;margin-top:0}.errors a{color:#b10e1e;font-weight:600}
button{font:inherit;font-weight:700;background:#00703c;color:#fff;border:0;padding:0.6rem 1.2rem;
cursor:pointer}
@media (max-width:40rem){main{padding:0.75rem}th,td{padding:0.3rem}
.chart{overflow-x:auto}.chart svg{min-width:820px}
header.site .name{display:block;margin-bottom:0.3rem}}
@media print{header.site,form,.skip,nav{display:none}}
"""


def render_impact_page(
    scenario: str = "nice-2021",
    overrides: list[str] | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
) -> str:
    """The page for `scenario` as one HTML string. Raises ImpactError on a bad scenario/override
    (the web layer maps that to a 4xx)."""
    result = run_impact(scenario, overrides=overrides, draws=draws, seed=seed)
    if not overrides:
        return _page(result, None, ImpactQuery(scenario=result.scenario.key))
    national = run_impact(scenario, draws=draws, seed=seed)  # the published figure's check
    return _page(national, result, ImpactQuery(scenario=result.scenario.key))


def _fmt(name: str, v: float) -> str:
    if not math.isfinite(v):
        return "not defined"
    if name in _MONEY:
        return f"£{v:,.0f}"
    if abs(v) < 100:
        return f"{v:,.1f}"
    return f"{v:,.0f}"


def _prov(p: str) -> str:
    return f'<span class="prov prov-{escape(p)}">{escape(p)}</span>'


def _page(national: ImpactResult, local: ImpactResult | None, q: ImpactQuery) -> str:
    r = local or national
    sc = r.scenario
    e = escape
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{'Error: ' if q.errors else ''}{e(sc.title)} – earlypath impact</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        '<a class="skip" href="#main">Skip to main content</a>',
        _site_header(),
        '<main id="main" tabindex="-1">',
        "<h1>What the NG126 progesterone recommendation is worth</h1>",
    ]
    if q.errors:
        parts.append(_error_summary(q.errors))
    parts += [
        f"<p>Scenario: <strong>{e(sc.title)}</strong>. Area: {e(sc.region)}.</p>",
        '<nav aria-label="Scenarios" id="scenario"><ul class="switch">',
    ]
    kept = {k: v for k, v in q.raw.items() if v}  # local inputs carry over to the other scenario
    for key in SCENARIOS:
        current = ' aria-current="page"' if key == sc.key else ""
        href = "/impact?" + urlencode({"scenario": key, **kept})
        parts.append(f'<li><a href="{e(href)}"{current}>{e(key)}</a></li>')
    parts.append("</ul></nav>")
    parts += _local_section(local, q)
    r = national
    h = r.headline
    cls, verdict = ("ok", "reproduces") if h.reproduced else ("bad", "does not reproduce")
    parts += [
        '<section aria-labelledby="headline-h">',
        '<h2 id="headline-h">Published figure and our reproduction</h2>',
        f"<p>Published: <strong>{e(h.published_text)}</strong> ({e(h.citation)}).</p>",
        f"<p>Our point estimate: <strong>{h.computed:,.1f}</strong>, rounded "
        f'{h.rounded:,.0f}: <span class="{cls}">{verdict}</span> the published '
        f"{h.published:,.0f}.</p>",
        '<p class="note">The published inputs behind this figure were not found, so one input is '
        "<em>implied</em>: back-calculated from the figure itself. Matching the figure checks the "
        "arithmetic and the other inputs; it does not confirm the implied input.</p>",
    ]
    if sc.overrides:
        parts.append(
            f"<p>Your figures, used in the results for your area: {e(', '.join(sc.overrides))}.</p>"
        )
    parts.append("</section>")

    r = local or national
    parts += [
        '<section aria-labelledby="outputs-h">',
        f'<h2 id="outputs-h">{"Results for your area" if local else "Results"}</h2>',
        '<div class="wide" role="region" aria-label="Results table" tabindex="0">',
        f"<table><caption>Point estimate and 95% interval from {r.draws:,} Monte Carlo draws "
        f"(seed {r.seed})</caption>",
        '<thead><tr><th scope="col">Result</th><th scope="col">Point estimate</th>'
        '<th scope="col">95% interval</th></tr></thead><tbody>',
    ]
    for name, label in OUTPUTS.items():
        s = r.intervals[name]
        parts.append(
            f'<tr><th scope="row">{e(label)}</th><td class="num">{_fmt(name, r.point[name])}</td>'
            f'<td class="num">{_fmt(name, s.low)} to {_fmt(name, s.high)}</td></tr>'
        )
    parts += [
        "</tbody></table></div>",
        f"<p>In {r.share_of_draws_with_gain:.1%} of draws progesterone adds live births; the cost "
        "per additional live birth is summarised over those draws.</p>",
        "</section>",
    ]

    parts += [
        '<section aria-labelledby="inputs-h">',
        '<h2 id="inputs-h">Inputs and where they come from</h2>',
        "<p>Each input is marked <em>sourced</em> (from a cited publication), <em>implied</em> "
        "(back-calculated from a published figure) or <em>assumed</em> (a modelling choice, or a "
        "local figure you put in).</p>",
        '<div class="wide" role="region" aria-label="Model inputs table" tabindex="0">',
        '<table class="many"><caption>Model inputs</caption><thead><tr>'
        '<th scope="col">Input</th><th scope="col">Value</th><th scope="col">Provenance</th>'
        '<th scope="col">Uncertainty</th><th scope="col">Source or basis</th></tr></thead><tbody>',
    ]
    for p in sc.parameters:
        basis = p.citation or (f"Implied from: {p.implied_from}" if p.implied_from else "")
        extra = f"<br><small>{e(p.note)}</small>" if p.note else ""
        value = f"{p.value:,.0f}" if abs(p.value) >= 1000 else f"{p.value:.4g}"
        parts.append(
            f'<tr><th scope="row">{e(p.description)}<br><code>{e(p.name)}</code></th>'
            f'<td class="num">{e(value)} <small>{e(p.unit)}</small></td>'
            f"<td>{_prov(p.provenance)}</td><td>{e(p.distribution.describe())}</td>"
            f"<td>{e(basis)}{extra}</td></tr>"
        )
    parts.append("</tbody></table></div>")
    if sc.not_found:
        parts.append("<h3>Searched for and not found</h3><ul>")
        parts += [f"<li>{e(x)}</li>" for x in sc.not_found]
        parts.append("</ul>")
    if sc.notes:
        parts.append("<h3>Notes</h3><ul>")
        parts += [f"<li>{e(x)}</li>" for x in sc.notes]
        parts.append("</ul>")
    parts.append("</section>")

    t = r.tornado
    bars_text = "; ".join(
        f"{b.parameter} ({b.provenance}) moves it from {b.output_at_low:,.0f} to "
        f"{b.output_at_high:,.0f}"
        for b in t.bars
    )
    alt = (
        f"Tornado chart of one-way sensitivity for {OUTPUTS.get(t.output, t.output)}, base "
        f"{t.base:,.0f}. " + (bars_text or "No uncertain inputs.")
    )
    svg = tornado_svg(t, title=f"One-way sensitivity: {OUTPUTS.get(t.output, t.output)}")
    svg = svg.replace("<svg", f'<svg role="img" aria-label="{e(alt)}"', 1)
    parts += [
        '<section aria-labelledby="sens-h">',
        '<h2 id="sens-h">Which inputs matter most</h2>',
        '<figure aria-describedby="sens-cap">'
        f'<div class="chart" role="region" aria-label="Tornado chart" tabindex="0">{svg}</div>'
        f'<figcaption id="sens-cap">Each bar moves one input to its 2.5th and 97.5th percentile, '
        f"holding the others at their point values. {e(bars_text)}.</figcaption></figure>",
        "</section>",
    ]

    parts += [
        '<section aria-labelledby="trials-h">',
        '<h2 id="trials-h">Trial evidence, computed from the counts</h2>',
        '<div class="wide" role="region" aria-label="Trial evidence table" tabindex="0">',
        '<table class="many"><caption>Live birth, progesterone vs placebo'
        ": crude estimates from the counts, "
        "with the published estimates beside them</caption><thead><tr>"
        '<th scope="col">Group</th><th scope="col">Progesterone</th><th scope="col">Placebo</th>'
        '<th scope="col">Relative risk (95% CI)</th><th scope="col">Risk difference (95% CI)</th>'
        '<th scope="col">Number needed to treat</th><th scope="col">Published</th>'
        "</tr></thead><tbody>",
    ]
    for g in TRIAL_GROUPS.values():
        pub = "<br>".join(e(p.describe()) for p in g.published)
        if not g.verified:
            parts.append(
                f'<tr><th scope="row">{e(g.trial)}: {e(g.description)}</th>'
                '<td colspan="5">Counts not verified: not computed.</td>'
                f"<td>{pub}</td></tr>"
            )
            continue
        stats = statistics_for(g)
        rr, rd = stats.relative_risk, stats.risk_difference
        parts.append(
            f'<tr><th scope="row">{e(g.trial)}: {e(g.description)}</th>'
            f'<td class="num">{g.treatment.events.value}/{g.treatment.total.value}</td>'
            f'<td class="num">{g.control.events.value}/{g.control.total.value}</td>'
            f'<td class="num">{rr.point:.3f} ({rr.low:.3f} to {rr.high:.3f})</td>'
            f'<td class="num">{rd.point:.3f} ({rd.low:.3f} to {rd.high:.3f})</td>'
            f"<td>{e(stats.nnt.describe())}</td><td>{pub}</td></tr>"
        )
    parts += ["</tbody></table></div>", "</section>", "</main>", "</body>", "</html>"]
    return "\n".join(parts)


def _site_header() -> str:
    current = ' aria-current="page"'
    links = "".join(
        f'<a href="{href}"{current if href == "/impact" else ""}>{escape(label)}</a>'
        for href, label in SITE_NAV
    )
    return (
        '<header class="site"><span class="name">earlypath</span>'
        f'<nav aria-label="Main">{links}</nav></header>'
    )


def _error_summary(errors: dict[str, str]) -> str:
    items = "".join(
        f'<li><a href="#{escape(name)}">{escape(message)}</a></li>'
        for name, message in errors.items()
    )
    return (
        '<div class="errors" role="alert" aria-labelledby="errors-h" tabindex="-1">'
        f'<h2 id="errors-h">There is a problem</h2><ul>{items}</ul></div>'
    )


def _local_section(local: ImpactResult | None, q: ImpactQuery) -> list[str]:
    """The form for local figures and, when they were given, the result for that area first."""
    e = escape
    out = ['<section aria-labelledby="local-h">', '<h2 id="local-h">For your area</h2>']
    if local is not None:
        births = local.scenario.parameters["births_per_year"].value
        out.append(
            f'<div class="answer" aria-live="polite"><p class="lead">For <strong>{births:,.0f}'
            " births a year</strong>, with your figures:</p><ul>"
        )
        for name in _SHOWN_FOR_LOCAL:
            s = local.intervals[name]
            out.append(
                f"<li><strong>{_fmt(name, local.point[name])}</strong> {e(OUTPUTS[name])} "
                f"(95% interval {_fmt(name, s.low)} to {_fmt(name, s.high)})</li>"
            )
        out.append(
            "</ul><p>The intervals come from the model's uncertain inputs (listed under "
            '<a href="#inputs-h">Inputs and where they come from</a>); the figures you put in '
            "are taken as exact.</p></div>"
        )
    out.append(
        '<form method="get" action="/impact" class="local" novalidate>'
        f'<input type="hidden" name="scenario" value="{e(q.scenario)}">'
    )
    for item in LOCAL_INPUTS:
        default = get_scenario(q.scenario).parameters[item.name].value
        shown = f"{default * 100:.1f}%" if item.percent else f"{default:,.0f}"
        error = q.errors.get(item.name)
        described = f"{item.name}-hint" + (f" {item.name}-error" if error else "")
        out.append(
            f'<div class="field{" field-error" if error else ""}">'
            f'<label for="{item.name}">{e(item.label)}</label>'
            f'<p class="hint" id="{item.name}-hint">{e(item.hint)} Leave empty for the '
            f"scenario's {shown}.</p>"
            + (f'<p class="error-message" id="{item.name}-error">{e(error)}</p>' if error else "")
            + f'<input id="{item.name}" name="{item.name}" type="text" inputmode="decimal" '
            f'value="{e(q.raw.get(item.name, ""))}" aria-describedby="{described}"'
            + (' aria-invalid="true"' if error else "")
            + "></div>"
        )
    out.append('<button type="submit">Work it out for my area</button></form></section>')
    return out
