"""The CDS record reading compiled to C (`earlypath.records.native`): after `make install` the
CDS call runs the build of the very source the generator writes; a build of another source is
never used; the compiled reading reads generated records as the exec'd source does."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import earlypath.fhir  # noqa: F401 (the package first: the definition imports its codes)
from earlypath.fhir import mapping
from earlypath.records import native
from earlypath.records import python as engine
from tests.audit.test_fhir_mapping_agrees import _patient_of, exports
from tests.fhir_exports import export_merges
from tests.records.test_engines_agree import _record
from tests.records.test_python_properties import TODAY

# the CDS reading compiled again with builds off (the same text, exec'd): its own cache of
# compiled definitions, swapped in for `engine.read`
_EXECD_CACHE: dict[Any, Any] = {}


def _execd_cache() -> dict[Any, Any]:
    if not _EXECD_CACHE:
        saved = engine._compiled
        engine._compiled = _EXECD_CACHE
        os.environ["EARLYPATH_NATIVE"] = "off"
        try:
            engine._compile_spec(mapping.READING)
        finally:
            del os.environ["EARLYPATH_NATIVE"]
            engine._compiled = saved
    return _EXECD_CACHE


def _read_execd(*args: Any) -> Any:
    saved = engine._compiled
    engine._compiled = _execd_cache()
    try:
        return engine.read(mapping.READING, *args)
    finally:
        engine._compiled = saved


def _execd() -> Any:
    _execd_cache()
    (found,) = [c.generated for spec, c in _EXECD_CACHE.values() if spec is mapping.READING]
    return found


def test_the_cds_call_reads_by_the_build_make_install_wrote() -> None:
    reading = engine.generated_reading(mapping.READING)
    assert reading is not None
    assert reading.compiled, (
        "the CDS reading ran its source exec'd: no build of it "
        f"({native.describe(reading.source)} in {native.build_dir()}); "
        "run `make install` (python -m earlypath.records.native build)"
    )
    assert native.describe(reading.source).startswith("compiled")


def test_the_build_is_not_swollen_by_stores_on_its_error_exits() -> None:
    """Built from Cython's C as it is, the reading was 9.4 MB, three quarters of it NULL
    stores gcc placed before each jump to the error exit (`native.escape_locals`, stop 39);
    in a whole call that code pushed the rest of the call out of the CPU's caches."""
    reading = engine.generated_reading(mapping.READING)
    assert reading is not None and reading.compiled
    built = native.module_path(native.source_hash(reading.source))
    size = built.stat().st_size
    assert size < 4_000_000, f"{built.name}: {size:,} bytes (9.4 MB before stop 39)"


def test_escape_locals_marks_each_local_and_nothing_else() -> None:
    c_text = (
        "static PyObject *f(PyObject *__pyx_v_arg) {\n"
        "  PyObject *__pyx_v_row = NULL;\n"
        "  PyObject *__pyx_v_seen = 0;\n"
        "  PyObject *__pyx_t_1 = NULL;\n"
    )
    assert native.escape_locals(c_text) == c_text.replace(
        "__pyx_v_row = NULL;", '__pyx_v_row = NULL; __asm__("" : : "r"(&__pyx_v_row));'
    )


def test_the_build_reads_its_resources_by_dict_look_ups() -> None:
    """Each type function takes its resource as ``j: dict`` and reads a key of a value it has
    tested to be a dict, or of a joined row, as ``dict.get(value, key)`` (stop 41): Cython
    compiles both as a dict look-up, where ``value.get(key)`` of an untyped value is a method
    looked up and called (some 25k of a reading's 310k instructions). The build took the
    annotation: its type functions refuse a resource that is not a dict, as Cython checks."""
    reading = engine.generated_reading(mapping.READING)
    assert reading is not None and reading.compiled
    heads = re.findall(r"^def (read_type\d+)\(([^)]*)\):", reading.source, re.MULTILINE)
    assert heads and all(args.startswith("j: dict, ") for _, args in heads), heads
    nested = re.findall(r"\b(\w+)\.get\('", reading.source)
    assert "dict.get(" in reading.source and not [v for v in nested if v.startswith("w")]
    module = native._bound[native.source_hash(reading.source)][0]
    for name, args in heads:
        rest = [None] * args.count(",")
        with pytest.raises(TypeError, match="expected dict"):
            getattr(module, name)(["not", "a", "dict"], *rest)


def test_the_compiled_and_the_execd_reading_share_one_source() -> None:
    compiled = engine.generated_reading(mapping.READING)
    execd = _execd()
    assert compiled is not None and not execd.compiled
    assert compiled.source == execd.source


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(export=exports())
def test_generated_exports_read_by_the_build_as_by_the_execd_source(export: Any) -> None:
    assert engine.generated_reading(mapping.READING).compiled
    merges = export_merges(export)
    for encounter in export["Encounter"]:
        patient = _patient_of(encounter)
        start = encounter.get("period", {}).get("start", "")
        assessed_on = dt.date.fromisoformat(start[:10]) if len(start) >= 10 else TODAY
        record = _record(export, patient, merges)
        for args in ((encounter.get("id"), patient), (None, None)):
            want = _read_execd(record, assessed_on, *args)
            got = engine.read(mapping.READING, record, assessed_on, *args)
            assert got == want, encounter.get("id")


