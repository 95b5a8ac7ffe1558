"""The episode's cross-field checks are written once (`earlypath.model.checks`) and enforced by
both readers of the input contract: the pydantic model (the service and the CLI) and the audit's
SQL row validation (`earlypath.audit.validate`).

For every check in the shared list a violating episode and a violating flat row are built from
the check itself (a search over a few values of the facts it reads), so a check added to the
list is tested here without writing a test for it; a check written by hand on one side only is
caught by `test_the_model_has_no_check_of_its_own` and
`test_the_sql_has_no_cross_field_check_of_its_own`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings

from earlypath import facts as facts_module
from earlypath.audit import flat
from earlypath.audit.flat import flat_to_episode
from earlypath.audit.run import evaluate
from earlypath.audit.validate import check_and_type, repeated_ids
from earlypath.engines.evaluate import compile_expr
from earlypath.errors import CellError, InputError
from earlypath.guideline.versions import BEFORE_NG126_MESSAGE, UNKNOWN_VERSION_MESSAGE
from earlypath.model import Episode, HcgSample, Scan, parse_episode
from earlypath.model import checks as checks_module
from earlypath.model.checks import (
    CROSS_FIELD_CHECKS,
    CrossFieldCheck,
    flat_form_checks,
)
from earlypath.model.episode import DATE_RANGE_MESSAGE
from earlypath.rules.ir import Fact, IsNull, IsTrue, all_of
from tests.audit.helpers import FLAT_SCHEMA, fetched, write_rows
from tests.audit.strategies import cohorts

DAY = dt.date(2024, 3, 4)
DATES = (DAY - dt.timedelta(days=400), DAY - dt.timedelta(days=30), DAY, DAY + dt.timedelta(days=1))
# The values tried for each fact a check reads (None: not recorded). A check reading a fact
# missing here fails the test below: add the fact here and to `_episode`.
CANDIDATES: dict[str, tuple[Any, ...]] = {
    "assessed_on": (DAY,),
    "lmp": (*DATES, None),
    "scan_date": (*DATES, None),
    "hcg_taken_on": DATES,
    "fetal_pole": (True, False, None),
    "fetal_heartbeat": (True, False, None),
    "crl_mm": (5.0, None),
    "msd_mm": (10.0, None),
    "previous_miscarriages": (0, 5, None),
    "vaginal_bleeding": (True, False, None),
    "heavy_bleeding": (True, False, None),
    "miscarriage_diagnosed": (True, False),
    "miscarriage_type": ("missed", None),
    "second_opinion_no_heartbeat": (True, False),
    "hcg_time_zones_mixed": (True, False),
    "on_progesterone": (True, False, None),
    "on_other_progestogen": (True, False),
}
SCAN_FACTS = ("fetal_pole", "fetal_heartbeat", "crl_mm", "msd_mm")
FLAT = frozenset(flat.FLAT_COLUMNS)
PREVIOUS_MISCARRIAGES = Fact("previous_miscarriages", "int")
MSD_MM = Fact("msd_mm", "float")


def _violation(check: CrossFieldCheck) -> dict[str, Any]:
    """Values of the check's facts that break it (by the reference evaluator)."""
    names = [f.name for f in check.facts]
    # A scan's findings come with its date, a sample with its time: search over those too.
    if check.scope == "scan" or any(n in SCAN_FACTS for n in names):
        names += [] if "scan_date" in names else ["scan_date"]
    if check.scope == "hcg":
        names += [] if "hcg_taken_on" in names else ["hcg_taken_on"]
    unknown = [n for n in names if n not in CANDIDATES]
    assert not unknown, f"no test values for the fact(s) {unknown}: add them to CANDIDATES"
    broken = compile_expr(check.broken)
    for values in itertools.product(*(CANDIDATES[n] for n in names)):
        found = dict(zip(names, values, strict=True))
        if found.get("scan_date") is None and any(found.get(n) is not None for n in SCAN_FACTS):
            continue  # findings without a scan: no episode has them
        if check.scope == "scan" and found.get("scan_date") is None:
            continue  # the scan being checked has a date
        if broken({**dict.fromkeys(CANDIDATES), **found}) is True:
            return found
    raise AssertionError(f"no values of {names} break the check {check.field}: {check.message}")


