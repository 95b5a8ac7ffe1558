"""The JSON-only validator (`earlypath.model.json_only`) against the model's own
(`parse_episode_json_reference`): on valid and invalid JSON text, the same episode (same class,
fields, types and fields set) or the same problems, word for word (issue 16)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from earlypath.errors import InputError
from earlypath.model import Episode, parse_episode, parse_episode_json
from earlypath.model import episode as episode_module
from earlypath.model.episode import (
    EARLIEST_DATE,
    LATEST_DATE,
    HcgSample,
    Scan,
    _date_in_range,
    _date_only,
    _number_only,
    parse_episode_json_reference,
)
from earlypath.model.json_only import strict_in_place_of
from tests.pathway.strategies import episodes

SETTINGS = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Values put in place of a field's value: what lax pydantic would read as something else (a
# number as a Unix timestamp, true as 1.0, "9.5" as 9.5), text near the formats, edges of the
# ranges, and other JSON types.
ODD_VALUES: list[Any] = [
    0,
    1,
    -1,
    1709510400,
    1709510400.5,
    9.5,
    1e308,
    -0.0,
    True,
    False,
    None,
    "",
    "9.5",
    "1709510400",
    "2024-03-04",
    "2024-03-04T00:00:00",
    "2024-03-04T00:00",
    "2024-03-04T00:00:00Z",
    "2024-03-04T10:30:00",
    "2024-03-04T10:30:00+01:00",
    "2024-03-04T10:30:00.1234567",
    "2024-3-4",
    "20240304",
    "1899-12-31",
    "1900-01-01",
    "2199-12-31",
    "2200-01-01",
    "2199-12-31T23:59:59-12:00",
    "intrauterine",
    [],
    {},
    ["2024-03-04"],
]

# JSON text that no Python value dumps to: the number tokens pydantic's reader may take.
ODD_TOKENS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "01", "1.", "2024-03-04"]


def _paths(episode: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Every place in the episode a value can be swapped: its fields, each scan's and sample's
    fields, and a new field."""
    out: list[tuple[Any, ...]] = [(name,) for name in episode] + [("not_a_field",)]
    for listed in ("scans", "hcg"):
        items = episode.get(listed)
        for i, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict):  # not one swapped for an odd value
                out += [(listed, i, name) for name in item] + [(listed, i, "crl_mm")]
    return out


