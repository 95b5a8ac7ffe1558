"""``SUBSTRING(text, start[, length])`` as SQL writes it, for a start known in advance.

ibis's ``substr`` allows a start counted from the end, so it writes every start as ``CASE WHEN
(start + 1) >= 1 THEN start + 1 ELSE start + 1 + LENGTH(text) END``, the text written a second
time inside: 577 of them, 63,868 characters, in the clinical rows' statement of the 100k plan
(638,564 with its views written in, which DuckDB holds a few hundred bytes a character of while
it parses it: the reading's peak memory, docs/speed.md, FHIR rounds 19, 25 and 27). The compiler's starts are Python integers, never
negative, so the CASE always picks its first branch: ``SUBSTRING(text, start + 1, ...)`` is the
same value on every backend, written once.

Not a builtin UDF (`ibis.udf.scalar.builtin`): ibis counts a UDF as impure and then keeps each
projection that computes one as a subquery of its own (the plan's SQL grew by 11%, not shrank).
An operation of its own, with a rule for the SQL compilers (DuckDB's and Spark's both derive
from `SQLGlotCompiler`, where the rule is added).
"""

from __future__ import annotations

from typing import Any, Optional

import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.rules as rlz
import ibis.expr.types as ir_t
from ibis.backends.sql.compilers.base import SQLGlotCompiler

__all__ = ["substring"]


class SubstringFromOne(ops.Value):
    """``SUBSTRING(arg, start[, length])``, ``start`` counted from 1 (never from the end)."""

    arg: ops.Value[dt.String]
    start: ops.Value[dt.Integer]
    length: Optional[ops.Value[dt.Integer]] = None  # noqa: UP045 (ibis reads the annotation)

    dtype = dt.string
    shape = rlz.shape_like("arg")


def _visit_substring_from_one(
    self: SQLGlotCompiler, op: SubstringFromOne, *, arg: Any, start: Any, length: Any
) -> Any:
    if length is None:
        return self.f.substring(arg, start)
    return self.f.substring(arg, start, length)


SQLGlotCompiler.visit_SubstringFromOne = _visit_substring_from_one


def substring(text: ir_t.StringValue, start: int, length: int | None = None) -> ir_t.StringValue:
    """``text.substr(start, length)`` (``start`` counted from 0, not negative), written as
    ``SUBSTRING(text, start + 1[, length])``."""
    if start < 0:
        raise ValueError("a start counted from the end needs ibis's substr")
    op = SubstringFromOne(text, start + 1, length)
    return op.to_expr()
