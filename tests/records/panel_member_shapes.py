"""Ultrasound panels that carry their findings only in ``hasMember`` (stop 43, w-gp43; issue 12):
a panel Observation (LOINC 11525-3 "US Pelvis and Fetus for pregnancy", or a code read by
nothing) whose members are separate Observations (exported, ``Observation/<id>``) or kept inside
it (``contained``, ``#<id>``), as FHIR R4 lets an Observation group others (`hasMember`). Our own
synthetic records; used by the card's, the DuckDB audit's and Spark's tests
(`tests/integration/test_cds_panel_members.py`, `tests/audit/test_spark_reading_agreement.py`).

Before stop 43 a contained member was not read at all: an ectopic pregnancy seen today and so
sent gave an offer of progesterone on an intrauterine scan of a week before. Exported members
were read, each by its own code, as they still are (guards). Stop 45: a panel sent again (one
id) gives the members of its version read only (`WITHDRAWN`, ``resent-*``).
"""

from __future__ import annotations

from typing import Any

from tests.fhir_exports import Export, encounter, namespaced, woman
from tests.integration.fhir_data import (
    LOINC,
    PATIENT_ID,
    SNOMED,
    bleeding,
    crl,
    day,
    iup,
    lmp,
    observation,
    previous_miscarriage,
)

PANEL_CODE = "11525-3"  # LOINC US Pelvis and Fetus for pregnancy (value set scan_report)


def ectopic_finding() -> dict[str, Any]:
    """A generic finding (LOINC 59776-5) whose value is an ectopic pregnancy (SNOMED 34801009)."""
    value = {"coding": [{"system": SNOMED, "code": "34801009", "display": "Ectopic pregnancy"}]}
    return observation("ect", LOINC, "59776-5", day(), valueCodeableConcept=value)


