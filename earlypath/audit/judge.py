"""Judging: every checked row through the rules, as the engines share it (`earlypath.audit.run`
drives the audit; `earlypath.audit.spark_audit` is Spark's own pass). What comes in is the
loaded rows (`earlypath.audit.load`); what goes out is the judged episodes and the rejects, in an
`Evaluated`, for the outputs to write (`earlypath.audit.output`, `summary`, `report`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ibis
import ibis.expr.types as ir_t

from earlypath.audit import flat
from earlypath.audit.evaluated import EPISODE_COLUMNS, FEW_REPEATED_IDS, Evaluated, OnePass
from earlypath.audit.load import fetch_arrow
from earlypath.audit.measures import adherence_expr
from earlypath.audit.validate import accepted_rows, as_written_when_accepted, check_and_type
from earlypath.dating import GESTATION_DAYS
from earlypath.engines.batch import assess_table, tables_for
from earlypath.facts import ALL_FACTS, ASSESSED_ON, DATING_CRL_MM, DATING_SCAN_DATE
from earlypath.policy import Policy
from earlypath.rules import ir
from earlypath.rules.decision import DecisionTable

__all__ = ["EPISODE_COLUMNS", "FEW_REPEATED_IDS", "Evaluated", "OnePass"]


def _extras(raw: ir_t.Table) -> list[str]:
    return [c for c in raw.columns if c not in flat.FLAT_COLUMNS and c != "row_number"]


def _episodes(checked: ir_t.Table, extras: list[str], policy: Policy) -> ir_t.Table:
    """The accepted rows judged: the episode columns. The rules see only rows that passed the
    checks (the filter is below them), so a rejected row's values (a CRL of 1e300 mm would
    overflow the dating arithmetic) never reach them and need no masking."""
    accepted = as_written_when_accepted(accepted_rows(checked))
    assessed = assess_table(dating_as_the_scan(accepted, policy), policy)
    return assessed.mutate(
        adherence=adherence_expr(assessed.decision, assessed.progesterone_prescribed),
        month=accepted_month(assessed.assessed_on),
    ).select(*EPISODE_COLUMNS, *extras)


def dating_as_the_scan(rows: ir_t.Table, policy: Policy) -> ir_t.Table:
    """``rows`` (flat rows: one scan each) with the dating facts read as the scan's own CRL and
    date, where the rules read those facts only through `GESTATION_DAYS` (else as they are).

    The checks give ``dating_crl_mm`` and ``dating_scan_date`` as the scan's CRL and date when
    the scan has a date and a CRL above 0, else NULL: two CASE columns, computed on every row
    (-21 to -31 M instructions of the DuckDB pass's COPY in 200,000 rows without them; issue 16,
    stop 31). The gestation reads them only as ``IF(crl > 0 AND crl <= 84, f(crl) +
    days(scan_date, assessed_on))``, falling back to the LMP when that is Unknown: with the
    scan's CRL and date as written, a CRL of 0 or none fails the same test, and a CRL without
    a scan date gives a NULL the fallback takes, so every row's gestation is the same
    (tests/audit/test_dating_as_the_scan.py holds it against the reference engine)."""
    if not _dating_read_only_by_gestation(tables_for(policy).values()):
        return rows
    # an earlier scan's CRL above 0 dates the pregnancy first (`flat.dating_scan`); NULL (no
    # such cell) is not taken by the CASE
    earlier = rows.earlier_crl_mm > 0
    return rows.mutate(
        # a CRL not known to be verified never dates her (stop 45): NULL, the gestation's
        # fallback; one CASE, as before (an empty cell is not taken by the WHEN: verified)
        dating_crl_mm=ibis.cases(
            (earlier, rows.earlier_crl_mm),
            (rows.crl_unverified, ibis.null("float64")),
            else_=rows.crl_mm,
        ),
        dating_scan_date=ibis.ifelse(earlier, rows.earlier_crl_date, rows.scan_date),
    )


_DATING_FACTS = frozenset((DATING_CRL_MM.name, DATING_SCAN_DATE.name))


def _dating_read_only_by_gestation(tables: Iterable[DecisionTable]) -> bool:
    """Whether no guard or criterion of ``tables`` reads a dating fact other than inside
    `GESTATION_DAYS` (which the batch engine computes once, as ``gestation_days``)."""

    def reads_dating(node: ir.Expr) -> bool:
        if node is GESTATION_DAYS:
            return False
        if isinstance(node, ir.Fact):
            return node.name in _DATING_FACTS
        return any(reads_dating(child) for child in ir.children(node))

    return not any(
        reads_dating(expr)
        for table in tables
        for branch in table.branches
        for expr in (
            branch.guard,
            *(c.expr for verdict in branch.verdicts for c in verdict.criteria),
        )
    )


@ibis.udf.scalar.builtin(name="substring")
def _substring(text: str, start: int, length: int) -> str:
    """DuckDB's own ``substring`` (ibis's ``substr`` adds a CASE for a negative start, which
    DuckDB folds, yet the COPY then costs 50 M instructions more in 200k rows)."""
    raise NotImplementedError("DuckDB runs it; never called in Python")


def accepted_month(assessed_on: ir_t.DateValue) -> ir_t.StringValue:
    """``YYYY-MM`` of an accepted row's date on DuckDB: the first 7 characters of its ISO text,
    which is ``strftime('%Y-%m')`` for every accepted row (the checks keep ``assessed_on`` within
    1900-01-01 and 2199-12-31, so the year has four digits). The date's text costs a fifth of
    ``strftime`` (3.5% of the one-pass COPY's instructions, measured by
    benchmarks/audit_copy_instructions.py); not for rows the checks have not passed."""
    return _substring(assessed_on.cast("string"), 1, 7)


def _judged(
    raw: ir_t.Table, extras: list[str], policy: Policy, repeated: ir_t.Table | list[str]
) -> ir_t.Table:
    """Every row checked, typed and judged: the episode columns, ``reject_reason`` (NULL for an
    episode) and ``defaulted_false_cells``."""
    checked = check_and_type(raw, repeated)
    assessed = assess_table(_unknown_if_rejected(checked), policy)
    accepted = assessed.reject_reason.isnull()
    return assessed.mutate(
        adherence=adherence_expr(assessed.decision, assessed.progesterone_prescribed),
        month=assessed.assessed_on.strftime("%Y-%m"),
        # A rejected row may ask for an unknown version; it is judged against none.
        guideline_version=ibis.cases(
            (accepted, assessed.guideline_version), else_=ibis.null("string")
        ),
    ).select(*EPISODE_COLUMNS, *extras, "reject_reason", "defaulted_false_cells")


def _few_as_list(con: Any, repeated: ir_t.Table) -> ir_t.Table | list[str]:
    """The repeated ids as a list when there are few (the usual case: none or a handful).

    A list is tested row by row like any other value, so the judging pass stays a scan of one
    table, which DuckDB keeps in input order; a table is a join, which may reorder rows (and
    the episodes are then sorted on writing)."""
    # One query, not a count then a fetch: at most one id more than "few" is read.
    ids = fetch_arrow(con, repeated.limit(FEW_REPEATED_IDS + 1)).column("episode_id").to_pylist()
    if len(ids) > FEW_REPEATED_IDS:
        return repeated
    return sorted(i for i in ids if i is not None)  # a missing id has its own "is required"


def _unknown_if_rejected(checked: ir_t.Table) -> ir_t.Table:
    """A rejected row's facts as NULL before the rules see them: its values failed the checks
    (a CRL of 1e300 mm would overflow the dating arithmetic), and its decision is discarded."""
    ok = checked.reject_reason.isnull()
    return checked.mutate(
        **{
            f.name: ibis.cases((ok, checked[f.name]), else_=ibis.null(checked[f.name].type()))
            for f in ALL_FACTS
            if f.name in checked.columns and f is not ASSESSED_ON
        }
    )


def _count(con: Any, t: ir_t.Table) -> int:
    return _scalar(con, t.count())


def _scalar(con: Any, value: ir_t.Scalar) -> int:
    # Through Arrow, not ``execute``: that imports pandas (0.2 s) for one number.
    return int(fetch_arrow(con, value).as_py())
