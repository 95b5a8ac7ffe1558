"""DuckDB optimizer passes the FHIR reading's statements are planned without.

On a small export the reading's cost is mostly planning, whatever its size: binding and the
optimizer's passes, statement by statement (docs/speed.md, FHIR round 32b). Some passes look
for shapes the reading never writes (a self-join aggregated, an aggregate or a sample to push,
a window over a self-join, a regex over a range, late materialization for a LIMIT) or find
nothing to gain on it at the export sizes measured, yet each walks every plan. They only ever
choose how a plan is laid out, never what it gives: off, the rows are the same.

`statistics_propagation` stays on: off, it saved the most planning on a small export, but the
clinical statement's rows then cost more at 100k patients (CPU in turn, docs/speed.md, FHIR
round 33): what it saves is fixed, what it costs grows with the export.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

READING_PASSES_OFF: tuple[str, ...] = (
    "self_join_aggregate",
    "aggregate_reuse",
    "duplicate_groups",
    "late_materialization",
    "sampling_pushdown",
    "top_n_window_elimination",
    "window_self_join",
    "regex_range",
    "common_subexpressions",
    # a subplan met twice in a statement (the Observation rows joined to the tables of a
    # report's results and of a panel's members, stop 49) is otherwise materialised as a CTE of
    # hundreds of columns in the clinical rows (tests/records/test_item_rows_plan.py)
    "common_subplan",
)


def _setting(duck: Any) -> str:
    return str(duck.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0] or "")


@contextmanager
def reading_passes_off(duck: Any) -> Iterator[None]:
    """Plan the statements run meanwhile on DuckDB connection ``duck`` without
    `READING_PASSES_OFF` (added to the passes the connection already has off), the
    connection's own setting restored after."""
    before = _setting(duck)
    names = [n.strip() for n in before.split(",") if n.strip()]
    known = {n.lower() for n in names}
    names += [p for p in READING_PASSES_OFF if p not in known]
    duck.execute(f"SET disabled_optimizers = '{','.join(names)}'")
    try:
        yield
    finally:
        duck.execute(f"SET disabled_optimizers = '{before}'")
