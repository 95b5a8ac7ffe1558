"""A previous ectopic pregnancy or miscarriage read from a history entry or a Procedure
(`tests.records.previous_history_shapes`), by the one definition on the card's Python engine and
on DuckDB over one export of every case (Spark: the read scenario ``previous-history`` of
`tests/audit/test_spark_reading_agreement.py`)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from earlypath.fhir.mapping import map_resources
from earlypath.fhir.terminology import load_value_sets
from earlypath.records.definition import READING
from earlypath.records.python import read_rows
from tests.fhir_exports import Export
from tests.integration.fhir_data import TODAY
from tests.records.case_exports import duckdb_readings, export_of_cases
from tests.records.previous_history_shapes import CASES
from tests.records.test_engines_agree import assert_same

READ = ("previous_ectopic", "previous_miscarriages", "miscarriage_diagnosed")


def export() -> Export:
    """Every case's record as one export, one woman and one encounter today each, in case order."""
    return export_of_cases(CASES)


# stop 37: an undated resource whose reasonCodes name one event several times (34801009 and a
# child, SNOMED beside ICD-10 or Read) is named once, on every engine: one row per resource
NAMED_ONCE = {
    "salpingectomy-for-an-ectopic-and-its-child-undated": "ectopic pregnancy has no full date",
    "methotrexate-given-for-an-ectopic-icd10-and-read-undated": (
        "ectopic pregnancy has no full date"
    ),
    "erpc-for-a-missed-miscarriage-snomed-and-icd10-undated": "miscarriage has no date",
}


# stop 38: a "Medication/x" the record does not hold, with an ectopic reason, is named (the
# resource and the Medication) on every engine; for another reason, or a Medication the record
# holds that is not methotrexate, nothing is named
MISSING_NAMED = {
    "methotrexate-exported-medication-missing-for-an-ectopic-2019": "mtx9",
    "medication-missing-taken-for-a-contained-ectopic-2019": "mtx9",
    "medication-missing-given-for-an-ectopic-absolute-reference-2019": "mtx9",
}
MISSING_NOT_NAMED = (
    "medication-missing-for-psoriasis-2019",
    "progesterone-exported-medication-for-an-ectopic-2019",
    "methotrexate-exported-medication-for-an-ectopic-2019",
    "methotrexate-contained-medication-for-psoriasis-2019",
)
MISSING = "which the record does not include"
# stop 39: a Medication the record holds with no code and no name, with an ectopic reason, is
# named (exported: its id; contained: as contained); coded as another medicine we list, or
# named, or for another reason, nothing is named
_EXPORTED_UNNAMED = ("names Medication/", "med7 for an ectopic pregnancy")
UNNAMED_NAMED = {
    "medication-unnamed-for-an-ectopic-2019": _EXPORTED_UNNAMED,
    "medication-unnamed-local-code-given-for-a-contained-ectopic-2019": _EXPORTED_UNNAMED,
    "medication-unnamed-contained-taken-for-an-ectopic-2019": ("its contained Medication",),
}
UNNAMED_NOT_NAMED = (
    "medication-unnamed-for-psoriasis-2019",
    "medication-bare-progesterone-code-for-an-ectopic-2019",
    "medication-named-another-medicine-for-an-ectopic-2019",
)
UNNAMED = "has no code or name the record reading knows"


def _unnamed_named(name: str, problems: list[tuple[str, str]]) -> None:
    """``problems`` ((resource, message) pairs) name a Medication held with no code or name as
    ``name`` should, and nothing else of its medicine."""
    named = [(ref, m) for ref, m in problems if UNNAMED in m]
    if name in UNNAMED_NAMED:
        assert len(named) == 1, (name, problems)
        assert named[0][0].startswith("Medication"), (name, named)
        assert named[0][0].endswith("x1"), (name, named)
        assert all(part in named[0][1] for part in UNNAMED_NAMED[name]), (name, named)
        assert "whether it was methotrexate is unknown" in named[0][1], named
    else:
        assert named == [], (name, named)
    if name in UNNAMED_NOT_NAMED:
        assert not [m for _, m in problems if "methotrexate" in m], (name, problems)


