"""Check and type a raw cohort table in the engine (SQL), row by row, naming each problem.

The checks are those of the episode contract: each column's own (counts 0-50, CRL/MSD 0-120 mm
and finite, dates within the contract's range), and the cross-field checks of
`earlypath.model.checks` (a date not after ``assessed_on``, an LMP not more than 45 weeks before
it, a scan not before the LMP, no heartbeat or CRL without a fetal pole), which are written once
there and compiled here from the same rule expressions the pydantic model evaluates. Then what
only the flat form can get wrong: unreadable cells, duplicate or missing ``episode_id``, scan
findings without a scan date, an ``assessed_on`` before NG126 came into force, an unknown
``guideline_version``. tests/audit/test_validation_matches_model.py holds these to the model.

The result has every flat column typed, the facts of `earlypath.facts`, and ``reject_reason``:
NULL for a good row, else ``"field: problem; field: problem"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import ibis
import ibis.expr.datatypes as dt_
import ibis.expr.types as ir_t

from earlypath.audit import flat
from earlypath.engines.ibis_compile import compile_expr
from earlypath.guideline.versions import (
    BEFORE_NG126_MESSAGE,
    BY_VERSION,
    UNKNOWN_VERSION_MESSAGE,
    VERSIONS,
)
from earlypath.model.checks import CrossFieldCheck, flat_form_checks
from earlypath.model.episode import (
    DATE_RANGE_MESSAGE,
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_MEASUREMENT_MM,
    MAX_PREVIOUS_MISCARRIAGES,
)
from earlypath.rules import ir

__all__ = [
    "accepted_rows",
    "as_written_when_accepted",
    "check_and_type",
    "episode_ids",
    "repeated_ids",
    "repeated_or_padded_ids",
    "require_columns",
    "rows_and_defaulted_cells",
]

_IBIS_TYPE = {
    "str": "string",
    "date": "date",
    "int": "int64",
    "float": "float64",
    "bool": "boolean",
}


class _Problem(NamedTuple):
    found: ir_t.BooleanValue  # NULL is no problem: only ever tested as a CASE WHEN condition
    text: ir_t.StringValue
    # What the rows' flag (`_rejected`, the OR of every problem) tests for this one: ``found``
    # when None; ``COVERED`` when another problem's flag is True on every row this one finds
    # (its text is still written into the reason). The flag is tested on every row, the reason
    # built only on the flagged few, so a cheaper flag that marks the same rows is worth having.
    flag: ir_t.BooleanValue | None = None


def _problem(
    cond: ir_t.BooleanValue, field: str, message: str, flag: ir_t.BooleanValue | None = None
) -> _Problem:
    # cond NULL counts as no problem: every check below is written so NULL means "cannot tell".
    # It is not filled with false: `_reason` only tests it in CASE WHEN (and an OR of them),
    # where NULL is not taken, as false is; a COALESCE on each of the ~25 checks cost 40% of
    # the checks' time on DuckDB (0.43 -> 0.26 s a million rows on one core).
    return _Problem(cond, ibis.literal(f"{field}: {message}"), flag)


# A problem whose rows another problem's flag already marks (see `_Problem.flag`).
COVERED = ibis.literal(False)


def _reason(problems: list[_Problem], found: ir_t.BooleanValue | None = None) -> ir_t.StringValue:
    """``"field: problem; field: problem"`` for a row with problems, NULL for a good row.

    The text is put together only for the rows with a problem (a few in a hundred): the tests
    are cheap, but joining twenty strings on every row cost more than all of them together.
    ``found`` is `_any_found` of the same problems when the caller has it as a column."""
    if not problems:
        return ibis.null("string")
    text = ibis.literal("; ").join(
        [ibis.cases((p.found, p.text), else_=ibis.null("string")) for p in problems]
    )
    found = _any_found(problems) if found is None else found
    return ibis.cases((found, text), else_=ibis.null("string"))


def _any_found(problems: list[_Problem]) -> ir_t.BooleanValue:
    """An OR of the checks: TRUE if any is, else NULL or FALSE, both "no problem" to CASE WHEN.

    Each problem tested by its ``flag`` where it has one (none for a ``COVERED`` one)."""
    tests = [p.found if p.flag is None else p.flag for p in problems]
    tests = [t for t in tests if t is not COVERED]
    any_found = tests[0] if tests else ibis.literal(False)
    for test in tests[1:]:
        any_found = any_found | test
    return any_found


# A column already of the right type cannot be unreadable: no check is built for it (a typed
# Parquet cohort then compiles to a shorter query).
NEVER = ibis.literal(False)


def _parse(col: ir_t.Value, kind: flat.FlatType) -> tuple[ir_t.Value, ir_t.BooleanValue]:
    """(typed value, unreadable?) for one column, by the column's type in the source;
    ``NEVER`` when it cannot be unreadable."""
    target = _IBIS_TYPE[kind]
    dtype = col.type()
    if dtype.is_string():
        text = col  # already trimmed, empty -> NULL, bools lower-cased: see _clean
        if kind == "str":
            return text, NEVER
        if kind == "bool":
            value = ibis.cases(
                (text.isin(list(flat.TRUE_WORDS)), True),
                (text.isin(list(flat.FALSE_WORDS)), False),
                else_=ibis.null("boolean"),
            )
            return value, text.notnull() & value.isnull()
        pattern = {"int": flat.INT_PATTERN, "float": flat.FLOAT_PATTERN, "date": flat.DATE_PATTERN}[
            kind
        ]
        shaped = text.re_search(pattern)
        value = ibis.cases((shaped, text.try_cast(target)), else_=ibis.null(target))
        if kind == "int":
            value = ibis.cases((value.abs() <= flat.MAX_INT, value), else_=ibis.null("int64"))
        return value, text.notnull() & value.isnull()
    if kind == "float" and dtype.is_numeric():
        value = col.cast("float64")
        if not dtype.is_floating():
            return value, NEVER
        bad = _not_finite(value)
        return ibis.cases((bad, ibis.null("float64")), else_=value), col.notnull() & bad.fill_null(
            False
        )
    if kind == "date" and dtype.is_timestamp():
        return col.date(), NEVER
    if dtype == dt_.dtype(target) or (kind == "int" and dtype.is_integer()):
        return col.cast(target), NEVER
    # A typed column of the wrong type: read it as text.
    return _parse(_clean(col.cast("string"), kind), kind)


# The measurements with a range check (0 to MAX_MEASUREMENT_MM mm).
_MEASUREMENTS = ("crl_mm", "msd_mm")


def _as_written(name: str) -> str:
    return f"_{name}_as_written"


def _measured_as_written(raw: ir_t.Table, unreadable: Sequence[str]) -> list[str]:
    """The measurements whose "is not a number" the rows' flag finds by their range check,
    tested on the cell as written, not by a test of its own (issue 16, stop 30).

    On DuckDB a NaN compares greater than every number and an infinity is outside any finite
    range, so ``x < 0 OR x > 120`` on the cell as written is True exactly where the range check
    on the cleaned cell (NaN and the infinities read as NULL) or the finiteness test is: the
    flag marks the same rows without a per-row column of the unreadable cells' text (-19 M
    instructions of the COPY in 200,000 rows). Only for floating columns of a table on DuckDB
    (Spark keeps the portable form), and only the last of the unreadable cells' checks (the
    order of the reason's parts is kept: ``unreadable`` names the columns with one, in order)."""
    found: list[str] = []
    for name in reversed(unreadable):
        typed = name in _MEASUREMENTS and raw[name].type().is_floating()
        if not typed or not _on_duckdb(raw[name]):
            break
        found.insert(0, name)
    return found


