"""A fact coded in a way the reading does not read (stop 44, issue 12): a GP system's local code,
a hospital's own code system, a coding with no system, or text only. Our own synthetic records,
shared by the card's, the DuckDB audit's and Spark's tests.

Where these shapes come from (public sources, read 2026-12-06):
- EMIS local codes ("EMISNQ..." concepts) are carried beside Read v2 codes, with the Read v2
  system, in public GP code lists and extraction scripts (e.g. smoking-status code lists listing
  `{"code": "EMISNQPR396", "system": "readv2"}`; COVID-19 code lists with "EMISNQCO303").
- GP Connect's common code systems name Egton codes `https://fhir.hl7.org.uk/Id/egton-codes`
  (NHSDigital/IOPS-FHIR-Simplifier-Backup, GP Connect Foundations "Common code systems").
- GP Connect's terminology guidance: "if no suitable code exists in the value set (that is, if
  only text is available, then just text MAY be used)" (nhsconnect/gpconnect,
  pages/design/design_clinical_terminologies.md): a CodeableConcept with text and no coding.
- A hospital's own code system URI, and a coding with a code and display but no system, are
  the shapes a local EPR's export gives for a local diagnosis, procedure or scan finding.
- An Observation: GP Connect's structured record sends the entries a GP system does not
  categorise (most conditions, observations and procedures are not) as Observations,
  "uncategorised data" (nhsconnect/gpconnect, pages/accessrecord_structured/
  accessrecord_structured_development_uncategorisedData_guidance.md), so a GP system's local code
  for a loss can arrive as an Observation's code; a local EPR's scan
  result gives its diagnosis as the value (valueCodeableConcept, text or a local coding) of a
  generic finding code, or as a component of a scan panel (FHIR R4 Observation.component).

Before stop 44 each was read as no record: an ectopic pregnancy or a miscarriage of today so
coded left the card offering progesterone (NG126 1.5.2). Now such a record, whose text names a
loss or an ectopic pregnancy, holds back the decision (the location is `report_not_read`) and is
named; it is never read as the fact (Conditions and Procedures, stop 44; Observations, their
code, value or a component's, stop 45; a panel's contained member, "#id" of its hasMember, stop
46; a scan report's contained finding, "#id" of its result, and its conclusionCode, stop 47; a
version held back, stop 47, while a version replaced or withdrawn later says nothing).
Controls: a threatened miscarriage, a history of miscarriage and a risk of an ectopic so coded, a local ectopic of an earlier pregnancy, an unrelated local code today, an Observation
coded in SNOMED CT whose text says "ectopic" (read as before; a panel's member too), an undated
one (named, ignored); stop 47: a report's finding naming a threat, one coded in SNOMED CT
whose text says "no evidence of ectopic", a report entered in error, a conclusion naming a
history, a local ectopic amended away or entered in error at a later time.
"""

from __future__ import annotations

from typing import Any

from tests.fhir_exports import Export, export_per_shape
from tests.integration.fhir_data import PATIENT_ID, day, eligible_resources

READ_V2 = "http://read.info/readv2"
EGTON = "https://fhir.hl7.org.uk/Id/egton-codes"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
HOSPITAL = "https://epr.example-trust.nhs.uk/CodeSystem/ultrasound-findings"
SUBJECT = {"reference": f"Patient/{PATIENT_ID}"}


def local(system: str | None, code: str, display: str) -> dict[str, Any]:
    """A concept of one coding in this system (none: no system), with its display."""
    coding = {"code": code, "display": display}
    return {"coding": [coding if system is None else {"system": system, **coding}]}


def local_condition(rid: str, code: dict[str, Any], onset: str | None) -> dict[str, Any]:
    out = {"resourceType": "Condition", "id": rid, "subject": SUBJECT, "code": code}
    return out | ({"onsetDateTime": onset} if onset else {})


def local_procedure(rid: str, code: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": rid,
        "status": "completed",
        "subject": SUBJECT,
        "code": code,
        "performedDateTime": day(),
    }


def local_observation(rid: str, code: dict[str, Any], **value: Any) -> dict[str, Any]:
    """A final Observation of today of this code (and ``value``: its value[x], components)."""
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "subject": SUBJECT,
        "code": code,
        "effectiveDateTime": day(),
    } | value


