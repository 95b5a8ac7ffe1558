"""Whether a reading's plan is specialised to its export, or the general plan: by the export's size.

`ibis_compile.run_records` keys its plan on three things measured from the export: the types with
no line (left out of the plan, `ibis_compile.left_out`), and the version tables whose
(patient, id) pairs never or only sometimes repeat (read without a join, or ranked only where
repeated: `kept_count.counted_joined_tables`, `own_rows`). Each saves CPU on a big export, but
each combination is a plan of its own, and a cold compile costs 20-35 CPU s. On a small export
the saving is a small part of a second, and the compile is nearly all of the reading: the test
suite compiled a plan per test module or more (122 plans in stop 46's cold CI).

So below `EARLYPATH_SPECIALISE_FROM_BYTES` of input files (their sizes, known without reading
them) the reading uses the general plan: no type left out, no table read as unique, none as
repeated only (every version ranked). It is the plan right for any export, the one every
specialisation is checked against, and one plan serves every small export of a structure
(merged, tied by identifier, whole). The figures behind the default are in `DEFAULT_FROM_BYTES`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from earlypath.env_settings import number_setting

__all__ = ["DEFAULT_FROM_BYTES", "SETTING", "input_bytes", "specialise_from_bytes", "specialises"]

SETTING = "EARLYPATH_SPECIALISE_FROM_BYTES"
# 2 MB of NDJSON: about 800 patients of the synthetic export (2.55 kB a patient). At 2,000
# patients (5.1 MB) the audit's reading took 3.80 CPU s with its specialised plan and 4.72 with
# the general one, plans warm (`benchmarks/general_plan_saving.py 2000`): 0.92 s, about
# linear in the export, so ~0.36 s at 2 MB, 1% of one cold compile (32.5 CPU s, stop 46). Every
# test export is well under it; a hospital's export is far over it, and its specialised plan,
# compiled once and kept (`plan_cache`), saves its share on every run.
DEFAULT_FROM_BYTES = 2_000_000
# a gzipped NDJSON file is counted as twenty times its size: the synthetic export's files unpack
# to 17-27 times theirs (FHIR JSON repeats its keys and systems); counted low, a big gzipped
# export would be read by the general plan, a fraction of a CPU second a run
_GZIP_RATIO = 20


def specialise_from_bytes() -> int:
    """The input size (bytes) from which a reading's plan is specialised to its export
    (`EARLYPATH_SPECIALISE_FROM_BYTES`, default `DEFAULT_FROM_BYTES`; 0: always), checked: a
    value that is not a whole number of bytes is a ConfigError naming the setting."""
    return number_setting(
        SETTING,
        DEFAULT_FROM_BYTES,
        lambda raw: int(raw.replace("_", "")),
        "a whole number of bytes (0 or more)",
        0,
    )


def input_bytes(paths: Iterable[Path]) -> int:
    """The NDJSON the files hold, in bytes, known from their sizes (a gzipped file counted as the
    lines it unpacks to, about); a file that cannot be seen counts as none."""
    total = 0
    for path in dict.fromkeys(paths):
        try:
            size = path.stat().st_size
        except OSError:
            continue
        total += size * _GZIP_RATIO if path.name.lower().endswith(".gz") else size
    return total


def specialises(size: int | None) -> bool:
    """Is a reading of an export of ``size`` bytes of input (None: not known, as for tables
    made by hand) given the plan specialised to it? Yes from `specialise_from_bytes`."""
    return size is None or size >= specialise_from_bytes()