def _episode(values: dict[str, Any]) -> dict[str, Any]:
    """An episode whose facts are ``values`` (its one scan is the latest)."""
    episode: dict[str, Any] = {"assessed_on": DAY.isoformat(), "scans": [], "hcg": []}
    for name in (
        "lmp",
        "previous_miscarriages",
        "vaginal_bleeding",
        "heavy_bleeding",
        "miscarriage_diagnosed",
        "miscarriage_type",
        "second_opinion_no_heartbeat",
        "on_progesterone",
        "on_other_progestogen",
    ):
        if values.get(name) is not None:
            episode[name] = values[name]
    if values.get("scan_date") is not None:
        scan = {"date": values["scan_date"], "location": "unknown"}
        scan |= {n: values[n] for n in SCAN_FACTS if values.get(n) is not None}
        episode["scans"].append(scan)
    if values.get("hcg_taken_on") is not None:
        taken = dt.datetime.combine(values["hcg_taken_on"], dt.time(10))
        episode["hcg"].append({"taken_at": taken.isoformat(), "iu_per_l": 100.0})
    if values.get("hcg_time_zones_mixed"):
        for time in ("T09:00", "T10:00Z"):
            episode["hcg"].append({"taken_at": f"{DAY}{time}", "iu_per_l": 100.0})
    return episode


def _model_problems(episode: dict[str, Any]) -> list[str]:
    try:
        parse_episode(episode)
    except InputError as error:
        return [f"{p.field}: {p.message}" for p in error.problems]
    return []


def _sql_reasons(rows: list[dict[str, Any]]) -> list[str | None]:
    """The audit's reject reason of each flat row (NULL: accepted), computed in DuckDB."""
    raw = ibis.memtable(pa.Table.from_pylist(rows, schema=FLAT_SCHEMA))
    checked = check_and_type(raw, repeated_ids(raw)).select("episode_id", "reject_reason")
    by_id = {
        r["episode_id"]: r["reject_reason"]
        for r in ibis.duckdb.connect().to_pyarrow(checked).to_pylist()
    }
    return [by_id[row["episode_id"]] for row in rows]


def _where(check: CrossFieldCheck) -> str:
    if check.scope == "scan":
        return f"scans[0].{check.field}"
    if check.scope == "hcg":
        return f"hcg[0].{check.field}"
    return check.field


def _assert_both_enforce(checks: tuple[CrossFieldCheck, ...]) -> None:
    rows, expected = [], []
    for i, check in enumerate(checks):
        values = _violation(check)
        problems = _model_problems(_episode(values))
        assert f"{_where(check)}: {check.message}" in problems, (check, values, problems)
        if check in flat_form_checks(FLAT, checks):
            rows.append({"episode_id": f"e{i}", "assessed_on": DAY, **values})
            expected.append(f"{check.flat_field}: {check.message}")
        else:  # a flat row has no hCG samples, or no column for one of its facts
            assert check.scope == "hcg" or any(f.name not in FLAT for f in check.facts)
    for row, reason, want in zip(rows, _sql_reasons(rows), expected, strict=True):
        assert reason is not None and want in reason.split("; "), (row, reason, want)


def test_every_shared_check_is_enforced_by_the_model_and_the_sql() -> None:
    _assert_both_enforce(CROSS_FIELD_CHECKS)
    # The flat form carries the facts of these, so the audit applies them (the others read hCG,
    # the second opinion, heavy bleeding or the miscarriage type, which a flat row cannot hold).
    assert {(c.flat_field, c.message) for c in flat_form_checks(FLAT)} == {
        ("lmp", "is after assessed_on"),
        ("lmp", "is more than 45 weeks before assessed_on"),
        ("scan_date", "is after assessed_on"),
        ("scan_date", "is before the lmp"),
        ("fetal_pole", "is false but fetal_heartbeat is true"),
        ("crl_mm", "is given but fetal_pole is false"),
    }


def test_a_check_added_to_the_shared_list_is_enforced_by_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # They read facts no check read before (a count, the MSD), and both sides apply them.
    made_up = (
        CrossFieldCheck(
            "episode",
            "previous_miscarriages",
            all_of(PREVIOUS_MISCARRIAGES.gt(3), IsNull(checks_module.LMP)),
            "is more than 3 but lmp is not given (a check made up by the test)",
        ),
        CrossFieldCheck(
            "scan",
            "msd_mm",
            all_of(MSD_MM.gt(5.0), IsNull(checks_module.CRL_MM)),
            "is more than 5 but crl_mm is not given (a check made up by the test)",
        ),
    )
    episode = {
        "assessed_on": DAY.isoformat(),
        "previous_miscarriages": 4,
        "scans": [{"date": DAY.isoformat(), "location": "unknown", "msd_mm": 10.0}],
    }
    row = {"episode_id": "e", "assessed_on": DAY, "previous_miscarriages": 4, "scan_date": DAY}
    row |= {"msd_mm": 10.0}
    assert _model_problems(episode) == [] and _sql_reasons([row]) == [None]

    monkeypatch.setattr(checks_module, "CROSS_FIELD_CHECKS", CROSS_FIELD_CHECKS + made_up)
    _assert_both_enforce(made_up)
    assert _model_problems(episode) == [
        "previous_miscarriages: is more than 3 but lmp is not given (a check made up by the test)",
        "scans[0].msd_mm: is more than 5 but crl_mm is not given (a check made up by the test)",
    ]
    assert _sql_reasons([row]) == [
        "previous_miscarriages: is more than 3 but lmp is not given (a check made up by the test)"
        "; msd_mm: is more than 5 but crl_mm is not given (a check made up by the test)"
    ]


