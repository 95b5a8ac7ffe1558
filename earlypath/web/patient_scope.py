"""Is every resource in a CDS call about the patient in `context.patientId`?

Why the guard: we must never decide on another woman's data. A record mix-up (a prefetch or a
FHIR search that returned someone else's resources, a draft order written for someone else) is
refused: nothing is decided.

Each resource's `subject` / `patient` is either
- **hers**: its literal reference names `Patient/<patientId>` (relative, absolute, with or without
  `_history`, a `urn:uuid:` entry of the same Bundle holding that Patient, or
  `urn:uuid:<patientId>` as generators such as Synthea write it); or, with no literal reference,
  its `identifier` (system and value, both given) is one of the identifiers of her own Patient
  resource (prefetched or fetched for `Patient/{{context.patientId}}`, or in the same Bundle with
  her id). FHIR R4 calls `Reference.identifier` a logical reference, used when the literal one is
  not known; UK Core records name the patient by NHS number so. An identifier on her Patient is
  the EHR's own claim that the number is hers, so the match ties the resource to her as firmly as
  a literal reference does. How an identifier matches is the one rule the audit uses too
  (`earlypath.records.identifiers`): system and value both given and equal as written (a value
  without its system, any number in any register, ties nothing), except that an NHS number
  written with spaces or hyphens ("900 000 0009", as it is displayed) is its ten digits when its
  check digit is right; one that is not a valid NHS number is never reformatted, and when it
  ties nothing the answer says so (a slip to correct at the source);
- **another patient's**: its literal reference names a Patient with another id (or a Patient
  resource has another id). The call is refused as "another patient";
- **not tied**: nothing ties it to her: an identifier her Patient does not carry (or no Patient
  to compare with), a reference to a contained Patient (`#p1`: a copy inside the resource, which
  is not the EHR's record of her), a display text only, a reference to another resource type
  (a Group), or one that cannot be resolved. It must not be read as hers, and it is not known to
  be someone else's: the answer says "cannot be tied to the patient in context", naming the
  element (`Observation.subject`), never "another patient", which is a different and alarming
  claim to make to an integrator or a clinician.

A resource that is not tied **refuses the call** (422), as another patient's does; it is not left
out. Leaving it out would decide on part of her record: the left-out resource could be the
ectopic pregnancy, the scan with no intrauterine pregnancy or the progesterone already given,
and the card would then offer progesterone with confidence. Which facts a resource would change
cannot be known without reading it as hers, which is what must not be done. With no card, the
clinician decides without us, as when the service is down; the error names the prefetch key and
the element so the integrator can send literal references or the Patient with her identifiers.

A record merged into hers is hers because her own Patient says so: a resource naming a Patient
that her Patient (id = patientId) `replaces` (FHIR R4 Patient.link, read by the records definition:
`earlypath.fhir.merged`) is hers, and so is that Patient resource (and an identifier it carries,
when that Patient came with the call); nothing else about another id (its own `replaced-by` link,
a `seealso`) makes it hers.

A Patient resource is in scope when its id is the patientId. Resources with neither field (a
Medication, a Practitioner, an OperationOutcome) carry no patient and are allowed. Nothing here
puts an id or an identifier in a message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from earlypath.records.identifiers import NHS_NUMBER_SYSTEM, Identifier, identifier_pair
from earlypath.records.json_values import nhs_number

PATIENT_REFERENCE = re.compile(r"(?:^|/)Patient/([A-Za-z0-9\-.]{1,64})$")
HISTORY = re.compile(r"/_history/[A-Za-z0-9\-.]{1,64}$")
PATIENT_FIELDS = ("subject", "patient")

# "untied_nhs": not tied, and named by an NHS number that is not a valid one
Tie = Literal["hers", "another", "untied", "untied_nhs"]
RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")  # echoed in messages only when it is one


@dataclass(frozen=True)
class ScopeProblem:
    """Why a resource is not read as hers; data-free (no id, no identifier)."""

    element: str  # where: `Observation.subject`, `Patient.id`
    another_patient: bool  # True: it names another patient; False: it cannot be tied to her
    # not tied, and its identifier is an NHS number that is not one (not ten digits once spaces
    # and hyphens are removed, or its check digit fails): said, so the source can correct it
    nhs_number_not_valid: bool = False

    @property
    def message(self) -> str:
        if self.another_patient:
            return (
                "holds a resource for another patient than context.patientId; nothing was decided"
            )
        if self.nhs_number_not_valid:
            return (
                f"{self.element} cannot be tied to the patient in context: its NHS number is "
                "not a valid one (10 digits, spaces or hyphens aside, with a right check "
                "digit); nothing was decided"
            )
        return (
            f"{self.element} cannot be tied to the patient in context (no reference to her "
            "Patient, and no identifier of her Patient resource); nothing was decided"
        )

    @property
    def reason(self) -> str:
        """For a log line."""
        if self.another_patient:
            return "another patient's data"
        return f"{self.element} cannot be tied to the patient in context"


def referenced_patient_id(reference: Any) -> str | None:
    """The Patient id a literal reference names (`Patient/x`, `https://h/fhir/Patient/x/_history/2`)."""
    if not isinstance(reference, str):
        return None
    match = PATIENT_REFERENCE.search(HISTORY.sub("", reference.strip()))
    return match.group(1) if match else None


def patient_identifiers(resources: Iterable[Any]) -> frozenset[Identifier]:
    """The identifiers of the Patient resources among `resources` (already checked to be hers)."""
    found: set[Identifier] = set()
    for resource in resources:
        if isinstance(resource, dict) and resource.get("resourceType") == "Patient":
            listed = resource.get("identifier")
            for item in listed if isinstance(listed, list) else []:
                pair = identifier_pair(item)
                if pair is not None:
                    found.add(pair)
    return frozenset(found)


def _walk(item: Any, full_urls: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The resources in `item` (Bundles opened, nested too); records each entry's fullUrl."""
    if isinstance(item, list):
        return [r for x in item for r in _walk(x, full_urls)]
    if not isinstance(item, dict):
        return []
    if item.get("resourceType") != "Bundle":
        return [item]
    out: list[dict[str, Any]] = []
    entries = item.get("entry")
    if not isinstance(entries, list):
        return out
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        resource = entry.get("resource")
        if isinstance(resource, dict):
            full_url = entry.get("fullUrl")
            if isinstance(full_url, str):
                full_urls[full_url] = resource
            if resource.get("resourceType") != "Bundle":
                out.append(resource)  # the usual entry, without a call of its own
                continue
        out.extend(_walk(resource, full_urls))
    return out


