"""CLI commands `earlypath audit` and `earlypath synth` (registered in earlypath/cli.py).

Exit codes: 0 success; 2 invalid input (bad path, option, file or column) or a bad --out (the
input, not writable, a full disk); 3 reconciliation failed (rows_in != evaluated + rejected:
nothing written); 1 internal error. Every engine gives the same code and message for the same
bad input. No patient data is printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from earlypath.audit.command_line import audit_failure, audit_line, plain_audit_arguments
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
    # The same checks, audit and messages as a plain command line run without typer.
    code = audit_line(
        source, out, engine, group_by, stop_at, quiet, suppress_below, print_line=typer.echo
    )
    if code:
        raise typer.Exit(code)


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
