"""FHIR R4 <-> earlypath: codes as data, resources -> episode, plan -> MedicationRequest, cards.

Public: `bundle_to_episode(resources, assessed_on) -> (episode_dict, problems)`, `map_resources`
(the same, with the evidence used for each fact), `plan_to_medication_request`, `load_codes`.

The names load on first use (PEP 562): the record-reading definition (`earlypath.records`) reads
`earlypath.fhir.codes`, and `mapping` reads the definition, so importing this package must not
import `mapping` before a caller asks for it.
"""

from __future__ import annotations

from typing import Any

from earlypath._lazy import load as _load

_WHERE = {
    "CodeSet": "earlypath.fhir.codes",
    "code_set": "earlypath.fhir.codes",
    "load_codes": "earlypath.fhir.codes",
    "MappingResult": "earlypath.fhir.mapping",
    "bundle_to_episode": "earlypath.fhir.mapping",
    "flatten": "earlypath.fhir.mapping",
    "map_resources": "earlypath.fhir.mapping",
    "is_progesterone_order": "earlypath.fhir.medication_request",
    "order_differences": "earlypath.fhir.medication_request",
    "plan_to_medication_request": "earlypath.fhir.medication_request",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    return _load(globals(), _WHERE, name)
