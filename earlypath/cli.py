"""The command line: parses arguments, calls the library, maps errors to exit codes.

Exit codes: 0 success; 2 invalid input (one line per problem on stderr, naming the field);
1 internal error. No patient data is ever logged.
"""

from __future__ import annotations

import importlib
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import click
import typer
from typer.core import TyperGroup

from earlypath.errors import EarlypathError, InputError
from earlypath.model import episode_json_schema, parse_episode_json
from earlypath.policy import Policy

# Commands whose modules are heavy (numpy, ibis, FastAPI) are imported only when run, so
# `earlypath assess` starts in a fraction of a second.
LAZY_COMMANDS = {
    "serve": "earlypath.web.serve:serve",
    "audit": "earlypath.audit.commands:audit_command",
    "synth": "earlypath.audit.commands:synth_command",
    "impact": "earlypath.impact.command:impact_command",
}


class _LazyGroup(TyperGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *LAZY_COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = LAZY_COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attr = target.partition(":")
        single = typer.Typer(pretty_exceptions_enable=False)
        single.command(cmd_name)(getattr(importlib.import_module(module), attr))
        return typer.main.get_command(single)


app = typer.Typer(
    cls=_LazyGroup,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="earlypath: NICE NG126 early pregnancy decisions, explained.",
)

StopAtOption = Annotated[
    str, typer.Option("--stop-at", help="Policy: stop progesterone at 16+0 (default) or 16+6.")
]


def _policy(stop_at: str) -> Policy:
    if stop_at not in ("16+0", "16+6"):
        _fail_input([f"--stop-at: must be 16+0 or 16+6, not {stop_at!r}"])
    return Policy(stop_at=stop_at)  # type: ignore[arg-type]


def _fail_input(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(2)


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    path = Path(source)
    if not path.is_file():
        _fail_input([f"FILE: {source} is not a readable file"])
    return path.read_text(encoding="utf-8")


def _dumps(data: object) -> str:
    from earlypath.json_text import dumps  # the same text as json.dumps, faster

    return dumps(data)


@app.command()
def assess(
    source: Annotated[
        str, typer.Argument(metavar="FILE", help="Episode JSON file, or - for stdin.")
    ],
    many: Annotated[
        bool, typer.Option("--many", help="FILE is JSON Lines: one episode per line.")
    ] = False,
    output_format: Annotated[
        str, typer.Option("--format", help="json (default) or text.")
    ] = "json",
    stop_at: StopAtOption = "16+0",
) -> None:
    """Assess an episode (or, with --many, one episode per line) and print the assessment."""
    from earlypath.engines.python import assess as run_assessment
    from earlypath.render_text import render_text

    if output_format not in ("json", "text"):
        _fail_input([f"--format: must be json or text, not {output_format!r}"])
    policy = _policy(stop_at)
    fmt: Literal["json", "text"] = output_format  # type: ignore[assignment]

    def show(assessment: dict) -> str:
        return render_text(assessment) if fmt == "text" else _dumps(assessment)

    if not many:
        try:
            episode = parse_episode_json(_read(source))
            typer.echo(show(run_assessment(episode, policy)))
        except InputError as error:
            _fail_input([str(p) for p in error.problems])
        return

    bad = 0
    stream = sys.stdin if source == "-" else open(_checked(source), encoding="utf-8")  # noqa: SIM115
    out = sys.stdout
    with stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                out.write(show(run_assessment(parse_episode_json(line), policy)) + "\n")
            except InputError as error:
                bad += 1
                for problem in error.problems:
                    typer.echo(f"line {number}: {problem}", err=True)
    out.flush()
    if bad:
        typer.echo(f"{bad} line(s) rejected", err=True)
        raise typer.Exit(2)


def _checked(source: str) -> Path:
    path = Path(source)
    if not path.is_file():
        _fail_input([f"FILE: {source} is not a readable file"])
    return path


@app.command()
def schema() -> None:
    """Print the JSON Schema of the episode (the input contract)."""
    typer.echo(json.dumps(episode_json_schema(), indent=2))


@app.command()
def examples(
    output_format: Annotated[
        str, typer.Option("--format", help="text (default) or json.")
    ] = "text",
) -> None:
    """Assess the bundled example episodes and print the decisions."""
    from earlypath.engines.python import assess as run_assessment
    from earlypath.render_text import render_text

    folder = resources.files("earlypath") / "examples"
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".json"):
            continue
        assessment = run_assessment(parse_episode_json(item.read_text(encoding="utf-8")))
        if output_format == "json":
            typer.echo(_dumps({"example": item.name, "assessment": assessment}))
        else:
            typer.echo(f"== {item.name}")
            typer.echo(render_text(assessment) + "\n")


def main() -> None:
    """Entry point: run the app, turning unexpected errors into exit 1 without a data dump."""
    try:
        app()
    except EarlypathError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    except Exception as error:  # noqa: BLE001 - last line of defence; no patient data printed
        typer.echo(f"internal error ({type(error).__name__}); please report it", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
