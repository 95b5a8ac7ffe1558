"""Allergies that could not be checked: say so, and do not choose a product as if there were none.

The episode contract has no "unknown" for allergies: an empty list reads as "none recorded", and
the engine then chooses the unit's preferred product, which may contain soya lecithin
(Utrogestan, Prometrium). When the CDS service could not read the allergy list (not prefetched
and no FHIR server to fetch it from, or the fetch failed), or an allergy on record has no name
it can read, that choice would rest on a false "no allergies". The decision itself does not
depend on allergies, so it stands; only the product is left unchosen, with the reason, and the
plan is given in 400 mg doses (the engine's own quantities, divided by units per dose).
"""

from __future__ import annotations

import copy
from typing import Any

from earlypath.errors import Problem
from earlypath.fhir.mapping import OpenedResources, flatten

ALLERGY_KEY = "allergies"
NOT_ALLERGIES = ("entered-in-error", "refuted")
NOT_CURRENT = ("inactive", "resolved")
PRODUCT_NOT_CHOSEN = "Vaginal progesterone 400 mg, product not chosen"


def _status(resource: dict[str, Any], name: str) -> str | None:
    concept = resource.get(name)
    codings = concept.get("coding") if isinstance(concept, dict) else None
    if isinstance(codings, list) and codings and isinstance(codings[0], dict):
        return codings[0].get("code")
    return None


def _named(resource: dict[str, Any]) -> bool:
    code = resource.get("code")
    if not isinstance(code, dict):
        return False
    coding = code.get("coding")
    codings = coding if isinstance(coding, list) else []
    return bool(code.get("text")) or any(isinstance(c, dict) and c.get("display") for c in codings)


def unreadable_allergies(resources: list[dict[str, Any]]) -> int:
    """Current allergies in `resources` (Bundles opened) on record with no name (no text or display) the episode can carry."""
    # the prefetch's opened resources are read as they are (`flatten` would copy them); a loop,
    # not a generator summed: this runs on every call
    listed = resources if type(resources) is OpenedResources else flatten(resources)
    unnamed = 0
    for r in listed:
        if (
            r.get("resourceType") == "AllergyIntolerance"
            and _status(r, "verificationStatus") not in NOT_ALLERGIES
            and _status(r, "clinicalStatus") not in NOT_CURRENT
            and not _named(r)
        ):
            unnamed += 1
    return unnamed


def unchecked_reason(left_out: list[str], resources: list[dict[str, Any]]) -> str | None:
    """Why allergies could not be checked for this call, or None if they could."""
    if ALLERGY_KEY in left_out:
        return "the allergy list was neither prefetched nor fetched from the FHIR server"
    unnamed = unreadable_allergies(resources)
    if unnamed:
        return f"{unnamed} allergy record(s) carry a code but no name that can be read"
    return None


def allergy_problem(reason: str) -> Problem:
    return Problem(
        f"prefetch.{ALLERGY_KEY}",
        f"allergies could not be checked: {reason}. No product was chosen: ask about peanut and "
        "soya allergy first (Utrogestan and Prometrium contain soya lecithin).",
    )


def without_product(assessment: dict[str, Any], reason: str) -> dict[str, Any]:
    """The assessment with its plan's product left unchosen (a copy; the engine's is untouched)."""
    plan = assessment["progesterone"].get("plan")
    if not plan:
        return assessment
    out = copy.deepcopy(assessment)
    plan = out["progesterone"]["plan"]
    per_dose = plan["product"]["units_per_dose"]
    plan["product"] = {
        "key": None,
        "name": PRODUCT_NOT_CHOSEN,
        "unit": "dose",
        "strength_mg": plan["dose_mg"],
        "units_per_dose": 1,
        "contains_soya_lecithin": None,
        "licence": "Depends on the product chosen (see product notes).",
        "smpc": "https://www.medicines.org.uk/emc",
    }
    plan["units_first_14_days"] //= per_dose
    plan["units_to_stop_date"] //= per_dose
    plan["product_notes"] = [
        f"Allergies could not be checked ({reason}): ask about peanut and soya allergy, then "
        "choose the product. Utrogestan and Prometrium contain soya lecithin and must not be "
        "used with a peanut or soya allergy."
    ]
    checks = [c for c in plan["check_before_prescribing"] if not c.startswith("No allergies")]
    plan["check_before_prescribing"] = [
        "Allergies could not be checked: ask about peanut and soya allergy first."
    ] + checks
    return out
