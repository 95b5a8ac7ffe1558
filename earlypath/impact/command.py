"""`earlypath impact`: run a national-impact scenario; a Rich table by default, JSON with --json.

Registered in earlypath/cli.py with ``app.command("impact")(impact_command)``. No model logic
here: it parses options, calls `run_impact`, and maps `ImpactError` to its exit code (2; see
`earlypath.errors`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from earlypath.errors import ImpactError, exit_code
from earlypath.impact.model import OUTPUTS
from earlypath.impact.run import DEFAULT_DRAWS, DEFAULT_SEED, ImpactResult, run_impact
from earlypath.impact.scenarios import SCENARIOS
from earlypath.impact.trials import TRIAL_GROUPS, TrialStatistics, statistics_for

_MONEY = {"drug_cost_per_course_gbp", "total_drug_cost_gbp", "cost_per_additional_live_birth_gbp"}


def impact_command(
    scenario: str = typer.Option(
        "nice-2021",
        "--scenario",
        "-s",
        help=f"Scenario to run: {', '.join(SCENARIOS)}.",
    ),
    set_: list[str] = typer.Option(
        None,
        "--set",
        help="Override a parameter, name=value (repeatable); product=utrogestan|cyclogest|"
        "prometrium picks a product.",
    ),
    json_: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    draws: int = typer.Option(DEFAULT_DRAWS, "--draws", min=1, help="Monte Carlo draws."),
    seed: int = typer.Option(
        DEFAULT_SEED, "--seed", help="Random seed (results are reproducible)."
    ),
    plot: Path | None = typer.Option(
        None, "--plot", help="Write the one-way sensitivity (tornado) plot to this .svg file."
    ),
    trials: bool = typer.Option(
        False, "--trials", help="Also show trial statistics (RR, RD, NNT) from the counts."
    ),
    tornado_output: str = typer.Option(
        "additional_live_births",
        "--tornado-output",
        help=f"Output for the one-way sensitivity: {', '.join(OUTPUTS)}.",
    ),
) -> None:
    """What NG126's progesterone recommendation is worth nationally, with its uncertainty."""
    try:
        if plot is not None and plot.suffix.lower() != ".svg":
            raise ImpactError(f"--plot must end in .svg, got {plot.name!r}")
        if tornado_output not in OUTPUTS:
            raise ImpactError(
                f"--tornado-output must be one of {', '.join(OUTPUTS)}, got {tornado_output!r}"
            )
        result = run_impact(
            scenario,
            overrides=set_ or [],
            draws=draws,
            seed=seed,
            sensitivity_output=tornado_output,
        )
    except ImpactError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exit_code(exc)) from None

    if plot is not None:
        from earlypath.impact.plot import save_tornado

        label = OUTPUTS.get(result.tornado.output, result.tornado.output)
        save_tornado(result.tornado, plot, title=f"{result.scenario.key}: sensitivity of {label}")

    if json_:
        payload = result.as_dict()
        payload["trials"] = [s.as_dict() for s in _verified_trials()]
        if plot is not None:
            payload["plot"] = str(plot)
        typer.echo(json.dumps(payload, indent=2, default=_json_default))
        return
    _print_tables(result, show_trials=trials, plot=plot)


def _verified_trials() -> list[TrialStatistics]:
    return [statistics_for(g) for g in TRIAL_GROUPS.values() if g.verified]


def _json_default(o: object) -> object:
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return str(o)


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _fmt(name: str, v: float) -> str:
    if not math.isfinite(v):
        return "n/a"
    if name in _MONEY:
        return f"£{v:,.0f}"
    if abs(v) < 100:
        return f"{v:,.1f}"
    return f"{v:,.0f}"


def _print_tables(result: ImpactResult, show_trials: bool, plot: Path | None) -> None:
    console = Console()
    sc = result.scenario
    console.print(f"[bold]{sc.title}[/bold]  ({sc.region})")
    style = "green" if result.headline.reproduced else "red"
    console.print(f"[{style}]Headline check:[/{style}] {result.headline.sentence()}")
    console.print(f"  source: {result.headline.citation}")
    if sc.overrides:
        console.print(f"  overrides: {', '.join(sc.overrides)}")

    out = Table(title=f"Outputs ({result.draws:,} draws, seed {result.seed})")
    out.add_column("output")
    out.add_column("point", justify="right")
    out.add_column("95% interval", justify="right")
    for name, s in result.intervals.items():
        out.add_row(
            OUTPUTS[name],
            _fmt(name, result.point[name]),
            f"{_fmt(name, s.low)} to {_fmt(name, s.high)}",
        )
    console.print(out)
    console.print(
        f"Share of draws in which progesterone adds live births: "
        f"{result.share_of_draws_with_gain:.1%} (cost per birth is over those draws)."
    )

    par = Table(title="Inputs (sourced / implied / assumed)")
    for col in ("parameter", "value", "provenance", "distribution", "source or basis"):
        par.add_column(col, overflow="fold")
    for p in sc.parameters:
        basis = p.citation or (f"implied from {p.implied_from}" if p.implied_from else p.note)
        value = f"{p.value:,.0f}" if abs(p.value) >= 1000 else f"{p.value:.4g}"
        par.add_row(p.name, value, p.provenance, p.distribution.describe(), _short(basis))
    console.print(par)
    for line in sc.not_found:
        console.print(f"[yellow]Not found:[/yellow] {line}")
    for line in sc.notes:
        console.print(f"Note: {line}")

    if show_trials:
        tt = Table(title="Trial statistics from counts (crude; published beside)")
        for col in (
            "group",
            "progesterone",
            "placebo",
            "RR (95% CI)",
            "RD (95% CI)",
            "NNT",
            "published",
        ):
            tt.add_column(col, overflow="fold")
        for stats in _verified_trials():
            g = stats.group
            rr, rd = stats.relative_risk, stats.risk_difference
            tt.add_row(
                f"{g.trial}: {g.description}",
                f"{g.treatment.events.value}/{g.treatment.total.value}",
                f"{g.control.events.value}/{g.control.total.value}",
                f"{rr.point:.3f} ({rr.low:.3f} to {rr.high:.3f})",
                f"{rd.point:.3f} ({rd.low:.3f} to {rd.high:.3f})",
                stats.nnt.describe(),
                "; ".join(p.describe() for p in g.published),
            )
        console.print(tt)
    top = result.tornado.bars[:3]
    if top:
        console.print(
            "Most influential inputs for "
            f"{result.tornado.output}: " + ", ".join(f"{b.parameter} ({b.provenance})" for b in top)
        )
    if plot is not None:
        console.print(f"Tornado plot written to {plot}")
