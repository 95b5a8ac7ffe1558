"""The public API is small and deliberate: a change to it should be a decision, not an accident."""

from __future__ import annotations

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
