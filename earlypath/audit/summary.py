"""The audit summary (summary.json): reconciliation, versions applied, measures by group, data quality.

Counts are computed in the engine (group-bys over the evaluated episodes); only the small
aggregated tables come back to Python. No row-level data is included.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from functools import partial
from pathlib import Path
from typing import Any

from earlypath import __version__
from earlypath.audit.background import InBackground
from earlypath.audit.evaluated import UNTIED_CARE_KEY
from earlypath.audit.funnel import METHOD as FUNNEL_LIMITS
from earlypath.audit.funnel import work_out_limits
from earlypath.audit.governance import load_measures
from earlypath.audit.load import fetch_arrow, sql_text
from earlypath.audit.measures import CATEGORIES, rate_of
from earlypath.audit.sql_table import SqlTable, query_rows
from earlypath.guideline.versions import BY_VERSION
from earlypath.policy import Policy

__all__ = ["build_summary", "FUNNEL_MEASURE", "FUNNEL_GROUP"]

NOT_RECORDED = "(not recorded)"
FUNNEL_MEASURE = "eligible_not_offered"
FUNNEL_GROUP = "site"
_FIELD = re.compile(r"(?:^|; )([A-Za-z_][A-Za-z_0-9.\[\]]*): ")


def _nothing() -> None:
    return None


def _label(value: Any) -> str:
    if value is None:
        return NOT_RECORDED
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _counts_by(ev: Any, keys: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Episode counts by (value of each key, adherence), all keys in one query (one round trip
    instead of one per key): {key: [{"value": text or None, "adherence": ..., "n": ...}]}.
    Values are compared and shown as text, so every key fits one column."""
    # One scan with GROUPING SETS on DuckDB and Spark (where each group-by of a union is a
    # job of its own), except when adherence is itself a key: its set would then be
    # (adherence) and no GROUPING() test could tell it from the others.
    one_scan = ev.con.name in ("duckdb", "pyspark") and "adherence" not in keys
    count = _grouping_sets if one_scan else _union_of_group_bys
    rows = count(ev.con, ev.episodes, keys)
    out: dict[str, list[dict[str, Any]]] = {key: [] for key in keys}
    for row in rows:
        out[row["key"]].append(row)
    return out


def _union_of_group_bys(con: Any, t: Any, keys: list[str]) -> list[dict[str, Any]]:
    import ibis

    parts = [
        t.group_by(value=t[key].cast("string"), adherence=t.adherence.cast("string"))
        .aggregate(n=t.count())
        .mutate(key=ibis.literal(key))
        for key in keys
    ]
    return fetch_arrow(con, ibis.union(*parts)).to_pylist()


def _grouping_sets(con: Any, t: Any, keys: list[str]) -> list[dict[str, Any]]:
    """The same rows as the union of one group-by per key, from one scan (GROUPING SETS, which
    ibis does not express; 40% faster on DuckDB). GROUPING(k) = 0 marks the key of a row.
    Spark SQL quotes names with backticks and has no doubled-quote escape in its text literals:
    there the key is given by its position in ``keys``."""
    spark = con.name == "pyspark"
    source = t.sql if isinstance(t, SqlTable) else con.compile(t)
    if spark:
        query = _sets_sql(f"({source})", keys, spark=True)
        rows = con._session.sql(query).toArrow().to_pylist()
        return [{**row, "key": keys[row["key"]]} for row in rows]
    return query_rows(con.con, duckdb_counts_sql(source, keys))


# The episode columns the audit makes, each of a few values (a month of the cohort's dates, a
# guideline version, a decision): their counts are summed from one group-by over them (and
# adherence), a few hundred rows, not from a hash table of a million rows each.
FEW_VALUES = ("month", "guideline_version", "decision")


def duckdb_counts_sql(source: str, keys: list[str]) -> str:
    """DuckDB: the counts by (each key, adherence) of the rows of ``source`` (SQL text). The
    keys of `FEW_VALUES` are counted from their episodes grouped by all of them first (1M rows:
    0.10 against 0.13-0.15 s CPU for one GROUPING SETS of every key, load 5-7); the others (the
    input's columns, whose values may be many) straight from the rows."""
    few = [k for k in keys if k in FEW_VALUES]
    rest = [k for k in keys if k not in FEW_VALUES]
    parts = []
    if few:
        columns = ", ".join(_quoted(k) for k in (*few, "adherence"))
        grouped = f"(SELECT {columns}, count(*) AS n FROM ({source}) GROUP BY ALL)"
        parts.append(_sets_sql(grouped, few, count="CAST(sum(n) AS BIGINT)"))
    if rest:
        parts.append(_sets_sql(f"({source})", rest))
    return " UNION ALL ".join(parts)


