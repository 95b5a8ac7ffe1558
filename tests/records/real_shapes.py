"""Records shaped as real systems send them (our own synthetic data), for the CDS service's and
the audit's tests of the same shapes (`tests/integration/test_cds_real_shapes.py`,
`tests/records/test_real_shapes.py`).

Sources of the shapes: HL7 FHIR R4 namingsystem-terminologies (the OIDs of SNOMED CT and
LOINC, as Epic and CDA-converted records write them); LOINC answer list LL360-9 / LL2160-7 (Positive LA6576-8, Negative
LA6577-6), as US Core and mCODE Observation examples answer qualitative tests; the EU Digital
COVID Certificate test-result value set (SNOMED 260415000 Not detected); lab feeds that carry a
qualitative result as ``valueString`` ("Negative", "NEG") or as a concept with text only.
"""

from __future__ import annotations

from typing import Any

from tests import fhir_exports
from tests.integration.fhir_data import (
    LOINC,
    PATIENT_ID,
    SNOMED,
    bleeding,
    condition,
    crl,
    day,
    eligible_resources,
    iup,
    observation,
    previous_miscarriage,
)

URINE_HCG = (LOINC, "2106-3")  # Choriogonadotropin (pregnancy test) [Presence] in Urine
SERUM_HCG = (LOINC, "21198-7")  # Choriogonadotropin.beta subunit [Units/volume] in Serum

# A pregnancy test 20 days ago answered negative, in the ways lab systems write it.
NEGATIVE_TESTS: dict[str, tuple[tuple[str, str], dict[str, Any]]] = {
    "loinc-answer": (
        URINE_HCG,
        {
            "valueCodeableConcept": {
                "coding": [{"system": LOINC, "code": "LA6577-6", "display": "Negative"}]
            }
        },
    ),
    "not-detected": (
        URINE_HCG,
        {
            "valueCodeableConcept": {
                "coding": [{"system": SNOMED, "code": "260415000", "display": "Not detected"}]
            }
        },
    ),
    "concept-text-only": (URINE_HCG, {"valueCodeableConcept": {"text": "Negative"}}),
    "string-negative": (URINE_HCG, {"valueString": "Negative"}),
    "string-neg": (URINE_HCG, {"valueString": " NEG "}),
    "string-not-detected": (SERUM_HCG, {"valueString": "not detected"}),
}
# A pregnancy test result that says nothing either way: it ends nothing.
UNREADABLE_TESTS: dict[str, tuple[tuple[str, str], dict[str, Any]]] = {
    "string-pending": (URINE_HCG, {"valueString": "pending"}),
    "string-not-negative": (URINE_HCG, {"valueString": "not negative"}),
    "no-result": (URINE_HCG, {}),
}


def pregnancy_test(code: tuple[str, str], value: dict[str, Any]) -> dict[str, Any]:
    res = observation("hcg", code[0], code[1], day(-20))
    res.update(value)
    return res


def ended_then_scanned(test: dict[str, Any]) -> list[dict[str, Any]]:
    """An LMP 80 days ago (recorded 75 days ago), then the pregnancy test, then today bleeding
    and an intrauterine pregnancy on a scan, with a previous miscarriage. If the test says she
    was not pregnant 20 days ago, that LMP is of a pregnancy that ended and dates nothing: the
    gestation is unknown. Read wrongly, the old LMP dates today's scan and she is offered
    progesterone at 11+3 weeks."""
    old_lmp = observation("lmp", LOINC, "8665-2", day(-75), valueDateTime=day(-80))
    return [previous_miscarriage(), bleeding(day()), old_lmp, iup(day()), test]


def export_of(resources: list[dict[str, Any]], encounter: str = "enc-1") -> dict[str, list]:
    """A bulk export of her record with one encounter today."""
    out: dict[str, list[dict[str, Any]]] = {
        "Patient": [fhir_exports.woman(PATIENT_ID)],
        "Encounter": [fhir_exports.encounter(encounter, PATIENT_ID)],
        "Condition": [],
    }
    for resource in resources:
        out.setdefault(resource["resourceType"], []).append(resource)
    return out


# Code systems named by their OID (HL7 FHIR R4 namingsystem-terminologies), as records converted
# from HL7 v2 or CDA, and some EHRs beside their local codes, write them.
OID_SYSTEMS = {
    SNOMED: "urn:oid:2.16.840.1.113883.6.96",
    LOINC: "urn:oid:2.16.840.1.113883.6.1",
    "http://terminology.hl7.org/CodeSystem/v3-ActCode": "urn:oid:2.16.840.1.113883.5.4",
}


