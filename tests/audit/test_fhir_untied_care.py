"""Progesterone care records tied to nobody bound the "eligible, not offered" count (stop 26).

A progesterone MedicationRequest, MedicationDispense or MedicationAdministration made at her
encounter but whose subject names no Patient the export holds (an NHS number no Patient
carries, an identifier without its system, a reference to a Patient not in the export) is not
read: the eligible woman it was for is counted "not offered", a false gap. The audit cannot say
whose it was, so summary.json (``fhir_export.progesterone_care_not_tied``) and the report count
those records, by the site of the encounter they name, and give the bound: up to
min(records, not offered) of the women counted not offered may have been offered. A record
that would not be care given at any encounter (another medicine, cancelled, naming no
encounter) is not counted; one tied to her is care given, as before. Our own synthetic records;
the NHS number is a valid synthetic one (999 range, check digit computed). Spark: the scenario
"untied-care" of tests/audit/test_spark_agreement.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow.parquet as pq
import pytest

from earlypath.audit.run import run_audit
from tests.audit.test_fhir_care_given import PROGESTERONE_VMP, dispense, request_here
from tests.fhir_exports import one_export, write_export
from tests.integration.fhir_data import eligible_resources
from tests.records.real_shapes import OTHER_RXNORM, export_of

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
NOBODYS_NUMBER = {"identifier": {"system": NHS_NUMBER, "value": "999 000 0050"}}
SITE = "Organization/epu-north"

# name: (her care records beside the eligible ones, her adherence); each woman is eligible
CASES: dict[str, tuple[list[dict[str, Any]], str]] = {
    # her order names her by an NHS number no Patient of the export carries
    "order-by-unknown-number": ([request_here(subject=NOBODYS_NUMBER)], "not_offered"),
    # a value without its system ties nobody
    "order-without-system": (
        [request_here(subject={"identifier": {"value": "9990000050"}})],
        "not_offered",
    ),
    # a dispense naming a Patient the export does not hold
    "dispense-to-absent-patient": (
        [dispense(PROGESTERONE_VMP, subject={"reference": "Patient/not-exported"})],
        "not_offered",
    ),
    # not counted: another medicine, cancelled, or made at no encounter
    "untied-other-medicine": (
        [
            request_here(
                subject=NOBODYS_NUMBER,
                medicationCodeableConcept={"coding": [OTHER_RXNORM]},
            )
        ],
        "not_offered",
    ),
    "untied-cancelled": ([request_here(subject=NOBODYS_NUMBER, status="cancelled")], "not_offered"),
    "untied-no-encounter": (
        [{**request_here(subject=NOBODYS_NUMBER), "encounter": None}],
        "not_offered",
    ),
    # her own order, tied: care given, not counted
    "tied-order": ([request_here()], "offered"),
}
# the first three, the first at the EPU's site (its Encounter's serviceProvider)
UNTIED = 3


def untied_care_export() -> dict[str, list[dict[str, Any]]]:
    export = one_export(
        {name: export_of([*eligible_resources(), *care]) for name, (care, _) in CASES.items()}
    )
    for seen in export["Encounter"]:
        if seen["id"] == "enc-order-by-unknown-number":
            seen["serviceProvider"] = {"reference": SITE}
    return export


def tied_only_export() -> dict[str, list[dict[str, Any]]]:
    """One woman, her own order tied to her: no untied care."""
    return one_export({"tied": export_of([*eligible_resources(), request_here()])})


class FirstLook(NamedTuple):
    """An export's first audit, run as by a new process with plans kept in ``plans``."""

    folder: Path
    plans: Path
    out: Path


class _CountsKeptIn:
    """`plan_cache` as `kept_count` uses it, with ``folder`` as the plan folder: the kept counts
    (the first look among them) go there, the reading's plans stay in the run's folder."""

    def __init__(self, folder: Path) -> None:
        from earlypath.records import plan_cache

        self._folder = str(folder)
        self._cache = plan_cache
        self.plan_key = plan_cache.plan_key

    def load_plan(self, key: str) -> dict[str, Any] | None:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("EARLYPATH_PLAN_CACHE", self._folder)
            return self._cache.load_plan(key)

    def save_plan(self, key: str, plan: dict[str, Any]) -> None:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("EARLYPATH_PLAN_CACHE", self._folder)
            self._cache.save_plan(key, plan)


