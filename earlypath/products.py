"""UK vaginal micronised progesterone products (SmPC facts; see NG126-reference section 3)."""

from __future__ import annotations

from dataclasses import dataclass

# NG126 1.5.2's product: vaginal micronised progesterone 400 mg twice daily. The one definition
# the plan (`earlypath.plan`), a draft order's check (`fhir.medication_request.order_differences`)
# and the record reading of her current progesterone (`records.definition`, stop 52) compare with.
NG126_ROUTE_SET = "vaginal_route"  # the value set of the route
NG126_DOSE_MG = 400
NG126_DOSES_PER_DAY = 2
# Dose units to mg: UCUM codes, the words, and the SNOMED CT units UK (dm+d, UK Core) dose
# quantities carry: 258684004 |milligram|, 258682000 |gram|. Matched lower-cased and stripped.
MG_PER_UNIT = {"mg": 1.0, "milligram": 1.0, "milligrams": 1.0, "g": 1000.0, "gram": 1000.0}
MG_PER_UNIT |= {"grams": 1000.0, "258684004": 1.0, "258682000": 1000.0}
# A dose in units of the product ("2 capsules", "1 pessary": how dm+d and UK prescribing systems
# write a dose of a unit dose form) is a dose in mg only when the product's strength per unit is
# known for certain. The words of such a unit (matched as `MG_PER_UNIT`'s, lower-cased and
# stripped) and the strength per unit of the dm+d VMPs of the progesterone value set, by their
# exact code (code-sources.md: "Progesterone 200mg pessaries", "Progesterone 400mg pessaries").
# A strength is never read from a product's name or guessed: any other product (Crinone 8% gel,
# a brand's AMP, a local code, a name alone) leaves a dose in units unknown.
DOSE_UNIT_WORDS = ("capsule", "capsules", "pessaries", "pessary")
DMD_SYSTEM = "https://dmd.nhs.uk"
VMP_MG_PER_UNIT = {"39708911000001106": 200, "39709011000001102": 400}
# The unit dose form each of those words names (stop 55): a Medication's ingredient.strength
# ("200 mg per 1 capsule") gives the strength of a dose in units only when its denominator and the
# dose name the same form; a capsule's strength never says what a pessary holds.
DOSE_UNIT_FORMS = {
    "capsule": "capsule",
    "capsules": "capsule",
    "pessaries": "pessary",
    "pessary": "pessary",
}
# A structured timing with day parts and no frequency (FHIR R4 Timing.repeat.when: the event is
# tied to the union of the listed events), as ["MORN", "NIGHT"] for morning and night: one dose a
# distinct day part. Only these five are counted: each names one time of day that overlaps no
# other listed here. Any other code (a meal's C / AC / PC, breakfast's CM, before sleep HS, on
# waking WAKE, a part's .early / .late) may fall on the same occasion as another (HS and NIGHT,
# WAKE and MORN, C at every meal), so a timing with one leaves the doses a day unknown.
DAY_PARTS = ("AFT", "EVE", "MORN", "NIGHT", "NOON")


@dataclass(frozen=True)
class Product:
    key: str
    name: str
    unit: str
    strength_mg: int
    contains_soya_lecithin: bool | None  # None: not verified, so treated as possibly present
    licence_note: str
    smpc_url: str

    @property
    def units_per_400mg_dose(self) -> int:
        return 400 // self.strength_mg


PRODUCTS: dict[str, Product] = {
    "utrogestan": Product(
        "utrogestan",
        "Utrogestan Vaginal 200 mg capsules",
        "capsule",
        200,
        True,
        "Licensed for luteal support; the SmPC says it is not suitable in threatened abortion, so "
        "this use is off-label.",
        "https://www.medicines.org.uk/emc/product/3244",
    ),
    "cyclogest": Product(
        "cyclogest",
        "Cyclogest 400 mg pessaries",
        "pessary",
        400,
        None,
        "The SmPC says it is not indicated in threatened miscarriage, so this use is off-label.",
        "https://www.medicines.org.uk/emc/product/5569",
    ),
    "prometrium": Product(
        "prometrium",
        "Prometrium 400 mg vaginal capsules",
        "capsule",
        400,
        True,
        "Licensed (2024) only for women with bleeding and recurrent miscarriage, to the 16th week; "
        "other use is off-label.",
        "https://www.medicines.org.uk/emc/product/16016",
    ),
}

SMPC_CHECKS: tuple[str, ...] = (
    "Hypersensitivity to progesterone or an excipient (peanut or soya allergy with a soya-lecithin product).",
    "Severe hepatic dysfunction.",
    "Undiagnosed vaginal bleeding (the licence's wording: under NG126 a scan has been done first).",
    "Breast or genital tract cancer, or another progesterone-sensitive tumour.",
    "Active or past arterial or venous thromboembolism, or severe thrombophlebitis.",
    "Porphyria.",
    "Known missed miscarriage or ectopic pregnancy.",
    "Jaundice (Prometrium).",
)