def with_oid_systems(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource with every coding's SNOMED or LOINC system written as its OID."""

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            out = {k: walk(v) for k, v in value.items()}
            if out.get("system") in OID_SYSTEMS and "code" in out:
                out["system"] = OID_SYSTEMS[out["system"]]
            return out
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(resource)


def ectopic_today() -> dict[str, Any]:
    return condition("ect", "79586000", day())  # Tubal pregnancy (Synthea, CPRD lists)


# A yes/no answer as questionnaires and lab systems code it: LOINC answer list LL361-7 and the
# SNOMED CT qualifier values. "Yes" is read as valueBoolean true is, "No" as false.
YES_NO = {
    "loinc-yes": ((LOINC, "LA33-6", "Yes"), "offer"),
    "snomed-yes": ((SNOMED, "373066001", "Yes"), "offer"),
    "loinc-no": ((LOINC, "LA32-8", "No"), "do_not_offer"),
    "snomed-no": ((SNOMED, "373067005", "No"), "do_not_offer"),
}


def bleeding_answered(answer: tuple[str, str, str]) -> list[dict[str, Any]]:
    """Eligible but for bleeding, which is an Observation answered yes or no."""
    system, code, display = answer
    finding = observation(
        "bleed-q",
        SNOMED,
        "289530006",
        day(),
        valueCodeableConcept={"coding": [{"system": system, "code": code, "display": display}]},
    )
    return [r for r in eligible_resources() if r["id"] != "bleed"] + [finding]


# A status whose first coding is a site's own, the HL7 one after it: the HL7 code is read.
HL7 = "http://terminology.hl7.org/CodeSystem/"
LOCAL_FIRST = {
    "refuted": (
        "verificationStatus",
        {
            "coding": [
                {"system": "https://gp.example/status", "code": "R"},
                {"system": f"{HL7}condition-ver-status", "code": "refuted"},
            ]
        },
        "do_not_offer",
    ),
    "resolved": (
        "clinicalStatus",
        {
            "coding": [
                {"system": "https://gp.example/status", "code": "X"},
                {"system": f"{HL7}condition-clinical", "code": "resolved"},
            ]
        },
        "needs_information",
    ),
}


def bleeding_with_status(element: str, status: dict[str, Any]) -> list[dict[str, Any]]:
    """Eligible, with the bleeding Condition's status as given."""
    out = [r for r in eligible_resources() if r["id"] != "bleed"]
    return [*out, {**bleeding(), element: status}]


# A subject named as UK Core records name it: by NHS number (`Reference.identifier`), with no
# literal reference; a subject that is a contained Patient; a display text only.
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
HER_NHS_NUMBER = "9990001112"  # synthetic, not a valid NHS number
HER_IDENTIFIER = {"system": NHS_NUMBER, "value": HER_NHS_NUMBER}


def her_patient(*identifiers: dict[str, Any]) -> dict[str, Any]:
    """Her Patient resource as the `patient` prefetch sends it, with these identifiers."""
    return {
        "resourceType": "Patient",
        "id": PATIENT_ID,
        "gender": "female",
        "identifier": [{"use": "official", **i} for i in identifiers],
    }


def with_subject(resource: dict[str, Any], subject: dict[str, Any]) -> dict[str, Any]:
    return {**resource, "subject": subject}


def contained_subject(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource with its subject a Patient contained in it (even one carrying her number)."""
    patient = {"resourceType": "Patient", "id": "p1", "identifier": [HER_IDENTIFIER]}
    return {**resource, "contained": [patient], "subject": {"reference": "#p1"}}


# Subjects that cannot be tied to her when her Patient carries only HER_IDENTIFIER.
UNTIED_SUBJECTS: dict[str, dict[str, Any]] = {
    "identifier-not-hers": {"identifier": {"system": NHS_NUMBER, "value": "9990001113"}},
    "identifier-other-system": {
        "identifier": {"system": "https://gp.example/mrn", "value": HER_NHS_NUMBER}
    },
    "identifier-no-system": {"identifier": {"value": HER_NHS_NUMBER}},
    "display-only": {"display": "Jane Doe"},
    "contained": {"reference": "#p1"},
}


# --- a current prescription whose medicine may or may not be progesterone ------------------------

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
DMD = "https://dmd.nhs.uk"
LOCAL_FORMULARY = "https://trust.example/formulary"
# A code of a known system outside the progesterone set (the code itself is not checked: any
# code of the system that is not in the set reads so).
OTHER_RXNORM = {"system": RXNORM, "code": "0000001", "display": "Folic acid 0.4 MG Oral Tablet"}


def active_request(medication: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An active MedicationRequest of hers, written 10 days ago, for ``medication`` (its
    medication[x] elements)."""
    return {
        "resourceType": "MedicationRequest",
        "id": "rx-1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "authoredOn": day(-10),
        **medication,
        **extra,
    }


def medication(rid: str, code: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"resourceType": "Medication", "id": rid}
    if code is not None:
        out["code"] = code
    return out


ORAL_ROUTE = {"system": SNOMED, "code": "26643006", "display": "Oral route"}
INTRAMUSCULAR_ROUTE = {"system": SNOMED, "code": "78421000", "display": "Intramuscular route"}
SUBCUTANEOUS_ROUTE = {"system": SNOMED, "code": "34206005", "display": "Subcutaneous route"}
VAGINAL_ROUTE = {"system": SNOMED, "code": "16857009", "display": "Vaginal route"}
# the two dm+d VMPs of the progesterone set
PROGESTERONE_200_VMP = {"system": DMD, "code": "39708911000001106"}
PROGESTERONE_400_VMP = {"system": DMD, "code": "39709011000001102"}


def dosage(route: dict[str, str], mg: float, per_day: int) -> dict[str, Any]:
    """A request's ``dosageInstruction`` (as UK Core writes one): a SNOMED CT route, a dose in
    mg (UCUM) and a structured timing of ``per_day`` doses a day."""
    return {
        "dosageInstruction": [
            {
                "route": {"coding": [route]},
                "timing": {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": mg,
                            "unit": "mg",
                            "system": "http://unitsofmeasure.org",
                            "code": "mg",
                        }
                    }
                ],
            }
        ]
    }


def mg_quantity(mg: float) -> dict[str, Any]:
    return {"value": mg, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}


def unit_quantity(count: float, unit: str) -> dict[str, Any]:
    """A dose in units of the product, as dm+d and EPS write it (no UCUM code)."""
    return {"value": count, "unit": unit}


def ng126_dosage(
    dose: dict[str, Any] | None = None, per_day: int = 2, code: str | None = None
) -> dict[str, Any]:
    """One dosageInstruction, vaginal and 400 mg twice daily unless told: ``dose`` another
    doseQuantity, ``per_day`` another frequency, ``code`` a v3-GTSAbbreviation timing code in
    place of the structured repeat."""
    timing: dict[str, Any] = (
        {"code": {"coding": [{"system": GTS, "code": code}]}}
        if code
        else {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}}
    )
    return {
        "route": {"coding": [VAGINAL_ROUTE]},
        "timing": timing,
        "doseAndRate": [{"doseQuantity": dose or mg_quantity(400)}],
    }


GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"


def day_parts_dosage(when: list[Any], mg: float = 400, **repeat: Any) -> dict[str, Any]:
    """One dosageInstruction, vaginal, ``mg`` a dose, timed by day parts (timing.repeat.when)
    and whatever else of ``repeat`` is given."""
    return {
        "route": {"coding": [VAGINAL_ROUTE]},
        "timing": {"repeat": {"when": when, **repeat}},
        "doseAndRate": [{"doseQuantity": mg_quantity(mg)}],
    }