def local_panel(*members: dict[str, Any]) -> dict[str, Any]:
    """A panel of today, coded locally (id "local", the record the card names), keeping these
    Observations inside it (``contained``, each referred to by ``hasMember`` as "#id"; a
    contained resource has no subject of its own)."""
    found = local_observation("local", local(HOSPITAL, "EPAU", "Early pregnancy assessment"))
    found["contained"] = [{k: v for k, v in m.items() if k != "subject"} for m in members]
    found["hasMember"] = [{"reference": f"#{m['id']}"} for m in members]
    return found


def local_report(
    *findings: dict[str, Any],
    code: dict[str, Any] | None = None,
    status: str = "final",
    **elements: Any,
) -> dict[str, Any]:
    """A scan report of today (id "local", the record the card names; LOINC 11525-3 "US Pelvis
    Fetus for pregnancy" unless ``code``), keeping these Observations inside it (``contained``,
    each referred to by its ``result`` as "#id"), with these ``elements`` (a conclusionCode)."""
    found: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": "local",
        "status": status,
        "subject": SUBJECT,
        "code": code or {"coding": [{"system": LOINC, "code": "11525-3"}]},
        "effectiveDateTime": day(),
    } | elements
    if findings:
        found["contained"] = [{k: v for k, v in f.items() if k != "subject"} for f in findings]
        found["result"] = [{"reference": f"#{f['id']}"} for f in findings]
    return found


def sent_again(
    first: dict[str, Any], then: dict[str, Any], then_status: str = "amended", at: str = "10"
) -> list[dict[str, Any]]:
    """An Observation sent twice with one id (FHIR R4 Resource.id): ``first`` at 09:00, then
    ``then`` with ``then_status`` at ``at`` o'clock (at 09 the two versions are tied by time)."""
    earlier = first | {"meta": {"versionId": "1", "lastUpdated": f"{day()}T09:00:00Z"}}
    later = then | {
        "id": first["id"],
        "status": then_status,
        "meta": {"versionId": "2", "lastUpdated": f"{day()}T{at}:00:00Z"},
    }
    return [earlier, later]


