"""Synthetic early-pregnancy cohorts for the audit: reproducible, vectorised, with a built-in inequality.

Same seed, same N -> the same bytes (numpy ``Generator(PCG64(seed))``; rows are made in chunks
of `CHUNK` with one child generator per chunk, so N = 10 million streams to disk in bounded
memory). Nothing here is real patient data.

Rates and their sources (approximate; chosen to look like an early pregnancy unit's year):

- vaginal bleeding in ~22% of early pregnancies: Hasan et al., Obstet Gynecol 2009;114:860-7
  (first-trimester bleeding in about a quarter of pregnancies); NG126-reference section 6.
- previous miscarriage in ~25% of women overall, ~44% of women who bleed: PRISM (Coomarasamy
  et al., NEJM 2019) had 1,800 of 4,038 women with bleeding with >= 1 previous miscarriage.
- ectopic pregnancy ~1.1% of pregnancies (NICE NG126 context: about 11 in 1,000); pregnancy of
  unknown location at the first scan ~8-10% of EPU scans (Kirk et al., Hum Reprod 2007).
- a scan whose report could not be read (findings only as free text or a PDF, or coded as
  earlypath does not read them): `REPORT_NOT_READ_SHARE` (1.5%) of scans, location
  ``report_not_read`` (ASSUMPTION: no published rate; small, so that the audit's reports and the
  engine-agreement tests on generated cohorts meet it; the FHIR export writes it as a scan
  report with text only).
- miscarriage diagnosed in ~12% of episodes with bleeding (15-20% of recognised pregnancies
  miscarry overall: Quenby et al., Lancet 2021;397:1658-67).
- mothers' age: mean about 31 (ONS Births in England and Wales 2021: mean age 30.9).
- ethnicity: ONS Census 2021 England and Wales (White 81.7%, Asian 9.3%, Black 4.0%,
  Mixed 2.9%, Other 2.1%), with ~6% not recorded.
- deprivation (IMD quintile, 1 = most deprived): births lean to deprived areas (ONS).
- prescribing after NG126's 2021 update: ~60% of eligible women on average, varying by site
  from ~30% to ~90% (Tommy's and the Miscarriage Association reported eligible women denied
  progesterone; no published national uptake figure: ASSUMPTION), and ~10% of similar women
  before 2021-11-24 (PRISM was published in 2019); ~3% prescribing outside eligibility.
- BUILT-IN INEQUALITY (synthetic, for the audit to find; not an evidence claim): eligible Black
  women are offered progesterone with odds x0.55, Asian women x0.75, and women in the most
  deprived quintile x0.7, compared with otherwise similar women at the same site.

The generator decides eligibility only approximately, to shape the prescribing: the audit judges
every row with the engine. Missing cells and a few impossible rows (~0.4%) and duplicate ids
(~0.05%) exercise the data-quality and reconciliation paths.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["CHUNK", "SynthFormat", "generate_chunks", "write_cohort"]

SynthFormat = Literal["csv", "parquet", "fhir-ndjson"]
CHUNK = 500_000
START = dt.date(2019, 4, 17)
END = dt.date(2026, 10, 31)
UPDATE_2021 = dt.date(2021, 11, 24)
N_SITES = 24
ETHNICITY = ("White", "Asian", "Black", "Mixed", "Other", None)
ETHNICITY_P = (0.768, 0.087, 0.038, 0.027, 0.02, 0.06)
INEQUALITY_ODDS = {"Black": 0.55, "Asian": 0.75}
DEPRIVED_ODDS = 0.7
# The share of scans whose report could not be read (location "report_not_read"; ASSUMPTION).
REPORT_NOT_READ_SHARE = 0.015
AGE_BANDS = ("<20", "20-24", "25-29", "30-34", "35-39", "40+")
_EPOCH = np.datetime64("1970-01-01", "D")


def _sites(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Site sizes (weights), prescribing rates for eligible women, and months to adopt."""
    rng = np.random.Generator(np.random.PCG64([seed, 0]))
    weights = rng.lognormal(0.0, 0.6, N_SITES)
    rates = rng.uniform(0.3, 0.9, N_SITES)
    adopt_months = rng.integers(0, 18, N_SITES)
    return weights / weights.sum(), rates, adopt_months


def _days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _null(mask: np.ndarray, arr: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(mask), pa.nulls(len(arr), arr.type), arr)


