"""FHIR R4 <-> earlypath: codes as data, resources -> episode, plan -> MedicationRequest, cards.

Public: `bundle_to_episode(resources, assessed_on) -> (episode_dict, problems)`, `map_resources`
(the same, with the evidence used for each fact), `plan_to_medication_request`, `load_codes`.
"""

from earlypath.fhir.codes import CodeSet, code_set, load_codes
from earlypath.fhir.mapping import MappingResult, bundle_to_episode, flatten, map_resources
from earlypath.fhir.medication_request import (
    is_progesterone_order,
    order_differences,
    plan_to_medication_request,
)

__all__ = [
    "CodeSet",
    "MappingResult",
    "bundle_to_episode",
    "code_set",
    "flatten",
    "is_progesterone_order",
    "load_codes",
    "map_resources",
    "order_differences",
    "plan_to_medication_request",
]
