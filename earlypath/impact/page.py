"""A self-contained HTML page for one impact scenario (the web service mounts it at /impact).

No external assets: the tornado plot is inline SVG, the styles are inline. Provenance is shown in
words (sourced / implied / assumed), not by colour alone.
"""

from __future__ import annotations

import math
from html import escape

from earlypath.impact.model import OUTPUTS
from earlypath.impact.plot import tornado_svg
from earlypath.impact.run import DEFAULT_DRAWS, DEFAULT_SEED, ImpactResult, run_impact
from earlypath.impact.scenarios import SCENARIOS
from earlypath.impact.trials import TRIAL_GROUPS, statistics_for

_MONEY = {"drug_cost_per_course_gbp", "total_drug_cost_gbp", "cost_per_additional_live_birth_gbp"}

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
a{color:#1d70b8}a:focus{outline:3px solid #ffdd00}
.note{background:#f3f2f1;border-left:5px solid #1d70b8;padding:0.5rem 1rem}
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
    return _page(result)


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


def _page(r: ImpactResult) -> str:
    sc = r.scenario
    e = escape
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(sc.title)} – earlypath impact</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        '<main id="main">',
        "<h1>What the NG126 progesterone recommendation is worth nationally</h1>",
        f"<p>Scenario: <strong>{e(sc.title)}</strong>. Area: {e(sc.region)}.</p>",
        '<nav aria-label="Scenarios"><ul>',
    ]
    for key in SCENARIOS:
        current = ' aria-current="page"' if key == sc.key else ""
        parts.append(f'<li><a href="?scenario={e(key)}"{current}>{e(key)}</a></li>')
    parts.append("</ul></nav>")

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
        parts.append(f"<p>Changed inputs: {e(', '.join(sc.overrides))}.</p>")
    parts.append("</section>")

    parts += [
        '<section aria-labelledby="outputs-h">',
        '<h2 id="outputs-h">Results</h2>',
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
        "</tbody></table>",
        f"<p>In {r.share_of_draws_with_gain:.1%} of draws progesterone adds live births; the cost "
        "per additional live birth is summarised over those draws.</p>",
        "</section>",
    ]

    parts += [
        '<section aria-labelledby="inputs-h">',
        '<h2 id="inputs-h">Inputs and where they come from</h2>',
        "<p>Each input is marked <em>sourced</em> (from a cited publication), <em>implied</em> "
        "(back-calculated from a published figure) or <em>assumed</em> (a modelling choice).</p>",
        "<table><caption>Model inputs</caption><thead><tr>"
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
    parts.append("</tbody></table>")
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
        f'<figure aria-describedby="sens-cap">{svg}'
        f'<figcaption id="sens-cap">Each bar moves one input to its 2.5th and 97.5th percentile, '
        f"holding the others at their point values. {e(bars_text)}.</figcaption></figure>",
        "</section>",
    ]

    parts += [
        '<section aria-labelledby="trials-h">',
        '<h2 id="trials-h">Trial evidence, computed from the counts</h2>',
        "<table><caption>Live birth, progesterone vs placebo: crude estimates from the counts, "
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
    parts += ["</tbody></table>", "</section>", "</main>", "</body>", "</html>"]
    return "\n".join(parts)
