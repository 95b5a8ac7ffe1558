"""The DuckDB audit's COPY against the hand-written query, in instructions (valgrind), not seconds.

    python benchmarks/audit_copy_instructions.py                      # 200,000 rows
    python benchmarks/audit_copy_instructions.py --dump /tmp/sql      # the SQL, to edit
    python benchmarks/audit_copy_instructions.py --variant /tmp/sql/mine.sql

On the shared 2-core machine one COPY's CPU seconds move by 10-30% from run to run (other
processes share the caches and cores), so a change of a few per cent to the audit's SQL cannot
be told from noise by timing. The instructions a statement executes on one thread over the same
data move by well under 1%: each figure here is a fresh process under ``valgrind
--tool=cachegrind --cache-sim=no`` that imports DuckDB's module, sets one thread, creates the
audit's views (the SQL `evaluate` makes for this cohort) and runs one ``COPY (...) TO`` a
Parquet file (zstd, as the audit writes it); the same process without the COPY is counted once
and subtracted. Each count takes about 15-50 s of CPU at 200,000 rows (valgrind runs ~30x
slower); instructions are not time (memory stalls are not counted), so read them beside the
CPU figures of `bench_audit.py --split`.

``--variant FILE`` counts another SELECT over the same views (for example the audit's SQL,
written by ``--dump DIR`` with the views, the hand-written query and the cohort they read,
edited by hand); ``--views FILE`` (from a dump, edited: the checks' view) replaces the views'
SQL for the variants, on this run's cohort (the same rows, from the same seed). Each variant's file is compared with the audit's: the
same bytes, or not. Not run by ``make bench`` (it needs valgrind).
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def _worker(views: Path, select: Path | None, target: Path) -> None:
    """Run under valgrind: the views, then (unless ``select`` is None) one COPY."""
    from earlypath.audit.sql_table import duckdb_engine

    con = duckdb_engine().connect()
    con.execute("SET threads = 1")
    con.execute("SET TimeZone = 'UTC'")
    for statement in views.read_text(encoding="utf-8").split(";\n"):
        if statement.strip():
            con.execute(statement)
    if select is None:
        return
    sql = select.read_text(encoding="utf-8")
    if sql.lstrip().upper().startswith("COPY"):  # the hand-written query names its own target
        con.execute(sql.replace("{target}", _quoted(target)))
    else:
        con.execute(f"COPY ({sql}) TO {_quoted(target)} (FORMAT parquet, COMPRESSION zstd)")


def _quoted(path: Path) -> str:
    return "'{}'".format(str(path).replace("'", "''"))


def _dump(cohort: Path, folder: Path) -> tuple[Path, Path, Path]:
    """The audit's views and episodes SELECT for ``cohort``, and the hand-written query."""
    import bench_audit

    from earlypath.audit.pass_duckdb import CHECK_INPUT, CHECKED
    from earlypath.audit.run import evaluate
    from earlypath.audit.sql_table import sql_of

    ev = evaluate(cohort)
    assert ev.one_pass is not None
    made = dict(
        ev.con.con.execute(
            "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal"
        ).fetchall()
    )
    views = folder / "views.sql"
    # newline="": the checks' SQL trims carriage returns, kept as written
    with views.open("w", encoding="utf-8", newline="") as out:
        out.write("\n".join(made[name] for name in (ev.one_pass.raw, CHECK_INPUT, CHECKED)))
    audit = folder / "audit.sql"
    with audit.open("w", encoding="utf-8", newline="") as out:
        out.write(sql_of(ev.con, ev.episodes))
    hand = folder / "hand.sql"
    hand.write_text(
        bench_audit.BASELINE_SQL.format(source=_quoted(cohort), target="{target}"),
        encoding="utf-8",
    )
    return views, audit, hand


def _count(views: Path, select: Path | None, target: Path) -> int:
    """Instructions of a fresh process running `_worker` under valgrind."""
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    cmd += [sys.executable, __file__, "--worker", "--views", str(views), "--out", str(target)]
    cmd += ["--select", str(select)] if select is not None else []
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in done.stderr.splitlines():
        if "I" in line and "refs:" in line:
            if done.returncode != 0:
                break
            return int(line.split("refs:")[1].replace(",", "").strip())
    raise SystemExit(f"the counted run failed:\n{done.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dump", type=Path, help="write the SQL to this folder and stop")
    parser.add_argument("--variant", type=Path, action="append", default=[])
    parser.add_argument("--views", type=Path, help="the views' SQL for the variants")
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--select", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.worker:
        _worker(args.views, args.select, args.out)
        return
    if shutil.which("valgrind") is None and args.dump is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")

    from earlypath.synth import write_cohort

    with tempfile.TemporaryDirectory(prefix="earlypath-instructions-") as tmp:
        folder = args.dump or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        cohort = folder / "cohort.parquet"
        write_cohort(args.rows, args.seed, "parquet", cohort)
        views, audit, hand = _dump(cohort, folder)
        if args.dump is not None:
            print(f"wrote {views}, {audit}, {hand} and the cohort they read")
            return
        variant_views = views
        if args.views is not None:  # edited from a dump: read this run's cohort (the same rows)
            variant_views = folder / "variant-views.sql"
            text = args.views.read_text(encoding="utf-8")
            dumped = str(args.views.resolve().parent / "cohort.parquet").replace("'", "''")
            with variant_views.open("w", encoding="utf-8", newline="") as out:
                out.write(text.replace(dumped, str(cohort).replace("'", "''")))
        empty = _count(views, None, folder / "none.parquet")
        counts = {
            "audit": _count(views, audit, folder / "audit.parquet") - empty,
            "hand": _count(views, hand, folder / "hand.parquet") - empty,
        }
        print(f"{args.rows:,} rows, one thread, instructions of the COPY (millions):")
        print(f"  the audit's COPY {counts['audit'] / 1e6:,.1f} M")
        print(f"  the hand-written query {counts['hand'] / 1e6:,.1f} M")
        print(f"  ratio {counts['audit'] / counts['hand']:.3f}x")
        for variant in args.variant:
            target = folder / f"{variant.stem}.parquet"
            n = _count(variant_views, variant, target) - empty
            same = filecmp.cmp(target, folder / "audit.parquet", shallow=False)
            print(
                f"  {variant.name}: {n / 1e6:,.1f} M ({(n - counts['audit']) / 1e6:+,.1f} M, "
                f"{n / counts['audit'] - 1:+.1%}); its file "
                + ("the audit's bytes" if same else "NOT the audit's bytes")
            )


if __name__ == "__main__":
    main()
