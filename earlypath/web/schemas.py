"""JSON Schemas for the OpenAPI document: the episode (from the contract), the assessment, errors.

The episode schema is `earlypath.episode_json_schema()`, with its `$defs` moved into
`components/schemas` so that references resolve inside the OpenAPI document.
"""

from __future__ import annotations

import copy
from typing import Any

from earlypath.guideline.vocabulary import SECTION_OUTPUT_KEYS
from earlypath.model import episode_json_schema

_STR = {"type": "string"}
_NULLABLE_STR = {"type": ["string", "null"]}

# The top-level keys of every assessment; pathway sections come as extra keys.
CORE_SECTIONS = (
    "earlypath_version",
    "assessed_on",
    "guideline",
    "policy",
    "gestation",
    "progesterone",
)

ERRORS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": _STR, "message": _STR},
            },
        }
    },
}

ASSESSMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "What the engine returns for an episode: exactly what `earlypath assess` prints. Pathway "
        "sections (scan_assessment, hcg_assessment, ...) may be added; they appear as extra keys."
    ),
    "required": list(CORE_SECTIONS),
    "properties": {
        "earlypath_version": _STR,
        "assessed_on": {"type": "string", "format": "date"},
        "guideline": {
            "type": "object",
            "required": ["guideline", "version", "chosen_because"],
            "properties": {
                "guideline": _STR,
                "version": _STR,
                "in_force_from": _STR,
                "in_force_to": _NULLABLE_STR,
                "url": _STR,
                "chosen_because": _STR,
            },
        },
        "policy": {"type": "object"},
        "gestation": {
            "type": ["object", "null"],
            "properties": {
                "days": {"type": "integer"},
                "display": _STR,
                "basis": {"enum": ["crl", "lmp"]},
            },
        },
        "progesterone": {
            "type": "object",
            "required": [*SECTION_OUTPUT_KEYS, "plan"],
            "properties": {
                "decision": {
                    "enum": ["offer", "continue", "stop", "do_not_offer", "needs_information"]
                },
                "recommendations": {"type": "array", "items": _STR},
                "citations": {"type": "array", "items": {"type": "object"}},
                "reasons": {"type": "array", "items": _STR},
                "missing": {"type": "array", "items": _STR},
                "advice": {"type": "array", "items": {"type": "object"}},
                "plan": {"type": ["object", "null"]},
                "trace": {"type": "object"},
            },
        },
    },
}


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                out[key] = "#/components/schemas/" + value.removeprefix("#/$defs/")
            else:
                out[key] = _rewrite_refs(value)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def openapi_components() -> dict[str, Any]:
    """Schemas to put under components/schemas: Episode and its parts, Assessment, Errors."""
    schema = copy.deepcopy(episode_json_schema())
    defs = schema.pop("$defs", {})
    schema.pop("$schema", None)
    components = {name: _rewrite_refs(d) for name, d in defs.items()}
    components["Episode"] = _rewrite_refs(schema)
    components["Assessment"] = ASSESSMENT_SCHEMA
    components["Errors"] = ERRORS_SCHEMA
    return components


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}
