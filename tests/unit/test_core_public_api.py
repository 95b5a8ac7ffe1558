"""The public API is small and deliberate: a change to it should be a decision, not an accident."""

from __future__ import annotations

import importlib

import pytest

import earlypath


def test_public_api_is_exactly_this() -> None:
    assert sorted(earlypath.__all__) == [
        "EarlypathError",
        "Episode",
        "InputError",
        "Policy",
        "Problem",
        "__version__",
        "assess",
        "episode_json_schema",
        "parse_episode",
        "parse_episode_json",
    ]
    for name in earlypath.__all__:
        assert hasattr(earlypath, name), name


def test_error_hierarchy_maps_to_exit_codes() -> None:
    from earlypath.errors import UnknownGuidelineVersion

    assert earlypath.EarlypathError.exit_code == 1
    assert earlypath.InputError.exit_code == 2
    assert issubclass(UnknownGuidelineVersion, earlypath.InputError)


@pytest.mark.parametrize(
    ("package", "name", "home"),
    [
        ("earlypath", "Policy", "earlypath.policy"),
        ("earlypath.fhir", "load_codes", "earlypath.fhir.codes"),
        ("earlypath.guideline", "BY_VERSION", "earlypath.guideline.versions"),
    ],
)
def test_a_package_loads_its_names_when_first_asked_and_names_itself_for_others(
    package: str, name: str, home: str
) -> None:
    # The three packages that load their public names on first use (PEP 562) share one loader.
    module = importlib.import_module(package)
    assert getattr(module, name) is getattr(importlib.import_module(home), name)
    assert name in vars(module)  # kept: a later lookup does not go through __getattr__ again
    assert name in dir(module)
    with pytest.raises(AttributeError, match=f"^module '{package}' has no attribute 'nothing'$"):
        module.nothing  # noqa: B018
