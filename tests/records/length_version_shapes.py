"""Tied versions of an ultrasound panel whose crown-rump length or mean sac diameter differ
(stop 31, HAZ-20 C20.22). Two versions of one panel (same id, same subject) that cannot be
ordered (no meta.lastUpdated, same status) were both read and the larger length counted: a CRL
of 6.8 or 7.2 mm with no heartbeat gave the second opinion of NG126 1.4.7, not the rescan at
least 7 days later that a CRL under 7.0 mm needs (1.4.6). Now held back as a plain length
Observation's versions are: neither read, the Observation named. Each woman has bleeding, a
previous miscarriage, an LMP and an intrauterine scan today; the panel's heart rate is 0/min (no
heartbeat). Each shape is given in both orders (``-a``, ``-b``)."""

from __future__ import annotations

from typing import Any

from earlypath.records import definition
from tests.fhir_exports import one_export
from tests.integration.fhir_data import LOINC, bleeding, day, iup, lmp, previous_miscarriage
from tests.records.real_shapes import component, export_of, quantity, us_panel

PANEL_ID = "us-len"
NO_HEARTBEAT = component(LOINC, "11948-7", valueQuantity=quantity(0, "/min"))


def crl(value: float, unit: str = "mm", **extra: Any) -> dict[str, Any]:
    return {**component(LOINC, "11957-8", valueQuantity=quantity(value, unit)), **extra}


def msd(value: float, unit: str = "mm") -> dict[str, Any]:
    return component(LOINC, "11850-5", valueQuantity=quantity(value, unit))


def panel(*lengths: dict[str, Any]) -> dict[str, Any]:
    """Today's panel (id `PANEL_ID`): ``lengths`` and no heartbeat."""
    return us_panel([*lengths, NO_HEARTBEAT], on=day(), id=PANEL_ID)


_CRL_WORDED = crl(7.2, code={"coding": [{"system": LOINC, "code": "11957-8"}], "text": "CRL"})

# shape -> (the two versions, (crl_mm, msd_mm) of today's scan: None where held or not sent)
_PAIRS: dict[str, tuple[tuple[dict[str, Any], dict[str, Any]], tuple[float | None, ...]]] = {
    # the vignettes of the hazard: the larger length was read
    "tied-panels-crl-6.8-or-7.2": ((panel(crl(6.8)), panel(crl(7.2))), (None, None)),
    "tied-panels-msd-24-or-26": ((panel(msd(24)), panel(msd(26))), (None, None)),
    # a CRL in one version, none in the other: which is current cannot be told
    "tied-panels-crl-or-none": ((panel(crl(7.2)), panel()), (None, None)),
    # one length written two ways (the reading's mm, rounded to 0.01): one length, read
    "tied-panels-crl-7-mm-or-0.7-cm": ((panel(crl(7)), panel(crl(0.7, "cm"))), (7.0, None)),
    # differing only in wording (the component code's text): the same length, read
    "tied-panels-crl-wording-only": ((panel(crl(7.2)), panel(_CRL_WORDED)), (7.2, None)),
    # the same panel sent twice: read
    "same-panel-crl-and-msd-twice": (
        (panel(crl(7.2), msd(20)), panel(crl(7.2), msd(20))),
        (7.2, 20.0),
    ),
}


def woman(*findings: dict[str, Any]) -> list[dict[str, Any]]:
    return [previous_miscarriage(), bleeding(), lmp(), iup(), *findings]


LENGTH_VERSIONS: dict[str, tuple[list[dict[str, Any]], tuple[float | None, ...]]] = {
    f"{shape}-{order}": (woman(*(pair if order == "a" else pair[::-1])), lengths)
    for shape, (pair, lengths) in _PAIRS.items()
    for order in ("a", "b")
}
# the shapes whose versions are held back (named by the panel's ref)
HELD = frozenset(s for s, (_, lengths) in LENGTH_VERSIONS.items() if lengths == (None, None))
HELD_MESSAGE = definition.OBSERVATION_VERSIONS_HELD_MESSAGE


def export() -> dict[str, list[dict[str, Any]]]:
    """One export of every woman, each her own patient and encounter (``enc-<shape>``)."""
    return one_export({name: export_of(res) for name, (res, _) in LENGTH_VERSIONS.items()})


def todays_lengths(scans: list[dict[str, Any]]) -> tuple[float | None, float | None]:
    """The lengths of today's scan (an episode's scans, or the reading's step, by "day")."""
    (today,) = [s for s in scans if str(s.get("date", s.get("day"))) == day()]
    return today.get("crl_mm"), today.get("msd_mm")


def check_reading(export: dict[str, list[dict[str, Any]]], reading: list[dict[str, Any]]) -> None:
    """Each woman's reading (`tests.records.test_engines_agree.readings_of`, in the order of
    the export's encounters, their ids maybe namespaced): today's lengths, and the panel named
    held exactly where its versions are."""
    at = [e["id"].rsplit("enc-", 1)[1] for e in export["Encounter"]]
    assert sorted(at) == sorted(LENGTH_VERSIONS)
    for shape, (_, lengths) in LENGTH_VERSIONS.items():
        got = reading[at.index(shape)]
        assert todays_lengths(got["steps"]["scans"]) == lengths, shape
        held = [m for ref, m in got["problems"] if ref.endswith(PANEL_ID) and m == HELD_MESSAGE]
        assert bool(held) == (shape in HELD), (shape, got["problems"])
