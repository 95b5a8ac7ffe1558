"""The largest SQL statements of the compiled record reading on DuckDB, in characters (Spark's
parser refuses a statement of some megabytes; tests/records/test_code_table.py bounds the
largest at 132k): the reading compiled as that test compiles it, every statement sent recorded.

Run from a checkout: PYTHONPATH=. .venv/bin/python benchmarks/reading_statement_sizes.py
(another checkout: PYTHONPATH=<it>, run from it). Prints the count, the total and the six
largest with the table or view each creates.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

os.environ["EARLYPATH_PLAN_CACHE"] = "off"  # compile here, never replay a kept plan

import ibis  # noqa: E402

import tests.records.test_code_table as code_table  # noqa: E402
from tests.records.sql_sent import sql_sent  # noqa: E402


def main() -> None:
    export = code_table._export(Path(tempfile.mkdtemp()) / "export")
    con = ibis.duckdb.connect()
    sent = sql_sent(con)
    code_table._reading(con, export, "p1")
    named = re.compile(r"(?:TABLE|VIEW)\s+\"?(\w+)")
    sizes = sorted(
        ((len(s), (m.group(1) if (m := named.search(s)) else s[:40])) for s in sent),
        reverse=True,
    )
    print(f"{len(sent)} statements, {sum(n for n, _ in sizes):,} characters in all")
    for n, name in sizes[:6]:
        print(f"{n:>9,}  {name}")


if __name__ == "__main__":
    main()