def _on_duckdb(value: ir_t.Value) -> bool:
    """Whether ``value`` belongs to a table bound to DuckDB (False for an unbound table)."""
    try:
        return value._find_backend().name == "duckdb"
    except ibis.common.exceptions.IbisError:  # an unbound table: no engine to ask
        return False


@ibis.udf.scalar.builtin(name="isfinite")
def _isfinite(value: float) -> bool:
    """DuckDB's own ``isfinite``: False for NaN and both infinities (NULL for NULL)."""
    raise NotImplementedError("DuckDB runs it; never called in Python")


def _not_finite(value: ir_t.FloatingValue) -> ir_t.BooleanValue:
    """NaN or an infinity (NULL for NULL). On DuckDB one call, ``NOT isfinite(x)``: the
    ``isnan(x) OR isinf(x)`` each engine knows costs the COPY 15 M instructions more in 200,000
    rows (the cleaning and the unreadable-cell check test it for CRL and MSD; issue 16, stop 29)."""
    return ~_isfinite(value) if _on_duckdb(value) else value.isnan() | value.isinf()


def _false_if_empty(value: ir_t.BooleanValue) -> ir_t.BooleanValue:
    """An empty cell of a `flat.DEFAULT_FALSE` column read as false. On DuckDB ``x IS NOT
    DISTINCT FROM TRUE`` (one comparison), not ``COALESCE(x, FALSE)``, which DuckDB computes as
    a CASE over each row: -8.5 to -14 M instructions of the COPY in 200,000 rows for the two
    columns (issue 16, stop 31). The same values: True for True, False for False and NULL."""
    return value.identical_to(True) if _on_duckdb(value) else value.fill_null(False)