def test_a_build_of_another_source_is_not_used() -> None:
    reading = engine.generated_reading(mapping.READING)
    assert reading is not None
    changed = reading.source + "\n# one line more"
    assert native.bind(changed, {}) is None
    assert native.describe(changed).startswith("exec (no build")


def test_a_second_binding_with_other_values_gets_a_module_of_its_own(
    tmp_path: Path, monkeypatch
) -> None:
    """The same text bound again with other values (the definition compiled again: another
    site's value sets, a cache emptied) runs compiled with its own values; the first binding
    keeps its own."""
    reading = engine.generated_reading(mapping.READING)
    assert reading is not None and reading.compiled
    again = native.bind(reading.source, {"k1": "another value"})
    assert (
        again is not None
        and again is not native._bound[native.source_hash(reading.source)][0].reading
    )
    assert again.__globals__["k1"] == "another value"
    assert engine.generated_reading(mapping.READING) is reading and reading.compiled

    pytest.importorskip("Cython")
    monkeypatch.setenv("EARLYPATH_NATIVE_DIR", str(tmp_path))
    # (not the text of the test below, whose first binding must find no build)
    text = "def reading(resources, x_assessed_on, x_encounter, patient):\n    return (K, resources)"
    native.build(text)
    first, second = native.bind(text, {"K": 7}), native.bind(text, {"K": 8})
    assert first is not None and second is not None
    assert first(1, None, None, None) == (7, 1) and second(1, None, None, None) == (8, 1)
    assert native.bind(text, {"K": 7}) is first  # the first binding's values: its module


def test_a_build_renamed_to_another_source_is_not_loaded(tmp_path: Path, monkeypatch) -> None:
    reading = engine.generated_reading(mapping.READING)
    assert reading is not None and reading.compiled
    built = native.module_path(native.source_hash(reading.source))
    other = reading.source + "\n# another"
    monkeypatch.setenv("EARLYPATH_NATIVE_DIR", str(tmp_path))
    shutil.copy(built, native.module_path(native.source_hash(other)))
    assert native.bind(other, {}) is None
    assert native.describe(other).startswith("exec (unloadable build")


def test_build_compiles_a_source_whose_globals_are_bound_at_load(
    tmp_path: Path, monkeypatch
) -> None:
    pytest.importorskip("Cython")
    monkeypatch.setenv("EARLYPATH_NATIVE_DIR", str(tmp_path))
    text = "def reading(resources, x_assessed_on, x_encounter, patient):\n    return (K, len(resources))"
    assert native.bind(text, {"K": 7}) is None  # nothing built yet
    path = native.build(text)
    assert path.parent == tmp_path and path.is_file()
    assert native.build(text) == path  # built once
    fn = native.bind(text, {"K": 7})
    assert fn is not None and fn([1, 2], None, None, None) == (7, 2)
    assert native.describe(text).startswith("compiled")


def test_the_service_says_at_start_up_which_reading_it_runs(caplog) -> None:
    from earlypath.policy import DEFAULT_POLICY
    from earlypath.web import cds

    with caplog.at_level(logging.INFO, logger="earlypath.web.cds"):
        cds.warm_up(dt.date(2026, 12, 1), DEFAULT_POLICY)
    said = [r.getMessage() for r in caplog.records if "CDS record reading" in r.getMessage()]
    assert said and said[0].startswith("CDS record reading: compiled ("), said


# A chain of `or`s Cython 3.3 miscompiles (stop 52, CI 1: the build of the progestogen's test
# crashed the CDS reading): written flat, its last two C truth values are cast to object pointers.
_FLAT_CHAIN = (
    "def reading(resources, x_assessed_on, x_encounter, patient):\n"
    "    a, b, c, w = resources\n"
    "    return (K if w else (a() or (b() is True) or (c() is True)))\n"
)


def _chain_cases() -> list[tuple[Any, ...]]:
    values = (None, False, True, 0, "x")
    return [
        (lambda a=a: a, lambda b=b: b, lambda c=c: c, w)
        for a in values
        for b in values
        for c in values
        for w in (False, True)
    ]


def test_a_miscompiled_build_is_refused(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("Cython")
    monkeypatch.setenv("EARLYPATH_NATIVE_DIR", str(tmp_path))
    with pytest.raises(RuntimeError, match="object pointer"):
        native.build(_FLAT_CHAIN)
    assert native.bind(_FLAT_CHAIN, {"K": 1}) is None  # nothing half built is ever loaded


def test_the_generator_writes_chains_two_at_a_time_as_cython_compiles_them(
    tmp_path: Path, monkeypatch
) -> None:
    from earlypath.records.python_source import _chain

    chain = _chain(" or ", ["a()", "(b() is True)", "(c() is True)"])
    assert chain == "((a() or (b() is True)) or (c() is True))"
    assert _chain(" and ", ["p"]) == "(p)" and _chain(" and ", ["p", "q"]) == "(p and q)"
    pytest.importorskip("Cython")
    monkeypatch.setenv("EARLYPATH_NATIVE_DIR", str(tmp_path))
    text = _FLAT_CHAIN.replace("(a() or (b() is True) or (c() is True))", chain)
    native.build(text)
    built = native.bind(text, {"K": 1})
    execd: dict[str, Any] = {"K": 1}
    exec(text, execd)  # noqa: S102 - the test's own text
    for case in _chain_cases():  # the same value as Python's, every case
        assert built(case, None, None, None) == execd["reading"](case, None, None, None)