def _missing_named(name: str, problems: list[tuple[str, str]]) -> None:
    """``problems`` ((resource, message) pairs) name a missing Medication as ``name`` should."""
    named = [(ref, m) for ref, m in problems if MISSING in m]
    if name in MISSING_NAMED:
        ref = next(r for r in CASES[name][0] if r["resourceType"].startswith("Medication"))
        # (the one export prefixes each case's ids with its name; Spark's scenario export each id
        # with its scenario's, `tests.fhir_exports.namespaced`)
        assert len(named) == 1, (name, problems)
        assert named[0][0].startswith(f"{ref['resourceType']}/"), (name, named)
        assert named[0][0].endswith((f"/{ref['id']}", f"{name}-{ref['id']}")), (name, named)
        assert named[0][1].startswith("names Medication/"), named
        assert f"{MISSING_NAMED[name]} for an ectopic pregnancy" in named[0][1], named
        assert "whether it was methotrexate is unknown" in named[0][1], named
    else:
        assert named == [], (name, named)


def check(export: Export, readings: list[dict[str, Any]]) -> None:
    """Each encounter's reading (`readings_of`, in the export's encounter order) gives its case's
    values, and every step and problem as the card's Python reading gives them."""
    assert_same(export, readings)
    got = [tuple(r["steps"][name] for name in READ) for r in readings]
    assert dict(zip(CASES, got, strict=True)) == {name: exp for name, (_, exp) in CASES.items()}
    for name, reading in zip(CASES, readings, strict=True):
        if name in NAMED_ONCE:
            named = [m for _, m in reading["problems"] if NAMED_ONCE[name] in m]
            assert len(named) == 1, (name, reading["problems"])
        _missing_named(name, [(ref, m) for ref, m in reading["problems"]])
        _unnamed_named(name, [(ref, m) for ref, m in reading["problems"]])


@pytest.mark.parametrize("name", list(CASES))
def test_the_card_reads_a_previous_ectopic_or_miscarriage_so_coded(name: str) -> None:
    resources, expected = CASES[name]
    reading = map_resources(resources, TODAY)
    assert tuple(reading.episode[field] for field in READ) == expected, name
    # the card names the record a previous ectopic or miscarriage came from ("Data used")
    for field, value in zip(READ[:2], expected[:2], strict=True):
        if value:
            assert reading.evidence.get(field), (name, field)


# an ectopic treated in this pregnancy: this pregnancy's location is ectopic, on that day
THIS_PREGNANCY_ECTOPIC = {
    "salpingectomy-this-pregnancy": "2024-02-20",
    "salpingectomy-for-an-ectopic-this-pregnancy": "2024-02-20",
    "methotrexate-for-an-ectopic-this-pregnancy": "2024-02-26",
    "methotrexate-contained-medication-for-an-ectopic-this-pregnancy": "2024-02-26",
    "salpingectomy-for-a-contained-ectopic-this-pregnancy": "2024-02-20",
    "methotrexate-exported-medication-for-an-ectopic-this-pregnancy": "2024-02-26",
    "salpingectomy-for-a-second-contained-reason-ectopic-this-pregnancy": "2024-02-20",
}


@pytest.mark.parametrize("name", list(THIS_PREGNANCY_ECTOPIC))
def test_an_ectopic_treated_in_this_pregnancy_is_its_location(name: str) -> None:
    reading = map_resources(CASES[name][0], TODAY)
    assert reading.episode["scans"] == [
        # no route recorded: Unknown (stop 42, w-route42), not the contract's transvaginal
        {"date": THIS_PREGNANCY_ECTOPIC[name], "location": "ectopic", "route": None}
    ], name


@pytest.mark.parametrize(
    "name", ["salpingectomy-for-an-ectopic-undated", "methotrexate-for-an-ectopic-undated"]
)
def test_an_undated_treated_ectopic_is_named_and_its_location_unknown(name: str) -> None:
    reading = map_resources(CASES[name][0], TODAY)
    assert not reading.episode.get("scans"), name
    assert [
        p.message for p in reading.problems if "ectopic pregnancy has no full date" in p.message
    ], (
        name,
        reading.problems,
    )


@pytest.mark.parametrize(
    "name",
    [
        "salpingectomy-for-an-ectopic-coded-and-contained-undated",
        # named by its exported Medication and its reference's display (stop 36)
        "methotrexate-exported-medication-and-display-undated",
    ],
)
def test_a_treatment_whose_ectopic_is_read_two_ways_is_read_once(name: str) -> None:
    # one row, not one per way its reason or its medicine is given: the undated one named once
    reading = map_resources(CASES[name][0], TODAY)
    named = [p for p in reading.problems if "ectopic pregnancy has no full date" in p.message]
    assert len(named) == 1, reading.problems


