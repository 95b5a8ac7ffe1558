"""A crown-rump length sent inside a scan report or a panel that is not final (stop 46, issue 12,
HAZ-20 C20.35).

Stop 45 made a CRL on a `preliminary`/`unknown` Observation stop dating her. A CRL whose own
status is `final` but that is sent inside a DiagnosticReport of status `partial`, `preliminary`
or `unknown` (FHIR R4 diagnostic-report-status: some results incomplete or unverified; early
results; a status the sender does not know), or inside a panel Observation of status
`preliminary`/`unknown`, still dated her: the container's status was read for the scan's
location only. Reporting systems send each finding `final` as it is measured while the report
is still partial. Such a CRL now never dates her (named) and still counts for viability.

The CRL is a contained Observation the report's `result` (or the panel's `hasMember`) refers to
as "#crl". Each woman: `eligible_resources` with her LMP and CRL replaced per shape (an
intrauterine pregnancy on scan today as its own final Observation). Today is 2024-03-04; a CRL
of 9.5 mm is 7+0.

Stop 47 (HAZ-20 C20.35 extended): every other finding the reading takes, kept `final` inside such
a report or panel (bleeding present, a previous miscarriage, an LMP; a partial report's
conclusion of bleeding), is read as one with an unverified status of its own (C20.28, C20.30):
never a fact that opens the offer or dates her, named. An exported CRL Observation (its own
resource, `final`) that a partial report's `result` refers to still dated her (a strict xfail).

Stop 48: such an exported finding (a CRL, bleeding, a history, an LMP), referred to by an
unfinished report's `result` (relative, absolute or "urn:uuid:") or a preliminary panel's
`hasMember` (stop 49: `EXPORTED_MEMBER`), is read as one kept inside it
(`EXPORTED_RESULT`, `EXPORTED_FINDINGS`); controls: a final report's, another result's, a
report whose version read is final, a final panel's member, a panel's latest version final
(`EXPORTED_DATES_HER`).
"""

from __future__ import annotations

from typing import Any

from earlypath.records.definition import (
    UNVERIFIED_BLEEDING_MESSAGE,
    UNVERIFIED_CRL_MESSAGE,
    UNVERIFIED_LMP_MESSAGE,
    UNVERIFIED_MISCARRIAGE_MESSAGE,
)
from tests.fhir_exports import Export, export_per_shape, shape_of
from tests.integration.fhir_data import SNOMED, concept, day
from tests.records.panel_member_shapes import panel
from tests.records.scan_shapes import scan_report
from tests.records.unverified_dating_shapes import (
    FAR_ON,
    TRANSVAGINAL,
    crl_seen,
    heart_rate,
    her,
    lmp_seen,
)
from tests.records.unverified_observation_shapes import (
    ABSENT,
    PRESENT,
    bleeding_seen,
    miscarriage_count,
    miscarriage_history,
    replacing,
)


def _inside(member: dict[str, Any]) -> dict[str, Any]:
    """The finding as a contained resource: no subject of its own (its container's)."""
    return {k: v for k, v in member.items() if k != "subject"}


def in_report(status: str, crl_status: str = "final", **crl: Any) -> dict[str, Any]:
    """A scan report of today of this status, holding a CRL of 9.5 mm its result refers to."""
    return scan_report(contained=[_inside(crl_seen(9.5, status=crl_status) | crl)], status=status)


def in_panel(status: str) -> list[dict[str, Any]]:
    """A panel of today of this status, holding a final CRL of 9.5 mm as a member."""
    return panel([crl_seen(9.5)], contained=True, status=status)


def holding(status: str, finding: dict[str, Any]) -> dict[str, Any]:
    """A scan report of today of this status, holding this finding its result refers to."""
    return scan_report(contained=[_inside(finding)], status=status)


