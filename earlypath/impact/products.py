"""UK vaginal progesterone products that give the 400 mg dose, with the prices we can cite.

Only Utrogestan has a price in the clinical reference; the others need `--set pack_price_gbp=...`
and `--set pack_size=...` (the model refuses to invent a price).
"""

from __future__ import annotations

from dataclasses import dataclass

from earlypath.products import PRODUCTS as CLINICAL_PRODUCTS

REFERENCE_CITATION = (
    "earlypath clinical reference (shared/clinical/NG126-reference.md) section 3; North and East "
    "Devon formulary chapter 7.1.4: Utrogestan vaginal capsule 200 mg, GBP 21.00 for 21 capsules"
)


@dataclass(frozen=True)
class Product:
    key: str
    name: str
    strength_mg: int
    units_per_dose: int
    pack_price_gbp: float | None
    pack_size: int | None
    citation: str
    note: str = ""


PRODUCTS: dict[str, Product] = {
    "utrogestan": Product(
        "utrogestan",
        CLINICAL_PRODUCTS["utrogestan"].name,
        CLINICAL_PRODUCTS["utrogestan"].strength_mg,
        CLINICAL_PRODUCTS["utrogestan"].units_per_400mg_dose,
        21.0,
        21,
        REFERENCE_CITATION,
        note="contains soya lecithin; off-label in threatened miscarriage",
    ),
    "cyclogest": Product(
        "cyclogest",
        CLINICAL_PRODUCTS["cyclogest"].name,
        CLINICAL_PRODUCTS["cyclogest"].strength_mg,
        CLINICAL_PRODUCTS["cyclogest"].units_per_400mg_dose,
        None,
        None,
        "SmPC medicines.org.uk/emc product 5569 (dose form only; price not in the reference)",
        note="price not known here: set pack_price_gbp and pack_size",
    ),
    "prometrium": Product(
        "prometrium",
        CLINICAL_PRODUCTS["prometrium"].name,
        CLINICAL_PRODUCTS["prometrium"].strength_mg,
        CLINICAL_PRODUCTS["prometrium"].units_per_400mg_dose,
        None,
        None,
        "SmPC medicines.org.uk/emc product 16016 (dose form only; price not in the reference)",
        note="price not known here: set pack_price_gbp and pack_size",
    ),
}
