"""Progesterone care records tied to nobody, and the bound they put on "eligible, not offered".

The audit reads the care given at an encounter from the records of the encounter's patient
(`earlypath.audit.fhir_flat`: a progesterone MedicationRequest, MedicationDispense or
MedicationAdministration made there). A care record whose subject names no Patient the export
holds (a reference to a Patient not in it; an identifier no Patient carries, carried by two, or
without its system: `earlypath.records.identifiers`) is not read as anyone's. If it was her
order, the woman it was for is counted "eligible, not offered": a false gap.

The audit cannot say whose such a record was (guessing would read one woman's care as another's),
so it gives the count and the bound: of the women counted not offered, at most
min(records, not offered) may have been offered. Counted here, per export and per site (the site
of the encounter the record names, when the export holds it), for summary.json and the report;
counts only, never an id. A record counted is one that would be care given or care unknown at
the encounter it names (`fhir_flat.MAY_BE_CARE_GIVEN`, the same tests as the reading's, written
once): it may be progesterone, is not "do not perform", not cancelled or entered in error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir_t

from earlypath.audit.evaluated import NO_SITE
from earlypath.audit.fhir_flat import AUDIT_READING, MAY_BE_CARE_GIVEN
from earlypath.records.ibis_compile import compile_rows, left_out, loaded_absent, row_test
from earlypath.records.ir import EpisodeSpec, RowSpec
from earlypath.records.kept_count import count_kept

__all__ = ["count_untied_care"]

# the care tables and the Medication rows their medicine is looked up in
_CARE_ROWS = EpisodeSpec(
    tuple(r for r in AUDIT_READING.rows if r.table in ("medications", *MAY_BE_CARE_GIVEN)), ()
)
# whom each care record names, its medicine not read: the first, cheap look (most exports have
# no care record tied to nobody, and reading the medicine of every record again cost about a
# third of the reading's CPU at 20,000 patients)
_CARE_SUBJECTS = EpisodeSpec(
    tuple(
        RowSpec.every("care_subjects", r.resource, r.patient, ())
        for r in AUDIT_READING.rows
        if r.table in MAY_BE_CARE_GIVEN
    ),
    (),
)

Fetch = Callable[[Any, ir_t.Table], list[dict[str, Any]]]


def _may_be_care(rows: dict[str, ir_t.Table], types: dict[str, dict[str, str]]) -> ir_t.Table:
    """Every care record that may be progesterone given at the encounter it names."""
    parts = []
    for table, test in MAY_BE_CARE_GIVEN.items():
        t = rows[table]
        parts.append(
            t.filter(row_test(t, types[table], test)).select("ref", "n", "patient", "encounter")
        )
    return ibis.union(*parts, distinct=False)


def _tied_to_nobody(
    con: Any, care: ir_t.Table, by_identifier: str | None, patients: ir_t.Table
) -> ir_t.Table:
    """The rows of ``care`` (``ref``, ``n``, ``patient``, ...) whose patient, or the Patient
    their identifier ties them to (``by_identifier``: `fhir_read.identifier_ties`), is none of
    ``patients`` (the export's Patients, ``patient`` their id)."""
    if by_identifier is not None:
        b = con.table(by_identifier)
        j = care.left_join(b, (care["ref"] == b["ref"]) & (care["n"] == b["n"]))
        care = j.select(
            *(
                j["patient"].coalesce(j["tied"]).name(c) if c == "patient" else j[c]
                for c in care.columns
            )
        ).view()  # a relation of its own: joined next
    held = patients.select(held="patient").filter(ibis._.held.notnull()).distinct()
    # a NULL patient matches nothing: tied to nobody, as one naming a Patient not held
    return care.anti_join(held, care["patient"] == held["held"]).view()


def _count_tied_to_nobody(
    con: Any,
    resources: dict[str, ir_t.Table],
    absent: frozenset[str],
    by_identifier: str | None,
    patients: ir_t.Table,
) -> int:
    """The care records (any medicine) tied to no Patient of the export: the first look, its
    SQL kept between runs (`kept_count.count_kept`: building and rendering it took about as much
    CPU as running it, on every audit, w12-fhir11)."""
    tables = dict(resources, patients=patients)
    if by_identifier is not None:
        tables["by_identifier"] = con.table(by_identifier)

    def untied() -> ir_t.Table:
        subjects = compile_rows(_CARE_SUBJECTS, resources, absent=absent)[0]["care_subjects"]
        return _tied_to_nobody(con, subjects, by_identifier, patients)

    # the build depends on the tables given (their schemas are in the key) and on which specs
    # an absent type leaves out
    what = ("untied-care/1", left_out(_CARE_SUBJECTS, absent))
    return count_kept(con, what, _CARE_SUBJECTS, tables, untied)


def count_untied_care(
    con: Any,
    resources: dict[str, ir_t.Table],
    by_identifier: str | None,
    patients: ir_t.Table,
    encounters: ir_t.Table,
    fetch: Fetch,
) -> dict[str, Any]:
    """The care records that may be progesterone given and are tied to no Patient of the export,
    counted, and by the site of the encounter each names (``encounters``: ``episode_id``,
    ``provider``), for summary.json (`as_summary`); ``fetch`` runs a query. First, whether any
    care record at all is tied to nobody (its medicine not read): if none, nothing more."""
    absent = loaded_absent(resources)
    if not _count_tied_to_nobody(con, resources, absent, by_identifier, patients):
        return {}
    rows, _, types = compile_rows(_CARE_ROWS, resources, absent=absent)
    care = _tied_to_nobody(con, _may_be_care(rows, types), by_identifier, patients)
    sites = encounters.group_by(_id="episode_id").aggregate(_provider=encounters["provider"].max())
    j = care.left_join(sites, care["encounter"] == sites["_id"])
    site = j["_provider"].re_replace("^Organization/", "").fill_null(NO_SITE)
    return as_summary(fetch(con, j.select(site=site).group_by("site").aggregate(n=ibis._.count())))


def as_summary(by_site: list[dict[str, Any]]) -> dict[str, Any]:
    """The rows counted by site (``site``, ``n``) for summary.json: the count and the count by site;
    empty when there is none (the summary then says nothing)."""
    counts = {r["site"]: int(r["n"]) for r in by_site}
    if not counts:
        return {}
    return {"records": sum(counts.values()), "by_site": dict(sorted(counts.items()))}
