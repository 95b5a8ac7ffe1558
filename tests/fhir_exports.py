"""Building FHIR bulk exports for the tests, in one place: an export (resource type -> its
resources) written as NDJSON files, several women's records as one export, and which Patient ids
an export's merge links (FHIR R4 ``Patient.link``) make one woman.

The merges are resolved by the code under test (`earlypath.records.merges.resolve` over the
definition's `MERGE_LINKS` rows): the tests' references read the same records as one woman as the
audit does, and then check that every engine reads them alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.records.definition import MERGE_LINKS
from earlypath.records.merges import Merges, resolve
from earlypath.records.python import read_rows
from tests.integration.fhir_data import PATIENT_ID, TODAY

Export = dict[str, list[dict[str, Any]]]


TODAYS_VISIT = f"{TODAY.isoformat()}T10:00:00Z"  # an encounter's start unless a test says


def encounter(eid: str, pid: str, start: str = TODAYS_VISIT) -> dict[str, Any]:
    """A finished ambulatory Encounter of Patient ``pid`` (today's, unless ``start`` says)."""
    return {
        "resourceType": "Encounter",
        "id": eid,
        "status": "finished",
        "class": {"code": "AMB"},
        "subject": {"reference": f"Patient/{pid}"},
        "period": {"start": start},
    }


def woman(pid: str, birth: str = "1990-05-01") -> dict[str, Any]:
    """A woman's Patient resource."""
    return {"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": birth}


def write_export(export: Export, folder: Path) -> Path:
    """One NDJSON file per resource type (``<Type>.ndjson``, a line per resource) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind, resources in export.items():
        text = "".join(json.dumps(r) + "\n" for r in resources)
        (folder / f"{kind}.ndjson").write_text(text, encoding="utf-8")
    return folder


def as_patient(export: Export, name: str) -> Export:
    """The same record as another woman's (her own ids, patient and encounter)."""
    text = json.dumps(export)
    text = text.replace(f"Patient/{PATIENT_ID}", f"Patient/p-{name}")
    text = text.replace(f'"id": "{PATIENT_ID}"', f'"id": "p-{name}"')
    text = text.replace("enc-1", f"enc-{name}")
    out: Export = json.loads(text)
    for kind, resources in out.items():
        for r in resources:
            if kind not in ("Patient", "Encounter") and "id" in r:
                r["id"] = f"{name}-{r['id']}"
    return out


def one_export(exports: dict[str, Export]) -> Export:
    """Several women's records (each named, `as_patient`) as one export."""
    merged: Export = {}
    for name, export in exports.items():
        for kind, resources in as_patient(export, name).items():
            merged.setdefault(kind, []).extend(resources)
    return merged


def concatenated(exports: list[Export]) -> Export:
    """Several exports as one, each type's resources in the exports' order (ids as they are)."""
    out: Export = {}
    for export in exports:
        for kind, resources in export.items():
            out.setdefault(kind, []).extend(resources)
    return out


def export_merges(export: Export) -> Merges:
    """The merges the export's Patients' links say, resolved as the audit resolves them."""
    linked = [p for p in export.get("Patient", []) if "link" in p]
    if not linked:
        return Merges()
    return resolve(read_rows(MERGE_LINKS, linked).tables["patient_links"])


def survivor(merges: Merges, patient: str | None) -> str | None:
    """The record in use for ``patient`` (itself when it was merged into none)."""
    return None if patient is None else merges.survivor.get(patient, patient)


def one_woman(merges: Merges, patient: str | None) -> set[str]:
    """Every Patient id read as the woman of ``patient``: her record in use and those merged
    into it (empty for None)."""
    if patient is None:
        return set()
    kept = merges.survivor.get(patient, patient)
    return {kept, *merges.merged_into(kept)}


# A literal reference: [base/]Type/id[/_history/version] (the tests' ids are not all FHIR ids).
_LITERAL = re.compile(
    r"^(?P<head>(?:.*/)?[A-Z][A-Za-z]+/)(?P<id>[^/?#]+)(?P<tail>/_history/[^/]*)?$"
)
_UUID = "urn:uuid:"


def namespaced(resources: list[dict[str, Any]], space: str) -> list[dict[str, Any]]:
    """The resources with ``space`` before each resource's id and before the id of every literal
    reference in them (``Type/id``, absolute, versioned or ``urn:uuid:``; ``#contained`` and
    identifier references stay as they are): several scenarios' records in one export cannot
    then share a patient, an encounter or any resource. Lines of no type keep their id."""
    return [_namespaced(r, space, top=True) for r in resources]


def _namespaced(value: Any, space: str, top: bool = False) -> Any:
    if isinstance(value, list):
        return [_namespaced(v, space) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key == "reference" and isinstance(item, str):
            out[key] = _reference(item, space)
        elif key == "id" and top and "resourceType" in value and isinstance(item, str):
            out[key] = f"{space}{item}"  # (a contained resource's id is local: "#id" finds it)
        else:
            out[key] = _namespaced(item, space)
    return out


def _reference(reference: str, space: str) -> str:
    if reference.startswith(_UUID):
        return f"{_UUID}{space}{reference.removeprefix(_UUID)}"
    found = _LITERAL.match(reference)
    if found is None:
        return reference
    return f"{found['head']}{space}{found['id']}{found['tail'] or ''}"


def export_per_shape(
    records: Mapping[str, Sequence[dict[str, Any]]], starts: Mapping[str, str] | None = None
) -> Export:
    """A woman per shape as one export: each shape's resources beside her Patient and her
    Encounter ``enc`` (today's, or from the shape's time in ``starts``), every id and reference
    prefixed with ``<shape>-`` (`namespaced`), so `shape_of` reads the shape back from an
    encounter's (an episode's) id."""
    out: Export = {"Patient": [], "Encounter": []}
    for shape, resources in records.items():
        seen = encounter("enc", PATIENT_ID, (starts or {}).get(shape, TODAYS_VISIT))
        for resource in namespaced([woman(PATIENT_ID), seen, *resources], f"{shape}-"):
            out.setdefault(resource["resourceType"], []).append(resource)
    return out


def shape_of(encounter_id: str, among: Iterable[str] | None = None) -> str:
    """The shape an encounter of `export_per_shape` is of. An id namespaced again (the Spark
    agreement's ``<scenario>.`` prefix) needs its export's shapes, ``among``: a shape may itself
    hold a dot ("us-16.9-wk"), so the prefix cannot be cut at a dot alone."""
    shape = encounter_id.rsplit("-enc", 1)[0]
    if among is None:
        return shape
    (found,) = [s for s in among if shape == s or shape.endswith(f".{s}")]
    return found


def audited_by_shape(
    export: Export, folder: Path, rewrite: Callable[[Path], None] | None = None
) -> dict[str, dict[str, Any]]:
    """Each shape's episode (by `shape_of` its id) from a DuckDB audit of an `export_per_shape`
    export, written and audited under ``folder`` (``rewrite`` given the written folder first,
    to lay its files out as a server might)."""
    # imported here: the audit's imports are heavy for the many tests that only build exports
    import pyarrow.parquet as pq

    from earlypath.audit.run import run_audit

    written = write_export(export, folder / "in")
    if rewrite is not None:
        rewrite(written)
    run_audit(written, folder / "out", engine="duckdb")
    episodes = pq.read_table(folder / "out" / "episodes.parquet").to_pylist()
    return {shape_of(e["episode_id"]): e for e in episodes}
