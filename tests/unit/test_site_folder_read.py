"""`$EARLYPATH_VALUESETS` read on every record reading without a KeyError raised and caught
(issue 16, CDS call): the same answer as `os.environ.get` for a name unset, empty, set, changed
and unset again in the same process, and for an `os.environ` replaced by a plain mapping."""

from __future__ import annotations

import os
import sys
from types import FrameType
from typing import Any

import pytest

from earlypath.fhir import terminology
from earlypath.fhir.terminology import SITE_VALUESETS_ENV, site_value_sets_folder


def _as_before() -> str | None:
    return os.environ.get(SITE_VALUESETS_ENV) or None


def test_the_folder_is_the_environment_as_it_is_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SITE_VALUESETS_ENV, raising=False)
    assert site_value_sets_folder() is None is _as_before()
    for value in ("", "/srv/site sets", "/srv/other", "relative/é", "/srv/site sets"):
        monkeypatch.setenv(SITE_VALUESETS_ENV, value)
        assert site_value_sets_folder() == _as_before()
    monkeypatch.delenv(SITE_VALUESETS_ENV)
    assert site_value_sets_folder() is None


def test_an_environ_replaced_by_another_mapping_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "environ", {SITE_VALUESETS_ENV: "/srv/mapped"})
    assert terminology.site_value_sets_folder() == "/srv/mapped"
    monkeypatch.setattr(os, "environ", {})
    assert terminology.site_value_sets_folder() is None


def test_an_unset_name_raises_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The usual case (no site sets): no exception raised anywhere inside the read."""
    monkeypatch.delenv(SITE_VALUESETS_ENV, raising=False)
    raised: list[str] = []

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "exception":
            raised.append(f"{frame.f_code.co_name}: {arg[0].__name__}")
        return trace

    sys.settrace(trace)
    try:
        folder = site_value_sets_folder()
    finally:
        sys.settrace(None)
    assert folder is None
    assert raised == []
