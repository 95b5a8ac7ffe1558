"""The python engine's pass: the reference engine, row by row, over the loaded rows.

Each flat row is checked cell by cell (`earlypath.audit.flat`), read into the episode contract
and judged by `earlypath.engines.python.assess`; the results are appended to DuckDB tables, so
the outputs read them as they read any engine's (`earlypath.audit.judge.Evaluated`).
"""

from __future__ import annotations

from collections.abc import Container
from contextlib import suppress
from typing import Any

import ibis.expr.types as ir_t
import pyarrow as pa

from earlypath.audit import flat
from earlypath.audit.judge import Evaluated, _count, _extras
from earlypath.audit.load import arrow_batches
from earlypath.audit.measures import ADHERENCE, CARE_UNKNOWN, UNDECIDABLE
from earlypath.audit.progress import progress_bar as _progress
from earlypath.errors import InputError
from earlypath.policy import Policy

__all__ = ["PYTHON_BATCH_ROWS", "judge_in_python"]

PYTHON_BATCH_ROWS = 10_000  # rows the python engine holds as Python objects at a time


def judge_in_python(con: Any, raw: ir_t.Table, policy: Policy, progress: bool = False) -> Evaluated:
    """The reference engine, row by row: flat row -> Episode (one scan) -> engines.python.assess.

    It streams: the cohort is read in Arrow batches and each batch's results are appended to
    DuckDB tables, so Python holds one batch of rows at a time (and the repeated ids)."""
    extras = _extras(raw)
    rows_in, repeated = _rows_and_repeated_ids(con, raw)
    episode_schema, reject_schema = _python_schemas(raw, extras)
    # The batches are read through the connection's open result: write through a second one.
    writer = con.con.cursor()
    defaulted = 0
    try:
        _create_table(writer, "earlypath_episodes", episode_schema)
        _create_table(writer, "earlypath_rejects", reject_schema)
        with _progress(progress and rows_in > 5000, rows_in, "judging (python)") as step:
            for batch in arrow_batches(con, raw, PYTHON_BATCH_ROWS):
                episodes: list[dict[str, Any]] = []
                rejects: list[dict[str, Any]] = []
                for row in batch.to_pylist():
                    step(1)
                    defaulted += _python_row(row, repeated, extras, policy, episodes, rejects)
                _append(writer, "earlypath_episodes", episodes, episode_schema)
                _append(writer, "earlypath_rejects", rejects, reject_schema)
    finally:
        writer.close()
    return Evaluated(
        con,
        con.table("earlypath_episodes"),
        con.table("earlypath_rejects"),
        rows_in,
        defaulted,
        extras,
    )


def _rows_and_repeated_ids(con: Any, raw: ir_t.Table) -> tuple[int, set[Any]]:
    """A first pass over the ids only: the number of rows, and the ids found on more than one."""
    if "episode_id" not in raw.columns:  # every row is then rejected for its missing id
        return _count(con, raw), set()
    rows, seen, repeated = 0, set(), set()
    for batch in arrow_batches(con, raw.select("episode_id"), 100_000):
        rows += batch.num_rows
        for value in batch.column(0).to_pylist():
            with suppress(flat.CellError):
                key = flat.parse_cell(value, "str")
                if key in seen:
                    repeated.add(key)
                seen.add(key)
    return rows, repeated