# alone (no LMP): on the base the CRL dated her (offer); now nothing dates her, the CRL named
UNFINISHED_ALONE = {
    **{
        f"crl-in-{status}-report-alone": her(in_report(status))
        for status in ("partial", "preliminary", "unknown")
    },
    "crl-in-preliminary-panel-alone": her(*in_panel("preliminary")),
}
# ... over a final LMP of 17+0: on the base the CRL dated her (offer); the LMP should (no offer)
UNFINISHED_OVER_FINAL_LMP = {
    "crl-in-partial-report-over-final-lmp": her(lmp_seen(FAR_ON, -3), in_report("partial")),
}
# controls (pass on the base, must pass after). A final-class report (final; amended, corrected,
# appended: later edits of a released one) dates her by its final CRL over the LMP of 17+0
DATED_BY_THE_REPORT = {
    f"crl-in-{status}-report-over-final-lmp": her(lmp_seen(FAR_ON, -3), in_report(status))
    for status in ("final", "amended", "corrected", "appended")
}
# ... a report not read at all (registered: no results yet; entered in error; cancelled) gives
# no CRL, and a preliminary CRL in a preliminary report never dated her: nothing dates her
NOT_DATED = {
    **{
        f"crl-in-{status}-report-alone": her(in_report(status))
        for status in ("registered", "entered-in-error", "cancelled")
    },
    "crl-preliminary-in-preliminary-report-alone": her(in_report("preliminary", "preliminary")),
}
# ... and in a partial report, with a final LMP that agrees (7+0) and a heart rate of 0/min, the
# CRL of 7 mm or more still counts for viability: NG126 1.4.7's step is named
STILL_VIABILITY = {
    "crl-in-partial-report-no-heartbeat": her(
        lmp_seen("2024-01-15"), in_report("partial", method=TRANSVAGINAL), heart_rate(0)
    ),
}
# Stop 47: another finding, final, inside an unfinished report or panel. On the base each was
# read as verified and opened the offer (or dated her: the LMP alone, 7+0); now each is unknown,
# needs_information naming it (the message of a preliminary Observation's, `FINDING_NAMED`).
UNFINISHED_FINDINGS = {
    "bleeding-in-partial-report": replacing(
        "bleed", holding("partial", bleeding_seen(PRESENT, "final"))
    ),
    "history-in-partial-report": replacing("mc1", holding("partial", miscarriage_history("final"))),
    "count-in-preliminary-panel": replacing(
        "mc1", *panel([miscarriage_count(1, "final")], contained=True, status="preliminary")
    ),
    "lmp-in-unknown-report-alone": her(holding("unknown", lmp_seen("2024-01-15"))),
    # a report's coded conclusion is a finding of it too: a partial one's is unverified
    "bleeding-concluded-in-partial-report": replacing(
        "bleed", scan_report(conclusion=concept(SNOMED, "289530006"), status="partial")
    ),
}
FINDING_NAMED = {
    "bleeding-in-partial-report": UNVERIFIED_BLEEDING_MESSAGE,
    "history-in-partial-report": UNVERIFIED_MISCARRIAGE_MESSAGE,
    "count-in-preliminary-panel": UNVERIFIED_MISCARRIAGE_MESSAGE,
    "lmp-in-unknown-report-alone": UNVERIFIED_LMP_MESSAGE,
    "bleeding-concluded-in-partial-report": UNVERIFIED_BLEEDING_MESSAGE,
}
# controls: the same findings inside a final-class report are read as before (offer), and what
# holds the offer back ("absent" bleeding) still counts inside a partial one
FINDINGS_READ = {
    "bleeding-in-final-report": replacing(
        "bleed", holding("final", bleeding_seen(PRESENT, "final"))
    ),
    "history-in-amended-report": replacing("mc1", holding("amended", miscarriage_history("final"))),
    "lmp-in-corrected-report-alone": her(holding("corrected", lmp_seen("2024-01-15"))),
}
ABSENT_STILL_COUNTS = {
    "bleeding-absent-in-partial-report": replacing(
        "bleed", holding("partial", bleeding_seen(ABSENT, "final"))
    ),
}


# Stop 48: a finding exported as its own Observation (`final`) that an unfinished report's
# result, or a preliminary panel's hasMember, refers to. On the base each was read on its own
# status: the CRL alone dated her (offer), the bleeding, history or LMP opened the offer. Now
# each is read as one kept inside that report (unverified, named). References of every form the
# reading resolves: relative, absolute, "urn:uuid:".
def referring(status: str, *references: str, **report: Any) -> dict[str, Any]:
    """A scan report of today (or as ``report`` says) of this status, its result referring to
    these exported Observations."""
    return scan_report(status=status, **report) | {
        "result": [{"reference": reference} for reference in references]
    }


