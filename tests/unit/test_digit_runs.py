"""The CDS body's long-number check (`earlypath.web.digit_runs`): the C pass built by `make
install` answers exactly as the Python pass (every digit turned into 0, 19 zeros looked for),
and `parse_json` gives `json.loads`'s value with either."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from earlypath.web import cds, digit_runs

# Runs of 18, 19 and 20 digits in every place a body holds them, and bodies with none
BODIES = [
    b"",
    b"{}",
    b'{"n": 123456789012345678}',  # 18: orjson's int
    b'{"n": 1234567890123456789}',  # 19, within 64 bits
    b'{"n": 12345678901234567890}',  # 20, beyond 63 bits
    b'{"n": -123456789012345678}',
    b'{"n": -1234567890123456789}',
    b'{"n": -9223372036854775809}',  # below -2^63: orjson's float
    b'{"n": 123456789012345678901234567890}',
    b'{"n": 1.234567890123456789e5}',  # 19 digits in a float's fraction
    b'{"n": 12345678901234567e1234}',  # 17 + 4 digits either side of an exponent
    b'{"n": 1e1234567890123456789}',  # a 19-digit exponent (json.loads: inf)
    b'{"n": 1.5e-7, "m": 0.000000000000000001}',  # 18 zeros after the point
    b'{"n": 0.0000000000000000001}',  # 19 digits after the point
    b'{"id": "123456789012345678"}',
    b'{"id": "1234567890123456789"}',  # in a string: counts (a slower parse, same value)
    b'{"id": "12345678901234567890"}',
    b'{"1234567890123456789": 1}',  # in a key
    b'{"123456789012345678": 1}',
    b'{"d": "2026-12-06T09:10:25.123456789+00:00", "u": "0123455e-89ab-4def-8e12-9abcdef01234"}',
    b"1234567890123456789",  # the whole body
    b"123456789012345678",
    b"[1234567890123456789",  # not JSON
    b'{"a": [1,2,3], "b": "x9999999999999999999"}',
    b'{"a": "99999999999999999 99"}',  # a space breaks the run
    b"\xef\xbb\xbf{}",  # a byte order mark
    "{}".encode("utf-16"),
    "[1234567890123456789]".encode("utf-16"),  # UTF-16: no two digits together
    '["١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩"]'.encode(),  # Arabic-Indic digits are not ASCII digits
]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Callable[[bytes], bool]:
    """The C pass, built from the C text here (gcc, as `make install` does)."""
    found = digit_runs.load(digit_runs.build(tmp_path_factory.mktemp("digit-runs")))
    assert found is not None
    return found


def test_the_service_checks_by_the_build_make_install_wrote() -> None:
    assert digit_runs.describe().startswith("compiled"), (
        "the long-number check is the Python pass: no build of digit_runs.c in "
        f"{digit_runs.build_path().parent}; run `make install` "
        "(python -m earlypath.records.native build)"
    )
    assert cds.has_long_digit_run is digit_runs.has_long_digit_run


def test_both_passes_answer_alike_on_the_bodies(compiled: Callable[[bytes], bool]) -> None:
    answers = [digit_runs.python_has_long_digit_run(raw) for raw in BODIES]
    assert [compiled(raw) for raw in BODIES] == answers
    assert answers[2:5] == [False, True, True] and answers[14:17] == [False, True, True]


def test_a_run_at_each_place_in_a_body(compiled: Callable[[bytes], bool]) -> None:
    # every length around 19, at every offset, with a non-digit before and after or at the ends
    for length in range(15, 24):
        for before in range(0, 24):
            for after in (0, 1, 19):
                raw = b"x" * before + b"7" * length + b"]" * after
                assert compiled(raw) is (length >= 19), (length, before, after)
                assert digit_runs.python_has_long_digit_run(raw) is (length >= 19)


@given(st.binary(max_size=80) | st.text(alphabet='0123456789 ".e-', max_size=120).map(str.encode))
def test_both_passes_answer_alike_on_any_bytes(raw: bytes) -> None:
    # the build `make install` wrote when there is one (else this is the Python pass twice)
    assert digit_runs.has_long_digit_run(raw) is digit_runs.python_has_long_digit_run(raw)


def test_the_c_pass_takes_only_bytes(compiled: Callable[[bytes], bool]) -> None:
    with pytest.raises(TypeError, match="bytes"):
        compiled("1234567890123456789")  # type: ignore[arg-type]


def test_a_build_of_another_text_is_not_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = digit_runs.build(tmp_path)
    assert digit_runs.load(built) is not None
    # the C text changed since (its hash is another): the build holds the old hash, unused
    monkeypatch.setattr(digit_runs, "source_hash", lambda: "0" * 64)
    assert digit_runs.load(built) is None
    assert digit_runs.load(tmp_path / "missing.so") is None


@pytest.mark.parametrize("which", ["compiled", "python"])
def test_parse_json_gives_json_loads_value(
    which: str, compiled: Callable[[bytes], bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    check = compiled if which == "compiled" else digit_runs.python_has_long_digit_run
    monkeypatch.setattr(cds, "has_long_digit_run", check)
    for raw in BODIES:
        try:
            expected = repr(json.loads(raw))
        except ValueError:
            assert cds.parse_json(raw) is None, raw
            continue
        assert repr(cds.parse_json(raw)) == expected, raw
        # and with orjson's value handed over by RequestLimits, as a record's body is
        try:
            handed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        assert repr(cds.parse_json(raw, handed)) == expected, raw
