"""The SQL text of kept reading plans: what a warm reading sends, and what repeats inside a
statement (stop 51, w-duck51: docs/speed.md, round 36; stop 52 kept it here).

For each plan file (a JSON file of a plan folder, ``EARLYPATH_PLAN_CACHE``; the reading's plan
is the largest after a reading), it prints the statements kept, those sent once the views are
written into the statements that read them (`ibis_compile._views_inlined`, as a warm DuckDB
reading sends them), their characters, the largest, and the ``UNNEST(`` and ``WITH`` counts.
With ``--repeats``, each kept statement in which the same parenthesised ``(SELECT ...)`` stands
twice or more (longer than ``--longer`` characters, 300 by default; a repeat inside a longer
repeat is counted with the longer one only): its table, its characters and each repeat's length
and count; then the characters written again in all.

    PYTHONPATH=. .venv/bin/python benchmarks/plan_text.py [--repeats] PLAN.json [PLAN.json ...]

The plans of two checkouts (each compiled into its own plan folder) side by side: name both.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

from earlypath.records.ibis_compile import _views_inlined

_SUBQUERY = re.compile(r"\(\s*SELECT\b")
_PARENS = re.compile(r"[()]")
_WITH = 'WITH "'  # a statement's CTEs, as ibis writes them


def subqueries(sql: str) -> Counter[str]:
    """Each ``(SELECT ...)`` of ``sql``, nested ones too, up to its closing parenthesis, with the
    number of times it stands there: one pass over the parentheses, each ``(`` kept until its
    ``)``. (Parentheses inside string literals are not told apart: a count, not a parse.)"""
    selects = {m.start() for m in _SUBQUERY.finditer(sql)}
    found: Counter[str] = Counter()
    opened: list[int] = []
    for paren in _PARENS.finditer(sql):
        if paren.group() == "(":
            opened.append(paren.start())
        elif opened:
            begin = opened.pop()
            if begin in selects:
                found[sql[begin : paren.end()]] += 1
    return found


def repeats(sql: str, longer: int) -> list[tuple[int, int]]:
    """(length, count) of each subquery written twice or more in ``sql``, longer than
    ``longer``, leaving out one that only stands inside a longer repeat as often as it does."""
    twice = [(text, n) for text, n in subqueries(sql).items() if n > 1 and len(text) > longer]
    kept = [
        (text, n)
        for text, n in twice
        if not any(other != text and text in other and m >= n for other, m in twice)
    ]
    return sorted(((len(text), n) for text, n in kept), reverse=True)


def sizes(statements: list[tuple[str, str]]) -> str:
    sent = [s for s in _views_inlined(statements) if s is not None]
    unnests = sum(s.count("UNNEST(") for s in sent)
    ctes = sum(s.count(_WITH) for s in sent)
    return (
        f"{len(statements)} statements kept, {len(sent)} sent, "
        f"{sum(map(len, sent)):,} characters sent, the largest {max(map(len, sent), default=0):,}; "
        f"UNNEST( {unnests}, WITH {ctes}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("plans", nargs="+", type=Path)
    parser.add_argument("--repeats", action="store_true")
    parser.add_argument("--longer", type=int, default=300)
    args = parser.parse_args()
    for path in args.plans:
        plan = json.loads(path.read_text(encoding="utf-8"))
        statements = [(str(table), str(sql)) for table, sql in plan.get("statements", [])]
        kept = sum(len(sql) for _, sql in statements)
        print(f"{path.name}: {kept:,} characters kept; {sizes(statements)}")
        if not args.repeats:
            continue
        again = 0
        for table, sql in statements:
            found = repeats(sql, args.longer)
            if found:
                written = sum(length * (n - 1) for length, n in found)
                again += written
                shown = ", ".join(f"{length:,} x {n}" for length, n in found[:6])
                print(f"  {table}: {len(sql):,} characters, {written:,} written again ({shown})")
        print(f"  written again in all: {again:,} characters")


if __name__ == "__main__":
    main()