def _chunk(seed: int, index: int, start: int, n: int) -> pa.Table:
    rng = np.random.Generator(np.random.PCG64([seed, index + 1]))
    weights, site_rates, adopt = _sites(seed)
    site = rng.choice(N_SITES, n, p=weights)
    assessed = rng.integers(_days(START), _days(END) + 1, n)
    age = np.clip(rng.normal(31.0, 5.6, n), 15, 50).astype(int)
    age_band = np.digitize(age, [20, 25, 30, 35, 40])
    eth = rng.choice(len(ETHNICITY), n, p=ETHNICITY_P)
    imd = rng.choice(5, n, p=(0.24, 0.22, 0.2, 0.18, 0.16)) + 1

    bleeding = rng.random(n) < 0.22
    p_prev = np.where(bleeding, 0.44, 0.25)
    has_prev = rng.random(n) < p_prev
    prev = np.where(has_prev, rng.choice([1, 2, 3, 4], n, p=(0.66, 0.2, 0.09, 0.05)), 0)

    # True gestation (days) at assessment; a few past 16 weeks, some around the boundary.
    gest = np.clip(rng.normal(62, 16, n), 28, 140).astype(int)
    boundary = rng.random(n) < 0.01
    gest = np.where(boundary, rng.integers(108, 117, n), gest)

    has_scan = rng.random(n) < 0.9
    u = rng.random(n)
    # 0 IUP, 1 ectopic, 2 unknown (a PUL), 3 a scan whose report was not read (findings as
    # free text or a PDF only: REPORT_NOT_READ_SHARE of the scans, taken from the same draw so
    # that every other column of the cohort is drawn as before)
    location = np.where(
        u < 0.011,
        1,
        np.where(u < 0.10, 2, np.where(u < 0.10 + REPORT_NOT_READ_SHARE, 3, 0)),
    )
    scan_back = rng.integers(0, 4, n)
    scan_gest = gest - scan_back
    iup = has_scan & (location == 0)
    miscarriage = iup & (rng.random(n) < np.where(bleeding, 0.12, 0.04))
    pole = iup & (scan_gest >= 40) & ~(miscarriage & (rng.random(n) < 0.5))
    # Robinson & Fleming inverted: CRL (mm) for the gestation on the scan day, with noise.
    crl = np.where(
        pole, np.maximum(((scan_gest - 23.73) / 8.052) ** 2 * rng.normal(1, 0.08, n), 1.0), np.nan
    )
    crl = np.round(np.minimum(crl, 84.0), 1)
    heartbeat = pole & ~miscarriage & (crl >= 3) & (rng.random(n) < 0.95)
    msd = np.where(has_scan & (location == 0) & ~pole, np.round(rng.uniform(3, 30, n), 1), np.nan)
    on_prog = (assessed >= _days(UPDATE_2021)) & iup & bleeding & has_prev & (rng.random(n) < 0.06)

    # Prescribing at this presentation.
    months_since = (assessed - _days(UPDATE_2021)) / 30.4
    adopted = months_since >= adopt[site]
    approx_eligible = iup & bleeding & has_prev & ~miscarriage & (gest < 112) & ~on_prog
    odds = site_rates[site] / (1 - site_rates[site])
    # An ethnicity not recorded (None) has no inequality factor.
    odds = odds * np.array([INEQUALITY_ODDS.get(e or "", 1.0) for e in ETHNICITY])[eth]
    odds = odds * np.where(imd == 1, DEPRIVED_ODDS, 1.0)
    p_eligible = odds / (1 + odds)
    p_rx = np.where(
        approx_eligible,
        np.where(adopted, p_eligible, np.where(months_since >= 0, 0.35, 0.10)),
        np.where(on_prog, 0.9, 0.03),
    )
    prescribed = rng.random(n) < p_rx

    # Recorded LMP: a few days off the true gestation; missing for some.
    lmp = assessed - gest + rng.integers(-3, 4, n)
    lmp = np.minimum(lmp, assessed)

    def miss(rate: float) -> np.ndarray:
        return rng.random(n) < rate

    ids = pc.binary_join_element_wise(
        "E", pc.utf8_lpad(pa.array(np.arange(start, start + n).astype(str)), 9, "0"), ""
    )
    # Impossible rows and duplicate ids (reject and reconciliation paths).
    bad = rng.random(n)
    crl_bad = bad < 0.001
    lmp_after = (bad >= 0.001) & (bad < 0.002)
    prev_bad = (bad >= 0.002) & (bad < 0.003)
    before_ng126 = (bad >= 0.003) & (bad < 0.004)
    dup = rng.random(n) < 0.0005
    if dup.any() and start + n > 1:
        ids = pc.if_else(pa.array(dup), pa.array(["E" + "0" * 9] * n), ids)
    assessed = np.where(before_ng126, _days(START) - rng.integers(1, 400, n), assessed)
    lmp = np.where(lmp_after, assessed + 5, lmp)
    crl = np.where(crl_bad & pole, 150.0, crl)
    prev = np.where(prev_bad, -1, prev)

    def date_col(days: np.ndarray) -> pa.Array:
        return pa.array(
            (_EPOCH + days.astype("timedelta64[D]")).astype("datetime64[D]"), pa.date32()
        )

    scan_days = assessed - scan_back
    route = np.where(rng.random(n) < 0.93, "transvaginal", "transabdominal")
    loc_names = np.array(["intrauterine", "ectopic", "unknown", "report_not_read"])[location]
    allergy_u = rng.random(n)
    allergies = np.where(allergy_u < 0.02, "peanut", np.where(allergy_u < 0.05, "penicillin", ""))
    no_scan = ~has_scan
    cols = {
        "episode_id": ids,
        "assessed_on": date_col(assessed),
        "previous_miscarriages": _null(miss(0.06), pa.array(prev, pa.int64())),
        "vaginal_bleeding": _null(miss(0.05), pa.array(bleeding)),
        "lmp": _null(miss(0.15), date_col(lmp)),
        "scan_date": _null(no_scan, date_col(scan_days)),
        "scan_route": _null(no_scan, pa.array(route)),
        "scan_location": _null(no_scan | miss(0.03), pa.array(loc_names)),
        "fetal_pole": _null(no_scan | ~iup, pa.array(pole)),
        "fetal_heartbeat": _null(no_scan | ~iup | miss(0.04), pa.array(heartbeat)),
        "crl_mm": pa.array(np.where(no_scan, np.nan, crl), pa.float64(), from_pandas=True),
        "msd_mm": pa.array(np.where(no_scan, np.nan, msd), pa.float64(), from_pandas=True),
        "miscarriage_diagnosed": _null(miss(0.1), pa.array(miscarriage)),
        "on_progesterone": _null(miss(0.1), pa.array(on_prog)),
        "allergies": _null(allergies == "", pa.array(allergies)),
        "progesterone_prescribed": _null(miss(0.05), pa.array(prescribed)),
        "site": pa.array(np.char.add("site-", np.char.zfill(site.astype(str), 2)) if n else []),
        "age_band": pa.array(np.array(AGE_BANDS)[age_band] if n else [], pa.string()),
        "ethnicity": pa.array([ETHNICITY[i] for i in range(len(ETHNICITY))], pa.string()).take(
            pa.array(eth)
        ),
        "deprivation_quintile": pa.array(imd, pa.int64()),
    }
    cols["prescribed_on"] = pc.if_else(
        pc.fill_null(cols["progesterone_prescribed"], False),
        cols["assessed_on"],
        pa.nulls(n, pa.date32()),
    )
    order = [*list(cols)[:-1]]
    order.insert(order.index("site"), "prescribed_on")
    return pa.table({k: cols[k] for k in order})