def _set(episode: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target: Any = episode
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


@st.composite
def episode_texts(draw: st.DrawFn) -> str:
    """JSON text of a valid episode, or of one with one to three values swapped for odd ones,
    a number token written in place of a value, or the text cut short."""
    episode = draw(episodes())
    for _ in range(draw(st.integers(0, 3))):
        _set(episode, draw(st.sampled_from(_paths(episode))), draw(st.sampled_from(ODD_VALUES)))
    text = json.dumps(episode)
    kind = draw(st.sampled_from(["as is", "as is", "token", "cut"]))
    if kind == "token":
        marker = "__token__"
        _set(episode, draw(st.sampled_from(_paths(episode))), marker)
        text = json.dumps(episode).replace(f'"{marker}"', draw(st.sampled_from(ODD_TOKENS)))
    elif kind == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    return text


def _exact(value: Any) -> Any:
    """A value with the type of every part, so that 1 and 1.0, or a date and a datetime, differ."""
    if isinstance(value, BaseModel):
        fields = {name: _exact(v) for name, v in value.__dict__.items()}
        return (type(value), fields, frozenset(value.__pydantic_fields_set__))
    if isinstance(value, list | tuple):
        return (type(value), [_exact(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return (float, "nan")
    if hasattr(value, "tzinfo"):
        return (type(value), value, repr(value.tzinfo))
    return (type(value), value)


def _outcome(parse: Any, text: str | bytes) -> Any:
    try:
        return ("episode", _exact(parse(text)))
    except InputError as error:
        return ("problems", [(p.field, p.message) for p in error.problems])


@SETTINGS
@given(episode_texts())
def test_json_only_answers_as_the_model(text: str) -> None:
    assert _outcome(parse_episode_json, text) == _outcome(parse_episode_json_reference, text)
    as_bytes = text.encode()
    assert _outcome(parse_episode_json, as_bytes) == _outcome(
        parse_episode_json_reference, as_bytes
    )


@SETTINGS
@given(episodes())
def test_a_valid_episode_is_read_by_the_json_only_validator(episode: dict[str, Any]) -> None:
    """Not vacuous: valid text is answered by the JSON-only validator itself (no fallback), an
    `Episode` equal to the model's, from text and from the parsed dict."""
    text = json.dumps(episode)
    fast = episode_module._json_only().validate_json(text)
    assert type(fast) is Episode
    assert _exact(fast) == _exact(parse_episode_json_reference(text))
    assert fast == parse_episode(json.loads(text))


@pytest.mark.parametrize(
    ("episode", "field", "message"),
    [
        ({"assessed_on": 1709510400}, "assessed_on", "must be a date written as YYYY-MM-DD"),
        ({"assessed_on": "2024-03-04", "lmp": 1.5}, "lmp", "must be a date written as YYYY-MM-DD"),
        (
            {"assessed_on": "2024-03-04", "hcg": [{"taken_at": True, "iu_per_l": 5}]},
            "hcg[0].taken_at",
            "must be a date written as YYYY-MM-DD",
        ),
        (
            {"assessed_on": "2024-03-04", "adnexal_mass_mm": "9.5"},
            "adnexal_mass_mm",
            "must be a number, not text",
        ),
        (
            {"assessed_on": "2024-03-04", "adnexal_mass_mm": True},
            "adnexal_mass_mm",
            "must be a number, not true or false",
        ),
    ],
)
def test_what_strict_refuses_gets_the_models_message(
    episode: dict[str, Any], field: str, message: str
) -> None:
    text = json.dumps(episode)
    with pytest.raises(ValidationError):  # refused by the JSON-only validator ...
        episode_module._json_only().validate_json(text)
    with pytest.raises(InputError) as caught:  # ... and answered by the model, word for word
        parse_episode_json(text)
    assert [(p.field, p.message) for p in caught.value.problems] == [(field, message)]


def test_a_midnight_datetime_is_its_date_to_both() -> None:
    # Lax parsing (after the text is seen to start as a date) reads it as the model does.
    text = json.dumps({"assessed_on": "2024-03-04T00:00:00"})
    assert episode_module._json_only().validate_json(text).assessed_on == dt.date(2024, 3, 4)
    assert _exact(parse_episode_json(text)) == _exact(parse_episode_json_reference(text))


NUMBER_TEXT = ["1709510400", "1709510400.5", "0", "-1", "+86400", "20240304", "1709510400."]


@pytest.mark.parametrize("value", NUMBER_TEXT)
@pytest.mark.parametrize("field", ["assessed_on", "lmp", "scan date", "hCG taken_at"])
def test_text_of_a_number_is_never_read_as_a_timestamp(field: str, value: str) -> None:
    # Lax pydantic reads "1709510400" as 2024-03-04 (seconds since 1970): a guess we refuse,
    # from JSON text (both validators) and from a dict, naming the field.
    episode: dict[str, Any] = {
        "assessed_on": "2024-03-04",
        "lmp": "2024-01-20",
        "scans": [{"date": "2024-03-01", "location": "intrauterine"}],
        "hcg": [{"taken_at": "2024-03-01T09:00:00", "iu_per_l": 900}],
    }
    where = {
        "scan date": ("scans[0].date", episode["scans"][0], "date"),
        "hCG taken_at": ("hcg[0].taken_at", episode["hcg"][0], "taken_at"),
    }.get(field, (field, episode, field))
    name, holder, key = where
    holder[key] = value
    text = json.dumps(episode)
    with pytest.raises(ValidationError):
        episode_module._json_only().validate_json(text)
    for parse in (parse_episode_json, parse_episode_json_reference):
        with pytest.raises(InputError) as caught:
            parse(text)
        assert (name, "must be a date written as YYYY-MM-DD") in [
            (p.field, p.message) for p in caught.value.problems
        ]
    with pytest.raises(InputError) as caught:
        parse_episode(json.loads(text))
    assert (name, "must be a date written as YYYY-MM-DD") in [
        (p.field, p.message) for p in caught.value.problems
    ]


def test_the_json_only_schema_calls_neither_validator() -> None:
    def functions(node: Any) -> list[Any]:
        if isinstance(node, list):
            return [f for item in node for f in functions(item)]
        if not isinstance(node, dict):
            return []
        own = [node["function"]] if callable(node.get("function")) else []
        return own + [f for value in node.values() for f in functions(value)]

    model_schema = Episode.__pydantic_core_schema__
    assert {_date_only, _number_only} <= set(functions(model_schema))
    derived = strict_in_place_of(
        model_schema,
        frozenset({_date_only, _number_only}),
        {_date_in_range: (EARLIEST_DATE, LATEST_DATE)},
    )
    assert not {_date_only, _number_only} & set(functions(derived))
    # a date's range is bounds; a datetime's (of its day) stays the function, once (hCG)
    assert functions(derived).count(_date_in_range) == 1
    assert Episode._cross_field_checks in functions(derived)  # the rest is the model's


def test_strict_in_place_of_refuses_a_schema_it_cannot_make_strict() -> None:
    schema = {"type": "function-before", "function": {"function": len}, "schema": {"type": "str"}}
    with pytest.raises(TypeError, match="str"):
        strict_in_place_of(schema, frozenset({len}))


RANGE_EDGES = [
    "1899-12-31",
    "1900-01-01",
    "2199-12-31",
    "2200-01-01",
    "1900-01-01T00:00:00",
    "1899-12-31T23:59:59",
    "2199-12-31T23:59:59",
    "2200-01-01T00:00:00",
    "1900-01-01T00:30:00+01:00",
    "2199-12-31T23:30:00-01:00",
]


@pytest.mark.parametrize("value", RANGE_EDGES)
@pytest.mark.parametrize("field", ["assessed_on", "lmp", "scan date", "hCG taken_at"])
def test_the_date_range_edges_answer_as_the_model(field: str, value: str) -> None:
    episode: dict[str, Any] = {
        "assessed_on": "2199-12-31",
        "lmp": "2199-11-30",
        "scans": [{"date": "2199-12-30", "location": "intrauterine"}],
        "hcg": [{"taken_at": "2199-12-30T09:00:00", "iu_per_l": 900}],
    }
    if field == "scan date":
        episode["scans"][0]["date"] = value
    elif field == "hCG taken_at":
        episode["hcg"][0]["taken_at"] = value
    else:
        episode[field] = value
    text = json.dumps(episode)
    assert _outcome(parse_episode_json, text) == _outcome(parse_episode_json_reference, text)


def test_the_json_only_validator_runs_no_python_per_value() -> None:
    """The scans' and samples' values too: pydantic-core would take `Scan`'s and `HcgSample`'s
    own prebuilt validators (with `_date_only`, `_number_only` and pydantic's Python range
    checks) in place of the derived schema, and a float's range behind `_number_only` is
    pydantic's Python unless folded into core bounds. Only the model's cross-field checks (and
    a datetime's range, of its day) are Python."""
    text = json.dumps(
        {
            "assessed_on": "2024-03-04",
            "lmp": "2024-01-20",
            "adnexal_mass_mm": 12.5,
            "scans": [
                {"date": "2024-03-01", "location": "intrauterine", "crl_mm": 9.5, "msd_mm": 20},
                {"date": "2024-03-02", "location": "unknown"},
            ],
            "hcg": [{"taken_at": "2024-03-01T09:00:00", "iu_per_l": 900}],
        }
    )
    validator = episode_module._json_only()
    validator.validate_json(text)  # the checks' plan made
    called: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            called.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        validator.validate_json(text)
    finally:
        sys.setprofile(None)
    assert "_date_only" not in called and "_number_only" not in called
    assert not [name for name in called if name.endswith(("_validator", "_check"))]
    assert called.count("_date_in_range") == 1  # the hCG datetime's, of its day
    # the checks: the generated function called straight, not through the model's layers
    assert "refuse_broken" in called and "any_broken" in called
    assert "_cross_field_checks" not in called and "broken_checks" not in called
    # and the classes made are the model's own (built with the marks put back)
    assert Scan.__pydantic_complete__ and HcgSample.__pydantic_complete__
    assert Scan.model_validate_json('{"date": "2024-03-01", "location": "unknown"}')


@pytest.mark.parametrize(
    ("field", "value"),
    [("crl_mm", 120.0), ("crl_mm", 120.0000001), ("crl_mm", -0.0), ("crl_mm", -1e-300)]
    + [("msd_mm", 0), ("msd_mm", 121), ("iu_per_l", 1e6), ("iu_per_l", 1000000.1)]
    + [("adnexal_mass_mm", 200), ("adnexal_mass_mm", 200.5), ("adnexal_mass_mm", -0.5)],
)
def test_a_number_at_its_range_edges_answers_as_the_model(field: str, value: float) -> None:
    episode: dict[str, Any] = {
        "assessed_on": "2024-03-04",
        "scans": [{"date": "2024-03-01", "location": "intrauterine"}],
        "hcg": [{"taken_at": "2024-03-01T09:00:00", "iu_per_l": 900}],
    }
    holder = {"iu_per_l": episode["hcg"][0], "adnexal_mass_mm": episode}.get(
        field, episode["scans"][0]
    )
    holder[field] = value
    text = json.dumps(episode)
    assert _outcome(parse_episode_json, text) == _outcome(parse_episode_json_reference, text)


@pytest.mark.parametrize(
    "episode",
    [
        {"assessed_on": "2024-03-04", "lmp": "2024-03-05"},
        {"assessed_on": "2024-03-04", "heavy_bleeding": True, "vaginal_bleeding": False},
        {
            "assessed_on": "2024-03-04",
            "scans": [
                {
                    "date": "2024-03-01",
                    "location": "unknown",
                    "fetal_pole": False,
                    "fetal_heartbeat": True,
                }
            ],
        },
        {"assessed_on": "2024-03-04", "hcg": [{"taken_at": "2024-03-05T09:00:00", "iu_per_l": 5}]},
    ],
)
def test_a_broken_check_is_refused_then_told_by_the_model(episode: dict[str, Any]) -> None:
    text = json.dumps(episode)
    with pytest.raises(ValidationError):  # refused by the JSON-only validator's checks ...
        episode_module._json_only().validate_json(text)
    assert _outcome(parse_episode_json, text) == _outcome(parse_episode_json_reference, text)
    assert _outcome(parse_episode_json, text)[0] == "problems"  # ... the model's words


def test_checks_the_generated_function_cannot_tell_are_refused(monkeypatch: Any) -> None:
    """Where the generated function raises, the JSON-only validator refuses (the model's
    validator then decides), never accepts."""
    from earlypath.model import checks as checks_module

    text = json.dumps({"assessed_on": "2024-03-04"})
    episode_module._json_only().validate_json(text)  # planned
    plan = checks_module._plan
    assert plan is not None

    def cannot_tell(episode: Any) -> bool:
        raise TypeError("cannot tell")

    monkeypatch.setattr(checks_module, "_plan", dataclasses.replace(plan, any_broken=cannot_tell))
    with pytest.raises(ValidationError):
        episode_module._json_only().validate_json(text)
    assert _outcome(parse_episode_json, text) == _outcome(parse_episode_json_reference, text)
