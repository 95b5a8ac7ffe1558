"""The DuckDB pass's judging SQL, kept on disk between runs (`earlypath.records.plan_cache`).

Building the checks and the rules as ibis expressions and rendering them to SQL takes a few
tenths of a second of Python on every audit, whatever its size, and gives the same text each
time for the same inputs: the input's column names and types, how the repeated ids are tested
(none, a list, a table), the policy settings, the cross-field checks, and the code and library
versions (`plan_key`). The text is kept under a hash of all of that; a changed input gives a
new key and the SQL is built again. Only SQL text is kept: the repeated ids themselves are
data, so a list of them is kept as a placeholder and put in on each run.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from earlypath.audit.sql_table import duckdb_engine, sql_name
from earlypath.policy import Policy
from earlypath.records.plan_cache import _source_digest, canonical, load_plan, save_plan

__all__ = ["input_sql", "judging_plan"]

# Stands for the list of repeated ids in the kept SQL (the ids are put in on each run).
PLACEHOLDER = "earlypath-placeholder-of-the-repeated-ids"


@cache
def _versions() -> tuple[str, str]:
    """ibis's and DuckDB's versions, without importing ibis (a kept plan must be found without
    it) or reading the installed packages' metadata (``importlib.metadata``: 0.03 s at each
    start): DuckDB's is its compiled module's (`sql_table.duckdb_engine`, the same whether
    the package is imported or not), and ibis's version is the line of its ``__init__.py``
    that sets it (or, failing that, the file's size and time)."""
    return _ibis_version(), str(duckdb_engine().__version__)


def _ibis_version() -> str:
    from importlib.util import find_spec

    spec = find_spec("ibis")
    if spec is None or spec.origin is None:
        return "no ibis"
    path = Path(spec.origin)
    found = re.search(r"^__version__ = [\"']([^\"']+)[\"']", path.read_text("utf-8"), re.M)
    if found:
        return found.group(1)
    info = path.stat()
    return f"{path} {info.st_size} {info.st_mtime_ns}"


def plan_key(*parts: Any) -> str:
    """The key of a plan built from ``parts`` by this package's code and these libraries."""
    text = canonical((_source_digest(), *_versions(), *parts))
    return hashlib.sha256(text.encode()).hexdigest()


def input_sql(con: Any, raw: str) -> tuple[str, str, str]:
    """The SQL of `earlypath.audit.validate.repeated_ids`, of
    `earlypath.audit.validate.rows_and_defaulted_cells` and of
    `earlypath.audit.validate.repeated_or_padded_ids` ("" when the ids are not text) over the
    view ``raw``, kept together under its columns and types."""
    from earlypath.audit.sql_table import column_types

    types = column_types(con.con, raw)
    key = plan_key("audit-duckdb-input/3", raw, list(types.items()))
    plan = load_plan(key)
    parts = ("repeated", "counts", "as_written")
    if plan is None or not all(isinstance(plan.get(k), str) for k in parts):
        from earlypath.audit.validate import (
            repeated_ids,
            repeated_or_padded_ids,
            rows_and_defaulted_cells,
        )

        table = con.table(raw)
        as_written = repeated_or_padded_ids(table)
        plan = {
            "repeated": con.compile(repeated_ids(table)),
            "counts": con.compile(rows_and_defaulted_cells(table)),
            "as_written": "" if as_written is None else con.compile(as_written),
        }
        save_plan(key, plan)
    return str(plan["repeated"]), str(plan["counts"]), str(plan["as_written"])


def judging_plan(
    con: Any,
    raw: str,
    types: dict[str, str],
    policy: Policy,
    repeated: Sequence[str] | None,
    repeated_table: str,
    checked: str,
    ids_as_written: bool = False,
) -> tuple[str, str]:
    """(the checked rows' SQL over the view ``raw``, whose columns have the DuckDB ``types``;
    the judged episodes' SQL over the view ``checked`` of those rows), from the kept plan when
    there is one; ``checked`` must be created from the first before the second is run. The
    repeated ids are the list ``repeated``, or the table ``repeated_table`` when None;
    ``ids_as_written`` as `earlypath.audit.validate.check_and_type` takes it."""
    how = "table" if repeated is None else ("list" if repeated else "none")
    key = plan_key(
        "audit-duckdb-judging/3",
        raw,
        list(types.items()),
        how,
        ids_as_written,
        repeated_table,
        policy,
        checked,
        _cross_field_checks(),
    )
    plan = load_plan(key)
    if not _usable(plan):
        plan = _build(con, raw, policy, how, repeated_table, checked, ids_as_written)
        save_plan(key, plan)
    assert plan is not None
    checked_sql = plan["checked"]
    if how == "list":
        assert repeated is not None
        ids = ", ".join("'" + str(i).replace("'", "''") + "'" for i in repeated)
        checked_sql = checked_sql.replace(f"'{PLACEHOLDER}'", ids)
    return checked_sql, plan["episodes"]


def _cross_field_checks() -> str:
    """The cross-field checks, for the key: "as in the source" (whose digest is in the key
    already) unless a test has changed them. When their module is not loaded (it is loaded with
    the episode contract: pydantic), nothing can have changed them; when it is, its list is
    compared with the list its source gives, so a warm run (not loaded) and a cold one (loaded
    to build the SQL) find the same plan."""
    checks = sys.modules.get("earlypath.model.checks")
    if checks is None:
        return "as in the source"
    now = canonical(checks.CROSS_FIELD_CHECKS)
    return "as in the source" if now == _checks_as_written(checks.__file__) else now


@cache
def _checks_as_written(path: str) -> str:
    """The text of `CROSS_FIELD_CHECKS` as the module's source defines it: the module is run
    again under a private name (loading it the usual way loads the episode contract)."""
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("earlypath_cross_field_checks_as_written", path)
    assert spec is not None and spec.loader is not None
    module = module_from_spec(spec)
    sys.modules[spec.name] = module  # (dataclasses look their module up while it runs)
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return canonical(module.CROSS_FIELD_CHECKS)


def _usable(plan: dict[str, Any] | None) -> bool:
    return (
        plan is not None
        and isinstance(plan.get("checked"), str)
        and isinstance(plan.get("episodes"), str)
    )


def _build(
    con: Any,
    raw: str,
    policy: Policy,
    how: str,
    repeated_table: str,
    checked: str,
    ids_as_written: bool,
) -> dict[str, str]:
    """Build and render the SQL (what a kept plan saves): ibis is imported here only."""
    from earlypath.audit.judge import _episodes, _extras
    from earlypath.audit.validate import check_and_type

    raw_table = con.table(raw)
    stand_in: Any = {"list": [PLACEHOLDER], "none": [], "table": con.table(repeated_table)}[how]
    checked_sql = con.compile(check_and_type(raw_table, stand_in, ids_as_written))
    if how == "list" and f"'{PLACEHOLDER}'" not in checked_sql:
        raise RuntimeError("the repeated ids' placeholder is not in the checks' SQL")
    # The episodes are built over the view of the checked rows, as the pass runs them.
    con.con.execute(f"CREATE OR REPLACE VIEW {sql_name(checked)} AS {checked_sql}")
    episodes_sql = con.compile(_episodes(con.table(checked), _extras(raw_table), policy))
    return {"checked": checked_sql, "episodes": episodes_sql}