def _literal_tie(literal: str, patient_id: str, full_urls: dict[str, dict[str, Any]]) -> Tie:
    if literal in full_urls:
        target = full_urls[literal]
        if target.get("resourceType") != "Patient" or not isinstance(target.get("id"), str):
            return "untied"
        return "hers" if target["id"] == patient_id else "another"
    if literal == "Patient/" + patient_id:
        return "hers"  # the usual relative reference, without the regular expressions below
    if literal.startswith("urn:uuid:"):
        # Synthea and other generators give a Patient the id of its urn:uuid fullUrl; another
        # urn:uuid is an entry not in this Bundle: unresolved, not known to be someone else.
        return "hers" if literal.removeprefix("urn:uuid:") == patient_id else "untied"
    named = referenced_patient_id(literal)  # None: `#contained`, a Group, a conditional reference
    if named is None:
        return "untied"
    return "hers" if named == patient_id else "another"


def _tie(
    reference: Any,
    patient_id: str,
    full_urls: dict[str, dict[str, Any]],
    identifiers: Callable[[], frozenset[Identifier]],
) -> Tie:
    if not isinstance(reference, dict):
        return "untied"
    literal = reference.get("reference")
    if isinstance(literal, str):
        return _literal_tie(literal, patient_id, full_urls)
    if literal is not None:
        return "untied"
    pair = identifier_pair(reference.get("identifier"))
    if pair is not None and pair in identifiers():
        return "hers"
    if pair is not None and pair[0] == NHS_NUMBER_SYSTEM and nhs_number(pair[1]) is None:
        return "untied_nhs"
    return "untied"


def _named_id(reference: dict[str, Any], full_urls: dict[str, dict[str, Any]]) -> str | None:
    """The Patient id a literal reference read as "another" names."""
    literal = reference.get("reference")
    if literal in full_urls:
        named = full_urls[literal].get("id")
        return named if isinstance(named, str) else None
    return referenced_patient_id(literal)


def _element(resource: dict[str, Any], name: str) -> str:
    """`Observation.subject`: the resource type when it is one (never other text), and the field."""
    kind = resource.get("resourceType")
    if not isinstance(kind, str) or not RESOURCE_TYPE.fullmatch(kind):
        kind = "resource"
    return f"{kind}.{name}"


