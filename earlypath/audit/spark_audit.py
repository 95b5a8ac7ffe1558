"""The audit's Spark path: judge the cohort in one pass, count it in the same job, write in order.

A Spark action costs a fixed 0.2-2 s (planning a deep query, scheduling, a cold JVM) whatever the
rows, so the path is built to run as few as it can:

- the input rows are known from reading the cohort (Parquet footers, the CSV numbering's block
  counts: `earlypath.audit.load.rows_read`), not counted by a query;
- the repeated episode ids are one small query before the judging (as on DuckDB: a list of a
  few ids keeps the judging a scan of the cohort; a join would shuffle every row by its id);
- the judged rows are cached, and the job that fills the cache also counts the episodes, the
  rejects and the empty cells read as false (one aggregate);
- ``episodes.parquet`` is written from the cache as one file sorted by ``row_number`` (a sort of
  the cached rows in one task, not a global sort: no sampling job and no shuffle).

The summary's counts, the rejects and the case list then read the cached rows.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from earlypath.audit.load import rows_read
from earlypath.audit.output import atomic_path
from earlypath.audit.progress import progress_bar
from earlypath.audit.validate import repeated_ids
from earlypath.policy import Policy

__all__ = ["judge_on_spark", "write_episodes_spark"]

JUDGED = "earlypath_judged"


def judge_on_spark(con: Any, raw: Any, policy: Policy, progress: bool = False) -> Any:
    """Check and judge every row (`earlypath.audit.run.Evaluated`), with its counts taken in the
    one job that computes the judged rows."""
    from pyspark.sql import functions as F

    from earlypath.audit.load import materialize, view
    from earlypath.audit.run import (
        EPISODE_COLUMNS,
        Evaluated,
        _count,
        _extras,
        _few_as_list,
        _judged,
    )

    rows_in = rows_read(con)
    if rows_in is None:  # an input whose loading did not count its rows (a FHIR export)
        rows_in = _count(con, raw)
    extras = _extras(raw)
    repeated = _few_as_list(con, materialize(con, repeated_ids(raw), "earlypath_repeated_ids"))
    judged_expr = _judged(raw, extras, policy, repeated)
    df = con._session.sql(con.compile(judged_expr)).cache()
    df.createOrReplaceTempView(JUDGED)
    accepted = F.col("reject_reason").isNull()
    with progress_bar(progress, None, f"checking and judging {rows_in:,} rows (spark)"):
        (counted,) = df.agg(
            F.count(F.when(accepted, 1)).alias("evaluated"),
            F.count(F.when(~accepted, 1)).alias("rejected"),
            F.coalesce(F.sum(F.when(accepted, F.col("defaulted_false_cells"))), F.lit(0)).alias(
                "defaulted"
            ),
        ).collect()
    judged = con.table(JUDGED)
    good = judged.filter(judged.reject_reason.isnull())
    rejects = judged.filter(judged.reject_reason.notnull())
    return Evaluated(
        con,
        view(con, good.select(*EPISODE_COLUMNS, *extras), "earlypath_episodes"),
        view(con, rejects.select("row_number", "episode_id", "reject_reason"), "earlypath_rejects"),
        rows_in,
        int(counted["defaulted"]),
        extras,
        counts={"evaluated": int(counted["evaluated"]), "rejected": int(counted["rejected"])},
    )


def write_episodes_spark(ev: Any, target: Path, progress: bool = False) -> int:
    """Spark writes ``episodes.parquet`` itself, one file in ``row_number`` order, then it is
    moved into place. The rows come from the cache the judging filled: one task sorts them (they
    are mostly in order already) and writes them, so no global sort samples and shuffles them."""
    folder = Path(tempfile.mkdtemp(prefix=".episodes-", dir=target.parent))
    try:
        with progress_bar(progress, None, "writing the episodes (spark)"):
            df = ev.con._session.sql(ev.con.compile(ev.episodes))
            df.coalesce(1).sortWithinPartitions("row_number").write.mode("overwrite").option(
                "compression", "zstd"
            ).parquet(str(folder / "out"))
        parts = sorted((folder / "out").glob("part-*.parquet"))
        if len(parts) != 1:
            raise RuntimeError(f"Spark wrote {len(parts)} files, expected 1")
        with atomic_path(target) as tmp:
            os.replace(parts[0], tmp)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(target).metadata.num_rows)