def undated(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource without its own date (a panel's member is then dated by its panel)."""
    return {k: v for k, v in resource.items() if k != "effectiveDateTime"}


def eligible_with(*records: dict[str, Any]) -> list[dict[str, Any]]:
    """An eligible woman (an intrauterine pregnancy on scan today: an offer) and these."""
    return [*eligible_resources(), *records]


# an offer on the base; now needs information, the record named (its id: "local")
HELD_BACK = {
    "emis-ectopic-today": eligible_with(
        local_condition("local", local(READ_V2, "EMISNQEC42", "Ectopic pregnancy"), day())
    ),
    "egton-miscarriage-today": eligible_with(
        local_condition("local", local(EGTON, "EGTONMI17", "Complete miscarriage"), day())
    ),
    "text-only-miscarriage-today": eligible_with(
        local_condition("local", {"text": "Incomplete miscarriage"}, day())
    ),
    # stop 52 (HAZ-20 C20.59): a hyphen joins "non" to "viable"; the base read neither as a loss
    "emis-non-viable-pregnancy-today": eligible_with(
        local_condition("local", local(READ_V2, "EMISNQNV3", "Non-viable pregnancy"), day())
    ),
    "hospital-non-viable-iup-finding": eligible_with(
        local_observation("local", local(HOSPITAL, "EPAU-NV", "Non-viable intrauterine pregnancy"))
    ),
    # stop 53 (HAZ-20 C20.61): the parts joined as real records write them: an en dash (a word
    # processor's " - "), a local code's underscore, a slash and a no-break space, a line break in
    # a report's conclusion; the base read none of them as a loss (an offer)
    "emis-non-viable-en-dash-today": eligible_with(
        local_condition("local", local(READ_V2, "EMISNQNV4", "Non\u2013viable pregnancy"), day())
    ),
    "local-code-non-viable-underscore-today": eligible_with(
        local_condition("local", local(None, "NON_VIABLE_PREGNANCY", "NON_VIABLE_PREGNANCY"), day())
    ),
    "hospital-non-viable-slash-finding": eligible_with(
        local_observation("local", local(HOSPITAL, "EPAU-NV2", "Non/viable\u00a0pregnancy"))
    ),
    "hospital-fetal-demise-across-a-line": eligible_with(
        local_observation("local", {"text": "Conclusion: fetal\r\ndemise"})
    ),
    "local-salpingectomy-today": eligible_with(
        local_procedure("local", local(HOSPITAL, "TH-LS2", "Laparoscopic salpingectomy"))
    ),
    # stop 45: the same as an Observation (its code; its value; a panel's component)
    "emis-miscarriage-observation": eligible_with(
        local_observation("local", local(READ_V2, "EMISNQMI5", "Missed miscarriage"))
    ),
    "hospital-ectopic-finding": eligible_with(
        local_observation("local", local(HOSPITAL, "EPAU-07", "Tubal ectopic pregnancy"))
    ),
    "no-system-missed-miscarriage-value": eligible_with(
        local_observation(
            "local",
            local(None, "SCANDX", "Scan diagnosis"),
            valueCodeableConcept=local(None, "MM", "Missed miscarriage"),
        )
    ),
    "text-only-ectopic-value": eligible_with(
        local_observation(
            "local",
            local(HOSPITAL, "EPAU-DX", "Early pregnancy scan conclusion"),
            valueCodeableConcept={"text": "Ectopic pregnancy, left adnexa"},
        )
    ),
    "panel-component-pul": eligible_with(
        local_observation(
            "local",
            local(HOSPITAL, "EPAU", "Early pregnancy assessment"),
            component=[
                {
                    "code": local(HOSPITAL, "EPAU-DX", "Scan conclusion"),
                    "valueCodeableConcept": {"text": "Pregnancy of unknown location"},
                }
            ],
        )
    ),
    # stop 46: a panel's contained member (hasMember "#id") so coded, read as a top-level one
    "panel-member-tubal-ectopic": eligible_with(
        local_panel(local_observation("m1", local(HOSPITAL, "EPAU-07", "Tubal ectopic pregnancy")))
    ),
    "panel-member-missed-miscarriage-value-undated": eligible_with(
        local_panel(
            undated(
                local_observation(
                    "m1",
                    local(None, "SCANDX", "Scan diagnosis"),
                    valueCodeableConcept=local(None, "MM", "Missed miscarriage"),
                )
            )
        )
    ),
    # stop 47: a scan report's contained finding (result "#id") so coded, read as a top-level
    # one: beside a finding read (an intrauterine pregnancy the same report holds), in a report
    # coded locally (no finding read: the report was not named), in a value undated (dated by
    # the report)
    "report-finding-tubal-ectopic": eligible_with(
        local_report(
            local_observation("f0", {"coding": [{"system": SNOMED, "code": "370383002"}]}),
            local_observation("f1", local(HOSPITAL, "EPAU-07", "Tubal ectopic pregnancy")),
        )
    ),
    "report-finding-local-report-pul": eligible_with(
        local_report(
            local_observation("f1", {"text": "Pregnancy of unknown location"}),
            code=local(HOSPITAL, "EPAU", "Early pregnancy scan"),
        )
    ),
    "report-finding-missed-miscarriage-value-undated": eligible_with(
        local_report(
            undated(
                local_observation(
                    "f1",
                    local(None, "SCANDX", "Scan diagnosis"),
                    valueCodeableConcept=local(None, "MM", "Missed miscarriage"),
                )
            )
        )
    ),
    # stop 49: a contained panel's component so coded (its value's words), beside an
    # intrauterine finding the same final report holds (stop 48 fixed DuckDB reading such a
    # component's words as None: `ibis_compile._merged`, `_lift_container`)
    "report-panel-component-tubal-ectopic": eligible_with(
        local_report(
            local_observation("f0", {"coding": [{"system": SNOMED, "code": "370383002"}]}),
            local_observation(
                "f1",
                local(HOSPITAL, "EPAU-PANEL", "Early pregnancy scan findings"),
                component=[
                    {
                        "code": local(HOSPITAL, "EPAU-DX", "Scan diagnosis"),
                        "valueCodeableConcept": local(
                            HOSPITAL, "EPAU-07", "Tubal ectopic pregnancy"
                        ),
                    }
                ],
            ),
        )
    ),
    # ... and the report's own conclusionCode so coded (read as an Observation of that code)
    "report-conclusion-incomplete-miscarriage": eligible_with(
        local_report(conclusionCode=[local(HOSPITAL, "EPAU-IM", "Incomplete miscarriage")])
    ),
    # stop 47: an Observation so coded sent again: the version read is the one whose words
    # count. Amended to a loss at 10:00 (a guard: held back on the base too) ...
    "resent-amended-to-local-ectopic": eligible_with(
        *sent_again(
            local_observation("local", {"text": "Intrauterine pregnancy"}),
            local_observation("local", local(HOSPITAL, "EPAU-07", "Tubal ectopic pregnancy")),
        )
    ),
}
# controls: still an offer
STILL_OFFER = {
    # stop 53 (HAZ-20 C20.61): a full stop ends a phrase; a comma too ("non" and "viable" apart)
    "hospital-non-then-viable-apart": eligible_with(
        local_observation("local", {"text": "Pregnancy test: non. Viable intrauterine, pregnancy"})
    ),
    "local-threatened-miscarriage": eligible_with(
        local_condition("local", local(READ_V2, "EMISNQTH8", "Threatened miscarriage"), day())
    ),
    "local-history-of-miscarriage": eligible_with(
        local_condition("local", local(EGTON, "EGTONHO3", "History of miscarriage"), day())
    ),
    "local-ectopic-earlier-pregnancy": eligible_with(
        local_condition("local", local(READ_V2, "EMISNQEC42", "Ectopic pregnancy"), "2021-05-01")
    ),
    "local-observation-threatened": eligible_with(
        local_observation(
            "local",
            local(None, "SCANDX", "Scan diagnosis"),
            valueCodeableConcept=local(None, "TM", "Threatened miscarriage"),
        )
    ),
    "local-observation-history": eligible_with(
        local_observation("local", local(EGTON, "EGTONHO3", "History of miscarriage"))
    ),
    "local-observation-risk": eligible_with(
        local_observation("local", local(HOSPITAL, "EPAU-R1", "Risk of ectopic pregnancy"))
    ),
    "local-observation-unrelated": eligible_with(
        local_observation("local", local(READ_V2, "EMISNQBP1", "Blood pressure reading"))
    ),
    # coded in a value set read (SNOMED CT intrauterine pregnancy): read as before, its words
    # ("ectopic") are not read
    "coded-observation-loss-words": eligible_with(
        local_observation(
            "local",
            {
                "coding": [{"system": SNOMED, "code": "370383002"}],
                "text": "Intrauterine pregnancy, ectopic pregnancy excluded",
            },
        )
    ),
    # stop 46: a panel's contained members so coded: a threat, a history; one coded in a value
    # set read (an intrauterine pregnancy: read as before, its words not read)
    "panel-member-threatened": eligible_with(
        local_panel(
            local_observation(
                "m1",
                local(None, "SCANDX", "Scan diagnosis"),
                valueCodeableConcept=local(None, "TM", "Threatened miscarriage"),
            )
        )
    ),
    "panel-member-history": eligible_with(
        local_panel(local_observation("m1", local(EGTON, "EGTONHO3", "History of miscarriage")))
    ),
    "panel-member-coded-loss-words": eligible_with(
        local_panel(
            local_observation(
                "m1",
                {
                    "coding": [{"system": SNOMED, "code": "370383002"}],
                    "text": "Intrauterine pregnancy, ectopic pregnancy excluded",
                },
            )
        )
    ),
    # stop 47: a report's contained finding so coded naming a threat; one coded in a value set
    # read whose text says "no evidence of ectopic" (read as before); a report entered in error
    "report-finding-threatened": eligible_with(
        local_report(local_observation("f1", local(HOSPITAL, "EPAU-TM", "Threatened miscarriage")))
    ),
    "report-finding-coded-loss-words": eligible_with(
        local_report(
            local_observation(
                "f1",
                {
                    "coding": [{"system": SNOMED, "code": "370383002"}],
                    "text": "Intrauterine pregnancy, no evidence of ectopic pregnancy",
                },
            )
        )
    ),
    "report-entered-in-error-local-ectopic": eligible_with(
        local_report(
            local_observation("f1", local(HOSPITAL, "EPAU-07", "Tubal ectopic pregnancy")),
            status="entered-in-error",
        )
    ),
    "report-conclusion-history": eligible_with(
        local_report(conclusionCode=[local(EGTON, "EGTONHO3", "History of miscarriage")])
    ),
    # stop 47: an Observation so coded sent again: a loss amended away (to words of an
    # intrauterine pregnancy), or withdrawn (entered in error), at 10:00: the version read
    # says no loss, the first's words say nothing
    "resent-local-ectopic-amended-away": eligible_with(
        *sent_again(
            local_observation("local", local(HOSPITAL, "EPAU-07", "Tubal ectopic pregnancy")),
            local_observation("local", {"text": "Intrauterine pregnancy"}),
        )
    ),
    "resent-local-ectopic-entered-in-error": eligible_with(
        *sent_again(
            local_observation("local", local(HOSPITAL, "EPAU-07", "Tubal ectopic pregnancy")),
            local_observation("local", local(HOSPITAL, "EPAU-07", "Tubal ectopic pregnancy")),
            then_status="entered-in-error",
        )
    ),
    "local-unrelated-today": eligible_with(
        local_condition("local", local(READ_V2, "EMISNQAS11", "Asthma annual review"), day())
    ),
}
# still an offer, and the record named: it cannot be placed
NAMED_UNPLACED = {
    "local-ectopic-undated": eligible_with(
        local_condition("local", local(READ_V2, "EMISNQEC42", "Ectopic pregnancy"), None)
    ),
}


def tied(first: dict[str, Any], then: dict[str, Any]) -> list[dict[str, Any]]:
    """``first`` and ``then`` sent as two final versions of one id, both at 09:00 (tied)."""
    return sent_again(first, then, then_status="final", at="09")


def scan_conclusion(words: str) -> dict[str, Any]:
    """A hospital's scan conclusion of today: its local code, the finding in words only."""
    conclusion = local(HOSPITAL, "EPAU-DX", "Scan conclusion")
    return local_observation("local", conclusion, valueCodeableConcept={"text": words})


def scan_conclusion_coded(value: dict[str, Any]) -> dict[str, Any]:
    """The same conclusion, its finding in a coded value."""
    conclusion = local(HOSPITAL, "EPAU-DX", "Scan conclusion")
    return local_observation("local", conclusion, valueCodeableConcept=value)


# stop 49 (HAZ-20 C20.38; the residual of stop 47): two versions tied by time (both 09:00, both
# final) that say different things are held back, none read; where one names a loss (in words,
# a local code, or a standard code without a location), the card offered. Now the held version
# naming it gives a row of its day (`_HELD_LOSS_ROWS`): held back, the record named.
TIED_HELD_BACK = {
    "resent-tied-local-ectopic-value": eligible_with(
        *tied(
            scan_conclusion("Ectopic pregnancy, left adnexa"),
            scan_conclusion("Intrauterine pregnancy"),
        )
    ),
    # ... the same the other way round (the input's order says nothing)
    "resent-tied-local-ectopic-value-second": eligible_with(
        *tied(
            scan_conclusion("Intrauterine pregnancy"),
            scan_conclusion("Ectopic pregnancy, left adnexa"),
        )
    ),
    # ... a local coding of the value naming the ectopic, tied with the words of an intrauterine
    # pregnancy (found by w-heldback48); a coding with no system naming a miscarriage
    "resent-tied-local-ectopic-code": eligible_with(
        *tied(
            scan_conclusion_coded(local(HOSPITAL, "EPAU-07", "Tubal ectopic pregnancy")),
            scan_conclusion("Intrauterine pregnancy"),
        )
    ),
    "resent-tied-no-system-miscarriage-code": eligible_with(
        *tied(
            scan_conclusion("Intrauterine pregnancy"),
            scan_conclusion_coded(local(None, "MM", "Missed miscarriage")),
        )
    ),
}
# controls (still an offer): tied versions that agree; tied versions that differ in words
# neither of which names a loss; an ectopic conclusion in words replaced later (not tied)
TIED_STILL_OFFER = {
    "resent-tied-agree": eligible_with(
        *tied(scan_conclusion("Intrauterine pregnancy"), scan_conclusion("Intrauterine pregnancy"))
    ),
    "resent-tied-differ-no-loss": eligible_with(
        *tied(
            scan_conclusion("Intrauterine pregnancy"),
            scan_conclusion("Intrauterine pregnancy, single live fetus"),
        )
    ),
    "resent-tied-differ-threatened": eligible_with(
        *tied(
            scan_conclusion("Intrauterine pregnancy"),
            scan_conclusion("Threatened miscarriage, intrauterine pregnancy"),
        )
    ),
    "resent-local-ectopic-value-amended-away": eligible_with(
        *sent_again(
            scan_conclusion("Ectopic pregnancy, left adnexa"),
            scan_conclusion("Intrauterine pregnancy"),
        )
    ),
}


def scan_panel(component: dict[str, Any], **value: Any) -> dict[str, Any]:
    """A hospital's early pregnancy panel of today (its local code), with this one component."""
    panel = local(HOSPITAL, "EPAU", "Early pregnancy assessment")
    return local_observation("local", panel, component=[component], **value)


# a component read for where the pregnancy is (SNOMED CT 370383002 Intrauterine pregnancy)
INTRAUTERINE_COMPONENT = {
    "code": {"coding": [{"system": SNOMED, "code": "370383002"}]},
    "valueBoolean": True,
}


def conclusion_component(words: str) -> dict[str, Any]:
    """A panel's scan conclusion component: its local code, the finding in words only."""
    return {
        "code": local(HOSPITAL, "EPAU-DX", "Scan conclusion"),
        "valueCodeableConcept": {"text": words},
    }


# stop 50 (HAZ-20 C20.48, the residual of C20.38): tied panel versions held back, one naming the
# loss only in a component's words (its component's local code; its component's value): a
# panel's components are read on the version read only, so the card offered
TIED_HELD_BACK |= {
    "resent-tied-panel-component-local-ectopic-code": eligible_with(
        *tied(
            scan_panel(
                {
                    "code": local(HOSPITAL, "EPAU-07", "Tubal ectopic pregnancy"),
                    "valueBoolean": True,
                }
            ),
            scan_panel(INTRAUTERINE_COMPONENT),
        )
    ),
    "resent-tied-panel-component-miscarriage-value": eligible_with(
        *tied(
            scan_panel(conclusion_component("Intrauterine pregnancy"), valueString="Scan done"),
            scan_panel(conclusion_component("Missed miscarriage"), valueString="Scan reviewed"),
        )
    ),
}
# controls: tied panel versions that agree; held ones whose components name no loss (a threat)
TIED_STILL_OFFER |= {
    "resent-tied-panel-agree": eligible_with(
        *tied(scan_panel(INTRAUTERINE_COMPONENT), scan_panel(INTRAUTERINE_COMPONENT))
    ),
    "resent-tied-panel-component-threatened": eligible_with(
        *tied(
            scan_panel(conclusion_component("Intrauterine pregnancy"), valueString="Scan done"),
            scan_panel(
                conclusion_component("Threatened miscarriage, intrauterine pregnancy"),
                valueString="Scan reviewed",
            ),
        )
    ),
}
HELD_BACK |= TIED_HELD_BACK
# a guard (held back on the base too): versions tied by time that differ in their code only
# are not held (the code is not compared), so both are read, the local code's words too
HELD_BACK["resent-tied-local-ectopic-own-code"] = eligible_with(
    *tied(
        local_observation("local", local(HOSPITAL, "EPAU-07", "Tubal ectopic pregnancy")),
        local_observation("local", {"text": "Intrauterine pregnancy"}),
    )
)
STILL_OFFER |= TIED_STILL_OFFER
SHAPES = {**HELD_BACK, **STILL_OFFER, **NAMED_UNPLACED}


def export() -> Export:
    """A woman per shape, her encounter today."""
    return export_per_shape(SHAPES)