def generate_chunks(n: int, seed: int, chunk: int = CHUNK) -> Iterator[pa.Table]:
    """The cohort as Arrow tables of at most ``chunk`` rows (always the same for (n, seed, chunk))."""
    for index, start in enumerate(range(0, n, chunk)):
        yield _chunk(seed, index, start, min(chunk, n - start))


def write_cohort(n: int, seed: int, fmt: SynthFormat, out: Path, progress: bool = False) -> Path:
    """Write a synthetic cohort (CSV file, Parquet file, or a folder of FHIR NDJSON), atomically,
    with a bar of rows written when `progress` is asked for and stderr is a terminal."""
    from earlypath.audit.progress import progress_bar

    out = Path(out)
    with progress_bar(progress, n, f"writing {fmt}") as bar:
        _write(n, seed, fmt, out, bar)
    return out


def _counted(chunks: Iterator[pa.Table], bar: Callable[[int], None]) -> Iterator[pa.Table]:
    """The chunks, advancing the bar by each chunk's rows once the writer asks for the next."""
    for table in chunks:
        yield table
        bar(table.num_rows)


def _write(n: int, seed: int, fmt: SynthFormat, out: Path, bar: Callable[[int], None]) -> None:
    from earlypath.audit.output import atomic_path

    chunks = _counted(generate_chunks(n, seed), bar)
    if fmt == "fhir-ndjson":
        from earlypath.synth.fhir_export import write_fhir

        write_fhir(chunks, out)
        return
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    with atomic_path(out) as tmp:
        writer: pacsv.CSVWriter | pq.ParquetWriter | None = None
        try:
            for table in chunks:
                if writer is None:
                    writer = (
                        pacsv.CSVWriter(tmp, table.schema)
                        if fmt == "csv"
                        else pq.ParquetWriter(tmp, table.schema, compression="zstd")
                    )
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()


def _json(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))