def test_an_episode_check_reads_no_scan_facts_from_a_row_without_a_scan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # In the model, an episode without a scan has no scan facts; a flat row with findings but
    # no scan_date has no scan either (and its own problem), whatever its finding cells say.
    made_up = CrossFieldCheck(
        "episode",
        "vaginal_bleeding",
        all_of(IsTrue(checks_module.VAGINAL_BLEEDING), IsTrue(checks_module.FETAL_HEARTBEAT)),
        "is true and so is the latest fetal_heartbeat (a check made up by the test)",
    )
    monkeypatch.setattr(checks_module, "CROSS_FIELD_CHECKS", (*CROSS_FIELD_CHECKS, made_up))
    _assert_both_enforce((made_up,))
    row = {"episode_id": "e", "assessed_on": DAY, "vaginal_bleeding": True}
    row |= {"fetal_heartbeat": True}
    assert _sql_reasons([row]) == [f"scan_date: {flat.FINDINGS_WITHOUT_SCAN_DATE}"]


def test_a_check_reading_what_the_model_cannot_give_fails_loudly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Never a silent pass, and never reported as the user's bad input.
    odd = CrossFieldCheck("episode", "lmp", IsTrue(Fact("no_such_fact", "bool")), "is odd")
    monkeypatch.setattr(checks_module, "CROSS_FIELD_CHECKS", (*CROSS_FIELD_CHECKS, odd))
    with pytest.raises(TypeError, match="no_such_fact"):
        parse_episode({"assessed_on": DAY.isoformat()})


def test_the_model_has_no_check_of_its_own() -> None:
    # The contract's own validators: per-field types and ranges (in the annotations) and the one
    # model validator that runs the shared list. A cross-field check belongs in model/checks.py.
    decorators = Episode.__pydantic_decorators__
    assert set(decorators.model_validators) == {"_cross_field_checks"}
    assert not decorators.field_validators
    for model in (Scan, HcgSample):
        assert not model.__pydantic_decorators__.model_validators
        assert not model.__pydantic_decorators__.field_validators


# The reasons the audit's SQL gives that are not the shared cross-field checks: each column's own
# check (unreadable, out of range, not one of the words) and what only the flat form can get
# wrong. A new cross-field check written in validate.py alone would show up here.
OWN_REASONS = {
    *(
        f"{name}: is not a date (YYYY-MM-DD)"
        for name, k in flat.FLAT_COLUMNS.items()
        if k == "date"
    ),
    *(f"{name}: is not true or false" for name, k in flat.FLAT_COLUMNS.items() if k == "bool"),
    "previous_miscarriages: is not a whole number",
    "crl_mm: is not a number",
    "msd_mm: is not a number",
    "episode_id: is required",
    "assessed_on: is required",
    "episode_id: is not unique",
    "previous_miscarriages: must be between 0 and 50",
    "crl_mm: must be between 0 and 120 mm",
    "msd_mm: must be between 0 and 120 mm",
    "scan_route: must be one of transvaginal, transabdominal",
    "scan_location: must be one of intrauterine, ectopic, unknown, report_not_read",
    "allergies: has an entry longer than 200 characters",
    f"scan_date: {flat.FINDINGS_WITHOUT_SCAN_DATE}",
    f"assessed_on: {BEFORE_NG126_MESSAGE}",
    f"guideline_version: {UNKNOWN_VERSION_MESSAGE}",
    *(
        f"{name}: {DATE_RANGE_MESSAGE}"
        for name in ("assessed_on", "lmp", "scan_date", "earlier_crl_date")
    ),
    # the earlier dating scan's cells (stop 44): the flat form's own pairing and order, its
    # CRL's range, and the shared scan checks applied to that scan (named by its cell)
    "earlier_crl_mm: is not a number",
    "earlier_crl_mm: must be between 0 and 120 mm",
    flat.EARLIER_CRL_DATE_NEEDED,
    flat.EARLIER_CRL_MM_NEEDED,
    flat.EARLIER_CRL_NOT_EARLIER,
    *(
        f"earlier_crl_date: {c.message}"
        for c in CROSS_FIELD_CHECKS
        if c.scope == "scan" and c.field == "date"
    ),
}