def on_400mg_vmp(*dosages: dict[str, Any]) -> tuple[dict[str, Any], list[Any], bool]:
    """A `MEDICATION_SHAPES` entry: the 400 mg progesterone VMP with these dosages (she is on
    progesterone)."""
    return (
        {
            "medicationCodeableConcept": {"coding": [PROGESTERONE_400_VMP]},
            "dosageInstruction": [*dosages],
        },
        [],
        True,
    )


def on_ingredient_strength(
    dose: dict[str, Any],
    strength: tuple[float, str, float, str] = (200, "mg", 1, "capsule"),
    exported: bool = False,
    *also: dict[str, Any],
) -> tuple[dict[str, Any], list[Any], bool]:
    """A `MEDICATION_SHAPES` entry (stop 55): a Medication named by its ingredient, progesterone
    of ``strength`` (numerator value and unit, denominator value and unit), and ``also`` more
    ingredients, contained (or ``exported``), taken as ``dose`` vaginally twice a day."""
    mg, mg_unit, per, per_unit = strength
    ingredient = {
        "itemCodeableConcept": {"text": "progesterone"},
        "strength": {
            "numerator": {"value": mg, "unit": mg_unit, "code": mg_unit},
            "denominator": {"value": per, "unit": per_unit},
        },
    }
    held = medication("m5", {"text": "Progesterone vaginal capsules"})
    held["ingredient"] = [ingredient, *also]
    reference = "Medication/m5" if exported else "#m5"
    request = {
        "medicationReference": {"reference": reference},
        "dosageInstruction": [ng126_dosage(dose=dose)],
    }
    if not exported:
        request["contained"] = [held]
    return request, [held] if exported else [], True


def _dmd(display: str) -> dict[str, str]:
    """A dm+d coding outside the progesterone set (a made-up code), named by ``display``."""
    return {"system": DMD, "code": "0000006", "display": display}


