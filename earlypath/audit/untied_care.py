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

from typing import Any

import ibis
import ibis.expr.types as ir_t

from earlypath.audit.evaluated import NO_SITE
from earlypath.audit.fhir_flat import AUDIT_READING, MAY_BE_CARE_GIVEN
from earlypath.records.ibis_compile import compile_rows, loaded_absent, row_test
from earlypath.records.ir import EpisodeSpec

__all__ = ["as_summary", "untied_care_by_site"]

# the care tables and the Medication rows their medicine is looked up in
_CARE_ROWS = EpisodeSpec(
    tuple(r for r in AUDIT_READING.rows if r.table in ("medications", *MAY_BE_CARE_GIVEN)), ()
)


def _may_be_care(rows: dict[str, ir_t.Table], types: dict[str, dict[str, str]]) -> ir_t.Table:
    """Every care record that may be progesterone given at the encounter it names."""
    parts = []
    for table, test in MAY_BE_CARE_GIVEN.items():
        t = rows[table]
        parts.append(
            t.filter(row_test(t, types[table], test)).select("ref", "n", "patient", "encounter")
        )
    return ibis.union(*parts, distinct=False)


def untied_care_by_site(
    con: Any,
    resources: dict[str, ir_t.Table],
    by_identifier: str | None,
    patients: ir_t.Table,
    encounters: ir_t.Table,
) -> ir_t.Table:
    """The care records that may be progesterone given and are tied to no Patient of the export
    (``patients``: the export's Patients, ``patient`` their id; ``by_identifier``: the table of
    resources tied by an identifier, `fhir_read.identifier_ties`), counted, and by the site of
    the encounter each names (``encounters``: ``episode_id``, ``provider``): ``site``, ``n``."""
    rows, _, types = compile_rows(_CARE_ROWS, resources, absent=loaded_absent(resources))
    care = _may_be_care(rows, types)
    if by_identifier is not None:
        b = con.table(by_identifier)
        j = care.left_join(b, (care["ref"] == b["ref"]) & (care["n"] == b["n"]))
        care = j.select(
            patient=j["patient"].coalesce(j["tied"]), encounter=j["encounter"]
        ).view()  # a relation of its own: joined next
    held = patients.select(held="patient").filter(ibis._.held.notnull()).distinct()
    # a NULL patient matches nothing: tied to nobody, as one naming a Patient not held
    untied = care.anti_join(held, care["patient"] == held["held"]).view()
    sites = encounters.group_by(_id="episode_id").aggregate(_provider=encounters["provider"].max())
    j = untied.left_join(sites, untied["encounter"] == sites["_id"])
    site = j["_provider"].re_replace("^Organization/", "").fill_null(NO_SITE)
    return j.select(site=site).group_by("site").aggregate(n=ibis._.count())


def as_summary(by_site: list[dict[str, Any]]) -> dict[str, Any]:
    """The rows of `untied_care_by_site` for summary.json: the count and the count by site;
    empty when there is none (the summary then says nothing)."""
    counts = {r["site"]: int(r["n"]) for r in by_site}
    if not counts:
        return {}
    return {"records": sum(counts.values()), "by_site": dict(sorted(counts.items()))}