def test_the_sql_has_no_cross_field_check_of_its_own() -> None:
    # with the optional earlier dating CRL's cells (stop 44) and the CRL's "not verified" flag
    # (stop 45), which FLAT_SCHEMA leaves out
    schema = (
        FLAT_SCHEMA.append(pa.field("earlier_crl_date", pa.date32()))
        .append(pa.field("earlier_crl_mm", pa.float64()))
        .append(pa.field("crl_unverified", pa.bool_()))
    )
    as_text = pa.schema([(name, pa.string()) for name in schema.names])
    sql = "\n".join(
        str(ibis.to_sql(check_and_type(raw, ["x"]), dialect="duckdb"))
        for raw in (ibis.table(ibis.Schema.from_pyarrow(s), name="raw") for s in (schema, as_text))
    )
    literals = (text.replace("''", "'") for text in re.findall(r"'((?:[^']|'')*)'", sql))
    reasons = {text for text in literals if re.match(r"[a-z_]+: ", text)}
    shared = {f"{c.flat_field}: {c.message}" for c in flat_form_checks(FLAT)}
    assert shared <= reasons
    assert reasons >= OWN_REASONS, OWN_REASONS - reasons  # the list above is not stale
    own = reasons - shared - OWN_REASONS
    assert not own, f"written in validate.py only (write them in model/checks.py): {own}"


def test_the_checks_name_their_facts_as_the_rules_do() -> None:
    vocabulary = {f.name: f for f in facts_module.ALL_FACTS}
    for check in CROSS_FIELD_CHECKS:
        for fact in check.facts:
            if fact.name in vocabulary:
                assert fact == vocabulary[fact.name], fact
            if fact.name in flat.FLAT_COLUMNS:
                assert flat.FLAT_COLUMNS[fact.name] == fact.type, fact


def _violating_rows(path: Path) -> Path:
    """A cohort with a row breaking each check the flat form carries, and one with scan findings
    but no scan date (the flat form's own cross-field problem)."""
    rows = [
        {"episode_id": f"e{i}", "assessed_on": DAY, **_violation(check)}
        for i, check in enumerate(flat_form_checks(FLAT))
    ]
    rows.append({"episode_id": "findings", "assessed_on": DAY, "crl_mm": 5.0})
    return write_rows(rows, path)


def _reasons(path: Path, engine: str, spark: Any = None) -> dict[str, str]:
    _, rejects = fetched(evaluate(path, engine, spark=spark))  # type: ignore[arg-type]
    return {r["episode_id"]: r["reject_reason"] for r in rejects}


def test_python_and_duckdb_word_these_rejects_alike(tmp_path: Path) -> None:
    # The reference engine validates with the model, DuckDB with the compiled checks: one
    # definition, so one wording (the flat form's own problem included).
    path = _violating_rows(tmp_path / "c.parquet")
    sql = _reasons(path, "duckdb")
    assert len(sql) == len(flat_form_checks(FLAT)) + 1
    assert sql["findings"] == f"scan_date: {flat.FINDINGS_WITHOUT_SCAN_DATE}"
    assert _reasons(path, "python") == sql


@pytest.mark.spark
def test_spark_rejects_these_rows_as_duckdb_does(tmp_path: Path, spark: Any) -> None:
    path = _violating_rows(tmp_path / "c.parquet")
    assert _reasons(path, "spark", spark) == _reasons(path, "duckdb")


def _model_cross_field(row: dict[str, Any]) -> set[str] | None:
    """The shared checks the model finds broken in a flat row, named by flat column; None when
    the model does not get as far as them (a cell, or one field, is wrong: pydantic then runs no
    model validator)."""
    try:
        problems = _model_problems(flat_to_episode(row))
    except CellError:
        return None
    shared = {f"{c.field}: {c.message}" for c in CROSS_FIELD_CHECKS if c.scope == "episode"}
    shared |= {f"scans[0].{c.field}: {c.message}" for c in CROSS_FIELD_CHECKS if c.scope == "scan"}
    if any(p not in shared for p in problems):
        return None
    scan_columns = {field: fact for fact, field in checks_module.SCAN_FACT_FIELDS.items()}
    named = set()
    for problem in problems:
        field, message = problem.split(": ", 1)
        if field.startswith("scans[0]."):
            field = scan_columns[field.removeprefix("scans[0].")]
        named.add(f"{field}: {message}")
    return named


@settings(max_examples=60, deadline=None)
@given(rows=cohorts(max_size=30, broken=True))
def test_generated_rows_break_the_same_shared_checks_in_the_model_and_the_sql(
    rows: list[dict[str, Any]],
) -> None:
    shared = {f"{c.flat_field}: {c.message}" for c in flat_form_checks(FLAT)}
    for i, row in enumerate(rows):
        row["episode_id"] = f"r{i}"  # the id checks are not the point here
    for row, reason in zip(rows, _sql_reasons(rows), strict=True):
        in_model = _model_cross_field(row)
        if in_model is not None:
            assert {r for r in (reason or "").split("; ") if r in shared} == in_model, row