# Columns whose cells, when well written, are one of a few words: a cell that is exactly one of
# them is clean already and skips the cleaning below (a fast test of equality to a few strings).
_WORDS: dict[str, tuple[str, ...]] = {
    "scan_route": flat.SCAN_ROUTES,
    "scan_location": flat.SCAN_LOCATIONS,
}
_BOOL_WORDS = (*flat.TRUE_WORDS, *flat.FALSE_WORDS)


def _clean(col: ir_t.Value, kind: flat.FlatType, name: str = "") -> ir_t.Value:
    """A text cell trimmed, empty as NULL (Unknown), and lower-cased for true/false words.

    Done in its own projection so that each cell is cleaned once, not once per use."""
    if not col.type().is_string():
        return col
    # TRIM with a character set is slow; most cells have no space at either end, and testing
    # for one first halves the cost of cleaning (0.2 s per million rows on DuckDB). The test
    # only has to catch every padded cell: a first or last character coded 32 or below (space,
    # tab, line breaks; also other control characters and the empty cell, which strip() then
    # leaves as they are). Comparing two character codes is cheaper than a regular expression.
    # The first character by comparing the cell with "!" (the next code after 32: the empty
    # cell too), the last as the first of the reversed cell: `right(col, 1)` cost DuckDB 3.5
    # times as many instructions (it counts the characters from the start; issue 16, round 9).
    text = ibis.cases((_padded(col), col.strip()), else_=col).nullif("")
    text = text.lower() if kind == "bool" else text
    words = _BOOL_WORDS if kind == "bool" else _WORDS.get(name, ())
    if not words:
        return text
    return ibis.cases((col.isin(list(words)), col), else_=text)


def _padded(col: ir_t.StringValue) -> ir_t.BooleanValue:
    """Whether `_clean` may change a text cell: its first or last character is coded 32 or
    below, or it is empty (never for a NULL cell: NULL)."""
    return (col < "!") | (col.reverse().ascii_str() <= 32)


def _says_unknown(cleaned: ir_t.Table) -> dict[str, ir_t.BooleanValue]:
    """A text cell that says "unknown" where the column takes it (`flat.SAYS_UNKNOWN`), of the
    cleaned cells: Unknown, neither unreadable nor an empty cell read as false."""
    return {
        n: (cleaned[n] == flat.UNKNOWN_WORD).fill_null(False)
        for n in flat.SAYS_UNKNOWN
        if n in cleaned.columns and cleaned[n].type().is_string()
    }


def _defaulted_cells(
    typed: dict[str, ir_t.Value], says_unknown: dict[str, ir_t.BooleanValue]
) -> ir_t.IntegerValue:
    """A row's empty cells read as false (`flat.DEFAULT_FALSE`), from its typed cells before the
    default is filled: ``defaulted_false_cells``."""
    defaulted = [
        (typed[n].isnull() & ~says_unknown[n] if n in says_unknown else typed[n].isnull()).cast(
            "int8"
        )
        for n in flat.DEFAULT_FALSE
    ]
    return sum(defaulted[1:], defaulted[0])


def rows_and_defaulted_cells(raw: ir_t.Table) -> ir_t.Table:
    """One row: ``rows``, the rows of ``raw``, and ``defaulted``, their empty cells read as false
    (`check_and_type`'s ``defaulted_false_cells`` summed over every row, rejected or not), from
    the few columns they read: no check is compiled into it, so DuckDB binds a short statement
    (binding the checks' view for this sum cost as much as the sum itself on a small audit)."""
    present = [n for n in flat.DEFAULT_FALSE if n in raw.columns]
    # The cells cleaned as `check_and_type` cleans them (its first projection), then typed
    cleaned = (
        raw.select(**{n: _clean(raw[n], flat.FLAT_COLUMNS[n], n) for n in present})
        if present
        else raw
    )
    typed: dict[str, ir_t.Value] = {
        n: _parse(cleaned[n], flat.FLAT_COLUMNS[n])[0]
        if n in present
        else ibis.null(_IBIS_TYPE[flat.FLAT_COLUMNS[n]])
        for n in flat.DEFAULT_FALSE
    }
    per_row = cleaned.select(cells=_defaulted_cells(typed, _says_unknown(cleaned)))
    return per_row.aggregate(rows=per_row.count(), defaulted=per_row.cells.sum().fill_null(0))


