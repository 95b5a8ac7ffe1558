"""Synthetic data for the audit, its tests and benchmarks: nothing here is real patient data.

`cohort` makes reproducible flat cohorts (CSV, Parquet) with built-in rates and a built-in
inequality for the audit to find; `fhir_export` writes such a cohort as a FHIR R4 bulk export
(NDJSON per resource type). The audit reads these like any other input: no generator is
imported by the audit's own code paths.
"""

# The FHIR writer is imported where it is used (`write_cohort(..., "fhir-ndjson", ...)`), so
# importing this package does not load the FHIR reading code it shares constants with.
from earlypath.synth.cohort import CHUNK, SynthFormat, generate_chunks, write_cohort

__all__ = ["CHUNK", "SynthFormat", "generate_chunks", "write_cohort"]
