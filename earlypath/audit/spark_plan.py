"""The Spark audit's judging SQL, kept on disk between runs (as `earlypath.audit.duckdb_plan`).

Building the judging (`earlypath.audit.judge._judged`: the checks and the rules) as an ibis
expression and rendering it to Spark SQL takes 0.2-0.7 s of Python on every audit, whatever its
size: serial time before the one Spark job, so a share of the 1 -> 2 cores ratio it caps
(docs/speed.md, Spark fourteenth round). It gives the same text each time for the same inputs:
the input's column names and types, how the repeated ids are tested (none, a list, a table), the
policy settings, the cross-field checks, and the code and library versions. The text is kept
under a hash of all of that; a changed input gives a new key and the SQL is built again. Only
SQL text is kept: a list of repeated ids is kept as a placeholder and put in, as Spark string
literals, on each run.
"""

from __future__ import annotations

from typing import Any

from earlypath.audit.duckdb_plan import PLACEHOLDER, _cross_field_checks, plan_key
from earlypath.policy import Policy
from earlypath.records.plan_cache import load_plan, save_plan

__all__ = ["judging_sql"]


def judging_sql(con: Any, raw: Any, policy: Policy, repeated: Any) -> str:
    """The Spark SQL of `earlypath.audit.judge._judged` over the ibis table ``raw`` (a view of
    the loaded cohort), from the kept plan when there is one. ``repeated`` is the list of
    repeated ids, or their table (`earlypath.audit.validate.repeated_ids` of ``raw``)."""
    import pyspark

    how = "table" if not isinstance(repeated, list) else ("list" if repeated else "none")
    types = [(name, str(kind)) for name, kind in raw.schema().items()]
    key = plan_key(
        "audit-spark-judging/1",
        pyspark.__version__,
        raw.get_name(),
        types,
        how,
        policy,
        _cross_field_checks(),
    )
    plan = load_plan(key)
    if plan is None or not isinstance(plan.get("judged"), str):
        plan = {"judged": _build(con, raw, policy, how, repeated)}
        save_plan(key, plan)
    sql = str(plan["judged"])
    if how == "list":
        ids = ", ".join(spark_string(con, i) for i in repeated)
        sql = sql.replace(spark_string(con, PLACEHOLDER), ids)
    return sql


def spark_string(con: Any, value: str) -> str:
    """``value`` as a string literal of the backend's SQL, written as its compiler writes one
    (Spark's escapes a quote and a backslash with a backslash)."""
    import sqlglot.expressions as sge

    return str(sge.Literal.string(value).sql(dialect=con.dialect))


def _build(con: Any, raw: Any, policy: Policy, how: str, repeated: Any) -> str:
    """Build and render the judging SQL (what a kept plan saves)."""
    from earlypath.audit.judge import _extras, _judged

    stand_in: Any = {"list": [PLACEHOLDER], "none": [], "table": repeated}[how]
    sql = str(con.compile(_judged(raw, _extras(raw), policy, stand_in)))
    if how == "list" and spark_string(con, PLACEHOLDER) not in sql:
        raise RuntimeError("the repeated ids' placeholder is not in the judging's SQL")
    return sql