def require_columns(raw: ir_t.Table) -> None:
    """ValueError (exit 2) naming the required columns the cohort lacks."""
    missing = [c for c in flat.REQUIRED if c not in raw.columns]
    if missing:
        raise ValueError(f"the cohort has no {', '.join(missing)} column")


def episode_ids(raw: ir_t.Table) -> ir_t.Value:
    """Each row's ``episode_id`` as `check_and_type` reads it (trimmed; empty or unreadable is NULL)."""
    return _parse(_clean(raw["episode_id"], "str"), "str")[0]


def repeated_ids(raw: ir_t.Table) -> ir_t.Table:
    """The ``episode_id`` values that occur on more than one row (usually none or a few).

    Computed once, before the main pass, so that pass tests membership of this small set
    instead of counting over a window partitioned by every id (0.1 s per million rows)."""
    require_columns(raw)
    ids = raw.select(episode_id=episode_ids(raw))
    counted = ids.group_by("episode_id").aggregate(copies=ids.count())
    # Missing ids are not filtered out: a filter on them is pushed below the grouping, where
    # DuckDB then cleans every id twice. A NULL in the set never marks a row (NULL IN (...) is
    # Unknown, read as no problem); rows without an id have their own "is required".
    return counted.filter(counted.copies > 1).select("episode_id")


def repeated_or_padded_ids(raw: ir_t.Table) -> ir_t.Table | None:
    """The ``episode_id`` cells as written that occur on more than one row or that the cleaning
    may change (`_padded`: a space or control character at either end, the empty cell), with
    ``repeated`` (more than one row) for each; None when the column is not text.

    When no row of it is padded, no id of ``raw`` is changed by the cleaning, so its repeated
    ids are the rows' ``repeated`` and `check_and_type` may read the ids as written
    (``ids_as_written``). The ids are grouped as written: the padding is tested once per
    distinct id, after the grouping, not cleaned on every row before it."""
    require_columns(raw)
    col = raw["episode_id"]
    if not col.type().is_string():
        return None
    counted = raw.group_by(episode_id=col).aggregate(copies=raw.count())
    return counted.filter((counted.copies > 1) | _padded(counted.episode_id)).select(
        "episode_id", repeated=counted.copies > 1
    )