_UUID = "2f8a4e1c-6b0d-4c7e-9a53-1d2e3f4a5b6c"
EXPORTED_RESULT = {
    "crl-exported-for-partial-report-alone": her(
        crl_seen(9.5), referring("partial", "Observation/crl")
    ),
    "crl-exported-absolute-for-preliminary-report-alone": her(
        crl_seen(9.5), referring("preliminary", "https://pacs.example.nhs.uk/fhir/Observation/crl")
    ),
    "crl-exported-urn-for-unknown-report-alone": her(
        crl_seen(9.5, rid=_UUID), referring("unknown", f"urn:uuid:{_UUID}")
    ),
}
EXPORTED_FINDINGS = {
    "bleeding-exported-for-partial-report": replacing(
        "bleed", bleeding_seen(PRESENT, "final"), referring("partial", "Observation/bleed-obs")
    ),
    "lmp-exported-for-partial-report-alone": her(
        lmp_seen("2024-01-15"), referring("partial", "Observation/lmp")
    ),
}
FINDING_NAMED |= {
    "bleeding-exported-for-partial-report": UNVERIFIED_BLEEDING_MESSAGE,
    "lmp-exported-for-partial-report-alone": UNVERIFIED_LMP_MESSAGE,
}
# Stop 49: an exported member of a preliminary panel's hasMember (relative, absolute or
# "urn:uuid:") is read as one kept inside it: alone it does not date her; a member preliminary
# itself (in a final panel) is unverified already


def _panel_referring(reference: str, status: str = "preliminary", **extra: Any) -> dict[str, Any]:
    """Today's panel exported beside its member, its hasMember written as ``reference``."""
    (found, _) = panel([crl_seen(9.5)], contained=False, status=status)
    return {**found, "hasMember": [{"reference": reference}], **extra}


def _versions_of_panel(first: str, then: str) -> list[dict[str, Any]]:
    """The panel sent twice (one id): ``first`` at 09:00, ``then`` at 10:00 today."""
    return [
        _panel_referring("Observation/crl", first, meta={"lastUpdated": f"{day()}T09:00:00Z"}),
        _panel_referring("Observation/crl", then, meta={"lastUpdated": f"{day()}T10:00:00Z"}),
    ]


