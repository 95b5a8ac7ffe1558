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

from collections.abc import Sequence
from typing import Any

import ibis.expr.types as ir_t

from earlypath.audit.judge import _episodes, _extras
from earlypath.audit.validate import check_and_type
from earlypath.model import checks as checks_module
from earlypath.policy import Policy
from earlypath.records.plan_cache import load_plan, plan_key, save_plan

__all__ = ["judging_plan"]

# Stands for the list of repeated ids in the kept SQL (the ids are put in on each run).
PLACEHOLDER = "earlypath-placeholder-of-the-repeated-ids"


def judging_plan(
    con: Any, raw: ir_t.Table, policy: Policy, repeated: ir_t.Table | Sequence[str], checked: str
) -> tuple[str, str]:
    """(the checked rows' SQL over ``raw``, the judged episodes' SQL over the view ``checked``
    of those rows), from the kept plan when there is one; ``checked`` must be created from the
    first before the second is run."""
    how = "table" if isinstance(repeated, ir_t.Table) else ("list" if repeated else "none")
    key = plan_key(
        "audit-duckdb-judging/1",
        con.compile(raw),
        [(name, str(dtype)) for name, dtype in raw.schema().items()],
        how,
        policy,
        checked,
        checks_module.CROSS_FIELD_CHECKS,  # (a test may add a check: then another key)
    )
    plan = load_plan(key)
    if not _usable(plan):
        plan = _build(con, raw, policy, how, repeated, checked)
        save_plan(key, plan)
    assert plan is not None
    checked_sql = plan["checked"]
    if how == "list":
        ids = ", ".join("'" + str(i).replace("'", "''") + "'" for i in repeated)
        checked_sql = checked_sql.replace(f"'{PLACEHOLDER}'", ids)
    return checked_sql, plan["episodes"]


def _usable(plan: dict[str, Any] | None) -> bool:
    return (
        plan is not None
        and isinstance(plan.get("checked"), str)
        and isinstance(plan.get("episodes"), str)
    )


def _build(
    con: Any,
    raw: ir_t.Table,
    policy: Policy,
    how: str,
    repeated: ir_t.Table | Sequence[str],
    checked: str,
) -> dict[str, str]:
    """Build and render the SQL (what a kept plan saves)."""
    stand_in = [PLACEHOLDER] if how == "list" else repeated
    checked_sql = con.compile(check_and_type(raw, stand_in))
    if how == "list" and f"'{PLACEHOLDER}'" not in checked_sql:
        raise RuntimeError("the repeated ids' placeholder is not in the checks' SQL")
    # The episodes are built over the view of the checked rows, as the pass runs them.
    con.raw_sql(f"CREATE OR REPLACE VIEW {checked} AS {checked_sql}")
    episodes_sql = con.compile(_episodes(con.table(checked), _extras(raw), policy))
    return {"checked": checked_sql, "episodes": episodes_sql}