def check_and_type(
    raw: ir_t.Table, repeated: ir_t.Table | Sequence[str], ids_as_written: bool = False
) -> ir_t.Table:
    """Type every flat column, add the facts, and give each row its ``reject_reason`` (or NULL).

    ``repeated`` is `repeated_ids` of the same ``raw``, computed (and kept) beforehand, or the
    ids it holds as a list (without NULL). ``ids_as_written``: no ``episode_id`` of ``raw``
    is padded or empty (`repeated_or_padded_ids` found none), so the ids are not cleaned: on
    DuckDB the padding test alone was 51 M instructions of the one-pass COPY's 1,860 M in
    200,000 rows (issue 16, stop 39). The ``NULLIF`` kept changes no id; it keeps the column
    one that may hold NULL, as the cleaned one is (DuckDB writes the same Parquet bytes)."""
    require_columns(raw)
    cleaned = {n: _clean(raw[n], k, n) for n, k in flat.FLAT_COLUMNS.items() if n in raw.columns}
    if ids_as_written:
        cleaned["episode_id"] = raw["episode_id"].nullif("")
    raw = raw.select(
        *[c for c in raw.columns if c not in flat.FLAT_COLUMNS],
        **cleaned,
        _assessed_on_absent=_absent(raw, "assessed_on"),
        **_allergies_cell(raw),
    )
    says_unknown = _says_unknown(raw)
    typed: dict[str, ir_t.Value] = {}
    unreadable: list[tuple[str, _Problem]] = []  # (column, its problem), in column order
    for name, kind in flat.FLAT_COLUMNS.items():
        if name not in raw.columns:
            typed[name] = ibis.null(_IBIS_TYPE[kind])
            continue
        value, unreadable_cell = _parse(raw[name], kind)
        if name in says_unknown:
            unreadable_cell = unreadable_cell & ~says_unknown[name]
        typed[name] = value
        if unreadable_cell is not NEVER:
            unreadable.append((name, _problem(unreadable_cell, name, _UNREADABLE[kind])))
    measured = _measured_as_written(raw, [name for name, _ in unreadable])
    problems = [p for _, p in unreadable[: len(unreadable) - len(measured)]]
    typed_before_default = {n: typed[n] for n in flat.DEFAULT_FALSE}
    for name in flat.DEFAULT_FALSE:
        typed[name] = (
            ibis.cases(
                (says_unknown[name], ibis.null("boolean")), else_=_false_if_empty(typed[name])
            )
            if name in says_unknown
            else _false_if_empty(typed[name])
        )

    # Parse each cell once: the checks below read the typed columns of this projection, so the
    # engine does not repeat a cell's parsing (regex, casts) in every check that uses it.
    working = ("_assessed_on_absent", _ALLERGIES_CELL)
    keep = [c for c in raw.columns if c not in flat.FLAT_COLUMNS and c not in working]
    parsed = raw.select(
        *keep,
        **typed,
        **({"_unreadable": _reason(problems)} if problems else {}),
        _defaulted=_defaulted_cells(typed_before_default, says_unknown),
        _assessed_on_absent=raw._assessed_on_absent,
        **({_ALLERGIES_CELL: raw[_ALLERGIES_CELL]} if _ALLERGIES_CELL in raw.columns else {}),
        **{_as_written(n): raw[n] for n in measured},
    )
    problems = [_Problem(parsed._unreadable.notnull(), parsed._unreadable)] if problems else []
    # A measurement read as written (see `_measured_as_written`): "is not a number" in the
    # reason where the cell is NaN or an infinity, in the place the unreadable cells' text has;
    # the flag finds those rows by the range check below, tested on the cell as written.
    problems += [
        _problem(_not_finite(parsed[_as_written(n)]), n, _UNREADABLE["float"], COVERED)
        for n in measured
    ]
    v = {name: parsed[name] for name in typed}
    day = v["assessed_on"]
    problems += [
        _problem(v["episode_id"].isnull(), "episode_id", "is required"),
        _problem(day.isnull() & parsed._assessed_on_absent, "assessed_on", "is required"),
        # As `resolve_version`: a requested version applies whatever the date.
        _problem(
            v["guideline_version"].isnull() & (day < ibis.literal(VERSIONS[0].in_force_from)),
            "assessed_on",
            BEFORE_NG126_MESSAGE,
        ),
        *[
            # The contract's date range (what the plan arithmetic handles), as pydantic words it.
            _problem(
                (v[name] < ibis.literal(EARLIEST_DATE)) | (v[name] > ibis.literal(LATEST_DATE)),
                name,
                DATE_RANGE_MESSAGE,
            )
            for name in ("assessed_on", "lmp", "scan_date", "earlier_crl_date")
        ],
        _problem(
            v["guideline_version"].notnull() & ~v["guideline_version"].isin(list(BY_VERSION)),
            "guideline_version",
            UNKNOWN_VERSION_MESSAGE,
        ),
        _problem(
            (v["previous_miscarriages"] < 0)
            | (v["previous_miscarriages"] > MAX_PREVIOUS_MISCARRIAGES),
            "previous_miscarriages",
            f"must be between 0 and {MAX_PREVIOUS_MISCARRIAGES}",
        ),
        _problem(
            v["scan_route"].notnull()
            & _none_of(v["scan_route"], (*flat.SCAN_ROUTES, flat.UNKNOWN_WORD)),
            "scan_route",
            f"must be one of {', '.join(flat.SCAN_ROUTES)}",
        ),
        _problem(
            v["scan_location"].notnull() & _none_of(v["scan_location"], flat.SCAN_LOCATIONS),
            "scan_location",
            f"must be one of {', '.join(flat.SCAN_LOCATIONS)}",
        ),
    ]
    for name in _MEASUREMENTS:
        written = parsed[_as_written(name)] if name in measured else None
        problems.append(
            _problem(
                (v[name] < 0) | (v[name] > MAX_MEASUREMENT_MM),
                name,
                f"must be between 0 and {MAX_MEASUREMENT_MM:g} mm",
                None if written is None else (written < 0) | (written > MAX_MEASUREMENT_MM),
            )
        )
    problems.append(
        _problem(
            (v["earlier_crl_mm"] < 0) | (v["earlier_crl_mm"] > MAX_MEASUREMENT_MM),
            "earlier_crl_mm",
            f"must be between 0 and {MAX_MEASUREMENT_MM:g} mm",
        )
    )
    scan = v["scan_date"]
    # The episode's cross-field checks, written once (`earlypath.model.checks`) and compiled here.
    # The flag tests a cross-field check on the measurements as written, as the range checks
    # below (the reason keeps the cleaned cells): a cell the cleaning made NULL (NaN, infinity)
    # is flagged by its range anyway, so the flag marks the same rows and the cleaned CRL is
    # not computed in the audit's COPY, whose rules read it as written too
    # (`as_written_when_accepted`; issue 16, stop 32). Only a cell of the cleaned cell's type:
    # a float32 column is read through its text, which may differ in the last digits.
    same_type = [n for n in measured if parsed[_as_written(n)].type() == v[n].type()]
    written = {**v, **{n: parsed[_as_written(n)] for n in same_type}}
    problems += [
        _cross_field(check, v, written if same_type else None)
        for check in flat_form_checks(frozenset(v))
    ]
    problems += _earlier_crl_problems(v)
    # The flag reads a measurement as written: a cell the cleaning made NULL (NaN, infinity) is
    # flagged by its range anyway, and the cleaned column is then not computed where only the
    # flag reads it (the MSD in the audit's COPY).
    as_written = [parsed[_as_written(n)] if n in measured else v[n] for n in flat.SCAN_FINDINGS]
    problems.append(
        _problem(
            scan.isnull() & _any_notnull([v[n] for n in flat.SCAN_FINDINGS]),
            "scan_date",
            flat.FINDINGS_WITHOUT_SCAN_DATE,
            scan.isnull() & _any_notnull(as_written) if measured else None,
        )
    )
    if "allergies" in raw.columns:
        # Split only the cells long enough to hold a long entry (a list per row is the costliest
        # check; almost every cell is short): a cell of at most the limit has no longer entry.
        cell = parsed[_ALLERGIES_CELL] if _ALLERGIES_CELL in parsed.columns else v["allergies"]
        longest = ibis.cases(
            (
                cell.length() > flat.MAX_ALLERGY_CHARS,
                cell.split(";").map(lambda a: a.strip().length()).maxs(),
            ),
            else_=ibis.null("int32"),
        )
        problems.append(
            _problem(
                longest > flat.MAX_ALLERGY_CHARS,
                "allergies",
                f"has an entry longer than {flat.MAX_ALLERGY_CHARS} characters",
            )
        )

    if isinstance(repeated, ir_t.Table):
        problems.append(
            _problem(v["episode_id"].isin(repeated.episode_id), "episode_id", "is not unique")
        )
    elif repeated:
        listed = ibis.literal(list(repeated), type="array<string>")
        problems.append(_problem(listed.contains(v["episode_id"]), "episode_id", "is not unique"))

    has_scan = scan.notnull()
    # Only ever a CASE WHEN condition, where Unknown is not taken: no COALESCE (computed whole)
    # a CRL not known to be verified (`crl_unverified` true) does not date her (stop 45)
    dating = has_scan & (v["crl_mm"] > 0) & (v["crl_unverified"].isnull() | ~v["crl_unverified"])
    # an earlier scan's CRL dates the pregnancy before the row's scan's (`flat.dating_scan`)
    earlier = has_scan & (v["earlier_crl_mm"] > 0)
    facts = {
        **v,
        # empty: the contract's transvaginal; "unknown": not recorded (NULL, Unknown)
        "scan_route": ibis.cases(
            (
                has_scan & (v["scan_route"] != flat.UNKNOWN_WORD).fill_null(True),
                v["scan_route"].fill_null("transvaginal"),
            ),
            else_=ibis.null("string"),
        ),
        "scan_location": ibis.cases(
            (has_scan, v["scan_location"].fill_null("unknown")), else_=ibis.null("string")
        ),
        "dating_crl_mm": ibis.cases(
            (earlier, v["earlier_crl_mm"]), (dating, v["crl_mm"]), else_=ibis.null("float64")
        ),
        "dating_scan_date": ibis.cases(
            (earlier, v["earlier_crl_date"]), (dating, scan), else_=ibis.null("date")
        ),
    }
    # Whether the row is rejected, as a column of its own: what keeps the good rows is a test of
    # it (`accepted_rows`), not of the built reason (a CASE over the OR, then IS NULL): DuckDB's
    # filter took 0.27 -> 0.15 s for a million rows on one core. The reason reads the same
    # column, so the OR of the checks is written once. It is a CASE WHEN with the OR as its
    # condition, not the OR with NULL filled: DuckDB evaluates a condition with selection
    # vectors, each test (and each AND's next part) only on the rows not yet decided, where a
    # value is computed whole on every row (-48 M of the one-pass COPY's 2,133 M instructions
    # in 200,000 rows; issue 16, round 9).
    flagged = parsed.mutate(_rejected=ibis.cases((_any_found(problems), True), else_=False))
    return flagged.select(
        *keep,
        **facts,
        defaulted_false_cells=flagged._defaulted,
        reject_reason=_reason(problems, flagged._rejected),
        _rejected=flagged._rejected,
        # The measurements as written, for `as_written_when_accepted`
        **{_as_written(n): flagged[_as_written(n)] for n in same_type},
    )


