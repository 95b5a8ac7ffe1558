"""The synthetic cohort: reproducible, and with the rates it claims."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from earlypath.synth import generate_chunks, write_cohort


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    write_cohort(5000, 42, "csv", a)
    write_cohort(5000, 42, "csv", b)
    write_cohort(5000, 43, "csv", c)
    assert _digest(a) == _digest(b) != _digest(c)


def test_chunks_do_not_change_the_first_rows() -> None:
    small = pa.concat_tables(list(generate_chunks(1000, 5, chunk=1000)))
    large = pa.concat_tables(list(generate_chunks(3000, 5, chunk=1000))).slice(0, 1000)
    assert small.equals(large)


def test_rates_are_roughly_as_documented() -> None:
    t = pa.concat_tables(list(generate_chunks(200_000, 3)))
    bleeding = pc.mean(pc.cast(pc.drop_null(t["vaginal_bleeding"]), pa.int8())).as_py()
    assert 0.19 < bleeding < 0.25
    prev = pc.drop_null(t["previous_miscarriages"])
    assert 0.25 < pc.mean(pc.cast(pc.greater(prev, 0), pa.int8())).as_py() < 0.36
    assert t["assessed_on"].null_count == 0
    dates = pc.min_max(t["assessed_on"]).as_py()
    assert dates["max"].year == 2026 and dates["min"].year <= 2019
    assert len(set(t["site"].to_pylist())) > 10
    # stop 26: a small share of scans whose report was not read, so the audit meets it
    located = pc.drop_null(t["scan_location"])
    unread = pc.sum(pc.cast(pc.equal(located, "report_not_read"), pa.int64())).as_py()
    assert 0.01 < unread / len(located) < 0.02
    assert set(t["ethnicity"].drop_null().to_pylist()) == {
        "White",
        "Asian",
        "Black",
        "Mixed",
        "Other",
    }


def test_generators_live_in_synth_not_in_the_audit() -> None:
    """The generators are `earlypath.synth`'s; the audit package holds none."""
    import importlib.util

    import earlypath.synth as synth

    assert importlib.util.find_spec("earlypath.audit.synth") is None
    assert importlib.util.find_spec("earlypath.audit.fhir_synth") is None
    assert synth.write_cohort.__module__ == "earlypath.synth.cohort"
