"""Cohorts that arrive as a folder of part files, as Spark and most data platforms write them.

The input order is defined here, once, for every engine: the part files sorted by name (byte
order of the file name), then each file's rows in the order they are stored. ``row_number`` is
the 1-based position of a row in that order, so an analyst can find any row of
``episodes.parquet`` or ``rejects.csv`` again: count the rows of the files before it.

A single CSV or Parquet file is the one-file case of the same rule. In a folder, names starting
with ``_`` or ``.`` are skipped, as Spark skips them (``_SUCCESS``, ``.part-0.crc``); anything
else that is not a part file of the folder's one format (a subfolder, a ``.csv.gz``, a second
format) is refused rather than skipped, so that no data is left out unnoticed.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Literal

__all__ = [
    "SUFFIXES",
    "FileFormat",
    "csv_header",
    "file_format",
    "folder_format",
    "input_files",
    "parquet_row_counts",
    "rows_before",
]

FileFormat = Literal["csv", "parquet"]
SUFFIXES: dict[FileFormat, tuple[str, ...]] = {
    "csv": (".csv", ".txt"),
    "parquet": (".parquet", ".pq"),
}


def file_format(path: Path) -> FileFormat | None:
    """The format a file's suffix names, or None."""
    suffix = path.suffix.lower()
    for fmt, suffixes in SUFFIXES.items():
        if suffix in suffixes and path.is_file():
            return fmt
    return None


def _skipped(path: Path) -> bool:
    return path.name.startswith(("_", "."))


def _by_name(path: Path) -> bytes:
    return os.fsencode(path.name)


def folder_format(folder: Path) -> FileFormat:
    """The one format of a folder's part files (ValueError if none, or more than one)."""
    formats = {file_format(p) for p in folder.iterdir() if not _skipped(p)}
    formats.discard(None)
    if not formats:
        raise ValueError(
            f"{folder} is a folder without FHIR NDJSON, Parquet (.parquet) or CSV (.csv) files"
        )
    if len(formats) > 1:
        raise ValueError(f"{folder} mixes Parquet and CSV files: give one format per folder")
    return formats.pop()


def input_files(path: Path, fmt: FileFormat) -> list[Path]:
    """The files a CSV or Parquet input is read from, in input order: the file itself, or the
    folder's part files sorted by name. Other entries of the folder are refused by name."""
    if not path.is_dir():
        return [path]
    entries = sorted((p for p in path.iterdir() if not _skipped(p)), key=_by_name)
    strangers = [p.name for p in entries if file_format(p) != fmt]
    if strangers:
        shown = ", ".join(strangers[:5]) + (" ..." if len(strangers) > 5 else "")
        raise ValueError(
            f"{path} holds entries that are not {fmt} part files ({shown}); subfolders and "
            "other files are not read: move them out, or start their names with _ to skip them"
        )
    return entries


def parquet_row_counts(files: list[Path]) -> list[int]:
    """Each Parquet file's number of rows, from its footer; every file must have the first
    file's columns (names and types), as the engines would otherwise differ on the others."""
    import pyarrow.parquet as pq

    counts: list[int] = []
    wanted: list[tuple[str, object]] | None = None
    for path in files:
        try:
            meta = pq.ParquetFile(path).metadata
        except Exception as error:
            raise ValueError(
                f"{path.name} is not a readable Parquet file ({type(error).__name__})"
            ) from None
        columns = [(field.name, field.type) for field in meta.schema.to_arrow_schema()]
        if wanted is None:
            wanted = columns
        elif columns != wanted:
            raise ValueError(
                f"{path.name} does not have the same columns (names and types) as "
                f"{files[0].name}: every part file must have the same schema"
            )
        counts.append(meta.num_rows)
    return counts


def csv_header(files: list[Path]) -> list[str]:
    """The header shared by every CSV file (ValueError naming the first file that differs)."""
    header: list[str] | None = None
    for path in files:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            try:
                first = next(csv.reader(handle), None)
            except (csv.Error, UnicodeDecodeError) as error:
                raise ValueError(
                    f"{path.name}: the header line is not readable ({type(error).__name__})"
                ) from None
        if not first:
            raise ValueError(f"{path.name} has no header line")
        if header is None:
            header = first
        elif first != header:
            raise ValueError(
                f"{path.name} does not have the same header as {files[0].name}: every part "
                "file must have the same columns in the same order"
            )
    return header or []


def rows_before(counts: list[int]) -> list[int]:
    """For each file, the number of rows in the files before it (its first row_number - 1)."""
    starts, total = [], 0
    for n in counts:
        starts.append(total)
        total += n
    return starts