def as_written_when_accepted(accepted: ir_t.Table) -> ir_t.Table:
    """Accepted rows of `check_and_type` (`accepted_rows`) with each measurement read as written
    where the checks give it (a floating column of a DuckDB table): the same values, since the
    cleaning makes only NaN and the infinities NULL and those rows are rejected (their range
    check flags the cell as written). The cleaned column is then read by no part of the audit's
    COPY, which does not compute it (the CRL: a CASE on every row; issue 16, stop 32). Not for
    rejected rows: their cell may be NaN."""
    written = {
        n: accepted[_as_written(n)] for n in _MEASUREMENTS if _as_written(n) in accepted.columns
    }
    return accepted.mutate(**written) if written else accepted


def accepted_rows(checked: ir_t.Table) -> ir_t.Table:
    """The rows of `check_and_type` with no problem (``reject_reason`` NULL), by its
    ``_rejected`` flag (never NULL): the same rows, found without building the reason."""
    return checked.filter(~checked._rejected)


_UNREADABLE = {
    "str": "is not text",
    "bool": "is not true or false",
    "int": "is not a whole number",
    "float": "is not a number",
    "date": "is not a date (YYYY-MM-DD)",
}


def _absent(raw: ir_t.Table, name: str) -> ir_t.BooleanValue:
    # assessed_on that is empty is "required"; one that is unreadable already has its problem.
    col = raw[name]
    if col.type().is_string():
        return col.isnull() | (col.strip() == "")
    return col.isnull()


