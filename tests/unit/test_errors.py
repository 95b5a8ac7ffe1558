"""Errors in one place: every error earlypath raises on purpose is defined in earlypath.errors,
its docstring draws the tree with the exit codes, and the old import paths still work."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import earlypath
from earlypath import errors


def _package_modules() -> list[str]:
    return [info.name for info in pkgutil.walk_packages(earlypath.__path__, "earlypath.")]


def _deliberate_errors() -> set[type]:
    found: set[type] = set()
    for name in _package_modules():
        module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, errors.EarlypathError) or value is errors.CellError:
                found.add(value)
    return found


def test_every_deliberate_error_is_defined_in_earlypath_errors() -> None:
    elsewhere = {c.__qualname__ for c in _deliberate_errors() if c.__module__ != errors.__name__}
    assert not elsewhere


def test_the_docstring_names_every_error_with_its_exit_code() -> None:
    doc = errors.__doc__ or ""
    for cls in _deliberate_errors():
        line = next((x for x in doc.splitlines() if f" {cls.__name__} " in f"{x} "), None)
        assert line is not None, cls.__name__
        if issubclass(cls, errors.EarlypathError):
            assert str(cls.exit_code) in line.split(cls.__name__, 1)[1], cls.__name__


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.InputError([errors.Problem("f", "m")]), 2),
        (errors.ValueSetError([errors.Problem("f", "m")]), 2),
        (errors.OutputError("out"), 2),
        (errors.ConfigError("EARLYPATH_X"), 2),
        (errors.ParameterError("p"), 2),
        (errors.ReconciliationError("lost"), 3),
        (errors.EarlypathError("x"), 1),
        (RuntimeError("bug"), 1),
    ],
)
def test_exit_codes(error: BaseException, code: int) -> None:
    assert errors.exit_code(error) == code


def test_old_import_paths_are_the_same_classes() -> None:
    from earlypath.audit import flat, run
    from earlypath.fhir import terminology
    from earlypath.impact import errors as impact_errors
    from earlypath.web import config

    assert run.ReconciliationError is errors.ReconciliationError
    assert flat.CellError is errors.CellError
    assert terminology.ValueSetError is errors.ValueSetError
    assert config.ConfigError is errors.ConfigError
    assert impact_errors.ImpactError is errors.ImpactError
    assert impact_errors.ParameterError is errors.ParameterError
    assert impact_errors.UnknownScenarioError is errors.UnknownScenarioError
    assert impact_errors.UnverifiedCountError is errors.UnverifiedCountError


def test_the_audit_maps_errors_through_the_one_table() -> None:
    from earlypath.audit.commands import audit_failure

    assert audit_failure(errors.ReconciliationError("lost"))[0] == 3
    code, lines = audit_failure(errors.InputError([errors.Problem("lmp", "is not a date")]))
    assert (code, lines) == (2, ["lmp: is not a date"])
    assert audit_failure(ValueError("no such column"))[0] == 2
