"""A previous ectopic pregnancy or miscarriage coded as real systems code it (our own synthetic
records): a GP's history entry ("History of ectopic pregnancy", "H/O: miscarriage") as a
Condition or an Observation, and a Procedure that treated it (Synthea's Procedure shape: status,
a SNOMED CT code with its display and text, ``performedPeriod`` with offsets, the encounter), for
the reading's tests on every engine (`tests/records/test_previous_history.py`: the card's Python,
DuckDB; Spark: the read scenario ``previous-history`` of
`tests/audit/test_spark_reading_agreement.py`).

Before stop 31 no Procedure was read and no history code of an ectopic pregnancy was known, so a
previous ectopic recorded only so left `previous_ectopic` Unknown (NG126 1.3: the referral asked
for it) and a previous miscarriage recorded only as its procedure left `previous_miscarriages`
Unknown (NG126 1.5.2: `needs_information`, never an offer).

Every woman is assessed on 2024-03-04 (`TODAY`), bleeding, her LMP 2024-02-01 (4+4 weeks).
"""

from __future__ import annotations

from typing import Any

from tests.integration.fhir_data import (
    PATIENT_ID,
    SNOMED,
    concept,
    condition,
    observation,
)
from tests.records.previous_ectopic_shapes import (
    ENTERED_IN_ERROR,
    REFUTED,
    bleeding_under_six_weeks,
)

HISTORY_OF_ECTOPIC = "161763005"  # History of ectopic pregnancy: DICOM CID 6088
HISTORY_OF_MISCARRIAGE = "161744009"  # Past pregnancy history of miscarriage (GM SDE antenatal)
MISCARRIAGE = "17369002"
# procedures: PRIMIS pregnancy or delivery list (ectopic), GM SDE miscarriage list (missed)
SALPINGECTOMY = ("63596003", "Laparoscopic treatment of ectopic pregnancy with salpingectomy")
TUBE_AND_ECTOPIC = (
    "445912000",
    "Excision of fallopian tube and surgical removal of ectopic pregnancy",
)
MISSED_MISCARRIAGE_D_AND_C = (
    "176833006",
    "Dilation of cervix uteri and curettage of uterus for removal of missed abortion",
)
# an evacuation that may follow a termination or a delivery: not read as a miscarriage
ERPC = ("236883005", "Evacuation of retained product of conception")
# stop 33: generic procedures read by their reasonCode (`ectopic_procedure_by_reason`,
# `miscarriage_procedure_by_reason`) and the reasons (`ectopic_pregnancy`, `miscarriage_event`)
SALPINGECTOMY_ANY = ("120053002", "Salpingectomy")
VIABILITY_SCAN = ("169230002", "Ultrasound scan for fetal viability")  # Synthea, PRIMIS
TUBAL_PREGNANCY = ("79586000", "Tubal pregnancy")
MISSED_MISCARRIAGE = ("16607004", "Missed abortion")
INCOMPLETE_MISCARRIAGE = ("156072005", "Incomplete miscarriage")
# a reason that is no miscarriage: PRIMIS pregnancy or delivery list
TERMINATION = ("386639001", "Termination of pregnancy")
IN_2019 = "2019-05-02"
# a reasonCode: a SNOMED CT code and display, or a text only, or a concept as written
Reason = tuple[str, str] | str | dict[str, Any]
# stop 37: one indication written several times, as GP systems and hospital PAS exports write it
# (each a reasonCode of its own): SNOMED CT 34801009 beside its child, ICD-10 O00.1 (a PAS's
# diagnosis coding), Read v2 L031. (a GP's); the codes of `ectopic_pregnancy` and
# `miscarriage_event`, where their sources are recorded
ECTOPIC = ("34801009", "Ectopic pregnancy")
ICD10_TUBAL = {
    "coding": [
        {"system": "http://hl7.org/fhir/sid/icd-10", "code": "O00.1", "display": "Tubal pregnancy"}
    ]
}
READ_V2_TUBAL = {
    "coding": [{"system": "http://read.info/readv2", "code": "L031.", "display": "Tubal pregnancy"}]
}
ICD10_MISSED = {
    "coding": [
        {"system": "http://hl7.org/fhir/sid/icd-10", "code": "O02.1", "display": "Missed abortion"}
    ]
}
CONFIRMED = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            "code": "confirmed",
        }
    ]
}


