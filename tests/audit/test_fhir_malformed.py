"""Malformed medicines and panel components in a FHIR export (`tests.records.malformed_shapes`):
the compiled reading's problems (DuckDB, Spark) name them as the card's (the Python engine) do,
and a progesterone statement or request whose status cannot be read leaves "on progesterone"
Unknown (the decision needs it), never "not on progesterone"."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ibis
import pyarrow.parquet as pq
import pytest

from earlypath.audit.run import run_audit
from tests.fhir_exports import export_merges, one_export, write_export
from tests.integration.fhir_data import PATIENT_ID, eligible_resources
from tests.records.malformed_shapes import (
    CARE_EVENTS,
    COMPONENTS,
    MEDICINES,
    PANEL_COMPONENTS,
    panel,
    panel_of,
)
from tests.records.read_once import ReadOnce, in_space
from tests.records.real_shapes import export_of
from tests.records.test_engines_agree import assert_same, audit_reading, readings_of
from tests.records.test_ibis_export import compiled_reading, fetched

ENGINES = ["duckdb", "python"]
# what the decision is, by what "on progesterone" reads as
DECISION = {True: "continue", False: "offer", None: "needs_information"}


def _cases() -> dict[str, tuple[dict[str, list[dict[str, Any]]], str | None]]:
    cases = {}
    for shape, (resource, _, on_progesterone) in MEDICINES.items():
        cases[shape] = (export_of([*eligible_resources(), resource]), DECISION[on_progesterone])
    for shape, (component, _) in COMPONENTS.items():
        # (its decision depends on the finding left unread: the engines must only agree)
        cases[f"panel-{shape}"] = (export_of([*eligible_resources(), panel(component)]), None)
    for shape, (components, _) in PANEL_COMPONENTS.items():
        cases[f"panel-{shape}"] = (export_of([*eligible_resources(), panel_of(components)]), None)
    return cases


@pytest.fixture(scope="module")
def export_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exports = {name: export for name, (export, _) in _cases().items()}
    return write_export(one_export(exports), tmp_path_factory.mktemp("malformed") / "in")


def _audit(folder: Path, out: Path, engine: str, **kwargs: Any) -> dict[str, dict]:
    run_audit(folder, out, engine=engine, **kwargs)  # type: ignore[arg-type]
    rows = pq.read_table(out / "episodes.parquet").to_pylist()
    return {r["episode_id"].removeprefix("enc-"): r for r in rows}


@pytest.fixture(scope="module")
def audited(
    export_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], dict[str, dict]]:
    """``audited(engine)``: the episodes of the audit of `export_folder` on that engine, audited
    once for the module's tests (two tests read each engine's audit)."""
    done: dict[str, dict[str, dict]] = {}

    def episodes(engine: str) -> dict[str, dict]:
        if engine not in done:
            done[engine] = _audit(export_folder, tmp_path_factory.mktemp(f"out-{engine}"), engine)
        return done[engine]

    return episodes


def _check(result: dict[str, dict]) -> None:
    for name, (_, decision) in _cases().items():
        row = result[name]
        if decision is None:
            continue
        assert row["decision"] == decision, name
        if decision == "needs_information":
            assert "on_progesterone" in row["missing"], name


@pytest.mark.parametrize("engine", ENGINES)
def test_the_audit_never_reads_a_malformed_medicine_as_not_on_progesterone(
    engine: str, audited: Callable[[str], dict[str, dict]]
) -> None:
    _check(audited(engine))


def test_duckdb_and_python_give_the_same_episodes(
    audited: Callable[[str], dict[str, dict]],
) -> None:
    assert audited("duckdb") == audited("python")


SHAPES = [*(f"m:{s}" for s in sorted(MEDICINES)), *(f"c:{s}" for s in sorted(COMPONENTS))]
Export = dict[str, list[dict[str, Any]]]


def _shape_export(shape: str) -> Export:
    """Her record with this malformed medicine or panel component beside her eligible ones."""
    kind, name = shape.split(":", 1)
    added = MEDICINES[name][0] if kind == "m" else panel(COMPONENTS[name][0])
    return export_of([*eligible_resources(), copy.deepcopy(added)])


def _compiled_on_duckdb(export: Export, folder: Path) -> tuple[list[dict], list[dict]]:
    write_export(export, folder)
    return fetched(compiled_reading(ibis.duckdb.connect(), folder, "duck", export_merges(export)))


@pytest.fixture(scope="module")
def read_on_duckdb(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[Export], tuple[Export, list[dict[str, Any]]]]:
    """``read_on_duckdb(her export)``: her export as read (her ids namespaced) and her encounter's
    steps and problems in the compiled reading on DuckDB of every woman of her export shape
    (`ReadOnce`; each shape's test read an export of its own until stop 49). Her problems are
    those tied to her (her encounter, her patient: `readings_of`), so a malformed resource of
    another woman's cannot be counted as hers."""
    together = ReadOnce(
        [_shape_export(shape) for shape in SHAPES],
        tmp_path_factory.mktemp("duck"),
        _compiled_on_duckdb,
    )

    def reading(export: Export) -> tuple[Export, list[dict[str, Any]]]:
        _, hers, got = together.part(export)
        return hers, readings_of(got, hers, export_merges(hers))

    return reading


@pytest.mark.parametrize("shape", SHAPES)
def test_the_service_and_the_compiled_reading_report_each_alike(
    shape: str, read_on_duckdb: Callable[[Export], tuple[Export, list[dict[str, Any]]]]
) -> None:
    kind, name = shape.split(":", 1)
    hers, reading = read_on_duckdb(_shape_export(shape))
    assert len(reading) == 1, shape  # her encounter, read in the export of her shape's women
    assert_same(hers, reading)
    messages = [message for _, message in reading[0]["problems"]]
    expected = MEDICINES[name][1] if kind == "m" else COMPONENTS[name][1]
    assert expected in messages


# a sample of the women read together above, each read again alone: a leak between the women of
# one export (a problem, a step of another's) would make her rows differ
ALONE = ["m:statement-status-missing", "m:request-status-a-number", "c:value-a-string-number"]


@pytest.mark.parametrize("shape", ALONE)
def test_a_woman_read_with_others_is_read_as_when_alone(
    shape: str,
    read_on_duckdb: Callable[[Export], tuple[Export, list[dict[str, Any]]]],
    tmp_path: Path,
) -> None:
    export = _shape_export(shape)
    hers, together = read_on_duckdb(export)
    alone = audit_reading(ibis.duckdb.connect(), write_export(export, tmp_path), "duck", export)
    space = hers["Patient"][0]["id"].removesuffix(PATIENT_ID)
    assert together == in_space(alone, space)


def test_the_compiled_reading_names_a_panel_whose_component_is_not_coded_objects(
    tmp_path: Path,
) -> None:
    """Every `PANEL_COMPONENTS` shape in one record (one compiled reading: cheap)."""
    panels = []
    for shape, (components, _) in PANEL_COMPONENTS.items():
        panels.append({**panel_of(components), "id": f"us-panel-{shape}"})
    export = export_of([*eligible_resources(), *panels])
    reading = audit_reading(ibis.duckdb.connect(), write_export(export, tmp_path), "duck", export)
    assert_same(export, reading)
    problems = set(reading[0]["problems"])
    for shape, (_, problem) in PANEL_COMPONENTS.items():
        assert (f"Observation/us-panel-{shape}", problem) in problems


def _care_events_record() -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """Her record with every `CARE_EVENTS` shape in it (one compiled reading: cheap)."""
    added = []
    for i, (resource, _, _) in enumerate(CARE_EVENTS.values()):
        added.append({**copy.deepcopy(resource), "id": f"{resource['id']}-{i}"})
    return export_of([*eligible_resources(), *added]), added


def test_the_compiled_reading_names_a_malformed_dispense_or_dose_as_the_service_does(
    tmp_path: Path,
) -> None:
    export, added = _care_events_record()
    reading = audit_reading(ibis.duckdb.connect(), write_export(export, tmp_path), "duck", export)
    assert_same(export, reading)
    problems = set(reading[0]["problems"])
    for resource, (_, problem, _) in zip(added, CARE_EVENTS.values(), strict=True):
        assert (f"{resource['resourceType']}/{resource['id']}", problem) in problems


def test_a_dispense_or_dose_that_cannot_say_what_was_given_leaves_the_care_unknown(
    tmp_path: Path,
) -> None:
    """Each shape as one woman's only record of care at the encounter, with her prescriptions'
    file (no request): care unknown where the record may be progesterone given there."""
    exports = {}
    for shape, (resource, _, _) in CARE_EVENTS.items():
        exports[shape] = export_of([*eligible_resources(), copy.deepcopy(resource)])
        exports[shape]["MedicationRequest"] = []
    rows = _audit(write_export(one_export(exports), tmp_path / "in"), tmp_path / "out", "duckdb")
    for shape, (_, _, unknown) in CARE_EVENTS.items():
        if unknown:
            assert rows[shape]["progesterone_prescribed"] is None, shape
            assert rows[shape]["adherence"] == "care_unknown", shape


def spark_export() -> dict[str, list[dict[str, Any]]]:
    """One record holding every shape: `tests/audit/test_spark_reading_agreement.py` reads it on
    Spark (with its other scenarios, once) and checks Spark reads and reports them as the service
    does (`assert_same`)."""
    added = [copy.deepcopy(r) for r, _, _ in MEDICINES.values()]
    added += [r for r, _, _ in CARE_EVENTS.values()]
    added += [panel(c) for c, _ in COMPONENTS.values()]
    added += [panel_of(c) for c, _ in PANEL_COMPONENTS.values()]
    for i, resource in enumerate(added):
        resource["id"] = f"{resource['id']}-{i}"
    return export_of([*eligible_resources(), *added])