@pytest.fixture(scope="module")
def first_looks(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, FirstLook]:
    """The audit of the untied care export (True) and of the tied-only one (False), each once
    for the module, with no first look kept yet (its own plans folder for the kept counts, none
    of their SQL in the process): `test_the_first_look_is_kept_and_replayed_without_building_it`
    audits each again from what this kept; the others read its summary. Until stop 50 each test
    audited its own (six audits of these two exports, now four). Until stop 55 the reading's
    plans were kept in that folder too, so each first look compiled its reading cold (some 12
    CPU s each); the first look is the kept count's, so the reading's plans now come from the
    run's folder (`_CountsKeptIn`), compiled there when no module did it yet."""
    from earlypath.records import kept_count

    looks = {}
    for untied, export in ((True, untied_care_export()), (False, tied_only_export())):
        root = tmp_path_factory.mktemp("untied-care" if untied else "tied-only")
        look = FirstLook(write_export(export, root / "in"), root / "plans", root / "first")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(kept_count, "plan_cache", _CountsKeptIn(look.plans))
            patch.setattr(kept_count, "_SQL", {})
            run_audit(look.folder, look.out, engine="duckdb")
        looks[untied] = look
    return looks


@pytest.fixture(scope="module")
def audited(first_looks: dict[bool, FirstLook]) -> Path:
    return first_looks[True].out


def test_untied_progesterone_care_is_counted_and_bounds_not_offered(audited: Path) -> None:
    rows = pq.read_table(audited / "episodes.parquet").to_pylist()
    got = {r["episode_id"].removeprefix("enc-"): (r["decision"], r["adherence"]) for r in rows}
    assert got == {name: ("offer", adherence) for name, (_, adherence) in CASES.items()}
    summary = json.loads((audited / "summary.json").read_text(encoding="utf-8"))
    not_offered = summary["adherence"]["not_offered"]
    assert not_offered == len(CASES) - 1
    assert summary["fhir_export"]["progesterone_care_not_tied"] == {
        "records": UNTIED,
        "by_site": {"(no site)": UNTIED - 1, "epu-north": 1},
        "not_offered_may_have_been_offered_at_most": min(UNTIED, not_offered),
    }
    report = (audited / "report.html").read_text(encoding="utf-8")
    assert (
        f"{UNTIED} progesterone care records (prescription, dispense or dose) in this export "
        "name no patient we hold, so they were not read: up to 3 of the 6 women counted not "
        "offered may have been offered."
    ) in report
    assert "By the site of the encounter each names: (no site) 2, epu-north 1." in report
    for text in (json.dumps(summary), report):  # counts only, never an identifier
        assert "9990000050" not in text and "not-exported" not in text


def test_the_bound_is_never_more_than_the_women_counted_not_offered(tmp_path: Path) -> None:
    """Three untied orders at one woman's encounter: at most one woman may have been offered."""
    care = [{**request_here(subject=NOBODYS_NUMBER), "id": f"rx-{i}"} for i in range(3)]
    export = one_export({"three-orders": export_of([*eligible_resources(), *care])})
    run_audit(write_export(export, tmp_path / "in"), tmp_path / "out", engine="duckdb")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    untied = summary["fhir_export"]["progesterone_care_not_tied"]
    assert (untied["records"], summary["adherence"]["not_offered"]) == (3, 1)
    assert untied["not_offered_may_have_been_offered_at_most"] == 1
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "up to 1 of the 1 women counted not offered may have been offered" in report


def test_an_export_without_untied_care_says_nothing_of_it(
    first_looks: dict[bool, FirstLook],
) -> None:
    out = first_looks[False].out
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert "progesterone_care_not_tied" not in summary["fhir_export"]
    assert "name no patient we hold" not in (out / "report.html").read_text()


@pytest.mark.parametrize("untied", [True, False], ids=["untied care", "none"])
def test_the_first_look_is_kept_and_replayed_without_building_it(
    untied: bool,
    first_looks: dict[bool, FirstLook],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first look (any care record tied to nobody?) is run from SQL kept between runs: a
    second audit, as a new process, builds none of it and writes the same summary (w12-fhir11).
    With untied care (the identifier tie's table joined) and without (no table)."""
    from earlypath.audit import untied_care
    from earlypath.records import kept_count

    look = first_looks[untied]  # audited first with none of it kept (`first_looks`)
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", str(look.plans))
    folder = look.folder
    compile_rows = untied_care.compile_rows

    def not_the_first_look(spec: Any, *args: Any, **kwargs: Any) -> Any:
        assert spec is not untied_care._CARE_SUBJECTS, "the first look was built again"
        return compile_rows(spec, *args, **kwargs)

    monkeypatch.setattr(kept_count, "_SQL", {})  # as a new process
    monkeypatch.setattr(untied_care, "compile_rows", not_the_first_look)
    run_audit(folder, tmp_path / "again", engine="duckdb")
    first, again = (
        {
            k: v
            for k, v in json.loads((run / "summary.json").read_text("utf-8")).items()
            if k not in ("generated_at", "seconds", "timings_seconds")  # the run's own
        }
        for run in (look.out, tmp_path / "again")
    )
    assert again == first
    assert ("progesterone_care_not_tied" in again["fhir_export"]) is untied