# (the request's medication[x] and anything beside it, the Medications exported with it, what
# "on progesterone" reads as: True, False, or None = Unknown). Shapes: Epic, Cerner and
# UK Core write medicationReference to a Medication (contained, or sent with _include); a
# trust's formulary code with its display; a reference whose Medication is not in the record.
MEDICATION_SHAPES: dict[str, tuple[dict[str, Any], list[dict[str, Any]], bool | None]] = {
    "reference-to-missing-medication": (
        {"medicationReference": {"reference": "Medication/med-gone"}},
        [],
        None,
    ),
    "contained-without-codes": (
        {
            "contained": [medication("m1", {"text": "pessary"})],
            "medicationReference": {"reference": "#m1"},
        },
        [],
        None,
    ),
    "contained-no-code-at-all": (
        {"contained": [medication("m1", None)], "medicationReference": {"reference": "#m1"}},
        [],
        None,
    ),
    # Lutinus is a progesterone vaginal tablet (Ferring's, outside the UK): a brand the value set
    # does not list (Gestone was this brand until stop 51, when the set listed it)
    "local-formulary-code-unlisted-brand": (
        {
            "medicationCodeableConcept": {
                "coding": [{"system": LOCAL_FORMULARY, "code": "F123", "display": "Lutinus 100mg"}]
            }
        },
        [],
        None,
    ),
    "text-only": ({"medicationCodeableConcept": {"text": "PV pessary as directed"}}, [], None),
    "display-only-reference": (
        {"medicationReference": {"display": "Lutinus 100mg vaginal tablet"}},
        [],
        None,
    ),
    "missing-reference-other-display": (
        {"medicationReference": {"reference": "Medication/gone", "display": "Lutinus"}},
        [],
        None,
    ),
    "exported-medication-text-only": (
        {"medicationReference": {"reference": "Medication/m2"}},
        [medication("m2", {"text": "Lutinus 100mg"})],
        None,
    ),
    "local-code-progesterone-text": (
        {
            "medicationCodeableConcept": {
                "coding": [{"system": LOCAL_FORMULARY, "code": "F9", "display": "Progesterone"}]
            }
        },
        [],
        True,
    ),
    "missing-reference-progesterone-display": (
        {"medicationReference": {"reference": "Medication/gone", "display": "Cyclogest 400mg"}},
        [],
        True,
    ),
    "rxnorm-other-medicine": ({"medicationCodeableConcept": {"coding": [OTHER_RXNORM]}}, [], False),
    "rxnorm-oid-other-medicine": (
        {
            "medicationCodeableConcept": {
                "coding": [{**OTHER_RXNORM, "system": "urn:oid:2.16.840.1.113883.6.88"}]
            }
        },
        [],
        False,
    ),
    "exported-medication-coded-other": (
        {"medicationReference": {"reference": "Medication/m3"}},
        [medication("m3", {"coding": [OTHER_RXNORM]})],
        False,
    ),
    "contained-ingredient-coded-other": (
        {
            "contained": [
                {
                    "resourceType": "Medication",
                    "id": "m1",
                    "ingredient": [{"itemCodeableConcept": {"coding": [OTHER_RXNORM]}}],
                }
            ],
            "medicationReference": {"reference": "#m1"},
        },
        [],
        False,
    ),
    # --- stop 16: a code of a known system with no name (no display, no text). The value set lists
    # a few product codes; a bare product code outside it (a dm+d AMP of Utrogestan, a SNOMED CT
    # product, an RxNorm SCD) cannot be told not to be progesterone: Unknown (was "not on it").
    "dmd-product-code-without-name": (
        {"medicationCodeableConcept": {"coding": [{"system": DMD, "code": "0000003"}]}},
        [],
        None,
    ),
    "snomed-product-code-without-name": (
        {"medicationCodeableConcept": {"coding": [{"system": SNOMED, "code": "0000004"}]}},
        [],
        None,
    ),
    "rxnorm-scd-code-without-name": (
        {"medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "0000005"}]}},
        [],
        None,
    ),
    # UK Core: a Medication resource coded in dm+d, referenced from the request
    "exported-medication-dmd-code-without-name": (
        {"medicationReference": {"reference": "Medication/m4"}},
        [medication("m4", {"coding": [{"system": DMD, "code": "0000003"}]})],
        None,
    ),
    # named by the concept's text: a medicine that is not progesterone
    "dmd-code-named-by-text": (
        {
            "medicationCodeableConcept": {
                "coding": [{"system": DMD, "code": "0000003"}],
                "text": "Folic acid 400microgram tablets",
            }
        },
        [],
        False,
    ),
    # --- stop 51: a dm+d AMP or pack (AMPP) code, which the set does not list, named by its
    # brand. Gestone is a progesterone injection (progesterone in oil, intramuscular): not the
    # product NG126 recommends, yet progesterone, so she is on it (offering vaginal progesterone
    # beside it would duplicate it). Until stop 51 the name was read as another medicine's: the
    # card offered. (The codes here are made up: codes outside the set, read by their names.)
    "dmd-amp-named-gestone": (
        {
            "medicationCodeableConcept": {
                "coding": [_dmd("Gestone 50mg/1ml solution for injection")]
            }
        },
        [],
        True,
    ),
    "exported-medication-dmd-ampp-named-gestone": (
        {"medicationReference": {"reference": "Medication/m5"}},
        [medication("m5", {"coding": [_dmd("Gestone 100mg/2ml inj ampoules 10 ampoule")]})],
        True,
    ),
    # the same shapes named by a brand the set lists: read as progesterone on the base already
    "dmd-ampp-named-cyclogest": (
        {"medicationCodeableConcept": {"coding": [_dmd("Cyclogest 400mg pessaries 15 pessary")]}},
        [],
        True,
    ),
    # a listed dm+d VMP needs no name
    "dmd-listed-vmp-without-name": (
        {"medicationCodeableConcept": {"coding": [{"system": DMD, "code": "39708911000001106"}]}},
        [],
        True,
    ),
    # --- stop 52: progesterone brands the set did not list, named on a dm+d product code (made
    # up: read by the name). Lutigest (vaginal tablets) and Prolutex (an injection) are
    # progesterone: until stop 52 each read as another medicine and the card offered a second
    # progesterone beside it.
    "dmd-amp-named-lutigest": (
        {"medicationCodeableConcept": {"coding": [_dmd("Lutigest 100mg vaginal tablets")]}},
        [],
        True,
    ),
    "exported-medication-dmd-amp-named-prolutex": (
        {"medicationReference": {"reference": "Medication/m6"}},
        [medication("m6", {"coding": [_dmd("Prolutex 25mg/1.112ml solution for injection")]})],
        True,
    ),
    # --- stop 52: progestogens that are not progesterone. Coded and named, each read as another
    # medicine (the card offered vaginal progesterone beside it); by text only, as a medicine that
    # cannot be identified. Now each holds the decision back, named as a progestogen
    # (`PROGESTOGEN_SHAPES`): offering progesterone beside one needs a clinician's review.
    "dmd-named-dydrogesterone": (
        {"medicationCodeableConcept": {"coding": [_dmd("Dydrogesterone 10mg tablets")]}},
        [],
        None,
    ),
    "contained-medication-named-makena": (
        {
            "contained": [
                medication(
                    "m1",
                    {
                        "coding": [
                            {**OTHER_RXNORM, "display": "Makena 250 MG/ML Injectable Solution"}
                        ]
                    },
                )
            ],
            "medicationReference": {"reference": "#m1"},
        },
        [],
        None,
    ),
    "snomed-named-medroxyprogesterone": (
        {
            "medicationCodeableConcept": {
                "coding": [
                    {
                        "system": SNOMED,
                        "code": "0000007",
                        "display": "Medroxyprogesterone acetate 150mg/1ml injection",
                    }
                ]
            }
        },
        [],
        None,
    ),
    "text-only-norethisterone": (
        {"medicationCodeableConcept": {"text": "Norethisterone 5mg tablets"}},
        [],
        None,
    ),
    # --- stop 52: progesterone she takes that is not the NG126 1.5.2 product (vaginal micronised
    # progesterone 400 mg twice daily), by the request's dosage: each is progesterone, so "on
    # progesterone" (an offer beside it would duplicate it); `NG126_PRODUCT` says what differs.
    "utrogestan-by-mouth": (
        {
            "medicationCodeableConcept": {"coding": [_dmd("Utrogestan 100mg capsules")]},
            **dosage(ORAL_ROUTE, 200, 2),
        },
        [],
        True,
    ),
    "gestone-intramuscular": (
        {
            "medicationCodeableConcept": {
                "coding": [_dmd("Gestone 50mg/1ml solution for injection")]
            },
            **dosage(INTRAMUSCULAR_ROUTE, 50, 1),
        },
        [],
        True,
    ),
    "prolutex-subcutaneous": (
        {
            "medicationCodeableConcept": {"coding": [_dmd("Prolutex 25mg solution for injection")]},
            **dosage(SUBCUTANEOUS_ROUTE, 25, 1),
        },
        [],
        True,
    ),
    "vaginal-200mg-once-daily": (
        {
            "medicationCodeableConcept": {"coding": [PROGESTERONE_200_VMP]},
            **dosage(VAGINAL_ROUTE, 200, 1),
        },
        [],
        True,
    ),
    "vaginal-400mg-twice-daily": (
        {
            "medicationCodeableConcept": {"coding": [PROGESTERONE_400_VMP]},
            **dosage(VAGINAL_ROUTE, 400, 2),
        },
        [],
        True,
    ),
    "progesterone-no-route-or-dose": (
        {
            "medicationCodeableConcept": {"coding": [PROGESTERONE_400_VMP]},
            "dosageInstruction": [{"text": "as directed"}],
        },
        [],
        True,
    ),
    "vaginal-route-no-dose": (
        {
            "medicationCodeableConcept": {"coding": [PROGESTERONE_400_VMP]},
            "dosageInstruction": [{"route": {"coding": [VAGINAL_ROUTE]}, "text": "1 PV"}],
        },
        [],
        True,
    ),
    # --- stop 52 (w-dosage52): her dosage as UK prescribing systems write it (EPS / UK Core
    # MedicationRequest: a dose in units of a dm+d unit dose form, a timing code, several
    # dosages, a local route text, the dose only in text). `NG126_PRODUCT` says what each reads.
    "dose-and-rate-one-object": (
        {
            "medicationCodeableConcept": {"coding": [PROGESTERONE_400_VMP]},
            "dosageInstruction": [
                {**ng126_dosage(), "doseAndRate": {"doseQuantity": mg_quantity(400)}}
            ],
        },
        [],
        True,
    ),
    "vmp-200mg-two-capsules-bid": (
        {
            "medicationCodeableConcept": {"coding": [PROGESTERONE_200_VMP]},
            "dosageInstruction": [ng126_dosage(dose=unit_quantity(2, "capsules"))],
        },
        [],
        True,
    ),
    "vmp-400mg-one-pessary-bid": (
        {
            "medicationCodeableConcept": {
                "coding": [{**PROGESTERONE_400_VMP, "display": "Cyclogest 400mg pessaries"}]
            },
            "dosageInstruction": [ng126_dosage(dose=unit_quantity(1, "pessary"), code="BID")],
        },
        [],
        True,
    ),
    "vmp-200mg-one-capsule-bid": (
        {
            "medicationCodeableConcept": {"coding": [PROGESTERONE_200_VMP]},
            "dosageInstruction": [ng126_dosage(dose=unit_quantity(1, "capsule"))],
        },
        [],
        True,
    ),
    "named-200mg-two-capsules-no-code": (
        {
            "medicationCodeableConcept": {"coding": [_dmd("Progesterone 200mg vaginal capsules")]},
            "dosageInstruction": [ng126_dosage(dose=unit_quantity(2, "capsules"))],
        },
        [],
        True,
    ),
    "crinone-one-applicatorful-daily": (
        {
            "medicationCodeableConcept": {"coding": [_dmd("Crinone 8% vaginal gel")]},
            "dosageInstruction": [ng126_dosage(dose=unit_quantity(1, "applicatorful"), per_day=1)],
        },
        [],
        True,
    ),
    "two-vmps-of-different-strengths": (
        {
            "medicationCodeableConcept": {"coding": [PROGESTERONE_200_VMP, PROGESTERONE_400_VMP]},
            "dosageInstruction": [ng126_dosage(dose=unit_quantity(1, "capsule"))],
        },
        [],
        True,
    ),
    "loading-dose-then-200mg": (
        {
            "medicationCodeableConcept": {"coding": [PROGESTERONE_400_VMP]},
            "dosageInstruction": [
                {**ng126_dosage(), "sequence": 1},
                {**ng126_dosage(dose=mg_quantity(200)), "sequence": 2},
            ],
        },
        [],
        True,
    ),
    "two-dosages-both-ng126": (
        {
            "medicationCodeableConcept": {"coding": [PROGESTERONE_400_VMP]},
            "dosageInstruction": [
                {**ng126_dosage(), "sequence": 1},
                {**ng126_dosage(code="BID"), "sequence": 2},
            ],
        },
        [],
        True,
    ),
    "route-text-pv": (
        {
            "medicationCodeableConcept": {"coding": [PROGESTERONE_400_VMP]},
            "dosageInstruction": [{**ng126_dosage(), "route": {"text": "PV"}}],
        },
        [],
        True,
    ),
    "dose-only-in-text": (
        {
            "medicationCodeableConcept": {"coding": [PROGESTERONE_400_VMP]},
            "dosageInstruction": [{"text": "400mg twice daily PV"}],
        },
        [],
        True,
    ),
    # --- stop 54 (w-dosage54): day parts (timing.repeat.when) with no frequency, as EPR order
    # sets write "morning and night": one dose a distinct day part of `products.DAY_PARTS`
    "when-morn-and-night": on_400mg_vmp(day_parts_dosage(["MORN", "NIGHT"])),
    "when-morning-only": on_400mg_vmp(day_parts_dosage(["MORN", "MORN"])),
    "when-morning-and-bedtime": on_400mg_vmp(day_parts_dosage(["MORN", "HS"])),
    "when-with-once-daily-frequency": on_400mg_vmp(
        day_parts_dosage(["MORN", "NIGHT"], frequency=1, period=1, periodUnit="d")
    ),
    # split dosages: morning and night as two dosages of 400 mg once a day each
    "split-morning-and-night": on_400mg_vmp(
        day_parts_dosage(["MORN"]), day_parts_dosage(["NIGHT"])
    ),
    "split-of-one-sequence": on_400mg_vmp(
        {**day_parts_dosage(["MORN"]), "sequence": 1},
        {**day_parts_dosage(["EVE"]), "sequence": 1},
    ),
    "split-in-sequence": on_400mg_vmp(
        {**day_parts_dosage(["MORN"]), "sequence": 1},
        {**day_parts_dosage(["NIGHT"]), "sequence": 2},
    ),
    "split-at-one-day-part": on_400mg_vmp(day_parts_dosage(["NIGHT"]), day_parts_dosage(["NIGHT"])),
    "split-of-200mg": on_400mg_vmp(
        day_parts_dosage(["MORN"], mg=200), day_parts_dosage(["NIGHT"], mg=200)
    ),
    "when-with-a-timing-code": on_400mg_vmp(
        {
            **day_parts_dosage(["MORN", "NIGHT"]),
            "timing": {
                "repeat": {"when": ["MORN", "NIGHT"]},
                "code": {"coding": [{"system": GTS, "code": "QD"}]},
            },
        }
    ),
    # stop 55 (w-dosage55): a Medication's ingredient.strength (contained or exported)
    "ingredient-strength-two-capsules": on_ingredient_strength(unit_quantity(2, "capsule")),
    "exported-ingredient-strength-one-pessary": on_ingredient_strength(
        unit_quantity(1, "pessary"), (0.4, "g", 1, "pessaries"), True
    ),
    "ingredient-strength-one-capsule": on_ingredient_strength(unit_quantity(1, "capsules")),
    "ingredient-strength-of-another-form": on_ingredient_strength(unit_quantity(2, "pessaries")),
    "ingredient-strength-per-two-capsules": on_ingredient_strength(
        unit_quantity(1, "capsule"), (400, "mg", 2, "capsule")
    ),
    "ingredient-strength-two-ingredients": on_ingredient_strength(
        unit_quantity(2, "capsule"),
        (200, "mg", 1, "capsule"),
        False,
        {"itemCodeableConcept": {"text": "soya lecithin"}},
    ),
}
# The progestogen shapes, read as "whether she is on progesterone is unknown" with their own words
PROGESTOGEN_SHAPES = (
    "contained-medication-named-makena",
    "dmd-named-dydrogesterone",
    "snomed-named-medroxyprogesterone",
    "text-only-norethisterone",
)
# Whether her current progesterone is NG126 1.5.2's product, by its dosage: True, False (what
# differs), None (not given: what is missing). Every other shape gives no dosage (None).
NG126_PRODUCT: dict[str, tuple[bool | None, tuple[str, ...]]] = {
    "utrogestan-by-mouth": (False, ("route", "dose")),
    "gestone-intramuscular": (False, ("route", "dose", "frequency")),
    "prolutex-subcutaneous": (False, ("route", "dose", "frequency")),
    "vaginal-200mg-once-daily": (False, ("dose", "frequency")),
    "vaginal-400mg-twice-daily": (True, ()),
    "progesterone-no-route-or-dose": (None, ("route", "dose", "frequency")),
    "vaginal-route-no-dose": (None, ("dose", "frequency")),
    # stop 52 (w-dosage52): doseAndRate as one object, a dose in units of a VMP of known
    # strength, a timing code, several dosages (every one must be NG126's), a local route text;
    # a strength never read from a name, two strengths that contradict, the dose only in text
    # (not read): unknown, named
    "dose-and-rate-one-object": (True, ()),
    "vmp-200mg-two-capsules-bid": (True, ()),
    "vmp-400mg-one-pessary-bid": (True, ()),
    "vmp-200mg-one-capsule-bid": (False, ("dose",)),
    "named-200mg-two-capsules-no-code": (None, ("dose",)),
    "crinone-one-applicatorful-daily": (False, ("frequency",)),
    "two-vmps-of-different-strengths": (None, ("dose",)),
    "loading-dose-then-200mg": (False, ("dose",)),
    "two-dosages-both-ng126": (True, ()),
    "route-text-pv": (True, ()),
    "dose-only-in-text": (None, ("route", "dose", "frequency")),
    # stop 54 (w-dosage54): day parts with no frequency read as the doses a day; a day part
    # that may be another's occasion (HS beside MORN), or a timing code, leaves it unknown; a
    # frequency given beside them is read (once a day: not NG126's)
    "when-morn-and-night": (True, ()),
    "when-morning-only": (False, ("frequency",)),
    "when-morning-and-bedtime": (None, ("frequency",)),
    "when-with-once-daily-frequency": (False, ("frequency",)),
    "when-with-a-timing-code": (None, ("frequency",)),
    # split dosages (two of one day part each, concurrent: no sequence, or the same) are one
    # course of two doses a day; in sequence, or both at night, read dosage by dosage as before;
    # a split of 200 mg is not NG126's by its dose
    "split-morning-and-night": (True, ()),
    "split-of-one-sequence": (True, ()),
    "split-in-sequence": (False, ("frequency",)),
    "split-at-one-day-part": (False, ("frequency",)),
    "split-of-200mg": (False, ("dose",)),
    # stop 55 (w-dosage55): a Medication's ingredient.strength, read when it is one progesterone
    # ingredient of so many mg per one unit of the dose's form; any other strength is unknown
    "ingredient-strength-two-capsules": (True, ()),
    "exported-ingredient-strength-one-pessary": (True, ()),
    "ingredient-strength-one-capsule": (False, ("dose",)),
    "ingredient-strength-of-another-form": (None, ("dose",)),
    "ingredient-strength-per-two-capsules": (None, ("dose",)),
    "ingredient-strength-two-ingredients": (None, ("dose",)),
}


def with_current_medication(shape: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """An eligible woman with one active prescription of this shape: (the clinical resources
    and the request, the Medications exported beside them)."""
    med, exported, _ = MEDICATION_SHAPES[shape]
    return [*eligible_resources(), active_request(med)], exported


# --- findings given as components of an ultrasound panel -----------------------------------------

UCUM = "http://unitsofmeasure.org"
LOCAL_US_PANEL = ("https://trust.example/results", "EPAU-US", "Early pregnancy scan")
NUMBER_OF_FETUSES = (LOINC, "11878-6", "Number of fetuses by US")


def quantity(value: float, unit: str, **extra: Any) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit, **extra}


def component(system: str, code: str, **value: Any) -> dict[str, Any]:
    return {"code": {"coding": [{"system": system, "code": code}]}, **value}


CRL_CM = component(LOINC, "11957-8", valueQuantity=quantity(0.95, "cm"))
RATE_150 = component(LOINC, "11948-7", valueQuantity=quantity(150, "/min"))


def us_panel(
    components: list[dict[str, Any]],
    code: tuple[str, str, str] = LOCAL_US_PANEL,
    on: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An ultrasound result as one Observation whose findings are components (the shape of a
    DICOM SR OB-GYN ultrasound report converted to FHIR, with the DICOM CID 12009 / 12019 LOINC
    codes; US Core's blood pressure is the canonical component example)."""
    system, value, display = code
    out = {
        "resourceType": "Observation",
        "id": "us-panel",
        "status": "final",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {"coding": [{"system": system, "code": value, "display": display}]},
        "component": components,
        **extra,
    }
    if on is not None:
        out["effectiveDateTime"] = on
    return out


# (the panel, the scan facts of the day read from it, a problem it gives or None). With the
# bleeding, previous miscarriage, LMP and an intrauterine finding of `eligible_resources`, but
# no CRL Observation of its own.
COMPONENT_SHAPES: dict[str, tuple[dict[str, Any], dict[str, Any], str | None]] = {
    "crl-cm-and-rate": (
        us_panel([CRL_CM, RATE_150], on=day()),
        {"crl_mm": 9.5, "fetal_heartbeat": True},
        None,
    ),
    "number-of-fetuses-panel": (
        us_panel([CRL_CM, RATE_150], NUMBER_OF_FETUSES, on=day(), valueQuantity={"value": 1}),
        {"crl_mm": 9.5, "fetal_heartbeat": True},
        None,
    ),
    "rate-zero": (
        us_panel(
            [CRL_CM, component(LOINC, "11948-7", valueQuantity=quantity(0, "/min"))], on=day()
        ),
        {"crl_mm": 9.5, "fetal_heartbeat": False},
        None,
    ),
    "viable-finding-component": (
        us_panel([CRL_CM, component(SNOMED, "237241002", valueBoolean=True)], on=day()),
        {"crl_mm": 9.5, "fetal_heartbeat": True},
        None,
    ),
    "location-as-component-value": (
        us_panel(
            [
                component(
                    "https://trust.example/results",
                    "SAC-LOC",
                    valueCodeableConcept={"coding": [{"system": SNOMED, "code": "65727000"}]},
                ),
                CRL_CM,
            ],
            on=day(),
        ),
        {"location": "intrauterine", "crl_mm": 9.5},
        None,
    ),
    "crl-in-inches": (
        us_panel([component(LOINC, "11957-8", valueQuantity=quantity(0.4, "[in_i]"))], on=day()),
        {"crl_mm": None},
        "crown-rump length unit '[in_i]' is not mm or cm; ignored",
    ),
    "crl-bound": (
        us_panel(
            [component(LOINC, "11957-8", valueQuantity=quantity(3, "mm", comparator="<"))], on=day()
        ),
        {"crl_mm": None},
        "crown-rump length is a bound (comparator), not a value; ignored",
    ),
    "rate-not-recorded": (
        us_panel(
            [
                CRL_CM,
                component(
                    LOINC,
                    "11948-7",
                    dataAbsentReason={"coding": [{"code": "not-performed"}]},
                ),
            ],
            on=day(),
        ),
        {"crl_mm": 9.5, "fetal_heartbeat": None},
        "fetal heart rate has no value; ignored",
    ),
    "panel-undated": (us_panel([CRL_CM, RATE_150]), {}, "fetal heart finding has no usable date"),
    "panel-period-end-only": (
        us_panel([CRL_CM, RATE_150], effectivePeriod={"end": f"{day()}T10:20:00Z"}),
        {"crl_mm": 9.5, "fetal_heartbeat": True},
        None,
    ),
}


def with_panel(shape: str) -> list[dict[str, Any]]:
    """Eligible, but the CRL (and the heart, when the panel has one) only in the panel."""
    panel = COMPONENT_SHAPES[shape][0]
    return [*(r for r in eligible_resources() if r["id"] != "crl"), panel]


# --- a period given with its end only -------------------------------------------------------------


def _dated(resource: dict[str, Any], element: str, period: dict[str, str]) -> dict[str, Any]:
    out = {k: v for k, v in resource.items() if k not in ("effectiveDateTime", "onsetDateTime")}
    return {**out, element: period}


# (her record, the days of her scans, whether she is bleeding now). A period is dated by its
# start, else by its end (never undated); the start wins when both are there.
PERIOD_SHAPES: dict[str, tuple[list[dict[str, Any]], list[str], bool | None]] = {
    "scan-period-end-only": (
        [
            *(r for r in eligible_resources() if r["id"] != "crl"),
            _dated(crl(), "effectivePeriod", {"end": f"{day()}T09:40:00Z"}),
        ],
        [day()],
        True,
    ),
    "scan-period-start-wins": (
        [
            *(r for r in eligible_resources() if r["id"] != "crl"),
            _dated(crl(), "effectivePeriod", {"start": day(-1), "end": day()}),
        ],
        [day(-1), day()],
        True,
    ),
    "bleeding-onset-period-end-only": (
        [
            *(r for r in eligible_resources() if r["id"] != "bleed"),
            _dated(bleeding(), "onsetPeriod", {"end": day(-1)}),
        ],
        [day()],
        True,
    ),
}


# --- what she takes, as a MedicationStatement (UK Core / GP Connect current medicines) -----------


def statement(medication: dict[str, Any], status: str = "active") -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "id": "ms-1",
        "status": status,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectivePeriod": {"start": day(-12)},
        "dateAsserted": day(-12),
        **medication,
    }


UTROGESTAN_DMD = {
    "medicationCodeableConcept": {
        "coding": [
            # a dm+d product code outside the value set: read by its display's product name
            {"system": DMD, "code": "0000002", "display": "Utrogestan 200mg vaginal capsules"}
        ]
    }
}
# (the statement, what "on progesterone" reads as)
STATEMENT_SHAPES: dict[str, tuple[dict[str, Any], bool | None]] = {
    "active-utrogestan-dmd": (statement(UTROGESTAN_DMD), True),
    "on-hold-utrogestan": (statement(UTROGESTAN_DMD, "on-hold"), True),
    "completed-utrogestan": (statement(UTROGESTAN_DMD, "completed"), False),
    "not-taken-utrogestan": (statement(UTROGESTAN_DMD, "not-taken"), False),
    "entered-in-error-utrogestan": (statement(UTROGESTAN_DMD, "entered-in-error"), False),
    "active-text-only": (
        statement({"medicationCodeableConcept": {"text": "vaginal pessaries"}}),
        None,
    ),
    "active-coded-other": (
        statement({"medicationCodeableConcept": {"coding": [OTHER_RXNORM]}}),
        False,
    ),
    "active-reference-missing": (
        statement({"medicationReference": {"reference": "Medication/gone"}}),
        None,
    ),
}


# --- another hunt (stop 15): pregnancy status as US Core, IPS, C-CDA and Synthea write it --------

V3_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def status_20_days_ago(system: str, code: str, answer: str) -> dict[str, Any]:
    """A pregnancy status recorded 20 days ago: the code, and the answer as a SNOMED concept."""
    return observation(
        "status",
        system,
        code,
        day(-20),
        valueCodeableConcept={"coding": [{"system": SNOMED, "code": answer}]},
    )


# (the record 20 days ago, before an LMP recorded 75 days ago and today's scan: see
# `ended_then_scanned`; whether it says she was not pregnant then, so the LMP dates nothing)
STATUS_SHAPES: dict[str, tuple[dict[str, Any], bool]] = {
    # US Core Pregnancy Status Observation (LOINC 82810-3, SNOMED answers)
    "us-core-not-pregnant": (status_20_days_ago(LOINC, "82810-3", "60001007"), True),
    "us-core-pregnant": (status_20_days_ago(LOINC, "82810-3", "77386006"), False),
    "us-core-status-unknown": (status_20_days_ago(LOINC, "82810-3", "261665006"), False),
    # US Core Pregnancy Intent (LOINC 86645-9): says nothing of a pregnancy now
    "us-core-intent": (status_20_days_ago(LOINC, "86645-9", "454381000124105"), False),
    # C-CDA Pregnancy Observation converted to FHIR: code ASSERTION, the finding as its value
    "ccda-assertion-not-pregnant": (status_20_days_ago(V3_ACT, "ASSERTION", "60001007"), True),
    "ccda-assertion-oid-not-pregnant": (
        with_oid_systems(status_20_days_ago(V3_ACT, "ASSERTION", "60001007")),
        True,
    ),
    "ccda-assertion-pregnant": (status_20_days_ago(V3_ACT, "ASSERTION", "77386006"), False),
    # IPS pregnancy expected delivery date (LOINC 11778-8): says nothing of a pregnancy ended.
    # 280 days after the LMP, as it agrees with it (stop 41: the 2024-10-21 written here until
    # then was 31 days off that LMP, and an EDD the LMP contradicts undates it: edd_shapes.py)
    "ips-edd": (
        observation("edd", LOINC, "11778-8", day(-20), valueDateTime="2024-09-20"),
        False,
    ),
    # Synthea pregnancy module: Normal pregnancy, abated at the delivery or loss
    "synthea-pregnancy-abated": (
        condition("np", "72892002", day(-200), abatementDateTime=day(-20)),
        False,
    ),
}


# --- another hunt (stop 16): whether a medicine is current, as EHRs write it ---------------------

UTROGESTAN_MEDICATION = medication(
    "m-utro",
    {"coding": [{"system": DMD, "code": "0000006", "display": "Utrogestan 100mg capsules"}]},
)
OTHER_MEDICINE = {"medicationCodeableConcept": {"coding": [OTHER_RXNORM]}}


def _plan_and_order(plan_status: str, order_status: str) -> list[dict[str, Any]]:
    """GP Connect: a repeat's authorisation (intent plan) and one issue of it (intent order)."""
    plan = active_request(UTROGESTAN_DMD, id="rx-plan", intent="plan", status=plan_status)
    order = active_request(
        UTROGESTAN_DMD,
        id="rx-issue",
        status=order_status,
        basedOn=[{"reference": "MedicationRequest/rx-plan"}],
    )
    return [plan, order]


# (her current-medicine resources, Medications exported beside them, what "on progesterone" reads)
CURRENCY_SHAPES: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]], bool | None]] = {
    # FHIR R4 "unknown": the source does not know whether it is current; for progesterone (or a
    # medicine that cannot be identified) that is Unknown (was "not on it": an offer)
    "request-status-unknown-progesterone": (
        [active_request(UTROGESTAN_DMD, status="unknown")],
        [],
        None,
    ),
    "request-status-unknown-other-medicine": (
        [active_request(OTHER_MEDICINE, status="unknown")],
        [],
        False,
    ),
    "request-do-not-perform-unreadable": (
        [active_request(UTROGESTAN_DMD, doNotPerform="false")],
        [],
        None,
    ),
    "request-draft": ([active_request(UTROGESTAN_DMD, status="draft")], [], False),
    "request-stopped": ([active_request(UTROGESTAN_DMD, status="stopped")], [], False),
    # Epic: a patient-reported medicine is a MedicationRequest with reportedBoolean true
    "epic-reported-boolean": ([active_request(UTROGESTAN_DMD, reportedBoolean=True)], [], True),
    # Cerner: a home medicine as intent plan, reported by the patient
    "cerner-home-medication-plan": (
        [
            active_request(
                UTROGESTAN_DMD,
                intent="plan",
                reportedReference={"reference": f"Patient/{PATIENT_ID}"},
            )
        ],
        [],
        True,
    ),
    # GP Connect structured record: the repeat authorised (plan active), its last issue completed
    "gp-connect-plan-active-issue-completed": (_plan_and_order("active", "completed"), [], True),
    "gp-connect-plan-and-issue-completed": (_plan_and_order("completed", "completed"), [], False),
    # GP Connect: the statement of the repeat, its medicine a Medication coded in dm+d
    "gp-connect-statement-dmd-medication": (
        [
            statement(
                {
                    "medicationReference": {"reference": "Medication/m-utro"},
                    "basedOn": [{"reference": "MedicationRequest/rx-plan"}],
                }
            )
        ],
        [UTROGESTAN_MEDICATION],
        True,
    ),
    "statement-status-unknown-progesterone": (
        [statement(UTROGESTAN_DMD, "unknown")],
        [],
        None,
    ),
    "statement-status-unknown-other-medicine": (
        [statement(OTHER_MEDICINE, "unknown")],
        [],
        False,
    ),
    # to be taken in future, or stopped: not current (intended: question for a clinician)
    "statement-intended": ([statement(UTROGESTAN_DMD, "intended")], [], False),
    "statement-stopped": ([statement(UTROGESTAN_DMD, "stopped")], [], False),
}


def with_currency_shape(shape: str) -> list[dict[str, Any]]:
    """An eligible woman with these current-medicine resources (and their Medications)."""
    resources, exported, _ = CURRENCY_SHAPES[shape]
    return [*eligible_resources(), *resources, *exported]
