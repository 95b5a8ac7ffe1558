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

The text of the judging last built is also kept under a key of its own (`LAST_JUDGING`), so the
next audit can parse it while it loads its cohort (`warm_the_parser`): Spark's SQL parser
(ANTLR) learns its grammar's decisions on the first statements a JVM parses, and the judging's
28k characters took 0.5-1.0 s to parse in a fresh JVM against 0.05 s once it had parsed one like
it: serial time before the one Spark job (docs/speed.md, Spark seventeenth round).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from earlypath.audit.duckdb_plan import PLACEHOLDER, _cross_field_checks, plan_key
from earlypath.policy import Policy
from earlypath.records.plan_cache import load_plan, save_plan

if TYPE_CHECKING:
    from concurrent.futures import Future

__all__ = ["judging_key", "judging_sql", "warm_the_parser"]

# The kept plan that holds the judging's SQL last built (any input), for `warm_the_parser`.
LAST_JUDGING = "audit-spark-judging-last/1"


def judging_sql(con: Any, raw: Any, policy: Policy, repeated: Any) -> str:
    """The Spark SQL of `earlypath.audit.judge._judged` over the ibis table ``raw`` (a view of
    the loaded cohort), from the kept plan when there is one. ``repeated`` is the list of
    repeated ids, or their table (`earlypath.audit.validate.repeated_ids` of ``raw``)."""
    import pyspark

    how = _how(repeated)
    key = judging_key(raw, policy, repeated)
    plan = load_plan(key)
    if plan is None or not isinstance(plan.get("judged"), str):
        plan = {"judged": _build(con, raw, policy, how, repeated)}
        save_plan(key, plan)
        save_plan(plan_key(LAST_JUDGING, pyspark.__version__), plan)
    sql = str(plan["judged"])
    if how == "list":
        ids = ", ".join(spark_string(con, i) for i in repeated)
        sql = sql.replace(spark_string(con, PLACEHOLDER), ids)
    return sql


def judging_key(raw: Any, policy: Policy, repeated: Any) -> str:
    """The key the judging's SQL over ``raw`` is kept under (`judging_sql`)."""
    import pyspark

    types = [(name, str(kind)) for name, kind in raw.schema().items()]
    return plan_key(
        "audit-spark-judging/1",
        pyspark.__version__,
        raw.get_name(),
        types,
        _how(repeated),
        policy,
        _cross_field_checks(),
    )


def _how(repeated: Any) -> str:
    return "table" if not isinstance(repeated, list) else ("list" if repeated else "none")


def warm_the_parser(session: Any) -> Future[None] | None:
    """Parse the judging's SQL last built (`LAST_JUDGING`) with ``session``'s SQL parser, in a
    thread of its own (the JVM parses it on a thread of its own too), so the judging's own parse
    later finds the parser's decisions learnt. Only parsed: nothing is resolved or run. None
    when no judging was kept (the first audit, or ``EARLYPATH_PLAN_CACHE=off``). The thread
    never raises: a failed warm-up only leaves the parse as cold as without it."""
    import pyspark

    plan = load_plan(plan_key(LAST_JUDGING, pyspark.__version__))
    text = None if plan is None else plan.get("judged")
    if not isinstance(text, str):
        return None
    from concurrent.futures import ThreadPoolExecutor

    def parse() -> None:
        # (a warm-up: the judging's own parse reports any error of its own)
        with contextlib.suppress(Exception):
            session._jsparkSession.sessionState().sqlParser().parsePlan(text)

    pool = ThreadPoolExecutor(1, thread_name_prefix="earlypath-parser-warm-up")
    try:
        return pool.submit(parse)
    finally:
        pool.shutdown(wait=False)  # the thread ends with its one task


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