def procedure(
    rid: str,
    code: tuple[str, str],
    status: str = "completed",
    performed: dict[str, Any] | None = None,
    reason: Reason | list[Reason] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A Procedure as Synthea's FHIR R4 export writes one (its period with offsets), with its
    ``reason`` (a SNOMED CT code and display, or a text only; a list for several) as Synthea
    writes a reasonCode, and any ``extra`` elements (a reasonReference)."""
    res: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": rid,
        "status": status,
        "code": {
            "coding": [{"system": SNOMED, "code": code[0], "display": code[1]}],
            "text": code[1],
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "encounter": {"reference": "Encounter/enc-2019"},
    }
    res.update(
        performed
        if performed is not None
        else {
            "performedPeriod": {
                "start": f"{IN_2019}T10:14:02-04:00",
                "end": f"{IN_2019}T11:02:40-04:00",
            }
        }
    )
    if reason is not None:
        res["reasonCode"] = [_reason(r) for r in (reason if isinstance(reason, list) else [reason])]
    return res | extra


def _coding(code: tuple[str, str]) -> dict[str, Any]:
    return {"system": SNOMED, "code": code[0], "display": code[1]}


def _reason(reason: Reason) -> dict[str, Any]:
    """A reasonCode concept: coded (SNOMED CT code, display) with its text, or a text only, or
    the concept given."""
    if isinstance(reason, dict):
        return reason
    if isinstance(reason, tuple):
        return {
            "coding": [{"system": SNOMED, "code": reason[0], "display": reason[1]}],
            "text": reason[1],
        }
    return {"text": reason}


# methotrexate for an ectopic pregnancy (stop 33): a dm+d VMP of the OpenSAFELY injectable list
METHOTREXATE = ("36033311000001102", "Methotrexate 50mg/2ml solution for injection vials")
DMD = "https://dmd.nhs.uk"
_MEDICINE_DATE = {
    "MedicationRequest": "authoredOn",
    "MedicationStatement": "effectiveDateTime",
    "MedicationAdministration": "effectiveDateTime",
}


def methotrexate(
    rid: str,
    resource: str = "MedicationRequest",
    on: str | None = IN_2019,
    reason: Reason | list[Reason] | None = TUBAL_PREGNANCY,
    status: str = "completed",
    medicine: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Methotrexate prescribed (MedicationRequest), taken (MedicationStatement) or given
    (MedicationAdministration) on ``on`` for ``reason`` (an ectopic pregnancy unless said)."""
    res: dict[str, Any] = {
        "resourceType": resource,
        "id": rid,
        "status": status,
        "medicationCodeableConcept": medicine
        or {
            "coding": [{"system": DMD, "code": METHOTREXATE[0], "display": METHOTREXATE[1]}],
            "text": METHOTREXATE[1],
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
    }
    if resource == "MedicationRequest":
        res["intent"] = "order"
    if on is not None:
        res[_MEDICINE_DATE[resource]] = on
    if reason is not None:
        res["reasonCode"] = [_reason(r) for r in (reason if isinstance(reason, list) else [reason])]
    return res | extra


# stop 35: methotrexate named the ways real systems name it. RxNorm codes (`methotrexate`): the
# ingredient and an SCD; Synthea's ectopic pathway (`modules/pregnancy.json`, state
# Methotrexate_Injection) records it as a Procedure with its reason, the ectopic pregnancy
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
METHOTREXATE_RXNORM_INGREDIENT = "6851"
METHOTREXATE_RXNORM_TABLET = "105585"
# stop 38: product codes (`methotrexate`'s notes say where each was read): RxNorm SCD
# "methotrexate 25 MG/ML Injectable Solution" and SBD "0.4 ML methotrexate 25 MG/ML
# Auto-Injector [Otrexup]"; dm+d AMP "Metoject 7.5mg/0.75ml solution for injection pre-filled
# syringes" and VMP "Methotrexate 2.5mg tablets"
METHOTREXATE_RXNORM_INJECTABLE = "1946772"
METHOTREXATE_RXNORM_OTREXUP = "1441407"
METOJECT_AMP = "10672611000001103"
ORAL_VMP = "326874007"
SYNTHEA_METHOTREXATE_INJECTION = (
    "236931002",
    "Methotrexate injection into tubal pregnancy (procedure)",
)
PROGESTERONE_PESSARIES = ("39709011000001102", "Progesterone 400mg pessaries")


def bare_code(system: str, code: str) -> dict[str, Any]:
    """A concept carrying a code only (no display, no text), as some US systems send one."""
    return {"coding": [{"system": system, "code": code}]}


def medication(mid: str, product: tuple[str, str] = METHOTREXATE, **extra: Any) -> dict[str, Any]:
    """A Medication coded with a dm+d product (methotrexate unless said), contained in a
    medicine's record or exported beside it."""
    res: dict[str, Any] = {
        "resourceType": "Medication",
        "id": mid,
        "code": {
            "coding": [{"system": DMD, "code": product[0], "display": product[1]}],
            "text": product[1],
        },
    }
    return res | extra


def by_reference(
    res: dict[str, Any], reference: dict[str, Any], *contained: dict[str, Any]
) -> dict[str, Any]:
    """The medicine's record naming its medicine by ``reference`` (a medicationReference), not a
    concept, with ``contained`` resources."""
    out = {k: v for k, v in res.items() if k != "medicationCodeableConcept"}
    out["medicationReference"] = reference
    if contained:
        out["contained"] = [*out.get("contained", []), *contained]
    return out


def contained_reason(
    res: dict[str, Any], code: tuple[str, str] | str = TUBAL_PREGNANCY, **extra: Any
) -> dict[str, Any]:
    """The record with its reason given only as a reasonReference to a Condition it contains,
    coded (SNOMED CT code, display) or a text only."""
    reason: dict[str, Any] = {"resourceType": "Condition", "id": "c1"}
    reason["code"] = (
        {"coding": [{"system": SNOMED, "code": code[0], "display": code[1]}], "text": code[1]}
        if isinstance(code, tuple)
        else {"text": code}
    )
    out = {k: v for k, v in res.items() if k != "reasonCode"}
    out["contained"] = [*out.get("contained", []), reason | extra]
    out["reasonReference"] = [{"reference": "#c1"}]
    return out


def contained_reasons(
    res: dict[str, Any], first: tuple[str, str] | str, then: tuple[str, str] | str, **extra: Any
) -> dict[str, Any]:
    """The record with two reasons, each a reasonReference to a Condition it contains (c0, then
    c1, ``extra`` on the second): an unrelated indication first, as an EHR lists them."""
    one = contained_reason(res, first)
    two = contained_reason({k: v for k, v in res.items() if k != "reasonCode"}, then, **extra)
    (c0,), (c1,) = one["contained"][-1:], two["contained"][-1:]
    out = {k: v for k, v in one.items() if k not in ("contained", "reasonReference")}
    out["contained"] = [*res.get("contained", []), c0 | {"id": "c0"}, c1]
    out["reasonReference"] = [{"reference": "#c0"}, {"reference": "#c1"}]
    return out


def contained_conditions(
    res: dict[str, Any],
    conditions: list[tuple[str, tuple[str, str] | str, dict[str, Any]]],
    references: list[str],
) -> dict[str, Any]:
    """The record containing several Conditions (id, code as in `contained_reason`, extra
    elements), in that order, its reasonReference naming ``references`` ("c2" as "#c2"), as an
    EHR exports an order with its indications (stop 38); a Condition no reason names is named
    by ``supportingInformation`` (FHIR's dom-3: every contained resource is named)."""
    out = {k: v for k, v in res.items() if k != "reasonCode"}
    out["contained"] = [
        contained_reason({}, code, **extra)["contained"][0] | {"id": cid}
        for cid, code, extra in conditions
    ]
    out["reasonReference"] = [{"reference": f"#{cid}"} for cid in references]
    unnamed = [cid for cid, _, _ in conditions if cid not in references]
    if unnamed:
        out["supportingInformation"] = [{"reference": f"#{cid}"} for cid in unnamed]
    return out


def gp_history(
    rid: str, code: str, recorded: str | None = "2023-01-10", **extra: Any
) -> dict[str, Any]:
    """A GP problem-list history entry: a Condition recorded on a day, with no onset."""
    res = condition(
        rid,
        code,
        None,
        category=[
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "problem-list-item",
                    }
                ]
            }
        ],
        verificationStatus=CONFIRMED,
        **extra,
    )
    if recorded:
        res["recordedDate"] = recorded
    return res


