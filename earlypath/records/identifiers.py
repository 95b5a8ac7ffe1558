"""How an identifier names a patient: one rule, for the card and the audit.

FHIR R4 lets a resource name its patient by a *logical reference* (``Reference.identifier``)
when the literal one is not known; UK Core records name her so by NHS number:
``"subject": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": ...}}``.

The rule (conservative: a wrong tie reads another woman's history as hers):

- an Identifier is usable when its ``system`` and its ``value`` are both text with something
  other than blanks in it; a value without its system (any number in any register) ties nobody;
- two Identifiers match when system and value are equal as written, blanks at either end
  aside (" \\t\\n\\r\\x0b\\x0c", as `NormText` strips them): no case folding, no
  reformatting, with one exception (stop 26): the value of an NHS number
  (system ``https://fhir.nhs.uk/Id/nhs-number``) is compared as its ten digits, its spaces and
  hyphens removed ("900 000 0009" and "900-000-0009", as NHS numbers are displayed and keyed,
  are "9000000009"), when those are ten digits with a right modulus 11 check digit (`NhsNumber`).
  Any other value of that system (nine digits, a letter, a check digit that fails) is compared as
  written and, tied to nobody, is counted as ``nhs_number_not_valid``: a slip, never guessed at.
  Other systems' values (an MRN, whose hyphen may count) are compared as written;
- a resource is tied by its identifier only when it has no literal reference: the literal
  reference wins, also when the two disagree (it names a Patient record; an identifier is a
  claim to be looked up).

Where it is used: the card (`earlypath.web.patient_scope`: her Patient's identifiers) calls
`identifier_pair`; the records definition (`earlypath.records.definition`:
``PATIENT_IDENTIFIERS``, ``IDENTIFIED_SUBJECTS``) reads the same rule as IR (`usable_text`), run
by both engines; `tie` resolves the rows in Python (the per-patient reading), as the audit does
in its engine (`earlypath.audit.fhir_read`). Nothing here logs: identifiers are patient data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from earlypath.records.ir import Field, NhsNumber, NormText
from earlypath.records.json_values import STRIP, nhs_number
from earlypath.rules.ir import And, Cmp, Coalesce, Const, Expr, If, IsNull, IsTrue, Not

__all__ = [
    "NHS_NUMBER_NOT_VALID",
    "NHS_NUMBER_SYSTEM",
    "NOT_CARRIED",
    "ON_TWO_PATIENTS",
    "WITHOUT_SYSTEM_OR_VALUE",
    "Identifier",
    "Ties",
    "identifier_pair",
    "identifier_value",
    "nhs_number_not_valid",
    "tie",
    "usable_text",
]

Identifier = tuple[str, str]  # (system, value)

# why a resource naming its patient by an identifier is tied to nobody (summary.json keys)
WITHOUT_SYSTEM_OR_VALUE = "without_system_or_value"
NOT_CARRIED = "carried_by_no_patient"
ON_TWO_PATIENTS = "carried_by_two_patients"
NHS_NUMBER_NOT_VALID = "nhs_number_not_valid"

# The one system whose values are compared as digits (UK Core's NHS number).
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"


def _usable(text: Any) -> str | None:
    """The text stripped of blanks at both ends, when something is left; else None."""
    if not isinstance(text, str):
        return None
    return text.strip(STRIP) or None


def identifier_pair(value: Any) -> Identifier | None:
    """(system, value) of an Identifier (JSON) whose system and value are both usable, stripped
    of blanks at both ends; else None (it ties nobody)."""
    if not isinstance(value, dict):
        return None
    system, text = _usable(value.get("system")), _usable(value.get("value"))
    if system is None or text is None:
        return None
    if system == NHS_NUMBER_SYSTEM:  # as `identifier_value` reads it
        text = nhs_number(text) or text
    return (system, text)


def usable_text(path: str) -> Expr:
    """The IR of the same rule for one element: the text at ``path`` stripped of blanks at both
    ends (its case kept) when something is left, else None."""
    stripped = NormText(Field(path, "str"), fold_case=False)
    return If(Cmp("!=", stripped, Const("")), stripped, Const(None))


def _is_nhs_number(system: Expr) -> Expr:
    return IsTrue(Cmp("==", system, Const(NHS_NUMBER_SYSTEM)))


def identifier_value(system: Expr, value: Expr) -> Expr:
    """The value an identifier is matched by (``system`` and ``value``: `usable_text`): an NHS
    number's ten digits when it is a valid one written with spaces or hyphens, else the value."""
    return If(_is_nhs_number(system), Coalesce((NhsNumber(value), value)), value)


def nhs_number_not_valid(system: Expr, value: Expr) -> Expr:
    """True when the identifier is an NHS number (its system) whose value is not one (not ten
    digits once spaces and hyphens are removed, or a check digit that fails); never None."""
    return And((_is_nhs_number(system), Not(IsNull(value)), IsNull(NhsNumber(value))))


@dataclass(frozen=True)
class Ties:
    """``patient``: each resource tied by its identifier, by (``ref``, ``n``), and the Patient
    id (the surviving record when merged); ``not_tied``: the others, counted by why;
    ``shared``: how many identifiers are carried by two or more Patients (counts only)."""

    patient: dict[tuple[str, int], str] = field(default_factory=dict)
    not_tied: dict[str, int] = field(default_factory=dict)
    shared: int = 0

    def summary(self) -> dict[str, Any]:
        """For summary.json: counts, never an identifier or an id."""
        return {
            "resources_tied": len(self.patient),
            "resources_not_tied": dict(sorted(self.not_tied.items())),
            "identifiers_on_two_patients": self.shared,
        }


def tie(
    carried: Iterable[Mapping[str, Any]],
    named: Iterable[Mapping[str, Any]],
    survivor: Mapping[str, str],
) -> Ties:
    """Tie the resources ``named`` by an identifier (``IDENTIFIED_SUBJECTS`` rows: ``ref``,
    ``n``, ``system``, ``value``) to the Patient carrying it (``PATIENT_IDENTIFIERS`` rows:
    ``patient``, ``system``, ``value``), through the merges (``survivor``: merged-away id ->
    record in use). An identifier carried by two Patients that are not one woman (a Patient
    without an id counts as one) ties nobody; carried by a Patient without an id only, it is
    carried by no Patient an encounter can name."""
    owners: dict[Identifier, set[str | None]] = {}
    for row in carried:
        pid = row.get("patient")
        pid = survivor.get(pid, pid) if isinstance(pid, str) else None
        owners.setdefault((row["system"], row["value"]), set()).add(pid)
    out = Ties(shared=sum(1 for who in owners.values() if len(who) > 1))
    for row in named:
        system, value = row.get("system"), row.get("value")
        if system is None or value is None:
            why = WITHOUT_SYSTEM_OR_VALUE
        else:
            who = owners.get((system, value), set())
            (only,) = who if len(who) == 1 else (None,)
            if only is not None:
                out.patient[(row["ref"], row["n"])] = only
                continue
            if len(who) > 1:
                why = ON_TWO_PATIENTS
            elif row.get("nhs_number_not_valid"):
                why = NHS_NUMBER_NOT_VALID
            else:
                why = NOT_CARRIED
        out.not_tied[why] = out.not_tied.get(why, 0) + 1
    return out
