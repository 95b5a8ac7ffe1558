"""A whole warm DuckDB audit in instructions (valgrind), one DuckDB thread: the work around the
COPY (the repeated ids, the rejects, the summary, the case list, the report and the Python
between them) as well as the COPY itself, which `audit_copy_instructions.py` counts alone.

    python benchmarks/audit_whole_instructions.py COHORT [--checkout DIR]

The figure is one process auditing ``COHORT`` twice less one auditing it once (both audit once
first, so the kept SQL is found warm and imports cancel out: `valgrind_count`). Compare two
checkouts at paths of one length (a count moves with the path's length), e.g. a `git archive`
of main in /tmp beside this worktree. A statement that a thread runs beside another is counted
all the same: instructions do not show what a thread saves in wall time. Not run by ``make
bench`` (it needs valgrind; about 2-4 minutes of CPU at 200,000 rows).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from valgrind_count import instructions, require_valgrind  # noqa: E402

AUDITS = """
import shutil, sys
from pathlib import Path
import earlypath.audit.sql_table as sql_table
plain_init = sql_table.PlainDuckDB.__init__
def one_thread(self):
    plain_init(self)
    self.con.execute("SET threads = 1")
sql_table.PlainDuckDB.__init__ = one_thread
import earlypath.audit.funnel as funnel
from earlypath.audit.run import run_audit
for _ in range(int(sys.argv[1])):
    # each audit works out its funnel limits, as in a process of its own (kept since stop 34)
    getattr(funnel.funnel_limits, "cache_clear", lambda: None)()
    out = Path(sys.argv[3])
    shutil.rmtree(out, ignore_errors=True)
    run_audit(Path(sys.argv[2]), out)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cohort", type=Path)
    parser.add_argument("--checkout", type=Path, default=HERE.parent)
    args = parser.parse_args()
    require_valgrind()
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "out")
        cohort = str(args.cohort.resolve())
        once = instructions(args.checkout, AUDITS, "1", cohort, out, label="once")
        twice = instructions(args.checkout, AUDITS, "2", cohort, out, label="twice")
    print(f"{args.checkout}: one warm audit of {args.cohort.name}: {(twice - once) / 1e6:,.1f} M")


if __name__ == "__main__":
    main()