def _quoted(k: str, spark: bool = False) -> str:
    if spark:
        return "`" + k.replace("`", "``") + "`"
    return '"' + k.replace('"', '""') + '"'


def _sets_sql(source: str, keys: list[str], spark: bool = False, count: str = "count(*)") -> str:
    """One GROUPING SETS query: (key, value as text, adherence, n), one set (key, adherence) a
    key; on Spark the key is its position in ``keys``."""
    text = "STRING" if spark else "VARCHAR"
    which = " ".join(
        f"WHEN GROUPING({_quoted(k, spark)}) = 0 THEN {i if spark else sql_text(k)}"
        for i, k in enumerate(keys)
    )
    value = " ".join(
        f"WHEN GROUPING({_quoted(k, spark)}) = 0 THEN CAST({_quoted(k, spark)} AS {text})"
        for k in keys
    )
    sets = ", ".join(f"({_quoted(k, spark)}, adherence)" for k in keys)
    return (
        f"SELECT CASE {which} END AS key, CASE {value} END AS value, "
        f"CAST(adherence AS {text}) AS adherence, {count} AS n "
        f"FROM {source} GROUP BY GROUPING SETS ({sets})"
    )


def _missing_facts(ev: Any) -> list[dict[str, Any]]:
    """How many episodes miss each fact: [{"name": ..., "n": ...}]."""
    t = ev.episodes
    if isinstance(t, SqlTable):
        return query_rows(
            ev.con.con,
            f"SELECT name, count(*) AS n FROM (SELECT unnest(missing) AS name FROM ({t.sql})) "
            "GROUP BY name",
        )
    names = t.select(name=t.missing.unnest())
    return fetch_arrow(ev.con, names.group_by("name").aggregate(n=names.count())).to_pylist()


def _reasons(ev: Any) -> list[dict[str, Any]]:
    """The rejects by reason: [{"reject_reason": ..., "n": ...}]."""
    t = ev.rejects
    if isinstance(t, SqlTable):
        return query_rows(
            ev.con.con,
            f"SELECT reject_reason, count(*) AS n FROM ({t.sql}) GROUP BY reject_reason",
        )
    return fetch_arrow(ev.con, t.group_by("reject_reason").aggregate(n=t.count())).to_pylist()