def panel(
    members: list[dict[str, Any]],
    contained: bool,
    status: str = "final",
    code: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """A panel of today with these members: exported beside it, or kept inside it."""
    found = observation("pan", LOINC, PANEL_CODE, day())
    found["status"] = status
    if code is not None:
        found["code"] = code
    if contained:  # a contained resource has no subject of its own: its container's
        found["contained"] = [{k: v for k, v in m.items() if k != "subject"} for m in members]
        found["hasMember"] = [{"reference": f"#{m['id']}"} for m in members]
        return [found]
    found["hasMember"] = [{"reference": f"Observation/{m['id']}"} for m in members]
    return [found, *members]


def earlier_iup() -> dict[str, Any]:
    """An intrauterine pregnancy seen a week ago (a scan of its own)."""
    return {**iup(day(-7)), "id": "iup-earlier"}


def resent(
    first: list[dict[str, Any]], status: str, then: list[dict[str, Any]], then_status: str
) -> list[dict[str, Any]]:
    """Today's panel of contained members sent twice (one id, FHIR R4 Resource.id): ``first``
    with ``status``, then an hour later a version with members ``then`` and ``then_status``."""
    (earlier,) = panel(first, True, status=status)
    (later,) = panel(then, True, status=then_status)
    earlier["meta"] = {"versionId": "1", "lastUpdated": f"{day()}T09:00:00Z"}
    later["meta"] = {"versionId": "2", "lastUpdated": f"{day()}T10:00:00Z"}
    return [earlier, later]


HISTORY = (previous_miscarriage, bleeding, lmp)


def record(*scans: dict[str, Any]) -> list[dict[str, Any]]:
    return [*(make() for make in HISTORY), *scans]


def _local(resource: dict[str, Any], text: str) -> dict[str, Any]:
    """The resource coded only in a local system a reader cannot know."""
    local = {"coding": [{"system": "https://example.org/us-local", "code": text}], "text": text}
    return {**resource, "code": local}


# shape -> her record
NO_OFFER: dict[str, list[dict[str, Any]]] = {  # an ectopic pregnancy seen today
    "ectopic-contained": record(earlier_iup(), crl(), *panel([ectopic_finding()], True)),
    "ectopic-contained-panel-text-only": record(
        earlier_iup(), crl(), *panel([ectopic_finding()], True, code={"text": "Ultrasound"})
    ),
    "ectopic-contained-preliminary-panel": record(
        earlier_iup(), crl(), *panel([ectopic_finding()], True, status="preliminary")
    ),
    "ectopic-exported": record(earlier_iup(), crl(), *panel([ectopic_finding()], False)),
    # stop 45: an amended version whose member is ectopic where the first's was intrauterine
    "resent-amended-ectopic": record(
        *resent([iup(), crl()], "final", [ectopic_finding(), crl()], "amended")
    ),
}
OFFER: dict[str, list[dict[str, Any]]] = {  # the scan's IUP and CRL read from its members
    "members-contained": record(*panel([iup(), crl()], True)),
    "members-exported": record(*panel([iup(), crl()], False)),
    # stop 45: sent again, both final: the later version's members read (the control of those
    # below)
    "resent-final-twice": record(*resent([iup(), crl()], "final", [iup(), crl()], "final")),
    # ... and an amended version whose member is intrauterine where the first's was ectopic
    # (before, both versions' members were read: ectopic too, no offer)
    "resent-amended-intrauterine": record(
        *resent([ectopic_finding(), crl()], "final", [iup(), crl()], "amended")
    ),
}
# an intrauterine member of a preliminary panel confirms nothing (named, as a preliminary
# Observation's is): progesterone needs a scan-confirmed intrauterine pregnancy
NOT_CONFIRMED: dict[str, list[dict[str, Any]]] = {
    "iup-contained-preliminary-panel": record(*panel([iup(), crl()], True, status="preliminary")),
}
# members coded in nothing the reader knows: no location read (never an offer)
NO_LOCATION: dict[str, list[dict[str, Any]]] = {
    "members-contained-local-codes": record(
        *panel([_local(iup(), "IUP seen"), _local(crl(), "CRL")], True)
    ),
    "members-exported-local-codes": record(
        *panel([_local(iup(), "IUP seen"), _local(crl(), "CRL")], False)
    ),
}
# stop 45: a later version entered in error withdraws the panel, and its first version's
# members with it (before, the first's intrauterine member still confirmed it: an offer)
WITHDRAWN: dict[str, list[dict[str, Any]]] = {
    "resent-entered-in-error": record(
        *resent([iup(), crl()], "final", [iup(), crl()], "entered-in-error")
    ),
}
SHAPES: dict[str, list[dict[str, Any]]] = {
    **NO_OFFER,
    **OFFER,
    **NOT_CONFIRMED,
    **NO_LOCATION,
    **WITHDRAWN,
}
DECISIONS: dict[str, str] = {
    **{shape: "do_not_offer" for shape in NO_OFFER},
    **{shape: "offer" for shape in OFFER},
    **{shape: "needs_information" for shape in (*NOT_CONFIRMED, *NO_LOCATION, *WITHDRAWN)},
}


def export(names: tuple[str, ...] = tuple(SHAPES)) -> Export:
    """A woman per shape of ``names`` (ids and references prefixed with the shape), her
    encounter today."""
    out: Export = {"Patient": [], "Encounter": [], "Condition": [], "Observation": []}
    for shape in names:
        resources = SHAPES[shape]
        whole = [woman(PATIENT_ID), encounter("enc", PATIENT_ID), *resources]
        for resource in namespaced(whole, f"{shape}-"):
            out.setdefault(resource["resourceType"], []).append(resource)
    return out


def check_reading(readings: list[dict[str, Any]], names: tuple[str, ...] = tuple(SHAPES)) -> None:
    """Today's scan day: ectopic, intrauterine with its CRL, or no location read."""
    assert len(readings) == len(names)
    for got, shape in zip(readings, names, strict=True):
        today = [s for s in got["steps"]["scans"] if s["day"] == day()]
        if shape in NO_OFFER:
            assert [s["location"] for s in today] == ["ectopic"], shape
        elif shape in OFFER:
            assert [(s["location"], s["crl_mm"]) for s in today] == [("intrauterine", 9.5)]
        elif shape in (*NO_LOCATION, *WITHDRAWN):
            assert today == [], shape
