"""`Day` of an instant in the reading's time zone, on the batch engines (`ibis_compile`).

The same answers as the Python reader's `json_values.day_readers`: a text of the instant
pattern (`INSTANT_PATTERN`) is dated on its day in the zone; any other text as written. The
pattern admits only what both engines parse as an instant with its offset (DuckDB's cast to
TIMESTAMPTZ, Spark's to TIMESTAMP), so each parses it, then its own time zone data gives the day
there: DuckDB's ICU ``timezone`` (built into the duckdb wheel: nothing is downloaded at run
time), Spark's ``from_utc_timestamp``. A date alone is tested for its length only.

An operation of its own, with a rule for each SQL compiler (as `sql_substring`): a builtin UDF
would be impure to ibis (each projection computing one kept as a subquery), and could not say
one thing to DuckDB and another to Spark. Spark reads a timestamp's day in the session's zone,
which ibis sets to UTC on connecting (as `audit.load.spark_session` does): the shifted
timestamp's UTC day is the day in the zone.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.rules as rlz
import ibis.expr.types as ir_t
import sqlglot.expressions as sge
from ibis.backends.sql.compilers.duckdb import DuckDBCompiler
from ibis.backends.sql.compilers.pyspark import PySparkCompiler

from earlypath.records.json_values import INSTANT_MIN_LENGTH, INSTANT_PATTERN

__all__ = ["InstantDayInZone", "zone_day"]


class InstantDayInZone(ops.Value):
    """The day in time zone ``zone`` of the instant ``text`` (of `INSTANT_PATTERN`'s form)."""

    text: ops.Value[dt.String]
    zone: ops.Value[dt.String]

    dtype = dt.date
    shape = rlz.shape_like("text")


def _instant(self: Any, text: Any) -> Any:
    """TRY_CAST(text AS TIMESTAMPTZ) (Spark: TIMESTAMP): the instant, its offset read; NULL for
    a text of the pattern that is no calendar day ("2026-02-30T...")."""
    to = self.type_mapper.from_ibis(dt.Timestamp(timezone="UTC"))
    return sge.TryCast(this=text, to=to, safe=True)


def _duckdb_day(self: DuckDBCompiler, op: InstantDayInZone, *, text: Any, zone: Any) -> Any:
    return self.cast(self.f.timezone(zone, _instant(self, text)), dt.date)


def _spark_day(self: PySparkCompiler, op: InstantDayInZone, *, text: Any, zone: Any) -> Any:
    return self.f.to_date(self.f.from_utc_timestamp(_instant(self, text), zone))


DuckDBCompiler.visit_InstantDayInZone = _duckdb_day
PySparkCompiler.visit_InstantDayInZone = _spark_day


def zone_day(text: ir_t.StringValue, day: ir_t.DateValue, zone: str) -> ir_t.DateValue:
    """``day`` (the day ``text`` is written on: `ibis_compile._day`), or the day in ``zone``
    when ``text`` is an instant with its offset."""
    instant = (text.length() >= INSTANT_MIN_LENGTH) & text.re_search(INSTANT_PATTERN + r"\z")
    moved = InstantDayInZone(text, ibis.literal(zone)).to_expr()
    # (no fill_null round the test: a CASE's WHEN stops an AND at its first false part)
    return ibis.cases((instant, moved), else_=day)
