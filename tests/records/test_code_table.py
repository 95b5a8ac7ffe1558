"""The value sets' codes are a table of the engine, not text of the compiled SQL (issue 12, item
5): Spark's parser has refused a 4 MB statement, and the codes written as literals made the
largest statement of a FHIR audit ~97k characters. A statement's size must not grow with the
sets (a site adds its own codes), and a plan kept in the process must read the codes as they are
now (it is keyed on what its SQL holds, not on the codes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ibis
import pytest

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.fhir.terminology import AT_LEAST, CHECKED, SITE_VALUESETS_ENV, URL_PREFIX
from earlypath.records import ibis_compile
from earlypath.records.definition import READING
from earlypath.records.ibis_compile import load_resources, run_records
from earlypath.records.plan_choice import SETTING as SPECIALISE_FROM_BYTES
from tests.integration.fhir_data import PATIENT_ID, condition, day, previous_miscarriage
from tests.records.real_shapes import export_of
from tests.records.sql_sent import sql_sent

# the largest statement of this reading (no code in it) is the problems' union, ~66k characters
# on DuckDB; Spark's parser took 97k and refused 4 MB. With the codes written out, the code table
# of the clinical rows alone grew by ~110 characters a code. Stop 27: the largest is now the
# DiagnosticReport's typed load (80,555 on DuckDB; each text element read costs ~700 characters
# whatever the codes), grown by the elements a report's versions are ranked by (meta.lastUpdated,
# the report's and its contained findings', and the conclusion's text); the problems' union is
# 78,519. Raised to 84k: no code is written into it, which is what this bounds. Stop 29: the
# largest is the Observation versions' compared columns (`observation_tops`, 127,818 on DuckDB,
# the same with and without the site's 3,000 codes), grown by the two a panel's components are
# compared by (its first location and heart answers, HAZ-20 C20.19); Spark's agreement
# scenarios read it (finding-versions-per-patient holds the panels). Raised to 132k. Stop 52
# (CI 3): 269,819, grown by the reading of her current progesterone against NG126's product (every
# dosage's route, dose and frequency) and the ImagingStudy's words; which statement was not
# measured at the merge (CHANGELOG, Left). No code is written into it (the check below).
# Raised to 280k. Stop 53 (w-sql53): 62,213, cut by writing once what the compiled SQL wrote
# many times: a unit lookup's text (a simple CASE), the value Round2 rounds (bound once as a
# lambda's value) and a FirstItem's value tested for null (mapped, then filtered). Lowered to 70k.
# Stop 54 (w-dosage54): 42,247 (MedicationStatement's table; 62,257 before), with the dose of a
# dosage written once (not once per strength of her product, and its unit's factor once) though
# the dosages' day parts and split dosages are read now. Lowered to 50k.
BOUND = 40_000
# the reading's SQL in all: 867,880 characters at stop 37, a third of them column lists ibis
# wrote again at each level of a statement; 537,435 with a list that keeps its parent's columns
# written `*` (`records/sql_star.py`, stop 38: DuckDB parses, binds and holds every character)
# Stop 52 (CI 3): 1,168,117, grown with the largest statement above (the same stop's reading of
# every dosage against NG126's product, ImagingStudy's words and its procedureReference): a cost
# of parsing for every audit, to be cut (CHANGELOG stop 52, Left). Raised to 1.2M. Stop 53
# (w-sql53): 717,752 with the cuts above (stop 51: 604,523). Lowered to 760k. Stop 54
# (w-dosage54): 687,892 (719,701 before). Lowered to 730k.
TOTAL_BOUND = 700_000
SYNTHETIC = "http://example.org/synthetic-codes"


def _site_codes(folder: Path, count: int) -> None:
    """Site files adding ``count`` synthetic codes to each of three sets: one tested on a
    resource's concept, one inside list items (a Medication's ingredients), one counted
    (`AtLeast`)."""
    checked = [{"url": CHECKED, "valueString": "synthetic, for a test"}]
    for name, more in (
        ("miscarriage_event", []),
        ("progesterone", []),
        ("miscarriage_history", [{"url": AT_LEAST, "valueInteger": 3}]),
    ):
        contains = [
            {
                "system": SYNTHETIC,
                "code": f"{name}-{i}",
                "display": "x",
                "extension": checked + more,
            }
            for i in range(count)
        ]
        body = {
            "resourceType": "ValueSet",
            "url": URL_PREFIX + name,
            "expansion": {"contains": contains},
        }
        (folder / f"{name}.json").write_text(json.dumps(body), encoding="utf-8")


def _export(folder: Path) -> Path:
    """Her record with a history code of the site's ("at least 3") and a packaged one (17369002,
    a miscarriage in SNOMED CT: at least 1)."""
    site = condition("h1", "x", day(-400))
    site["code"] = {"coding": [{"system": SYNTHETIC, "code": "miscarriage_history-7"}]}
    folder.mkdir()
    for kind, resources in export_of([site, previous_miscarriage()]).items():
        text = "".join(json.dumps(r) + "\n" for r in resources)
        (folder / f"{kind}.ndjson").write_text(text, encoding="utf-8")
    return folder


def _reading(con: Any, folder: Path, prefix: str) -> Any:
    files = {p.stem: [p] for p in sorted(folder.glob("*.ndjson"))}
    con.raw_sql(
        f"CREATE OR REPLACE TABLE {prefix}_keys AS SELECT 0::BIGINT AS _key, 'enc-1' AS "
        f"encounter, '{PATIENT_ID}' AS patient, DATE '{day()}' AS assessed_on"
    )
    resources = load_resources(con, files, READING, f"{prefix}_r")
    out = run_records(con, READING, resources, f"{prefix}_keys", f"{prefix}_k")
    assert out.episodes is not None
    (row,) = out.episodes.select("previous_miscarriages").to_pyarrow().to_pylist()
    return row["previous_miscarriages"]


def test_no_statement_grows_with_the_value_sets_and_a_kept_plan_reads_them_as_they_are_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compiled with ten times the packaged sets' ~850 codes (a site's), no statement holds a
    code and the largest stays under the bound. Then, in the same process, the plan kept is
    replayed with the packaged codes alone, and reads them as they are now (not the site's)."""
    monkeypatch.setenv("EARLYPATH_PLAN_CACHE", "off")
    # the bounds are those of the plan specialised to this export (its absent types left out),
    # as a site's export of any size is read; a small export's general plan holds every type
    monkeypatch.setenv(SPECIALISE_FROM_BYTES, "0")
    monkeypatch.setattr(ibis_compile, "_PLANS", {})
    export = _export(tmp_path / "export")
    sites = tmp_path / "site"
    sites.mkdir()
    _site_codes(sites, 3_000)
    monkeypatch.setenv(SITE_VALUESETS_ENV, str(sites))
    con = ibis.duckdb.connect()
    sent = sql_sent(con)
    assert _reading(con, export, "p1") == 3  # the site's "at least 3"
    assert len(sent) > 50  # the reading compiled here
    assert max(map(len, sent)) < BOUND
    assert sum(map(len, sent)) < TOTAL_BOUND
    assert not any(SYNTHETIC in sql or "17369002" in sql for sql in sent)
    monkeypatch.delenv(SITE_VALUESETS_ENV)
    assert _reading(con, export, "p2") == 1  # the packaged code only
    assert len(ibis_compile._PLANS) == 1  # compiled once, replayed