EXPORTED_MEMBER = {
    "crl-exported-member-of-preliminary-panel-alone": her(
        *panel([crl_seen(9.5)], contained=False, status="preliminary")
    ),
    "crl-exported-member-absolute-of-preliminary-panel": her(
        crl_seen(9.5), _panel_referring("https://pacs.example.nhs.uk/fhir/Observation/crl")
    ),
    "crl-exported-member-urn-of-unknown-panel": her(
        crl_seen(9.5, rid=_UUID), _panel_referring(f"urn:uuid:{_UUID}", "unknown")
    ),
    "crl-exported-member-of-panel-final-then-preliminary": her(
        crl_seen(9.5), *_versions_of_panel("final", "preliminary")
    ),
    "crl-preliminary-exported-member-of-final-panel": her(
        *panel([crl_seen(9.5, status="preliminary")], contained=False)
    ),
}
# controls: a final report referring to the CRL; a partial report referring to another
# Observation; a report sent partial yesterday and final today (one id: the final version is
# read, so its status counts); a final report of today beside a partial one of another day
# referring to another result: each CRL dates her (7+0), over her final LMP of 17+0
_YESTERDAY = {"effectiveDateTime": f"{day(-1)}T09:30:00Z", "issued": f"{day(-1)}T11:02:00Z"}
EXPORTED_DATES_HER = {
    "crl-exported-for-final-report-over-final-lmp": her(
        lmp_seen(FAR_ON, -3), crl_seen(9.5), referring("final", "Observation/crl")
    ),
    "crl-exported-beside-partial-report-of-another": her(
        lmp_seen(FAR_ON, -3), crl_seen(9.5), referring("partial", "Observation/other")
    ),
    "crl-exported-for-report-partial-then-final": her(
        lmp_seen(FAR_ON, -3),
        crl_seen(9.5),
        referring("partial", "Observation/crl", **_YESTERDAY),
        referring("final", "Observation/crl"),
    ),
    "crl-exported-for-final-report-partial-another-day": her(
        lmp_seen(FAR_ON, -3),
        crl_seen(9.5),
        referring("final", "Observation/crl"),
        referring("partial", "Observation/other", rid="us-report-2", **_YESTERDAY),
    ),
    # stop 49: a final panel's exported member; the panel sent preliminary then final (the
    # final version is the latest); a preliminary panel entered in error since
    "crl-exported-member-of-final-panel-over-final-lmp": her(
        lmp_seen(FAR_ON, -3), *panel([crl_seen(9.5)], contained=False)
    ),
    "crl-exported-member-of-panel-preliminary-then-final": her(
        lmp_seen(FAR_ON, -3), crl_seen(9.5), *_versions_of_panel("preliminary", "final")
    ),
    "crl-exported-member-of-panel-entered-in-error": her(
        lmp_seen(FAR_ON, -3), crl_seen(9.5), _panel_referring("Observation/crl", "entered-in-error")
    ),
}
SHAPES = {
    **UNFINISHED_ALONE,
    **UNFINISHED_OVER_FINAL_LMP,
    **DATED_BY_THE_REPORT,
    **NOT_DATED,
    **STILL_VIABILITY,
    **UNFINISHED_FINDINGS,
    **FINDINGS_READ,
    **ABSENT_STILL_COUNTS,
    **EXPORTED_RESULT,
    **EXPORTED_FINDINGS,
    **EXPORTED_DATES_HER,
    **EXPORTED_MEMBER,
}
_STOP_47 = {**UNFINISHED_FINDINGS, **FINDINGS_READ, **ABSENT_STILL_COUNTS, **EXPORTED_FINDINGS}


def export() -> Export:
    """A woman per shape, her encounter today."""
    return export_per_shape(SHAPES)


def check_reading(export: Export, readings: list[dict[str, Any]]) -> None:
    """Each woman's reading (any engine's): a CRL inside an unfinished report or panel is named
    and marks its day unverified (where another source dates her, so the scan day is placed);
    alone nothing dates her. A final-class report's CRL is neither named nor marked."""
    unfinished = {
        **UNFINISHED_ALONE,
        **UNFINISHED_OVER_FINAL_LMP,
        **STILL_VIABILITY,
        **EXPORTED_RESULT,
        **EXPORTED_MEMBER,
    }
    for encounter, got in zip(export["Encounter"], readings, strict=True):
        shape = shape_of(encounter["id"], SHAPES)  # the Spark scenario namespaces the ids
        if shape in _STOP_47:
            _check_finding(shape, got)
            continue
        named = [why for _, why in got["problems"] if why == UNVERIFIED_CRL_MESSAGE]
        held_as_its_own = shape == "crl-preliminary-in-preliminary-report-alone"
        assert bool(named) is (shape in unfinished or held_as_its_own), (shape, got["problems"])
        days = [(day["crl_mm"], day["crl_unverified"]) for day in got["steps"]["scans"]]
        alone = (UNFINISHED_ALONE, NOT_DATED, EXPORTED_RESULT, EXPORTED_MEMBER)
        if any(shape in shapes for shapes in alone):
            assert (days, got["steps"]["start"]) == ([], None), shape
        else:
            assert days == [(9.5, True if shape in unfinished else None)], (shape, days)


def _check_finding(shape: str, got: dict[str, Any]) -> None:
    """Stop 47: a finding inside an unfinished report or panel is named as a preliminary
    Observation's is; inside a final-class report, or "absent", it is not named."""
    named = {why for _, why in got["problems"]} & set(FINDING_NAMED.values())
    unfinished = shape in UNFINISHED_FINDINGS or shape in EXPORTED_FINDINGS
    expected = {FINDING_NAMED[shape]} if unfinished else set()
    assert named == expected, (shape, got["problems"])
