"""What an engine's judging produced (`Evaluated`), and the episode columns it writes.

Kept apart from `earlypath.audit.judge` so that a DuckDB audit whose SQL is all kept
(`earlypath.audit.duckdb_plan`) imports no ibis (issue 16: start-up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "EPISODE_COLUMNS",
    "FEW_REPEATED_IDS",
    "NO_SITE",
    "UNTIED_CARE_KEY",
    "Evaluated",
    "OnePass",
]

# Up to this many repeated ids are tested as a list (a scan keeps the input order), more as a
# table (`judge._few_as_list`).
FEW_REPEATED_IDS = 64

# summary.json ``fhir_export``'s key for progesterone care records tied to nobody
# (`earlypath.audit.untied_care`), and the site they are counted under when the encounter they
# name is not in the export or has no serviceProvider
UNTIED_CARE_KEY = "progesterone_care_not_tied"
NO_SITE = "(no site)"

EPISODE_COLUMNS = (
    "row_number",
    "episode_id",
    "assessed_on",
    "month",
    "guideline_version",
    "gestation_days",
    "decision",
    "recommendations",
    "missing",
    "progesterone_prescribed",
    "adherence",
)


@dataclass
class Evaluated:
    """What an engine produced: both tables live in ``con`` (DuckDB for the python engine)."""

    con: Any
    episodes: Any  # an ibis table, or a `SqlTable` (the DuckDB pass)
    rejects: Any
    rows_in: int
    defaulted_false_cells: int | None  # None until counted (DuckDB: after writing the episodes)
    extra_columns: list[str]
    timings: dict[str, float] = field(default_factory=dict)
    # DuckDB: the episodes are judged while episodes.parquet is written (`pass_duckdb.write_one_pass`)
    one_pass: OnePass | None = None
    # FHIR export: encounters that are not episodes, by reason (counted in rows_in), and the files
    excluded: dict[str, int] = field(default_factory=dict)
    fhir_export: dict[str, Any] | None = None
    # "evaluated" and "rejected" when the engine counted them while judging (Spark)
    counts: dict[str, int] = field(default_factory=dict)

    def with_input(self, reading: Any) -> Evaluated:
        """A FHIR export (`load.fhir_reading`): its encounters that are not episodes (no current
        pregnancy, a man's) are input rows too, so rows_in = evaluated + excluded + rejected."""
        if reading is not None:
            self.excluded = dict(reading.excluded)
            self.fhir_export = reading.export.summary() | {
                "episodes_without_patient": reading.without_patient
            }
            if reading.without_prescriptions:  # said only when so: other summaries unchanged
                self.fhir_export["without_medication_requests"] = True
            if reading.merges:  # merged patient records: said only when the export links any
                self.fhir_export["patient_merges"] = reading.merges
            if reading.identifier_ties:  # said only when a resource names her by identifier
                self.fhir_export["subjects_by_identifier"] = reading.identifier_ties
            if reading.untied_care:  # progesterone care tied to nobody (`audit.untied_care`)
                self.fhir_export[UNTIED_CARE_KEY] = dict(reading.untied_care)
            self.rows_in += sum(self.excluded.values())
        return self


@dataclass
class OnePass:
    """What DuckDB needs, after the pass, to find the rejects and count the empty cells read as
    false (`pass_duckdb.after_one_pass`): the raw rows and the checked view over them."""

    raw: str  # the names of the views in the connection
    checked: str
    # every input row's empty cells read as false (`validate.rows_and_defaulted_cells`)
    defaulted_every_row: int = 0
    # the rows of ``raw`` (counted with those cells, before the pass; a FHIR export's rows_in
    # also counts the encounters that are not episodes)
    raw_rows: int = 0
    # the last row number of ``raw`` when known without a query (rows numbered 1 to raw_rows:
    # `load.numbered_one_to_n`); None: `after_one_pass` asks DuckDB for it
    raw_last: int | None = None
    # what `pass_duckdb.file_runs` found in episodes.parquet once written (its rows, its last
    # row number): the counts after the pass need no statement of their own
    written_rows: int = 0
    written_last: int = 0