def journal_entry(rid: str, code: str, on: str, **value: Any) -> dict[str, Any]:
    """A GP journal entry sent as an Observation (GP Connect): the code, no value."""
    res = observation(rid, SNOMED, code, on, **value)
    res["code"] = concept(SNOMED, code)
    return res


def _her(*records: dict[str, Any]) -> list[dict[str, Any]]:
    return bleeding_under_six_weeks(*records)


def _her_procedure_on(
    day: str, code: tuple[str, str], reason: Reason | None = None
) -> list[dict[str, Any]]:
    """Her record with one procedure, performed on ``day`` (a performedDateTime)."""
    return _her(procedure("p1", code, performed={"performedDateTime": day}, reason=reason))


# name -> (her record, (previous_ectopic, previous_miscarriages, miscarriage_diagnosed) read)
CASES: dict[str, tuple[list[dict[str, Any]], tuple[bool | None, int | None, bool | None]]] = {
    # a Procedure for an ectopic pregnancy before this one: a previous ectopic
    "synthea-salpingectomy-2019": (_her(procedure("p1", SALPINGECTOMY)), (True, None, False)),
    "salpingectomy-datetime-2019": (
        _her_procedure_on(IN_2019, TUBE_AND_ECTOPIC),
        (True, None, False),
    ),
    "salpingectomy-year-2019": (
        _her_procedure_on("2019", SALPINGECTOMY),
        (True, None, False),
    ),
    "salpingectomy-stopped-2019": (
        _her(procedure("p1", SALPINGECTOMY, status="stopped")),
        (True, None, False),
    ),
    # not done, entered in error: says nothing
    "salpingectomy-not-done-2019": (
        _her(procedure("p1", SALPINGECTOMY, status="not-done")),
        (None, None, False),
    ),
    "salpingectomy-entered-in-error-2019": (
        _her(procedure("p1", SALPINGECTOMY, status="entered-in-error")),
        (None, None, False),
    ),
    # this pregnancy's, or after the assessment: not a previous one
    "salpingectomy-this-pregnancy": (
        _her_procedure_on("2024-02-20", SALPINGECTOMY),
        (None, None, False),
    ),
    "salpingectomy-after-the-assessment": (
        _her_procedure_on("2024-03-20", SALPINGECTOMY),
        (None, None, False),
    ),
    # a GP's history entry: a previous ectopic, when not said
    "gp-history-of-ectopic": (_her(gp_history("h1", HISTORY_OF_ECTOPIC)), (True, None, False)),
    "gp-history-of-ectopic-at-booking": (
        _her(gp_history("h1", HISTORY_OF_ECTOPIC, recorded="2024-03-01")),
        (True, None, False),
    ),
    "gp-history-of-ectopic-undated": (
        _her(gp_history("h1", HISTORY_OF_ECTOPIC, recorded=None)),
        (True, None, False),
    ),
    "gp-journal-history-of-ectopic": (
        _her(journal_entry("h1", HISTORY_OF_ECTOPIC, "2022-11-03")),
        (True, None, False),
    ),
    # recorded as absent, refuted, entered in error, after the assessment: nothing (never False)
    "gp-journal-history-of-ectopic-absent": (
        _her(journal_entry("h1", HISTORY_OF_ECTOPIC, "2022-11-03", valueBoolean=False)),
        (None, None, False),
    ),
    "gp-history-of-ectopic-refuted": (
        _her(gp_history("h1", HISTORY_OF_ECTOPIC) | {"verificationStatus": REFUTED}),
        (None, None, False),
    ),
    "gp-history-of-ectopic-entered-in-error": (
        _her(gp_history("h1", HISTORY_OF_ECTOPIC) | {"verificationStatus": ENTERED_IN_ERROR}),
        (None, None, False),
    ),
    "gp-history-of-ectopic-after-the-assessment": (
        _her(gp_history("h1", HISTORY_OF_ECTOPIC, recorded="2024-03-20")),
        (None, None, False),
    ),
    # a Procedure specific to a miscarriage before this pregnancy: at least one previous
    "missed-miscarriage-d-and-c-2019": (
        _her(procedure("p1", MISSED_MISCARRIAGE_D_AND_C)),
        (None, 1, False),
    ),
    # the loss and its procedure on another day: one loss, not two
    "miscarriage-and-its-d-and-c-2019": (
        _her(
            condition("m1", MISCARRIAGE, "2019-04-28"),
            procedure("p1", MISSED_MISCARRIAGE_D_AND_C),
        ),
        (None, 1, False),
    ),
    "two-losses-and-a-d-and-c": (
        _her(
            condition("m1", MISCARRIAGE, "2017-08-01"),
            condition("m2", MISCARRIAGE, "2019-04-28"),
            procedure("p1", MISSED_MISCARRIAGE_D_AND_C),
        ),
        (None, 2, False),
    ),
    "missed-miscarriage-d-and-c-not-done": (
        _her(procedure("p1", MISSED_MISCARRIAGE_D_AND_C, status="not-done")),
        (None, None, False),
    ),
    # in this pregnancy: this pregnancy has miscarried
    "missed-miscarriage-d-and-c-this-pregnancy": (
        _her_procedure_on("2024-02-28", MISSED_MISCARRIAGE_D_AND_C),
        (None, None, True),
    ),
    # an evacuation that may follow a termination: not read as a miscarriage
    "erpc-2019": (_her(procedure("p1", ERPC)), (None, None, False)),
    # stop 33: a generic procedure read by its reasonCode. A salpingectomy for an ectopic treated
    # one; for another reason, or none, it says nothing; a scan for a suspected ectopic says nothing
    "salpingectomy-for-an-ectopic-2019": (
        _her(procedure("p1", SALPINGECTOMY_ANY, reason=TUBAL_PREGNANCY)),
        (True, None, False),
    ),
    "salpingectomy-for-an-ectopic-this-pregnancy": (
        _her_procedure_on("2024-02-20", SALPINGECTOMY_ANY, reason=TUBAL_PREGNANCY),
        (None, None, False),
    ),
    # any of its reasons: one an ectopic is enough
    "salpingectomy-for-sterilisation-and-an-ectopic-2019": (
        _her(procedure("p1", SALPINGECTOMY_ANY, reason=["Sterilisation", TUBAL_PREGNANCY])),
        (True, None, False),
    ),
    # a treated ectopic that cannot be placed in time: previous_ectopic stays Unknown
    "salpingectomy-for-an-ectopic-undated": (
        _her(procedure("p1", SALPINGECTOMY_ANY, performed={}, reason=TUBAL_PREGNANCY)),
        (None, None, False),
    ),
    "salpingectomy-for-an-ectopic-entered-in-error-2019": (
        _her(procedure("p1", SALPINGECTOMY_ANY, status="entered-in-error", reason=TUBAL_PREGNANCY)),
        (None, None, False),
    ),
    "salpingectomy-for-sterilisation-2019": (
        _her(procedure("p1", SALPINGECTOMY_ANY, reason="Sterilisation")),
        (None, None, False),
    ),
    "salpingectomy-no-reason-2019": (_her(procedure("p1", SALPINGECTOMY_ANY)), (None, None, False)),
    "viability-scan-for-a-tubal-pregnancy-2019": (
        _her(procedure("p1", VIABILITY_SCAN, reason=TUBAL_PREGNANCY)),
        (None, None, False),
    ),
    # an evacuation for a miscarriage treated one: at least one before this pregnancy, this
    # pregnancy's in it; for a termination (a text here), or not done, nothing
    "erpc-for-a-missed-miscarriage-2019": (
        _her(procedure("p1", ERPC, reason=MISSED_MISCARRIAGE)),
        (None, 1, False),
    ),
    "erpc-for-an-incomplete-miscarriage-this-pregnancy": (
        _her_procedure_on("2024-02-28", ERPC, reason=INCOMPLETE_MISCARRIAGE),
        (None, None, True),
    ),
    "erpc-for-a-termination-2019": (
        _her(procedure("p1", ERPC, reason="Termination of pregnancy")),
        (None, None, False),
    ),
    "erpc-for-a-coded-termination-2019": (
        _her(procedure("p1", ERPC, reason=TERMINATION)),
        (None, None, False),
    ),
    # a reason that is a miscarriage code but the procedure is no evacuation: nothing
    "salpingectomy-for-a-missed-miscarriage-2019": (
        _her(procedure("p1", SALPINGECTOMY_ANY, reason=MISSED_MISCARRIAGE)),
        (None, None, False),
    ),
    # its reason given as a reference to a Condition of her record: that Condition is read, as
    # any Condition is (the procedure adds nothing); with a reasonCode too, one loss, not two
    "erpc-whose-reason-is-her-missed-miscarriage-2019": (
        _her(
            condition("m1", MISSED_MISCARRIAGE[0], "2019-04-28"),
            procedure("p1", ERPC, reasonReference=[{"reference": "Condition/m1"}]),
        ),
        (None, 1, False),
    ),
    "erpc-for-a-missed-miscarriage-and-its-condition-2019": (
        _her(
            condition("m1", MISSED_MISCARRIAGE[0], "2019-04-28"),
            procedure(
                "p1",
                ERPC,
                reason=MISSED_MISCARRIAGE,
                reasonReference=[{"reference": "Condition/m1"}],
            ),
        ),
        (None, 1, False),
    ),
    "erpc-for-a-missed-miscarriage-not-done": (
        _her(procedure("p1", ERPC, status="not-done", reason=MISSED_MISCARRIAGE)),
        (None, None, False),
    ),
    # stop 33: methotrexate for an ectopic pregnancy (its medical management) treated one, as a
    # salpingectomy does: prescribed, taken or given, coded or named
    "methotrexate-for-an-ectopic-2019": (_her(methotrexate("x1")), (True, None, False)),
    "methotrexate-given-for-an-ectopic-2019": (
        _her(methotrexate("x1", "MedicationAdministration")),
        (True, None, False),
    ),
    "methotrexate-taken-for-an-ectopic-2019": (
        _her(
            methotrexate(
                "x1",
                "MedicationStatement",
                on=None,
                effectivePeriod={"start": IN_2019, "end": "2019-05-09"},
            )
        ),
        (True, None, False),
    ),
    "methotrexate-by-name-for-an-ectopic-2019": (
        _her(methotrexate("x1", medicine={"text": "Methotrexate 50 mg IM injection"})),
        (True, None, False),
    ),
    "methotrexate-for-an-ectopic-this-pregnancy": (
        _her(methotrexate("x1", on="2024-02-26")),
        (None, None, False),
    ),
    # not placed in time: Unknown, never False
    "methotrexate-for-an-ectopic-undated": (
        _her(methotrexate("x1", on=None)),
        (None, None, False),
    ),
    # methotrexate for another reason (it treats arthritis, psoriasis, cancers), or none: nothing
    "methotrexate-for-psoriasis-2019": (
        _her(methotrexate("x1", reason="Psoriasis")),
        (None, None, False),
    ),
    "methotrexate-no-reason-2019": (_her(methotrexate("x1", reason=None)), (None, None, False)),
    "methotrexate-for-a-missed-miscarriage-2019": (
        _her(methotrexate("x1", reason=MISSED_MISCARRIAGE)),
        (None, None, False),
    ),
    # another medicine for an ectopic: nothing
    "progesterone-for-an-ectopic-2019": (
        _her(methotrexate("x1", medicine={"text": "Progesterone 400mg pessaries"})),
        (None, None, False),
    ),
    # not prescribed, taken or given: nothing
    "methotrexate-for-an-ectopic-cancelled-2019": (
        _her(methotrexate("x1", status="cancelled")),
        (None, None, False),
    ),
    "methotrexate-for-an-ectopic-do-not-perform-2019": (
        _her(methotrexate("x1", doNotPerform=True)),
        (None, None, False),
    ),
    "methotrexate-for-an-ectopic-not-taken-2019": (
        _her(methotrexate("x1", "MedicationStatement", status="not-taken")),
        (None, None, False),
    ),
    "methotrexate-for-an-ectopic-not-done-2019": (
        _her(methotrexate("x1", "MedicationAdministration", status="not-done")),
        (None, None, False),
    ),
    # stop 35 (1): methotrexate named by a medicationReference: a Medication contained in the
    # record (its code or an ingredient's), or the reference's display
    "methotrexate-contained-medication-for-an-ectopic-2019": (
        _her(by_reference(methotrexate("x1"), {"reference": "#med1"}, medication("med1"))),
        (True, None, False),
    ),
    "methotrexate-contained-ingredient-given-for-an-ectopic-2019": (
        _her(
            by_reference(
                methotrexate("x1", "MedicationAdministration"),
                {"reference": "#med1"},
                {
                    "resourceType": "Medication",
                    "id": "med1",
                    "code": {"text": "Trust injection 25 mg/ml"},
                    "ingredient": [
                        {"itemCodeableConcept": bare_code(RXNORM, METHOTREXATE_RXNORM_INGREDIENT)}
                    ],
                },
            )
        ),
        (True, None, False),
    ),
    "methotrexate-contained-medication-for-an-ectopic-this-pregnancy": (
        _her(
            by_reference(
                methotrexate("x1", on="2024-02-26"), {"reference": "#med1"}, medication("med1")
            )
        ),
        (None, None, False),
    ),
    "methotrexate-by-reference-display-for-an-ectopic-2019": (
        _her(by_reference(methotrexate("x1"), {"display": "Methotrexate 50mg/2ml injection"})),
        (True, None, False),
    ),
    # its reason not an ectopic, or none: nothing; another medicine: nothing
    "methotrexate-contained-medication-for-psoriasis-2019": (
        _her(
            by_reference(
                methotrexate("x1", reason="Psoriasis"), {"reference": "#med1"}, medication("med1")
            )
        ),
        (None, None, False),
    ),
    "methotrexate-exported-medication-no-reason-2019": (
        _her(
            medication("mtx1"),
            by_reference(methotrexate("x1", reason=None), {"reference": "Medication/mtx1"}),
        ),
        (None, None, False),
    ),
    "progesterone-contained-medication-for-an-ectopic-2019": (
        _her(
            by_reference(
                methotrexate("x1"),
                {"reference": "#med1"},
                medication("med1", PROGESTERONE_PESSARIES),
            )
        ),
        (None, None, False),
    ),
    # a local reference to no contained Medication: Unknown (named: test_previous_history)
    "methotrexate-unresolved-medication-for-an-ectopic-2019": (
        _her(by_reference(methotrexate("x1"), {"reference": "#med9"})),
        (None, None, False),
    ),
    # stop 36 (1): a Medication exported beside it (Medication.ndjson; the CDS prefetch's
    # `_include=MedicationRequest:medication`): its code or an ingredient's, dm+d or RxNorm, or
    # its name; its reason a reasonCode or a contained Condition
    "methotrexate-exported-medication-taken-for-an-ectopic-2019": (
        _her(
            medication("mtx1"),
            by_reference(
                methotrexate("x1", "MedicationStatement"), {"reference": "Medication/mtx1"}
            ),
        ),
        (True, None, False),
    ),
    "methotrexate-exported-medication-for-an-ectopic-2019": (
        _her(
            medication("mtx1"),
            by_reference(methotrexate("x1"), {"reference": "Medication/mtx1"}),
        ),
        (True, None, False),
    ),
    "methotrexate-exported-rxnorm-ingredient-given-for-a-contained-ectopic-2019": (
        _her(
            {
                "resourceType": "Medication",
                "id": "mtx1",
                "code": {"text": "Trust injection 25 mg/ml"},
                "ingredient": [
                    {"itemCodeableConcept": bare_code(RXNORM, METHOTREXATE_RXNORM_INGREDIENT)}
                ],
            },
            contained_reason(
                by_reference(
                    methotrexate("x1", "MedicationAdministration"),
                    {"reference": "Medication/mtx1"},
                )
            ),
        ),
        (True, None, False),
    ),
    "methotrexate-exported-rxnorm-tablet-for-an-ectopic-2019": (
        _her(
            {
                "resourceType": "Medication",
                "id": "mtx1",
                "code": bare_code(RXNORM, METHOTREXATE_RXNORM_TABLET),
            },
            by_reference(methotrexate("x1"), {"reference": "Medication/mtx1"}),
        ),
        (True, None, False),
    ),
    "methotrexate-exported-by-name-for-an-ectopic-2019": (
        _her(
            {
                "resourceType": "Medication",
                "id": "mtx1",
                "code": {"text": "Methotrexate 25 mg/ml injection (local stock)"},
            },
            by_reference(methotrexate("x1"), {"reference": "Medication/mtx1"}),
        ),
        (True, None, False),
    ),
    "methotrexate-exported-medication-for-an-ectopic-this-pregnancy": (
        _her(
            medication("mtx1"),
            by_reference(methotrexate("x1", on="2024-02-26"), {"reference": "Medication/mtx1"}),
        ),
        (None, None, False),
    ),
    # its display names it too: read once (the undated one named once: test_previous_history)
    "methotrexate-exported-medication-and-display-undated": (
        _her(
            medication("mtx1"),
            by_reference(
                methotrexate("x1", on=None),
                {"reference": "Medication/mtx1", "display": METHOTREXATE[1]},
            ),
        ),
        (None, None, False),
    ),
    # an exported Medication that is not methotrexate, methotrexate for no ectopic, or a
    # "Medication/x" the export does not hold: nothing (Unknown, never False)
    "progesterone-exported-medication-for-an-ectopic-2019": (
        _her(
            medication("prg1", PROGESTERONE_PESSARIES),
            by_reference(methotrexate("x1"), {"reference": "Medication/prg1"}),
        ),
        (None, None, False),
    ),
    "methotrexate-exported-medication-for-psoriasis-2019": (
        _her(
            medication("mtx1"),
            by_reference(methotrexate("x1", reason="Psoriasis"), {"reference": "Medication/mtx1"}),
        ),
        (None, None, False),
    ),
    "methotrexate-exported-medication-not-given-2019": (
        _her(
            medication("mtx1"),
            by_reference(
                methotrexate("x1", "MedicationAdministration", status="not-done"),
                {"reference": "Medication/mtx1"},
            ),
        ),
        (None, None, False),
    ),
    "methotrexate-exported-medication-missing-for-an-ectopic-2019": (
        _her(by_reference(methotrexate("x1"), {"reference": "Medication/mtx9"})),
        (None, None, False),
    ),
    # stop 38: a "Medication/x" the record does not hold, for an ectopic: named (MISSING_NAMED in
    # test_previous_history), the history Unknown; for another reason, not named
    "medication-missing-taken-for-a-contained-ectopic-2019": (
        _her(
            contained_reason(
                by_reference(
                    methotrexate("x1", "MedicationStatement"), {"reference": "Medication/mtx9"}
                )
            )
        ),
        (None, None, False),
    ),
    "medication-missing-given-for-an-ectopic-absolute-reference-2019": (
        _her(
            by_reference(
                methotrexate("x1", "MedicationAdministration"),
                {"reference": "https://ehr.example.org/fhir/Medication/mtx9/_history/2"},
            )
        ),
        (None, None, False),
    ),
    "medication-missing-for-psoriasis-2019": (
        _her(
            by_reference(methotrexate("x1", reason="Psoriasis"), {"reference": "Medication/mtx9"})
        ),
        (None, None, False),
    ),
    # stop 39: a Medication the record holds with no code and no name (none, or a code no value
    # set lists and no display or text), for an ectopic: named (UNNAMED_NAMED in
    # test_previous_history), the history Unknown; for another reason, or a Medication coded as
    # another medicine we list or named, not named
    "medication-unnamed-for-an-ectopic-2019": (
        _her(
            {"resourceType": "Medication", "id": "med7"},
            by_reference(methotrexate("x1"), {"reference": "Medication/med7"}),
        ),
        (None, None, False),
    ),
    "medication-unnamed-local-code-given-for-a-contained-ectopic-2019": (
        _her(
            {"resourceType": "Medication", "id": "med7", "code": bare_code(DMD, "1234567")},
            contained_reason(
                by_reference(
                    methotrexate("x1", "MedicationAdministration"),
                    {"reference": "Medication/med7"},
                )
            ),
        ),
        (None, None, False),
    ),
    "medication-unnamed-contained-taken-for-an-ectopic-2019": (
        _her(
            by_reference(
                methotrexate("x1", "MedicationStatement"),
                {"reference": "#med7"},
                {"resourceType": "Medication", "id": "med7", "form": {"text": "injection"}},
            )
        ),
        (None, None, False),
    ),
    "medication-unnamed-for-psoriasis-2019": (
        _her(
            {"resourceType": "Medication", "id": "med7"},
            by_reference(methotrexate("x1", reason="Psoriasis"), {"reference": "Medication/med7"}),
        ),
        (None, None, False),
    ),
    "medication-bare-progesterone-code-for-an-ectopic-2019": (
        _her(
            {
                "resourceType": "Medication",
                "id": "med7",
                "code": bare_code(DMD, PROGESTERONE_PESSARIES[0]),
            },
            by_reference(methotrexate("x1"), {"reference": "Medication/med7"}),
        ),
        (None, None, False),
    ),
    "medication-named-another-medicine-for-an-ectopic-2019": (
        _her(
            by_reference(
                methotrexate("x1"),
                {"reference": "#med7"},
                {"resourceType": "Medication", "id": "med7", "code": {"text": "Paracetamol"}},
            )
        ),
        (None, None, False),
    ),
    # stop 35 (2): RxNorm codes, bare (no name to match the word in); Synthea's own shape
    "methotrexate-rxnorm-ingredient-for-an-ectopic-2019": (
        _her(methotrexate("x1", medicine=bare_code(RXNORM, METHOTREXATE_RXNORM_INGREDIENT))),
        (True, None, False),
    ),
    "methotrexate-rxnorm-tablet-taken-for-an-ectopic-2019": (
        _her(
            methotrexate(
                "x1",
                "MedicationStatement",
                medicine=bare_code(RXNORM, METHOTREXATE_RXNORM_TABLET),
            )
        ),
        (True, None, False),
    ),
    "methotrexate-rxnorm-for-psoriasis-2019": (
        _her(
            methotrexate(
                "x1", reason="Psoriasis", medicine=bare_code(RXNORM, METHOTREXATE_RXNORM_INGREDIENT)
            )
        ),
        (None, None, False),
    ),
    # stop 38: a bare product code, injectable or oral, RxNorm SCD/SBD or dm+d VMP/AMP (its name
    # not sent, so only the code says methotrexate: the Metoject AMP has no "methotrexate" in it)
    "methotrexate-rxnorm-injectable-solution-given-for-an-ectopic-2019": (
        _her(
            methotrexate(
                "x1",
                "MedicationAdministration",
                medicine=bare_code(RXNORM, METHOTREXATE_RXNORM_INJECTABLE),
            )
        ),
        (True, None, False),
    ),
    "methotrexate-rxnorm-branded-auto-injector-for-an-ectopic-2019": (
        _her(methotrexate("x1", medicine=bare_code(RXNORM, METHOTREXATE_RXNORM_OTREXUP))),
        (True, None, False),
    ),
    "methotrexate-dmd-amp-for-a-contained-ectopic-2019": (
        _her(contained_reason(methotrexate("x1", medicine=bare_code(DMD, METOJECT_AMP)))),
        (True, None, False),
    ),
    "methotrexate-exported-dmd-oral-vmp-for-an-ectopic-2019": (
        _her(
            {"resourceType": "Medication", "id": "mtx1", "code": bare_code(DMD, ORAL_VMP)},
            by_reference(methotrexate("x1"), {"reference": "Medication/mtx1"}),
        ),
        (True, None, False),
    ),
    "methotrexate-dmd-amp-for-psoriasis-2019": (
        _her(methotrexate("x1", reason="Psoriasis", medicine=bare_code(DMD, METOJECT_AMP))),
        (None, None, False),
    ),
    "synthea-methotrexate-injection-2019": (
        _her(procedure("p1", SYNTHEA_METHOTREXATE_INJECTION, reason=TUBAL_PREGNANCY)),
        (True, None, False),
    ),
    "synthea-methotrexate-injection-not-done-2019": (
        _her(
            procedure(
                "p1", SYNTHEA_METHOTREXATE_INJECTION, status="not-done", reason=TUBAL_PREGNANCY
            )
        ),
        (None, None, False),
    ),
    # stop 35 (3): the reason a Condition contained in the record (reasonReference "#c1")
    "salpingectomy-for-a-contained-ectopic-2019": (
        _her(contained_reason(procedure("p1", SALPINGECTOMY_ANY))),
        (True, None, False),
    ),
    "methotrexate-for-a-contained-ectopic-2019": (
        _her(contained_reason(methotrexate("x1"))),
        (True, None, False),
    ),
    "methotrexate-contained-medication-and-reason-given-2019": (
        _her(
            contained_reason(
                by_reference(
                    methotrexate("x1", "MedicationAdministration"),
                    {"reference": "#med1"},
                    medication("med1"),
                )
            )
        ),
        (True, None, False),
    ),
    # a reasonCode and the contained Condition both: the same ectopic
    "salpingectomy-for-an-ectopic-coded-and-contained-2019": (
        _her(
            contained_reason(procedure("p1", SALPINGECTOMY_ANY))
            | {"reasonCode": [_reason(TUBAL_PREGNANCY)]}
        ),
        (True, None, False),
    ),
    "salpingectomy-for-an-ectopic-coded-and-contained-undated": (
        _her(
            contained_reason(procedure("p1", SALPINGECTOMY_ANY, performed={}))
            | {"reasonCode": [_reason(TUBAL_PREGNANCY)]}
        ),
        (None, None, False),
    ),
    "salpingectomy-for-a-contained-ectopic-this-pregnancy": (
        _her(
            contained_reason(
                procedure("p1", SALPINGECTOMY_ANY, performed={"performedDateTime": "2024-02-20"})
            )
        ),
        (None, None, False),
    ),
    # the contained reason not an ectopic, refuted or entered in error: nothing
    "salpingectomy-for-a-contained-sterilisation-2019": (
        _her(contained_reason(procedure("p1", SALPINGECTOMY_ANY), "Sterilisation")),
        (None, None, False),
    ),
    "methotrexate-for-a-contained-missed-miscarriage-2019": (
        _her(contained_reason(methotrexate("x1"), MISSED_MISCARRIAGE)),
        (None, None, False),
    ),
    "salpingectomy-for-a-refuted-contained-ectopic-2019": (
        _her(contained_reason(procedure("p1", SALPINGECTOMY_ANY), verificationStatus=REFUTED)),
        (None, None, False),
    ),
    # a scan for a contained ectopic reason proves nothing
    "viability-scan-for-a-contained-ectopic-2019": (
        _her(contained_reason(procedure("p1", VIABILITY_SCAN))),
        (None, None, False),
    ),
    # stop 36 (2): every "#" reasonReference, not only the first: the ectopic the second names
    "salpingectomy-for-a-second-contained-reason-ectopic-2019": (
        _her(
            contained_reasons(procedure("p1", SALPINGECTOMY_ANY), "Sterilisation", TUBAL_PREGNANCY)
        ),
        (True, None, False),
    ),
    "methotrexate-given-for-a-second-contained-reason-ectopic-2019": (
        _her(
            contained_reasons(
                methotrexate("x1", "MedicationAdministration"),
                "Rheumatoid arthritis",
                TUBAL_PREGNANCY,
            )
        ),
        (True, None, False),
    ),
    "methotrexate-exported-for-a-second-contained-reason-ectopic-2019": (
        _her(
            medication("mtx1"),
            contained_reasons(
                by_reference(methotrexate("x1"), {"reference": "Medication/mtx1"}),
                "Psoriasis",
                TUBAL_PREGNANCY,
            ),
        ),
        (True, None, False),
    ),
    "salpingectomy-for-a-second-contained-reason-ectopic-this-pregnancy": (
        _her(
            contained_reasons(
                procedure("p1", SALPINGECTOMY_ANY, performed={"performedDateTime": "2024-02-20"}),
                "Sterilisation",
                TUBAL_PREGNANCY,
            )
        ),
        (None, None, False),
    ),
    # the second a refuted ectopic, or neither an ectopic: nothing
    "salpingectomy-for-a-second-contained-reason-refuted-ectopic-2019": (
        _her(
            contained_reasons(
                procedure("p1", SALPINGECTOMY_ANY),
                "Sterilisation",
                TUBAL_PREGNANCY,
                verificationStatus=REFUTED,
            )
        ),
        (None, None, False),
    ),
    "methotrexate-for-two-contained-reasons-no-ectopic-2019": (
        _her(contained_reasons(methotrexate("x1"), "Psoriasis", MISSED_MISCARRIAGE)),
        (None, None, False),
    ),
    # stop 38: every contained ectopic Condition any "#" reasonReference names, each reference
    # compared with each contained Condition (stop 36 followed them to the first contained
    # ectopic only, so a second one named by a later reference said nothing)
    "salpingectomy-for-the-second-contained-condition-named-second-2019": (
        _her(
            contained_conditions(
                procedure("p1", SALPINGECTOMY_ANY),
                [("c1", "Sterilisation", {}), ("c2", TUBAL_PREGNANCY, {})],
                ["c1", "c2"],
            )
        ),
        (True, None, False),
    ),
    "salpingectomy-for-the-second-contained-condition-named-alone-2019": (
        _her(
            contained_conditions(
                procedure("p1", SALPINGECTOMY_ANY),
                [("c1", "Sterilisation", {}), ("c2", TUBAL_PREGNANCY, {})],
                ["c2"],
            )
        ),
        (True, None, False),
    ),
    "salpingectomy-for-the-second-of-two-contained-ectopics-2019": (
        _her(
            contained_conditions(
                procedure("p1", SALPINGECTOMY_ANY),
                [("c0", "Sterilisation", {}), ("c1", ECTOPIC, {}), ("c2", TUBAL_PREGNANCY, {})],
                ["c0", "c2"],
            )
        ),
        (True, None, False),
    ),
    "salpingectomy-for-two-contained-ectopics-2019": (
        _her(
            contained_conditions(
                procedure("p1", SALPINGECTOMY_ANY),
                [("c1", ECTOPIC, {}), ("c2", TUBAL_PREGNANCY, {})],
                ["c1", "c2"],
            )
        ),
        (True, None, False),
    ),
    "salpingectomy-for-a-contained-ectopic-named-by-no-reason-2019": (
        _her(
            contained_conditions(
                procedure("p1", SALPINGECTOMY_ANY),
                [("c1", "Sterilisation", {}), ("c2", TUBAL_PREGNANCY, {})],
                ["c1"],
            )
        ),
        (None, None, False),
    ),
    "salpingectomy-for-a-refuted-second-contained-ectopic-2019": (
        _her(
            contained_conditions(
                procedure("p1", SALPINGECTOMY_ANY),
                [("c1", ECTOPIC, {}), ("c2", TUBAL_PREGNANCY, {"verificationStatus": REFUTED})],
                ["c2"],
            )
        ),
        (None, None, False),
    ),
    "methotrexate-for-the-second-contained-condition-named-second-2019": (
        _her(
            contained_conditions(
                methotrexate("x1"),
                [("c1", "Contraception", {}), ("c2", TUBAL_PREGNANCY, {})],
                ["c1", "c2"],
            )
        ),
        (True, None, False),
    ),
    "methotrexate-for-the-second-contained-condition-named-alone-2019": (
        _her(
            contained_conditions(
                methotrexate("x1"),
                [("c1", "Psoriasis", {}), ("c2", TUBAL_PREGNANCY, {})],
                ["c2"],
            )
        ),
        (True, None, False),
    ),
    "methotrexate-for-the-second-of-two-contained-ectopics-2019": (
        _her(
            contained_conditions(
                methotrexate("x1"),
                [("c0", "Psoriasis", {}), ("c1", ECTOPIC, {}), ("c2", TUBAL_PREGNANCY, {})],
                ["c0", "c2"],
            )
        ),
        (True, None, False),
    ),
    "methotrexate-for-a-contained-ectopic-named-by-no-reason-2019": (
        _her(
            contained_conditions(
                methotrexate("x1"),
                [("c1", "Psoriasis", {}), ("c2", TUBAL_PREGNANCY, {})],
                ["c1"],
            )
        ),
        (None, None, False),
    ),
    "methotrexate-for-a-refuted-second-contained-ectopic-2019": (
        _her(
            contained_conditions(
                methotrexate("x1"),
                [("c1", ECTOPIC, {}), ("c2", TUBAL_PREGNANCY, {"verificationStatus": REFUTED})],
                ["c2"],
            )
        ),
        (None, None, False),
    ),
    # its medicine unresolved: named, Unknown
    "unresolved-medication-for-a-contained-ectopic-2019": (
        _her(contained_reason(by_reference(methotrexate("x1"), {"reference": "#med9"}))),
        (None, None, False),
    ),
    # stop 37: one resource, one row, however many of its reasonCodes name the same event (the
    # undated ones named once: test_previous_history)
    "salpingectomy-for-an-ectopic-and-its-child-undated": (
        _her(procedure("p1", SALPINGECTOMY_ANY, performed={}, reason=[ECTOPIC, TUBAL_PREGNANCY])),
        (None, None, False),
    ),
    "salpingectomy-for-an-ectopic-snomed-and-icd10-2019": (
        _her(procedure("p1", SALPINGECTOMY_ANY, reason=[TUBAL_PREGNANCY, ICD10_TUBAL])),
        (True, None, False),
    ),
    "methotrexate-for-an-ectopic-snomed-and-read-2019": (
        _her(methotrexate("x1", reason=[TUBAL_PREGNANCY, READ_V2_TUBAL])),
        (True, None, False),
    ),
    "methotrexate-given-for-an-ectopic-icd10-and-read-undated": (
        _her(
            methotrexate(
                "x1", "MedicationAdministration", on=None, reason=[ICD10_TUBAL, READ_V2_TUBAL]
            )
        ),
        (None, None, False),
    ),
    "erpc-for-a-missed-miscarriage-snomed-and-icd10-undated": (
        _her(procedure("p1", ERPC, performed={}, reason=[MISSED_MISCARRIAGE, ICD10_MISSED])),
        (None, None, None),
    ),
    # an ectopic and a miscarriage among its reasons: what its own code treats is read, the other
    # reason says nothing (a salpingectomy treats no miscarriage, an evacuation no ectopic)
    "salpingectomy-for-an-ectopic-and-a-miscarriage-2019": (
        _her(procedure("p1", SALPINGECTOMY_ANY, reason=[MISSED_MISCARRIAGE, ICD10_TUBAL])),
        (True, None, False),
    ),
    "erpc-for-an-ectopic-and-a-miscarriage-2019": (
        _her(procedure("p1", ERPC, reason=[READ_V2_TUBAL, ICD10_MISSED])),
        (None, 1, False),
    ),
    # a procedure coded as both (a local concept mapped to a salpingectomy and an evacuation) for
    # both: one row that carries both, the ectopic and the loss, as a code in both sets does
    "salpingectomy-and-erpc-for-an-ectopic-and-a-miscarriage-2019": (
        _her(
            procedure("p1", SALPINGECTOMY_ANY, reason=[TUBAL_PREGNANCY, ICD10_MISSED])
            | {"code": {"coding": [_coding(SALPINGECTOMY_ANY), _coding(ERPC)]}}
        ),
        (True, 1, False),
    ),
    # a GP's "H/O: miscarriage" journal entry: at least one
    "gp-journal-history-of-miscarriage": (
        _her(journal_entry("h1", HISTORY_OF_MISCARRIAGE, "2022-11-03")),
        (None, 1, False),
    ),
}