def _totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Counts by value, summed over adherence."""
    totals: Counter[str] = Counter()
    for r in rows:
        totals[r["value"]] += r["n"]
    return dict(totals)


def _measures_for(counts: dict[str, int]) -> dict[str, dict[str, Any]]:
    return {
        m.id: rate_of(counts, list(m.numerator), list(m.denominator)).as_dict()
        for m in load_measures()
    }


def build_summary(
    ev: Any,
    *,
    engine: str,
    source: Path,
    policy: Policy,
    groups: list[str],
    evaluated: int,
    rejected: int,
    seconds: float,
    suppress_below: int = 0,
) -> dict[str, Any]:
    counts = _counts_by(ev, list(dict.fromkeys([*groups, "guideline_version", "decision"])))
    overall_counts: Counter[str] = Counter()
    for r in counts["decision"]:
        overall_counts[r["adherence"]] += r["n"]
    overall = _measures_for(overall_counts)
    by_group: dict[str, dict[str, dict[str, Any]]] = {}
    for g in groups:
        cells: dict[str, Counter[str]] = defaultdict(Counter)
        for r in counts[g]:
            cells[_label(r["value"])][r["adherence"]] += r["n"]
        by_group[g] = {
            value: {"episodes": sum(c.values()), "measures": _measures_for(c)}
            for value, c in sorted(cells.items())
        }
        if suppress_below > 0:
            for cell in by_group[g].values():
                _suppress(cell, suppress_below)

    funnel = None
    if FUNNEL_GROUP in by_group:
        points = [
            {"group": value, **cell["measures"][FUNNEL_MEASURE]}
            for value, cell in by_group[FUNNEL_GROUP].items()
        ]
        funnel = {
            "measure": FUNNEL_MEASURE,
            "group": FUNNEL_GROUP,
            "overall_rate": overall[FUNNEL_MEASURE]["rate"],
            "limits": FUNNEL_LIMITS,
            "points": [p for p in points if p["denominator"]],
            "suppressed_groups": sum(1 for p in points if p.get("suppressed")),
        }
    # The report's funnel limits are worked out by a thread while DuckDB counts the missing
    # facts and the reasons below (it holds no Python lock meanwhile); an error there is
    # raised here, after those statements.
    with InBackground(
        partial(work_out_limits, funnel["points"], funnel["overall_rate"]) if funnel else _nothing,
        "earlypath-funnel-limits",
    ) as limits:
        versions = _totals(counts["guideline_version"])
        decisions = _totals(counts["decision"])
        missing = {r["name"]: r["n"] for r in _missing_facts(ev)}
        reasons = _reasons(ev)
        by_field: Counter[str] = Counter()
        for r in reasons:
            for name in dict.fromkeys(_FIELD.findall(r["reject_reason"] or "")):
                by_field[name] += r["n"]

        _bound_untied_care(ev, overall_counts.get("not_offered", 0), suppress_below)
        limits.finish()

    return {
        "earlypath_version": __version__,
        "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "engine": engine,
        "input": source.name,
        "policy": policy.describe(),
        "reconciliation": _reconciliation(ev, evaluated, rejected),
        **({"fhir_export": ev.fhir_export} if getattr(ev, "fhir_export", None) else {}),
        "guideline_versions": [
            {**BY_VERSION[v].as_dict(), "summary": BY_VERSION[v].summary, "episodes": n}
            for v, n in sorted(versions.items())
            if v in BY_VERSION
        ],
        "decisions": dict(sorted(decisions.items())),
        "adherence": {c: overall_counts.get(c, 0) for c in CATEGORIES},
        "measures": [
            {
                "id": m.id,
                "title": m.title,
                "headline": m.headline,
                "direction": m.direction,
                "governance": m.governance(),
                "overall": overall[m.id],
            }
            for m in load_measures()
        ],
        "groups": groups,
        "disclosure_control": {
            "suppress_below": suppress_below,
            "rule": (
                "In the breakdowns, a measure whose numerator, denominator or their difference "
                f"is between 1 and {suppress_below - 1} is withheld, as is an episode count "
                f"under {suppress_below}; overall figures are shown in full."
                if suppress_below > 0
                else "none: every count is shown (set --suppress-below before publishing)"
            ),
        },
        "by_group": by_group,
        "funnel": funnel,
        "data_quality": {
            "rejects_by_field": dict(by_field.most_common()),
            "missing_facts": dict(sorted(missing.items(), key=lambda kv: -kv[1])),
            "empty_cells_read_as_false": ev.defaulted_false_cells,
            "undecidable": overall_counts.get("undecidable", 0),
            "care_unknown": overall_counts.get("care_unknown", 0),
        },
        "seconds": round(seconds, 3),
    }


def _reconciliation(ev: Any, evaluated: int, rejected: int) -> dict[str, Any]:
    """rows_in = evaluated + excluded + rejected; excluded are a FHIR export's encounters that
    are not episodes (no current pregnancy, a man's), by reason."""
    excluded = dict(getattr(ev, "excluded", {}) or {})
    total = sum(excluded.values())
    counts = {"rows_in": ev.rows_in, "evaluated": evaluated}
    if getattr(ev, "fhir_export", None) is not None:  # only an export has encounters to exclude
        counts |= {"excluded": total, "excluded_by_reason": dict(sorted(excluded.items()))}
    return {
        **counts,
        "rejected": rejected,
        "balanced": ev.rows_in == evaluated + total + rejected,
    }


def _bound_untied_care(ev: Any, not_offered: int, suppress_below: int) -> None:
    """Progesterone care records tied to nobody (`earlypath.audit.untied_care`): at most
    min(records, not offered) of the women counted not offered may have been offered (a bound,
    never a corrected figure); a site's small count withheld as the breakdowns' are."""
    untied = (getattr(ev, "fhir_export", None) or {}).get(UNTIED_CARE_KEY)
    if not untied:
        return
    untied["not_offered_may_have_been_offered_at_most"] = min(untied["records"], not_offered)
    if suppress_below > 0:
        untied["by_site"] = {
            site: None if _small(n, suppress_below) else n for site, n in untied["by_site"].items()
        }


def _small(n: int | None, limit: int) -> bool:
    return n is not None and 0 < n < limit


def _suppress(cell: dict[str, Any], limit: int) -> None:
    """Withhold small counts in one group's cell (and what would let them be worked out)."""
    if _small(cell["episodes"], limit):
        cell["episodes"] = None
    for rate in cell["measures"].values():
        num, den = rate["numerator"], rate["denominator"]
        if _small(num, limit) or _small(den, limit) or _small(den - num, limit):
            rate.update(
                numerator=None,
                denominator=None,
                rate=None,
                ci95_low=None,
                ci95_high=None,
                suppressed=True,
            )