def scope_problem(
    data: Any,
    patient_id: str,
    identifiers: Iterable[Identifier] = (),
    merged: frozenset[str] = frozenset(),
) -> ScopeProblem | None:
    """The first resource in `data` (resources, Bundles, lists of them) not read as hers.

    `identifiers`: those of her Patient resource, read before (`patient_identifiers`); the
    identifiers of a Patient with her id in `data` itself count too. A resource of another
    patient is named before one that is only not tied.
    """
    full_urls: dict[str, dict[str, Any]] = {}
    resources = _walk(data, full_urls)
    return walked_problem(resources, full_urls, patient_id, identifiers, merged)


def walked_problem(
    resources: list[dict[str, Any]],
    full_urls: dict[str, dict[str, Any]],
    patient_id: str,
    identifiers: Iterable[Identifier] = (),
    merged: frozenset[str] = frozenset(),
) -> ScopeProblem | None:
    """`scope_problem` of data already walked: its resources (Bundles opened, nested too, in
    order) and each entry's fullUrl, as `_walk` gives them (the prefetch reads its Bundles so,
    checking their pages in the same pass). ``merged``: the ids her Patient replaces, read
    before (`earlypath.fhir.merged.merged_ids`); those her Patient in ``resources`` replaces
    count too."""
    if _plainly_hers(resources, full_urls, patient_id):
        return None  # the usual page: nothing below would be needed
    known: list[frozenset[Identifier]] = []
    merged_known: list[frozenset[str]] = []

    def merged_into_hers() -> frozenset[str]:
        # only a resource naming another id needs them (read once, on first need)
        if not merged_known:
            from earlypath.fhir.merged import merged_ids  # the records reading: on need only

            merged_known.append(merged | merged_ids(resources, patient_id))
        return merged_known[0]

    def her_identifiers() -> frozenset[Identifier]:
        # only a reference by identifier needs them (built once, on first need)
        if not known:
            # her Patient's, and those of the records her Patient replaces (merged into hers:
            # one woman, as the audit ties an identifier through the merges)
            hers = [
                r
                for r in resources
                if r.get("resourceType") == "Patient"
                and isinstance(r.get("id"), str)
                and (r["id"] == patient_id or r["id"] in merged_into_hers())
            ]
            known.append(frozenset(identifiers) | patient_identifiers(hers))
        return known[0]

    her_reference = "Patient/" + patient_id
    untied: ScopeProblem | None = None
    for resource in resources:
        if resource.get("resourceType") == "Patient":
            rid = resource.get("id")
            if rid != patient_id and not (isinstance(rid, str) and rid in merged_into_hers()):
                named = isinstance(rid, str)
                if named:
                    return ScopeProblem("Patient.id", another_patient=True)
                untied = untied or ScopeProblem("Patient.id", another_patient=False)
            continue
        for name in PATIENT_FIELDS:
            # null is absent (some serialisers write every field); anything else must be hers
            reference = resource.get(name)
            if reference is None:
                continue
            if (
                type(reference) is dict
                and reference.get("reference") == her_reference
                and her_reference not in full_urls
            ):
                continue  # the usual relative reference: hers (as `_literal_tie` reads it)
            tie = _tie(reference, patient_id, full_urls, her_identifiers)
            if tie == "another" and _named_id(reference, full_urls) in merged_into_hers():
                continue  # a record merged into hers, by her own Patient's link
            if tie == "another":
                return ScopeProblem(_element(resource, name), another_patient=True)
            if tie in ("untied", "untied_nhs") and untied is None:
                untied = ScopeProblem(
                    _element(resource, name),
                    another_patient=False,
                    nhs_number_not_valid=tie == "untied_nhs",
                )
    return untied


def _plainly_hers(
    resources: list[dict[str, Any]], full_urls: dict[str, dict[str, Any]], patient_id: str
) -> bool:
    """Is every resource plainly hers: her Patient (her id), or tied to her by the usual
    relative reference alone (``Patient/<her id>``, no entry of that fullUrl)? The walk below
    then finds nothing; it builds its lazy helpers (two closures and their lists) on every
    call, most of a usual page's check, so such a page is answered before it."""
    her_reference = "Patient/" + patient_id
    if her_reference in full_urls:
        return False
    for resource in resources:
        if resource.get("resourceType") == "Patient":
            if resource.get("id") != patient_id:
                return False
            continue
        for name in PATIENT_FIELDS:
            reference = resource.get(name)
            if reference is not None and (
                type(reference) is not dict or reference.get("reference") != her_reference
            ):
                return False
    return True


def out_of_scope(data: Any, patient_id: str) -> bool:
    """Does `data` (resources, Bundles, lists of them) hold anything not read as hers?"""
    return scope_problem(data, patient_id) is not None
