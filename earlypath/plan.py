"""The treatment plan for an `offer` or `continue`: dose, product, dates and quantities."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from earlypath.dating import date_reaching, display
from earlypath.policy import Policy
from earlypath.products import (
    NG126_DOSE_MG,
    NG126_DOSES_PER_DAY,
    PRODUCTS,
    SMPC_CHECKS,
    Product,
)

DOSE_MG = NG126_DOSE_MG
DOSES_PER_DAY = NG126_DOSES_PER_DAY
FIRST_PRESCRIPTION_DAYS = 14

OFF_LABEL_NOTE = (
    "Off-label use: no UK product was licensed for threatened miscarriage when NICE recommended "
    "it (Prometrium's 2024 licence covers only recurrent miscarriage). The prescriber takes "
    "responsibility, and the woman's informed consent is needed and should be recorded."
)


def choose_product(policy: Policy, peanut_or_soya_allergy: bool) -> tuple[Product, list[str]]:
    """The product to prescribe, and notes on why it was chosen."""
    preferred = PRODUCTS[policy.preferred_product]
    if not peanut_or_soya_allergy:
        return preferred, [f"{preferred.name}: the unit's preferred product (policy setting)."]
    if preferred.contains_soya_lecithin is False:
        return preferred, [f"{preferred.name}: chosen; it does not contain soya lecithin."]
    alternative = PRODUCTS["cyclogest"]
    return alternative, [
        "Peanut or soya allergy recorded: Utrogestan and Prometrium contain soya lecithin and must "
        "not be used.",
        f"{alternative.name}: its soya-lecithin content is not verified; check the current SmPC "
        "excipients before prescribing.",
    ]


# A plan's fixed parts: (units a dose, stop day, stop rule, product, product notes, checks).
_Fixed = tuple[int, int, str, dict[str, Any], tuple[str, ...], tuple[str, ...]]


@functools.lru_cache(maxsize=64)
def _fixed_parts(policy: Policy, peanut_or_soya_allergy: bool, allergies_recorded: bool) -> _Fixed:
    """What a plan holds that depends on the policy and the allergy reading alone, not on the
    dates: the same for every plan of these choices, so written once for each (the product,
    its notes, the stop rule's text, the checks: a fifth of a plan's cost, one plan each CDS
    offer). Never changed: `build_plan` gives each plan its own lists and dicts."""
    product, product_notes = choose_product(policy, peanut_or_soya_allergy)
    checks = list(SMPC_CHECKS)
    if not allergies_recorded:
        checks.insert(0, "No allergies are recorded: ask about peanut and soya allergy first.")
    product_fields = {  # never handed out: each plan gets a copy
        "key": product.key,
        "name": product.name,
        "unit": product.unit,
        "strength_mg": product.strength_mg,
        "units_per_dose": product.units_per_400mg_dose,
        "contains_soya_lecithin": product.contains_soya_lecithin,
        "licence": product.licence_note,
        "smpc": product.smpc_url,
    }
    return (
        product.units_per_400mg_dose,
        policy.stop_day,
        f"stop on the day gestation reaches {display(policy.stop_day)} (policy stop_at)",
        product_fields,
        tuple(product_notes),
        tuple(checks),
    )


def build_plan(
    *,
    assessed_on: dt.date,
    gestation_days: int,
    policy: Policy,
    peanut_or_soya_allergy: bool,
    allergies_recorded: bool,
) -> dict[str, Any]:
    per_dose, stop_day, stop_rule, product, product_notes, checks = _fixed_parts(
        policy, peanut_or_soya_allergy, allergies_recorded
    )
    stop_on = date_reaching(assessed_on, gestation_days, stop_day)
    days = max((stop_on - assessed_on).days, 0)
    return {
        "drug": "micronised progesterone",
        "route": "vaginal",
        "dose_mg": DOSE_MG,
        "frequency": "twice daily",
        "start_on": assessed_on.isoformat(),
        "stop_on": stop_on.isoformat(),
        "stop_rule": stop_rule,
        "days_to_stop_date": days,
        "product": dict(product),
        "product_notes": list(product_notes),
        "units_first_14_days": min(days, FIRST_PRESCRIPTION_DAYS) * DOSES_PER_DAY * per_dose,
        "units_to_stop_date": days * DOSES_PER_DAY * per_dose,
        "off_label": OFF_LABEL_NOTE,
        "check_before_prescribing": list(checks),
    }
