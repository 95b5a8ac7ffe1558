"""Safety vignettes of what shows a current pregnancy (`earlypath.fhir.pregnancy`), run through
the one definition on every engine: the Python engine (the CDS service's reading, one record at a
time) and the compiled definition over the whole export on DuckDB (and Spark, marked).

1. A later, dated record that she is not pregnant (a pregnancy status answered "not pregnant", a
   negative hCG, the "not pregnant" finding) ends the evidence of a pregnancy dated before it; on
   the same day the order is unknown and the pregnancy is kept (and said so); an undated one
   ends nothing; a sign after it starts a pregnancy again. An LMP recorded before it dates
   nothing.
2. An encounter whose subject names no Patient in the export is judged on its record as it
   stands (sex and age unknown, never defaulted) and that is reported, naming the field.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from earlypath.fhir.mapping import has_pregnancy_context, map_resources
from earlypath.fhir.pregnancy import EXCLUDED_NOT_PREGNANT
from earlypath.records.definition import (
    LMP_ENDED_MESSAGE,
    NO_PATIENT_MESSAGE,
    NOT_PREGNANT_CONFLICT_MESSAGE,
)
from tests.audit.test_fhir_mapping_agrees import flattened_rows
from tests.fhir_exports import export_merges, write_export
from tests.records.read_once import ReadOnce, compiled_on_duckdb, in_space
from tests.records.test_engines_agree import readings_of, service_reading

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
VISIT = dt.date(2024, 6, 3)


def _concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _observation(rid: str, code: str, day: str | None, system: str = LOINC, **value: Any) -> dict:
    out: dict[str, Any] = {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "subject": {"reference": "Patient/p"},
        "code": _concept(system, code),
        **value,
    }
    if day is not None:
        out["effectiveDateTime"] = day
    return out


def _status(rid: str, day: str | None, answer: tuple[str, str]) -> dict:
    return _observation(rid, "82810-3", day, valueCodeableConcept=_concept(*answer))


PREGNANT = (SNOMED, "77386006")
NOT_PREGNANT = (SNOMED, "60001007")
NOT_PREGNANT_LOINC = (LOINC, "LA26683-5")


def _hcg(rid: str, day: str, iu_per_l: float) -> dict:
    return _observation(rid, "21198-7", day, valueQuantity={"value": iu_per_l, "unit": "IU/L"})


def _lmp(rid: str, recorded: str, value: str) -> dict:
    return _observation(rid, "8665-2", recorded, valueDateTime=value)


def _pregnancy_condition(rid: str, onset: str, **extra: Any) -> dict:
    return {
        "resourceType": "Condition",
        "id": rid,
        "subject": {"reference": "Patient/p"},
        "code": _concept(SNOMED, "72892002"),
        "onsetDateTime": onset,
        **extra,
    }


def _not_pregnant_condition(rid: str, onset: str) -> dict:
    return {
        "resourceType": "Condition",
        "id": rid,
        "subject": {"reference": "Patient/p"},
        "code": _concept(SNOMED, "60001007"),
        "onsetDateTime": onset,
    }


def _export(*facts: dict, patient: bool = True) -> dict[str, list[dict]]:
    export: dict[str, list[dict]] = {
        "Patient": [{"resourceType": "Patient", "id": "p", "gender": "female"}] if patient else [],
        "Encounter": [
            {
                "resourceType": "Encounter",
                "id": "e1",
                "status": "finished",
                "class": {"code": "AMB"},
                "subject": {"reference": "Patient/p"},
                "period": {"start": VISIT.isoformat()},
            }
        ],
        "Condition": [],
        "Observation": [],
    }
    for fact in facts:
        export[fact["resourceType"]].append(fact)
    return export


Reader = Callable[[dict[str, list[dict]]], tuple[str, list[dict[str, Any]]]]


def _duckdb_women() -> list[dict[str, list[dict]]]:
    """The export of each woman the tests below read on DuckDB (a test's export not here fails):
    a woman per case, and her of the test without her Patient, with it and without it."""
    return [
        *(_export(*facts) for _, facts, _, _, _ in CASES),
        _export(*_NO_PATIENT_FACTS),
        # her Patient's file has no line: an export shape of its own, so read alone (`ReadOnce`)
        _export(*_NO_PATIENT_FACTS, patient=False),
    ]


@pytest.fixture(scope="module")
def duck_together(tmp_path_factory: pytest.TempPathFactory) -> ReadOnce[Any]:
    """The women of `_duckdb_women`, read on DuckDB an export per export shape, once for the
    module (each case read an export of its own until stop 49)."""
    return ReadOnce(_duckdb_women(), tmp_path_factory.mktemp("duck"), compiled_on_duckdb)


@pytest.fixture(params=["python", "duckdb"])
def engine(request: pytest.FixtureRequest) -> Reader:
    """``engine(her export)``: her ids' prefix and her encounter's reading: by the Python engine
    (her export alone, ids as written), or by the compiled definition on DuckDB in the reading of
    every woman of her export shape (her ids prefixed; her problems only those tied to her)."""
    if request.param == "python":
        return lambda export: ("", service_reading(export))
    together: ReadOnce[Any] = request.getfixturevalue("duck_together")

    def reading(export: dict[str, list[dict]]) -> tuple[str, list[dict[str, Any]]]:
        space, hers, got = together.part(export)
        return space, readings_of(got, hers, export_merges(hers))

    return reading


# (name, facts, pregnancy signs, the LMP, problems (ref, message)), read as of VISIT
CASES = [
    (
        "a later 'not pregnant' status ends an earlier 'pregnant' one",
        [_status("a", "2024-04-01", PREGNANT), _status("b", "2024-05-01", NOT_PREGNANT)],
        [],
        None,
        [],
    ),
    (
        "the LOINC answer 'not pregnant' ends it too",
        [_status("a", "2024-04-01", PREGNANT), _status("b", "2024-05-01", NOT_PREGNANT_LOINC)],
        [],
        None,
        [],
    ),
    (
        "a negative hCG after a positive one ends the pregnancy",
        [_hcg("a", "2024-04-01", 1500), _hcg("b", "2024-05-01", 2)],
        [],
        None,
        [],
    ),
    (
        "a 'not pregnant' Condition ends a pregnancy Condition of before",
        [_pregnancy_condition("c", "2024-03-01"), _not_pregnant_condition("d", "2024-05-01")],
        [],
        None,
        [],
    ),
    (
        "a pregnancy Condition recorded after the 'not pregnant' stands (said on that day)",
        [
            _pregnancy_condition("c", "2024-03-01", recordedDate="2024-05-20"),
            _hcg("b", "2024-05-01", 2),
        ],
        ["Condition/c"],
        None,
        [],
    ),
    (
        "a sign after the 'not pregnant' starts a pregnancy again",
        [
            _status("a", "2024-02-01", PREGNANT),
            _hcg("b", "2024-03-01", 2),
            _hcg("c", "2024-05-20", 900),
        ],
        ["Observation/c"],
        None,
        [],
    ),
    (
        "on the same day the order is unknown: the pregnancy is kept, and said so",
        [_status("a", "2024-05-01", PREGNANT), _hcg("b", "2024-05-01", 2)],
        ["Observation/a"],
        None,
        [("Observation/b", NOT_PREGNANT_CONFLICT_MESSAGE)],
    ),
    (
        "an undated 'not pregnant' ends nothing",
        [_status("a", "2024-04-01", PREGNANT), _status("b", None, NOT_PREGNANT)],
        ["Observation/a"],
        None,
        [],
    ),
    (
        "a 'not pregnant' dated after the visit was not known then",
        [_status("a", "2024-04-01", PREGNANT), _status("b", "2024-06-10", NOT_PREGNANT)],
        ["Observation/a"],
        None,
        [],
    ),
    (
        "an LMP recorded before a negative hCG is of the pregnancy that ended: it dates nothing",
        [_lmp("l", "2024-04-20", "2024-04-01"), _hcg("h", "2024-05-01", 2)],
        [],
        None,
        [("Observation/l", LMP_ENDED_MESSAGE)],
    ),
    (
        "an LMP recorded after the negative hCG dates this pregnancy",
        [_hcg("h", "2024-04-01", 2), _lmp("l", "2024-05-20", "2024-04-25")],
        [],
        "2024-04-25",
        [],
    ),
]


@pytest.mark.parametrize(
    ("name", "facts", "signs", "lmp", "problems"), CASES, ids=[c[0] for c in CASES]
)
def test_a_later_not_pregnant_ends_the_evidence_before_it(
    engine: Reader, name: str, facts: list, signs: list, lmp: Any, problems: list
) -> None:
    space, (got,) = engine(_export(*facts))
    assert sorted(got["steps"]["pregnancy_signs"] or []) == in_space(signs, space)
    assert got["steps"]["lmp"] == lmp
    assert got["problems"] == sorted(in_space(problems, space))


def test_the_service_stays_silent_after_a_later_not_pregnant() -> None:
    """The CDS patient-view's own question (`has_pregnancy_context`) on the same records."""
    ended = [_status("a", "2024-04-01", PREGNANT), _hcg("b", "2024-05-01", 2)]
    assert not has_pregnancy_context(map_resources(ended, VISIT))
    again = [*ended, _status("c", "2024-05-20", PREGNANT)]
    assert has_pregnancy_context(map_resources(again, VISIT))
    same_day = [_status("a", "2024-05-01", PREGNANT), _hcg("b", "2024-05-01", 2)]
    assert has_pregnancy_context(map_resources(same_day, VISIT))


# a sample of the women read together on DuckDB, each read again alone: a leak between the women
# of one export (a sign, an LMP, a problem of another's) would make her reading differ
ALONE = [CASES[6], CASES[9], CASES[5]]  # same day (a problem), an LMP ended, a sign again


@pytest.mark.parametrize("case", ALONE, ids=[c[0] for c in ALONE])
def test_a_woman_read_with_others_on_duckdb_is_read_as_when_alone(
    case: tuple[Any, ...], duck_together: ReadOnce[Any], tmp_path: Path
) -> None:
    export = _export(*case[1])
    space, hers, got = duck_together.part(export)
    together = readings_of(got, hers, export_merges(hers))
    alone = readings_of(compiled_on_duckdb(export, tmp_path), export, export_merges(export))
    assert together == in_space(alone, space)
    assert together[0]["steps"]["pregnancy_signs"] or together[0]["problems"]  # something read


_NO_PATIENT_FACTS = [_status("a", "2024-04-01", PREGNANT), _lmp("l", "2024-05-20", "2024-04-25")]


def test_an_encounter_whose_patient_is_not_in_the_export_is_judged_and_reported(
    engine: Reader,
) -> None:
    space, (without,) = engine(_export(*_NO_PATIENT_FACTS, patient=False))
    # still judged on her record (never dropped), her sex unknown (never defaulted) ...
    assert without["steps"]["pregnancy_signs"] == [f"Observation/{space}a"]
    assert without["steps"]["gender"] is None
    assert without["steps"]["patient_known"] is None
    # ... and said once, naming the field
    assert without["problems"] == [("Encounter.subject", NO_PATIENT_MESSAGE)]
    _, (found,) = engine(_export(*_NO_PATIENT_FACTS))
    assert found["steps"]["patient_known"] is True
    assert found["problems"] == []


def test_a_cds_call_without_her_patient_is_judged_with_sex_unknown() -> None:
    """The patient-view's patient is given by its context (her Patient is an optional prefetch
    that nothing decided reads): read with her sex unknown, judged, and no problem on the card."""
    result = map_resources([_status("a", "2024-04-01", PREGNANT)], VISIT)
    assert has_pregnancy_context(result)
    assert result.patient_gender is None
    assert result.problems == []


def _flattened(export: dict[str, list[dict]], folder: Path) -> list[dict[str, Any]]:
    return flattened_rows(write_export(export, folder))


def test_the_duckdb_audit_counts_who_is_an_episode_so(tmp_path: Path) -> None:
    """The flat audit on DuckDB: why each encounter is not an episode (None: it is one)."""
    records = {
        "ended": _export(_status("a", "2024-04-01", PREGNANT), _hcg("b", "2024-05-01", 2)),
        "same day": _export(_status("a", "2024-05-01", PREGNANT), _hcg("b", "2024-05-01", 2)),
        "again": _export(_hcg("b", "2024-03-01", 2), _status("c", "2024-05-20", PREGNANT)),
        "no patient": _export(_status("a", "2024-04-01", PREGNANT), patient=False),
    }
    # the women of one export shape flattened as one export (`ReadOnce`); "no patient", whose
    # Patient file has no line, alone
    together = ReadOnce(records.values(), tmp_path, _flattened)
    got = {}
    for name, export in records.items():
        space, _, rows = together.part(export)
        got[name] = [row["exclusion"] for row in rows if row["episode_id"].startswith(space)]
    assert got == {
        "ended": [EXCLUDED_NOT_PREGNANT],
        "same day": [None],
        "again": [None],
        "no patient": [None],
    }


def _as_woman(export: dict[str, list[dict]], name: str) -> dict[str, list[dict]]:
    """The same record as another woman's: her own patient, encounter and resource ids."""
    out: dict[str, list[dict]] = json.loads(
        json.dumps(export).replace('"Patient/p"', f'"Patient/{name}"')
    )
    for resources in out.values():
        for resource in resources:
            resource["id"] = f"{name}-{resource['id']}" if resource["id"] != "p" else name
    return out


def _renamed(ref: str, name: str, space: str = "") -> str:
    kind, rid = ref.split("/")
    return f"{kind}/{space}{name}-{rid}"


# Spark reads these records as DuckDB does: `tests/audit/test_spark_reading_agreement.py` reads the
# records of `spark_cases` (with its other scenarios, once) and checks them by `check_spark`.
SPARK_PICKED = CASES[::3]  # a few of the cases (status, Condition, same day, ended LMP)


def spark_cases() -> dict[str, dict[str, list[dict]]]:
    """The picked cases and a woman whose Patient is not in the export, each her own patient."""
    cases = {f"case{i}": _export(*facts) for i, (_, facts, _, _, _) in enumerate(SPARK_PICKED)}
    cases["nopatient"] = _export(_status("a", "2024-04-01", PREGNANT), patient=False)
    return cases


def spark_export() -> dict[str, list[dict]]:
    """Every case of `spark_cases` in one export."""
    export: dict[str, list[dict]] = {}
    for name, record in spark_cases().items():
        for kind, resources in _as_woman(record, name).items():
            export.setdefault(kind, []).extend(resources)
    return export


def check_spark(on_spark: list[dict], on_duckdb: list[dict], space: str = "") -> None:
    """Each woman's reading (DuckDB) is her case's, and Spark reads each as DuckDB does
    (``space``: what the ids were prefixed with when read with other records)."""
    cases = spark_cases()
    assert len(on_spark) == len(on_duckdb) == len(cases)
    # each woman's reading in the one export is her case's (the merge kept them apart) ...
    for i, (_, _, signs, lmp, problems) in enumerate(SPARK_PICKED):
        steps = on_duckdb[i]["steps"]
        assert sorted(steps["pregnancy_signs"] or []) == [
            _renamed(r, f"case{i}", space) for r in signs
        ]
        assert steps["lmp"] == lmp, i
        assert on_duckdb[i]["problems"] == sorted(
            (_renamed(ref, f"case{i}", space), message) for ref, message in problems
        )
    assert on_duckdb[-1]["problems"] == [("Encounter.subject", NO_PATIENT_MESSAGE)]
    # ... and Spark reads each as DuckDB does
    for name, spark_row, duckdb_row in zip(cases, on_spark, on_duckdb, strict=True):
        assert spark_row == duckdb_row, name


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_the_audit_report_says_how_many_episodes_were_judged_without_her_patient(
    tmp_path: Path, engine: str
) -> None:
    """Encounter.subject naming no Patient: the episode is judged (never dropped) and summary.json
    and the report say how many, so an analyst reading the age bands knows why some are unknown."""
    from earlypath.audit.run import run_audit

    facts = [_status("a", "2024-04-01", PREGNANT)]
    counted = {}
    for name, patient in (("without", False), ("with", True)):
        folder = write_export(_export(*facts, patient=patient), tmp_path / name)
        out = tmp_path / f"out-{name}"
        run_audit(folder, out, engine=engine)  # type: ignore[arg-type]
        summary = json.loads((out / "summary.json").read_text())
        assert summary["reconciliation"]["evaluated"] == 1
        counted[name] = summary["fhir_export"]["episodes_without_patient"]
        said = "judged without her Patient" in (out / "report.html").read_text()
        assert said is (not patient)
    assert counted == {"without": 1, "with": 0}
