"""The FHIR audit reads her medicines as the CDS service does (issue 12, real records), on DuckDB,
the Python engine and Spark alike:

- ``MedicationStatement.ndjson`` is read (it was skipped as a type the audit does not read, so
  a GP record of Utrogestan gave "offer" where the card says "continue"), and listed in
  summary.json's ``files_read`` as the other types are;
- a request made at the audited encounter for a medicine that cannot be identified (it may be
  progesterone) leaves the care given Unknown (``care_unknown``), never "not offered".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow.parquet as pq
import pytest

from earlypath.audit.fhir_flat import RESOURCES
from earlypath.audit.run import run_audit
from earlypath.records.definition import READING
from tests.fhir_exports import one_export, write_export
from tests.integration.fhir_data import eligible_resources
from tests.records.read_once import ReadOnce
from tests.records.real_shapes import (
    MEDICATION_SHAPES,
    UTROGESTAN_DMD,
    active_request,
    export_of,
    statement,
)

ENGINES = ["duckdb", "python"]
# a request made at the audited encounter: (its medicine's shape, progesterone_prescribed, adherence)
MADE_HERE = {
    "text-only": (None, "care_unknown"),
    "reference-to-missing-medication": (None, "care_unknown"),
    "local-formulary-code-unlisted-brand": (None, "care_unknown"),
    "local-code-progesterone-text": (True, "offered"),
    "rxnorm-other-medicine": (False, "not_offered"),
}


def _episodes(out: Path) -> dict[str, dict[str, Any]]:
    return {r["episode_id"]: r for r in pq.read_table(out / "episodes.parquet").to_pylist()}


class Audited(NamedTuple):
    """Her episode in an audit of the women of her export shape, and that audit's summary.json,
    whose counts are of all of them (``care_unknown``: the episodes so counted)."""

    episode: dict[str, Any]
    summary: dict[str, Any]
    episodes: list[dict[str, Any]]


def _audit(export: dict[str, list[dict[str, Any]]], folder: Path, engine: str) -> Any:
    run_audit(write_export(export, folder / "in"), folder / "out", engine=engine)  # type: ignore[arg-type]
    summary = json.loads((folder / "out" / "summary.json").read_text())
    return list(_episodes(folder / "out").values()), summary


def _here(**kwargs: Any) -> dict[str, Any]:
    return active_request(UTROGESTAN_DMD, encounter={"reference": "Encounter/enc-1"}, **kwargs)


def _with_status(status: Any) -> dict[str, list[dict[str, Any]]]:
    request = _here()
    if status == "missing":
        del request["status"]
    else:
        request["status"] = status
    return export_of([*eligible_resources(), request])


def _statement_export() -> dict[str, list[dict[str, Any]]]:
    return export_of([*eligible_resources(), statement(UTROGESTAN_DMD)])


def _do_not_perform_export() -> dict[str, list[dict[str, Any]]]:
    return export_of([*eligible_resources(), _here(doNotPerform="false")])


STATUSES = ["missing", 7, None]


@pytest.fixture(scope="module")
def audited(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[dict[str, list[dict[str, Any]]], str], Audited]:
    """``audited(her export, engine)``: her episode in the audit (`run_audit`) of the export of
    every woman of her export shape (`ReadOnce`), once per engine; each test audited an export
    of its own until stop 49."""
    women = [
        _statement_export(),
        *(_made_here(shape) for shape in sorted(MADE_HERE)),
        _do_not_perform_export(),
        *(_with_status(status) for status in STATUSES),
    ]
    together = {
        engine: ReadOnce(women, tmp_path_factory.mktemp(engine), partial(_audit, engine=engine))
        for engine in ENGINES
    }

    def audit(export: dict[str, list[dict[str, Any]]], engine: str) -> Audited:
        space, _, (episodes, summary) = together[engine].part(export)
        (episode,) = [e for e in episodes if e["episode_id"].startswith(space)]
        return Audited(episode, summary, episodes)

    return audit


def _care_unknown(audited: Audited) -> int:
    """The episodes of her audit counted care unknown (each woman of it has one episode)."""
    return sum(e["adherence"] == "care_unknown" for e in audited.episodes)


def _made_here(shape: str) -> dict[str, list[dict[str, Any]]]:
    """An eligible woman prescribed, at the audited encounter, a medicine of this shape."""
    med, exported, _ = MEDICATION_SHAPES[shape]
    request = active_request(med, encounter={"reference": "Encounter/enc-1"})
    return export_of([*eligible_resources(), request, *exported])


def _cases() -> dict[str, dict[str, list[dict[str, Any]]]]:
    cases = {f"here-{shape}": _made_here(shape) for shape in MADE_HERE}
    cases["statement"] = export_of([*eligible_resources(), statement(UTROGESTAN_DMD)])
    no_status = active_request(UTROGESTAN_DMD, encounter={"reference": "Encounter/enc-1"})
    del no_status["status"]
    cases["no-status"] = export_of([*eligible_resources(), no_status])
    return cases


def _check(episodes: dict[str, dict[str, Any]]) -> None:
    assert episodes["enc-statement"]["decision"] == "continue"
    no_status = episodes["enc-no-status"]
    assert (no_status["progesterone_prescribed"], no_status["adherence"]) == (None, "care_unknown")
    for shape, (given, adherence) in MADE_HERE.items():
        row = episodes[f"enc-here-{shape}"]
        assert row["decision"] == "offer", shape
        assert row["progesterone_prescribed"] is given, shape
        assert row["adherence"] == adherence, shape


def test_the_audit_reads_every_type_the_reading_reads() -> None:
    assert {r.resource for r in READING.rows} <= set(RESOURCES)
    assert "MedicationStatement" in RESOURCES


@pytest.mark.parametrize("engine", ENGINES)
def test_a_statement_in_the_export_says_she_is_on_progesterone(
    engine: str, audited: Callable[..., Audited]
) -> None:
    row, summary, _ = audited(_statement_export(), engine)
    assert row["decision"] == "continue"
    assert summary["fhir_export"]["files_read"]["MedicationStatement"] == [
        "MedicationStatement.ndjson"
    ]
    assert "MedicationStatement" not in summary["fhir_export"]["skipped_resource_types"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("shape", sorted(MADE_HERE))
def test_a_medicine_prescribed_here_that_cannot_be_identified_is_care_unknown(
    engine: str, shape: str, audited: Callable[..., Audited]
) -> None:
    her = audited(_made_here(shape), engine)
    row = her.episode
    given, adherence = MADE_HERE[shape]
    assert row["decision"] == "offer"
    assert row["progesterone_prescribed"] is given
    assert row["adherence"] == adherence
    if given is None:  # counted as care unknown, outside the "eligible, not offered" measure
        assert her.summary["data_quality"]["care_unknown"] == _care_unknown(her) >= 1


def test_the_engines_agree_on_one_export_of_every_case(tmp_path: Path) -> None:
    folder = write_export(one_export(_cases()), tmp_path / "in")
    rows = {}
    for engine in ENGINES:
        run_audit(folder, tmp_path / engine, engine=engine)  # type: ignore[arg-type]
        rows[engine] = _episodes(tmp_path / engine)
        _check(rows[engine])
    assert rows["duckdb"] == rows["python"]


# Spark: the scenario of this module in tests/audit/test_spark_agreement.py (audited there
# with the other scenarios, once: a Spark audit costs tens of seconds whatever its size).


@pytest.mark.parametrize("engine", ENGINES)
def test_progesterone_made_here_with_an_unreadable_do_not_perform_is_care_unknown(
    engine: str, audited: Callable[..., Audited]
) -> None:
    """A doNotPerform that is neither true nor false cannot say the request was a prescription,
    nor that it was not: the care given is Unknown (it was counted as given)."""
    row = audited(_do_not_perform_export(), engine).episode
    assert (row["progesterone_prescribed"], row["adherence"]) == (None, "care_unknown")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("status", STATUSES)
def test_progesterone_made_here_whose_status_cannot_be_read_is_care_unknown(
    engine: str, status: Any, audited: Callable[..., Audited]
) -> None:
    """A progesterone request at the audited encounter with no status (FHIR requires one) or one
    that is not text may have been cancelled or entered in error: the care given is Unknown, never
    "not offered" (it was counted as not given, an eligible woman not offered)."""
    her = audited(_with_status(status), engine)
    row = her.episode
    assert (row["progesterone_prescribed"], row["adherence"]) == (None, "care_unknown")
    assert her.summary["data_quality"]["care_unknown"] == _care_unknown(her) >= 1


# a sample of the women audited together above, each audited again alone (DuckDB): a leak between
# the women of one export would make her episode differ (its id aside)
ALONE = {"here-text-only": _made_here("text-only"), "status-missing": _with_status("missing")}


@pytest.mark.parametrize("woman", sorted(ALONE))
def test_a_woman_audited_with_others_is_audited_as_when_alone(
    woman: str, audited: Callable[..., Audited], tmp_path: Path
) -> None:
    together = dict(audited(ALONE[woman], "duckdb").episode)
    (alone,), _ = _audit(ALONE[woman], tmp_path, "duckdb")
    assert together.pop("episode_id").endswith(alone.pop("episode_id"))
    together.pop("row_number")  # her encounter's line in the export (in hers alone, the first)
    alone.pop("row_number")
    assert together == alone