# The earlier dating scan's cells, as the facts of the scan checks (`flat.earlier_crl_scan`: a
# CRL shows a fetal pole).
_EARLIER_SCAN_CELLS = {"scan_date": "earlier_crl_date", "crl_mm": "earlier_crl_mm"}


def _earlier_crl_problems(v: dict[str, ir_t.Value]) -> list[_Problem]:
    """The problems of the ``earlier_crl_*`` cells, as `flat.earlier_crl_problems` and the
    contract's scan checks (on the earlier scan the Python engine makes of them) give them."""
    day, mm, scan = v["earlier_crl_date"], v["earlier_crl_mm"], v["scan_date"]
    problems = [
        _Problem(mm.notnull() & day.isnull(), ibis.literal(flat.EARLIER_CRL_DATE_NEEDED)),
        _Problem(day.notnull() & mm.isnull(), ibis.literal(flat.EARLIER_CRL_MM_NEEDED)),
        _Problem(
            day.notnull() & (scan.isnull() | (day >= scan)),
            ibis.literal(flat.EARLIER_CRL_NOT_EARLIER),
        ),
    ]

    def cell(name: str) -> ir_t.Value:
        return v[_EARLIER_SCAN_CELLS.get(name, name)]

    # a check reading a finding the earlier scan does not carry (its pole: a CRL shows one) can
    # never find it broken, and is left out
    carried = {"assessed_on", "lmp", *_EARLIER_SCAN_CELLS}
    for check in flat_form_checks(frozenset(v)):
        if check.scope == "scan" and {f.name for f in check.facts} <= carried:
            found = day.notnull() & compile_expr(_as_condition(check.broken), cell)
            field = _EARLIER_SCAN_CELLS.get(check.flat_field, check.flat_field)
            problems.append(_problem(found, field, check.message))
    return problems