def _python_row(
    row: dict[str, Any],
    repeated: Container[Any],
    extras: list[str],
    policy: Policy,
    episodes: list[dict[str, Any]],
    rejects: list[dict[str, Any]],
) -> int:
    """Judge one flat row with the reference engine; append it to episodes or rejects.
    Returns the number of its empty cells read as false."""
    from earlypath.engines.python import assess
    from earlypath.model import parse_episode

    reasons: list[str] = []
    typed: dict[str, Any] = {}
    for name in flat.FLAT_COLUMNS:
        try:
            typed[name] = flat.parse_column_cell(name, row.get(name))
        except flat.CellError as error:
            typed[name] = None
            reasons.append(f"{name}: {error}")
    if typed["episode_id"] is None:
        reasons.append("episode_id: is required")
    elif typed["episode_id"] in repeated:
        reasons.append("episode_id: is not unique")
    if typed["assessed_on"] is None and not any(r.startswith("assessed_on") for r in reasons):
        reasons.append("assessed_on: is required")
    assessment = None
    if not reasons:
        try:
            episode = parse_episode(flat.flat_to_episode(typed))
            assessment = assess(episode, policy, sections=("progesterone",))  # all it reads
        except flat.CellError as error:
            reasons.append(str(error))
        except InputError as error:
            reasons += [f"{_flat_field(p.field)}: {p.message}" for p in error.problems]
    if reasons or assessment is None:
        rejects.append(
            {
                "row_number": row["row_number"],
                "episode_id": typed["episode_id"],
                "reject_reason": "; ".join(reasons),
            }
        )
        return 0
    p = assessment["progesterone"]
    decision, given = p["decision"], typed["progesterone_prescribed"]
    if decision == "needs_information":
        adherence = UNDECIDABLE
    elif given is None:
        adherence = CARE_UNKNOWN
    else:
        adherence = ADHERENCE.get((decision, given), UNDECIDABLE)
    gestation = assessment["gestation"]
    episodes.append(
        {
            "row_number": row["row_number"],
            "episode_id": typed["episode_id"],
            "assessed_on": typed["assessed_on"],
            "month": typed["assessed_on"].strftime("%Y-%m"),
            "guideline_version": assessment["guideline"]["version"],
            "gestation_days": gestation["days"] if gestation else None,
            "decision": decision,
            "recommendations": p["recommendations"],
            "missing": p["missing"],
            "progesterone_prescribed": given,
            "adherence": adherence,
            **{c: row[c] for c in extras},
        }
    )
    return sum(typed[n] is None for n in flat.DEFAULT_FALSE)


# The episode contract's names for a scan's fields, as the flat columns name them.
_SCAN_FIELDS = {"date": "scan_date", "route": "scan_route", "location": "scan_location"}
_EARLIER_SCAN_FIELDS = {"date": "earlier_crl_date", "crl_mm": "earlier_crl_mm"}


def _flat_field(field: str) -> str:
    """A field of the episode contract named as its flat column (``scans[0].crl_mm`` ->
    ``crl_mm``), so that rejects and the data-quality counts name the same fields whichever
    engine found the problem."""
    if field.startswith("scans[0]."):
        name = field.removeprefix("scans[0].")
        return _SCAN_FIELDS.get(name, name)
    if field.startswith("scans[1]."):  # the earlier dating scan (`flat.earlier_crl_scan`)
        name = field.removeprefix("scans[1].")
        return _EARLIER_SCAN_FIELDS.get(name, field)
    if field.startswith("allergies["):  # one entry of the ;-separated cell
        return "allergies"
    return field


def _python_schemas(raw: ir_t.Table, extras: list[str]) -> tuple[pa.Schema, pa.Schema]:
    """The Arrow schemas of the python engine's episodes (with the extra columns) and rejects."""
    raw_schema = raw.schema()
    episodes = pa.schema(
        [
            ("row_number", pa.int64()),
            ("episode_id", pa.string()),
            ("assessed_on", pa.date32()),
            ("month", pa.string()),
            ("guideline_version", pa.string()),
            ("gestation_days", pa.int64()),
            ("decision", pa.string()),
            ("recommendations", pa.list_(pa.string())),
            ("missing", pa.list_(pa.string())),
            ("progesterone_prescribed", pa.bool_()),
            ("adherence", pa.string()),
            *[(c, raw_schema[c].to_pyarrow()) for c in extras],
        ]
    )
    rejects = pa.schema(
        [("row_number", pa.int64()), ("episode_id", pa.string()), ("reject_reason", pa.string())]
    )
    return episodes, rejects


def _create_table(cursor: Any, name: str, schema: pa.Schema) -> None:
    """An empty DuckDB table with ``schema``'s columns (a named table, so plain SQL reads it)."""
    cursor.register("earlypath_batch", schema.empty_table())
    cursor.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM earlypath_batch")
    cursor.unregister("earlypath_batch")


def _append(cursor: Any, name: str, rows: list[dict[str, Any]], schema: pa.Schema) -> None:
    if not rows:
        return
    cursor.register("earlypath_batch", pa.Table.from_pylist(rows, schema=schema))
    cursor.execute(f"INSERT INTO {name} SELECT * FROM earlypath_batch")
    cursor.unregister("earlypath_batch")