@pytest.mark.parametrize("name", list(NAMED_ONCE))
def test_a_resource_whose_reasons_repeat_one_event_is_named_once(name: str) -> None:
    reading = map_resources(CASES[name][0], TODAY)
    named = [p for p in reading.problems if NAMED_ONCE[name] in p.message]
    assert len(named) == 1, (name, reading.problems)


# stop 37: every case whose resource has several reasonCodes gives one row of that resource
SEVERAL_REASONS = [
    name
    for name, (resources, _) in CASES.items()
    if any(len(r.get("reasonCode", [])) > 1 for r in resources)
]


@pytest.mark.parametrize("name", SEVERAL_REASONS)
def test_a_resource_gives_one_row_however_many_reasons_it_has(name: str) -> None:
    resources, _ = CASES[name]
    rows = read_rows(READING, resources).tables["clinical"]
    refs = Counter(row["ref"] for row in rows)
    several = {
        f"{r['resourceType']}/{r['id']}" for r in resources if len(r.get("reasonCode", [])) > 1
    }
    assert {ref: refs[ref] for ref in several} == dict.fromkeys(several, 1), name


@pytest.mark.parametrize(
    "name",
    [
        "methotrexate-unresolved-medication-for-an-ectopic-2019",
        "unresolved-medication-for-a-contained-ectopic-2019",
    ],
)
def test_a_medicine_for_an_ectopic_that_cannot_be_resolved_is_named(name: str) -> None:
    reading = map_resources(CASES[name][0], TODAY)
    assert reading.episode["previous_ectopic"] is None, name
    assert [p.message for p in reading.problems if "could not be resolved" in p.message], (
        name,
        reading.problems,
    )


@pytest.mark.parametrize("name", [*MISSING_NAMED, *MISSING_NOT_NAMED])
def test_a_medication_the_record_does_not_hold_is_named_for_an_ectopic_only(name: str) -> None:
    reading = map_resources(CASES[name][0], TODAY)
    assert reading.episode["previous_ectopic"] is not False, name
    _missing_named(name, [(p.field, p.message) for p in reading.problems])


@pytest.mark.parametrize("name", [*UNNAMED_NAMED, *UNNAMED_NOT_NAMED])
def test_a_medication_held_with_no_code_or_name_is_named_for_an_ectopic_only(name: str) -> None:
    reading = map_resources(CASES[name][0], TODAY)
    assert reading.episode["previous_ectopic"] is None, name
    _unnamed_named(name, [(p.field, p.message) for p in reading.problems])


def _with_each_methotrexate_code() -> dict[str, tuple[list[dict[str, Any]], Any]]:
    """A case per code of `methotrexate` (stop 38: dm+d VMPs and AMPs, RxNorm SCDs and SBDs,
    injectable and oral): a completed request for an ectopic pregnancy in 2019 whose medicine is
    that code alone (no display, no text), as a case of `CASES` is."""
    resources, expected = CASES["methotrexate-rxnorm-ingredient-for-an-ectopic-2019"]
    out = {}
    for c in load_value_sets()["methotrexate"].codes:
        medicine = {"coding": [{"system": c.system, "code": c.code}]}
        coded = [
            r | {"medicationCodeableConcept": medicine}
            if r["resourceType"] == "MedicationRequest"
            else r
            for r in resources
        ]
        out[f"{c.system.rsplit('/', 1)[-1]}-{c.code}"] = (coded, expected)
    return out


def test_every_methotrexate_code_alone_for_an_ectopic_is_a_previous_ectopic() -> None:
    # on the card; DuckDB reads the same sets' code table, checked on a code of each kind (an
    # SCD, an SBD, a VMP, an AMP: `CASES`, test_duckdb_reads_these_records_as_the_card_does; all
    # codes on DuckDB cost some 3 minutes: a plan of its own and 360 women)
    cases = _with_each_methotrexate_code()
    assert len(cases) == len(load_value_sets()["methotrexate"].codes)
    missed = [
        name
        for name, (resources, expected) in cases.items()
        if tuple(map_resources(resources, TODAY).episode[field] for field in READ) != expected
    ]
    assert missed == []


def test_a_history_of_ectopic_recorded_after_the_assessment_is_named() -> None:
    resources, _ = CASES["gp-history-of-ectopic-after-the-assessment"]
    reading = map_resources(resources, TODAY)
    assert [p.message for p in reading.problems if "history of ectopic" in p.message], (
        reading.problems
    )


def test_duckdb_reads_these_records_as_the_card_does(tmp_path: Path) -> None:
    whole = export()
    check(whole, duckdb_readings(whole, tmp_path / "in", "ph"))
