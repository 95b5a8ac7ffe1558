"""A validator for JSON text only, derived from a model's own schema (one definition of the
contract).

The episode's model refuses numbers for dates (lax pydantic reads them as Unix timestamps) and
true/false or text for numbers with Python validators run before pydantic's own (`_date_only`,
`_number_only` in `earlypath.model.episode`); each is a call into Python per value. Read from
JSON text, pydantic's *strict* date, datetime and float already refuse what those validators
refuse (strict takes a date only from a JSON string, a number only from a JSON number). They
cannot be strict in the model itself: strict dates also refuse text in Python mode
(`parse_episode` of a dict).

So the JSON-only validator is the model's core schema with each such validator replaced by the
strict form of the schema it wraps; everything else (the classes it makes, the fields, their
constraints, the range and cross-field checks) is the model's own. It makes instances of the
same classes. It accepts no more than the model: where it refuses, the model's validator is
run (`earlypath.model.episode.parse_episode_json`), so errors are the model's, word for word,
and anything strict refuses but the model accepts gets the model's answer.

Two more things keep values out of Python. A number's range that pydantic checks with its own
Python functions after a replaced validator (``ge``, ``le``, no inf/NaN) is folded into the
strict float as pydantic-core bounds. And the models inside the episode (`Scan`, `HcgSample`)
are built from the derived schema too: pydantic-core would otherwise use each nested class's
own prebuilt validator (with the Python validators) in place of its schema here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from functools import partial
from typing import Any

import pydantic.main
from pydantic import BaseModel
from pydantic._internal import _validators
from pydantic_core import SchemaValidator


def strict_in_place_of(
    schema: Any,
    validators: frozenset[Callable[..., Any]],
    date_ranges: Mapping[Callable[..., Any], tuple[dt.date, dt.date]] | None = None,
) -> Any:
    """A copy of the core ``schema`` where each ``function-before`` node whose function is one of
    ``validators`` is replaced by the schema it wraps, made strict; and each ``function-after``
    node whose function is in ``date_ranges`` and wraps a date schema, by that schema with the
    range (first, last) as its bounds (a datetime keeps the function: its range is of its day);
    and each of pydantic's own range checks on a float made strict here, by the float's bounds
    (`_float_bound`). The other nodes are copied as they are (functions and classes shared)."""
    ranges = date_ranges or {}
    if isinstance(schema, list):
        return [strict_in_place_of(item, validators, ranges) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if kind == "function-before" and schema["function"]["function"] in validators:
        inner = strict_in_place_of(schema["schema"], validators, ranges)
        if inner.get("type") not in _STRICT_REFUSES_JSON:
            raise TypeError(f"{inner.get('type')} is not a schema this module makes strict")
        if inner["type"] in ("date", "datetime"):
            return _date_text_then(inner)
        return {**inner, "strict": True}
    if kind == "function-after":
        function = schema["function"]["function"]
        inner = strict_in_place_of(schema["schema"], validators, ranges)
        bound = _float_bound(function)
        if bound is not None and inner.get("type") == "float" and inner.get("strict"):
            return {**inner, **bound}  # a range behind a replaced validator: core bounds
        if (
            function in ranges
            and inner.get("type") == "chain"
            and inner["steps"][-1].get("type") == "date"
        ):
            first, last = ranges[function]
            *text, date = inner["steps"]
            return {**inner, "steps": [*text, {**date, "ge": first, "le": last}]}
        return {**schema, "schema": inner}
    return {key: strict_in_place_of(value, validators, ranges) for key, value in schema.items()}


def _date_text_then(date_schema: dict[str, Any]) -> dict[str, Any]:
    """A date (or datetime) read only from JSON text that starts as an ISO date does
    (``YYYY-``), then parsed as the model parses it. Strict dates alone would take text of a
    number ("1709510400") as a Unix timestamp, which the model refuses."""
    return {
        "type": "chain",
        "steps": [{"type": "str", "strict": True, "pattern": _ISO_DATE_START}, date_schema],
    }


_ISO_DATE_START = r"^[0-9]{4}-"


def _float_bound(function: Any) -> dict[str, Any] | None:
    """The pydantic-core float bound that does what ``function`` does, where it is one of the
    Python checks pydantic adds for ``Field(ge=, le=, allow_inf_nan=False)`` behind a Python
    validator; None for any other function (then it stays: slower, never wrong). Each refuses
    exactly what the bound refuses (a NaN fails ``>=`` and ``<=`` as it fails the bounds)."""
    if function is _PYDANTIC_CHECKS["forbid_inf_nan_check"]:
        return {"allow_inf_nan": False}
    if isinstance(function, partial) and not function.args and len(function.keywords) == 1:
        for name, bound in (
            ("greater_than_or_equal_validator", "ge"),
            ("less_than_or_equal_validator", "le"),
        ):
            if function.func is _PYDANTIC_CHECKS[name] and bound in function.keywords:
                return {bound: function.keywords[bound]}
    return None


# pydantic's own range checks, by name (private functions: a version without one folds nothing).
_PYDANTIC_CHECKS: dict[str, Any] = {
    name: getattr(_validators, name, object())
    for name in (
        "forbid_inf_nan_check",
        "greater_than_or_equal_validator",
        "less_than_or_equal_validator",
    )
}


# The core schemas made strict here, each of which in strict JSON reading takes only the JSON
# type the replaced validators let through: a date or datetime only a string, a float only a
# number (never true/false or text).
_STRICT_REFUSES_JSON = frozenset({"date", "datetime", "float"})


def json_only_validator(
    model: type[BaseModel],
    validators: frozenset[Callable[..., Any]],
    date_ranges: Mapping[Callable[..., Any], tuple[dt.date, dt.date]] | None = None,
    refusing: Mapping[Callable[..., Any], Callable[..., Any]] | None = None,
) -> SchemaValidator:
    """The validator of ``model`` for JSON text, with ``validators`` replaced by strict schemas
    and ``date_ranges`` by bounds (`strict_in_place_of`), and each model validator in
    ``refusing`` by its value there: a function that refuses at least wherever that validator
    raises (its errors need not be the model's: the model answers every refusal). Its
    ``validate_json`` makes ``model`` instances."""
    schema = strict_in_place_of(model.__pydantic_core_schema__, validators, date_ranges)
    if refusing:
        schema = _validators_replaced(schema, refusing)
    with _no_prebuilt(_nested_models(schema, model)):
        return SchemaValidator(schema, _model_config(schema, model))


def _validators_replaced(schema: Any, by: Mapping[Callable[..., Any], Callable[..., Any]]) -> Any:
    """A copy of ``schema`` with each ``function-after`` node's function in ``by`` replaced."""
    if isinstance(schema, list):
        return [_validators_replaced(item, by) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _validators_replaced(value, by) for key, value in schema.items()}
    if schema.get("type") == "function-after" and schema["function"]["function"] in by:
        out["function"] = {**schema["function"], "function": by[schema["function"]["function"]]}
    return out


def _nested_models(schema: Any, model: type[BaseModel]) -> set[type[BaseModel]]:
    """The model classes made inside ``schema`` other than ``model`` itself."""
    if isinstance(schema, list):
        return {found for item in schema for found in _nested_models(item, model)}
    if not isinstance(schema, dict):
        return set()
    own = {schema["cls"]} if schema.get("type") == "model" and schema["cls"] is not model else set()
    return own.union(*(_nested_models(value, model) for value in schema.values()))


@contextmanager
def _no_prebuilt(models: set[type[BaseModel]]) -> Iterator[None]:
    """While a validator is built: pydantic-core takes a nested model's own prebuilt validator
    (the model's, with its Python validators) where the class is marked complete, so the mark is
    taken off these classes for the build and put back after (only the build reads it)."""
    # Held so that no `model_rebuild` in another thread reads or sets the mark meanwhile.
    with _REBUILD_LOCK:
        marked = [m for m in models if m.__dict__.get("__pydantic_complete__")]
        for m in marked:
            type.__setattr__(m, "__pydantic_complete__", False)
        try:
            yield
        finally:
            for m in marked:
                type.__setattr__(m, "__pydantic_complete__", True)


# pydantic's lock around a model's rebuild (private; none if a version has no such lock).
_REBUILD_LOCK: Any = getattr(pydantic.main, "_rebuild_lock", None) or nullcontext()


def _model_config(schema: Any, model: type[BaseModel]) -> Any:
    """The core config pydantic gave ``model``'s own schema node (its title, extra fields
    forbidden, ...), as the model's validator is built with; None if there is none."""
    node = schema
    while isinstance(node, dict):  # through the wrapping nodes (the model's own validators)
        if node.get("type") == "model" and node.get("cls") is model:
            return node.get("config")
        node = node.get("schema")
    return None