def _cross_field(
    check: CrossFieldCheck,
    v: dict[str, ir_t.Value],
    written: dict[str, ir_t.Value] | None = None,
) -> _Problem:
    """One of the episode's cross-field checks over the typed columns of a row; its flag over
    ``written`` (the measurements as written, see `_measured_as_written`) when given and the
    check reads one of them."""
    found = _cross_field_found(check, v)
    if written is None:
        return _problem(found, check.flat_field, check.message)
    flag = _cross_field_found(check, written)
    return _problem(found, check.flat_field, check.message, None if flag.equals(found) else flag)


def _cross_field_found(check: CrossFieldCheck, v: dict[str, ir_t.Value]) -> ir_t.BooleanValue:
    has_scan = v["scan_date"].notnull()
    broken_expr = _as_condition(check.broken)
    if check.scope == "scan":
        # The row's one scan, if it has one: without a scan_date it has none to check (a check
        # that compares the scan_date itself is Unknown then, and needs no test of it).
        broken = compile_expr(broken_expr, v.__getitem__)
        if not _compares(check.broken, "scan_date"):
            broken = has_scan & broken
    elif check.scope == "episode":
        # The episode's scan facts are its latest scan's, as in the model: none without a scan
        # (a row with findings but no scan_date has its own problem).
        def column(name: str) -> ir_t.Value:
            if name not in flat.SCAN_FINDINGS:
                return v[name]
            return ibis.cases((has_scan, v[name]), else_=ibis.null(v[name].type()))

        broken = compile_expr(broken_expr, column)
    else:
        raise ValueError(f"the flat form has no {check.scope} rows to check {check.field} on")
    return broken


def _as_condition(expr: ir.Expr) -> ir.Expr:
    """``expr`` for a place where only True counts (a problem's CASE WHEN, the flag's OR): an
    ``IsTrue(x)`` reached through And and Or alone is ``x`` there, Unknown and False being alike
    "no problem". DuckDB computes ``COALESCE(x, false)`` whole on every row where it tests
    ``x`` by selection (the fetal heartbeat without a fetal pole; issue 16, stop 30)."""
    if isinstance(expr, ir.IsTrue):
        return _as_condition(expr.item)
    if isinstance(expr, ir.And):
        return ir.And(tuple(_as_condition(item) for item in expr.items))
    if isinstance(expr, ir.Or):
        return ir.Or(tuple(_as_condition(item) for item in expr.items))
    return expr


def _compares(expr: ir.Expr, name: str) -> bool:
    """Whether ``expr`` is Unknown or False whenever the fact ``name`` is Unknown: a comparison
    of that fact, or an And with such a comparison among its items."""
    if isinstance(expr, ir.Cmp):
        return any(isinstance(s, ir.Fact) and s.name == name for s in (expr.left, expr.right))
    if isinstance(expr, ir.And):
        return any(_compares(item, name) for item in expr.items)
    return False


# The allergies cell as written, for its one check (`check_and_type`): trimming the whole cell
# cannot change its longest entry (each entry is trimmed, and an empty cell has none), and the
# trimmed column is then not computed by a query that only checks it (the one-pass COPY: 33 M of
# its 2,100 M instructions in 200,000 rows; issue 16, round 9).
_ALLERGIES_CELL = "_allergies_cell"


def _allergies_cell(raw: ir_t.Table) -> dict[str, ir_t.Value]:
    if "allergies" in raw.columns and raw["allergies"].type().is_string():
        return {_ALLERGIES_CELL: raw["allergies"]}
    return {}


def _none_of(value: ir_t.Value, words: Sequence[str]) -> ir_t.BooleanValue:
    """``value`` is none of ``words``, as ``NOT (value IN words)`` is (NULL for NULL), written as
    an AND of inequalities: DuckDB computes a NOT over IN whole on every row, where an AND in a
    condition tests each part only on the rows the parts before left true (issue 16, round 9)."""
    out = value != words[0]
    for word in words[1:]:
        out = out & (value != word)
    return out


def _any_notnull(values: list[ir_t.Value]) -> ir_t.BooleanValue:
    out = values[0].notnull()
    for value in values[1:]:
        out = out | value.notnull()
    return out
