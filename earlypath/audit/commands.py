"""CLI commands `earlypath audit` and `earlypath synth` (registered in earlypath/cli.py).

Exit codes: 0 success; 2 invalid input (bad path, option, file or column) or a bad --out (the
input, not writable, a full disk); 3 reconciliation failed (rows_in != evaluated + rejected:
nothing written); 1 internal error. Every engine gives the same code and message for the same
bad input. No patient data is printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from earlypath.errors import EXIT_INPUT

__all__ = ["audit_command", "audit_failure", "plain_audit_arguments", "synth_command"]


def audit_command(
    source: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            help="Cohort: a CSV or Parquet file, a folder of CSV or Parquet part files (read in "
            "path order; key=value subfolders, as Spark partitions, become text columns), or a "
            "folder of FHIR NDJSON.",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the outputs.")],
    engine: Annotated[
        str, typer.Option("--engine", help="duckdb (default), spark, or python (the reference).")
    ] = "duckdb",
    group_by: Annotated[
        list[str] | None,
        typer.Option("--group-by", help="A column to break the measures down by (repeatable)."),
    ] = None,
    stop_at: Annotated[
        str, typer.Option("--stop-at", help="Policy: stop progesterone at 16+0 (default) or 16+6.")
    ] = "16+0",
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    suppress_below: Annotated[
        int,
        typer.Option(
            "--suppress-below",
            min=0,
            help="Withhold breakdown counts from 1 to N-1 (small-number disclosure control "
            "before publishing); 0 (default) shows every count.",
        ),
    ] = 0,
) -> None:
    """Audit a cohort: who was eligible for progesterone and not offered it, by site and group."""
    from earlypath.audit.run import run_audit
    from earlypath.errors import EarlypathError
    from earlypath.policy import Policy

    problems = []
    if engine not in ("duckdb", "spark", "python"):
        problems.append(f"--engine: must be duckdb, spark or python, not {engine!r}")
    if stop_at not in ("16+0", "16+6"):
        problems.append(f"--stop-at: must be 16+0 or 16+6, not {stop_at!r}")
    if not source.exists():
        problems.append(f"INPUT: {source} does not exist")
    if problems:
        for line in problems:
            typer.echo(line, err=True)
        raise typer.Exit(EXIT_INPUT)
    try:
        run_audit(
            source,
            out,
            engine=engine,  # type: ignore[arg-type]
            group_by=group_by or (),
            policy=Policy(stop_at=stop_at),  # type: ignore[arg-type]
            progress=not quiet,
            echo=typer.echo,
            suppress_below=suppress_below,
        )
    except (EarlypathError, ValueError) as error:
        code, lines = audit_failure(error)
        for line in lines:
            typer.echo(line, err=True)
        raise typer.Exit(code) from None


# `audit_command`'s options, for `plain_audit_arguments`: an option not listed here (a new one,
# or --help) is left to typer, so the list can lag behind the signature but never misread it.
_AUDIT_OPTIONS = {
    "--out": "out",
    "--engine": "engine",
    "--group-by": "group_by",
    "--stop-at": "stop_at",
    "--suppress-below": "suppress_below",
}
_AUDIT_FLAGS = {"--quiet": "quiet"}


def plain_audit_arguments(args: Sequence[str]) -> dict[str, object] | None:
    """`audit_command`'s keyword arguments for a plain ``earlypath audit`` command line, or None.

    Plain: INPUT once, ``--out``, each option in full as ``--name value`` or ``--name=value``
    (only ``--group-by`` repeated), no value that is empty or starts with a dash, and
    ``--suppress-below`` a whole number. Such a line means the same to typer; typer's parsing
    imports pydantic (0.13 s, a third of a small audit's start-up), so `earlypath.cli.main`
    runs it without typer. Anything else (help, an unknown, repeated or missing option, an odd
    value) is None: typer parses it and words its errors as ever."""
    found: dict[str, object] = {}
    group_by: list[str] = []
    source: str | None = None
    tokens = iter(args)
    for token in tokens:
        if not _plain(token):
            return None
        if token in _AUDIT_FLAGS:
            if _AUDIT_FLAGS[token] in found:
                return None
            found[_AUDIT_FLAGS[token]] = True
            continue
        name, equals, value = token.partition("=")
        if name in _AUDIT_OPTIONS:
            value = value if equals else next(tokens, "")
            if not value or value.startswith("-") or not _plain(value):
                return None
            key = _AUDIT_OPTIONS[name]
            if key == "group_by":
                group_by.append(value)
            elif key in found:
                return None
            else:
                found[key] = value
            continue
        if token.startswith("-") or source is not None:
            return None
        source = token
    if source is None or "out" not in found:
        return None
    if "suppress_below" in found:
        count = str(found["suppress_below"])
        if not (count.isascii() and count.isdigit()):
            return None
        found["suppress_below"] = int(count)
    found["source"], found["out"] = Path(source), Path(str(found["out"]))
    if group_by:
        found["group_by"] = group_by
    return found


def _plain(token: str) -> bool:
    """Not empty, and UTF-8 text (a name the system could not decode is left to typer)."""
    try:
        token.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return bool(token)


def audit_failure(error: Exception) -> tuple[int, list[str]]:
    """The exit code and the stderr lines for an audit that failed on purpose: every engine's
    error for the same bad input maps to the same code and words here."""
    from earlypath.errors import EarlypathError, InputError, exit_code

    if isinstance(error, InputError):
        return exit_code(error), [str(problem) for problem in error.problems]
    if isinstance(error, EarlypathError):  # ReconciliationError, OutputError (a bad --out)
        return exit_code(error), [f"error: {error}"]
    # A ValueError from an engine's reader: unreadable input format, missing required column.
    return EXIT_INPUT, [f"INPUT: {error}"]


def synth_command(
    n: Annotated[int, typer.Option("--n", min=0, help="Number of episodes.")],
    out: Annotated[Path, typer.Option("--out", help="Output file (or folder for fhir-ndjson).")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same cohort).")] = 1,
    fmt: Annotated[
        str, typer.Option("--format", help="csv (default), parquet or fhir-ndjson.")
    ] = "csv",
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Write a reproducible synthetic cohort (no real patient data)."""
    from earlypath.synth import write_cohort

    if fmt not in ("csv", "parquet", "fhir-ndjson"):
        typer.echo(f"--format: must be csv, parquet or fhir-ndjson, not {fmt!r}", err=True)
        raise typer.Exit(EXIT_INPUT)
    write_cohort(n, seed, fmt, out, progress=not quiet)  # type: ignore[arg-type]
    typer.echo(f"wrote {n} synthetic episodes to {out}")
