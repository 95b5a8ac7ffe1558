"""Cohorts that arrive as a folder of part files, as Spark and most data platforms write them.

The input order is defined here, once, for every engine: the part files sorted by their path
relative to the input folder (``/``-separated, names as on disk, compared as bytes), then each
file's rows in the order they are stored. ``row_number`` is the 1-based position of a row in
that order, so an analyst can find any row of ``episodes.parquet`` or ``rejects.csv`` again:
count the rows of the files before it. For a flat folder the path is the file name
(``part-10`` < ``part-2``); in a partitioned one ``year=2024/site=A/part-1`` comes before
``year=2024/site=B/part-0`` (and ``site=B%20C/`` before ``site=B/``, as ``%`` < ``/``).

A partitioned folder is laid out as Spark, Hive and most platforms write one: subfolders named
``key=value`` at any depth, the same keys in the same order on every path, part files only at
the bottom. Each key becomes a text column of the cohort holding the folder's value, unescaped
(``%20`` is a space) and NULL for ``__HIVE_DEFAULT_PARTITION__`` (how they write NULL and the
empty string). The values are read here and handed to every engine, rather than each engine
parsing the folder names its own way (they differ: typed or text, and how ``%C3%A9`` reads).

A single CSV or Parquet file is the one-file case of the same rule. In a folder, names starting
with ``_`` or ``.`` are skipped at any depth, as Spark skips them (``_SUCCESS``,
``.part-0.crc``, ``_temporary/``); anything else that is not a part file of the folder's one
format (a ``.csv.gz``, a second format, a subfolder not named ``key=value``, a folder out of
step with the others) is refused rather than skipped, so that no data is left out unnoticed.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import unquote

__all__ = [
    "HIVE_DEFAULT_PARTITION",
    "SUFFIXES",
    "FileFormat",
    "Parts",
    "csv_header",
    "file_format",
    "folder_format",
    "input_parts",
    "check_header",
    "parquet_row_counts",
    "refuse_pattern_paths",
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


@dataclass(frozen=True)
class _Entry:
    rel: tuple[str, ...]  # the names on the way from the input folder, as on disk
    path: Path

    @property
    def name(self) -> str:
        return "/".join(self.rel)


def _in_order(entry: _Entry) -> bytes:
    return os.fsencode(entry.name)


def _walk(folder: Path) -> tuple[list[_Entry], list[_Entry]]:
    """Every file below ``folder``, in input order, and every empty subfolder; a name starting
    with ``_`` or ``.`` is skipped with everything under it (Spark's ``_temporary``)."""
    files: list[_Entry] = []
    empty: list[_Entry] = []
    seen = {folder.resolve()}
    stack: list[tuple[Path, tuple[str, ...]]] = [(folder, ())]
    while stack:
        current, rel = stack.pop()
        entries = [p for p in current.iterdir() if not _skipped(p)]
        if not entries and rel:
            empty.append(_Entry(rel, current))
        for p in entries:
            here = _Entry((*rel, p.name), p)
            if p.is_dir():
                # A link back up the tree would never end; a second link to one folder would
                # read its rows twice.
                real = p.resolve()
                if real in seen:
                    raise ValueError(f"{folder}: {here.name} links to a folder already read")
                seen.add(real)
                stack.append((p, here.rel))
            else:
                files.append(here)
    files.sort(key=_in_order)
    empty.sort(key=_in_order)
    return files, empty


def folder_format(folder: Path) -> FileFormat:
    """The one format of a folder's part files, at any depth (ValueError if none, or both)."""
    first: dict[FileFormat, str] = {}
    for entry in _walk(folder)[0]:
        fmt = file_format(entry.path)
        if fmt is not None:
            first.setdefault(fmt, entry.name)
    if not first:
        raise ValueError(
            f"{folder} is a folder without FHIR NDJSON, Parquet (.parquet) or CSV (.csv) files"
        )
    if len(first) > 1:
        raise ValueError(
            f"{folder} mixes Parquet and CSV files ({first['parquet']}, {first['csv']}): "
            "give one format per folder"
        )
    return next(iter(first))


@dataclass(frozen=True)
class Parts:
    """A CSV or Parquet input as the engines read it: its files in input order, each with its
    path relative to the input folder (``/``-separated, as on disk; a one-file input's name)
    and its values of the partition keys (None for Hive's default partition)."""

    files: list[Path]
    names: list[str]
    keys: tuple[str, ...] = ()
    values: list[tuple[str | None, ...]] = field(default_factory=list)


# Characters DuckDB and Spark (Hadoop) read as a pattern in a file's path, even in a list of
# paths: a name holding one would make the engine read other files, or none, without a word.
PATTERN_CHARACTERS = frozenset("*?[]{}\\")


def refuse_pattern_paths(paths: Iterable[Path]) -> None:
    """ValueError naming the first path that holds a pattern character."""
    for path in paths:
        found = sorted(set(str(path)) & PATTERN_CHARACTERS)
        if found:
            raise ValueError(
                f"{path}: the path holds {' '.join(found)}, which the engines would read as a "
                "pattern (a wildcard), not as a name: rename the file or folder"
            )


def input_parts(path: Path, fmt: FileFormat) -> Parts:
    """The files a CSV or Parquet input is read from, in input order, with their partitions.
    Entries that are not part files of ``fmt``, folders not named ``key=value`` and folders
    out of step with the others are refused by name."""
    if not path.is_dir():
        refuse_pattern_paths([path])
        return Parts([path], [path.name], (), [()])
    files, empty = _walk(path)
    refuse_pattern_paths(e.path for e in files)
    strangers = [e.name for e in files if file_format(e.path) != fmt]
    if strangers:
        shown = ", ".join(strangers[:5]) + (" ..." if len(strangers) > 5 else "")
        raise ValueError(
            f"{path} holds files that are not {fmt} part files ({shown}); they are not read: "
            "move them out, or start their names with _ to skip them"
        )
    if not files:
        raise ValueError(f"{path} holds no {fmt} part files")
    first = files[0]
    keys = _keys(path, first)
    for entry in files[1:]:
        if _keys(path, entry) != keys:
            raise ValueError(_out_of_step(path, entry, first, keys))
    for entry in empty:  # holds no rows, but a folder out of step is a sign of a wrong input
        if _keys(path, entry, folder=True) != keys[: len(entry.rel)]:
            raise ValueError(_out_of_step(path, entry, first, keys))
    folded = [k.casefold() for k in keys]
    for index, key in enumerate(keys):
        if key.casefold() in folded[:index]:  # the engines match column names in any case
            raise ValueError(f"{path}: {first.name} repeats the partition key {key}")
    return Parts(
        [e.path for e in files],
        [e.name for e in files],
        keys,
        [tuple(_value(path, e, depth) for depth in range(len(keys))) for e in files],
    )


HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"  # how Hive and Spark write NULL and ""


def _split(root: Path, entry: _Entry, depth: int) -> tuple[str, str]:
    """The key and the value as written (escaped) of the ``depth``-th folder of ``entry``."""
    key, equals, value = entry.rel[depth].partition("=")
    if not (key and equals and value):
        raise ValueError(
            f"{root}: {'/'.join(entry.rel[: depth + 1])} is a subfolder not named key=value (a "
            f"Hive partition such as year=2024; an empty value is written {HIVE_DEFAULT_PARTITION})"
            ": move it out, or start its name with _ to skip it"
        )
    return key, value


def _keys(root: Path, entry: _Entry, folder: bool = False) -> tuple[str, ...]:
    depth = len(entry.rel) - (0 if folder else 1)
    return tuple(_unescape(root, entry, _split(root, entry, d)[0]) for d in range(depth))


def _value(root: Path, entry: _Entry, depth: int) -> str | None:
    value = _split(root, entry, depth)[1]
    return None if value == HIVE_DEFAULT_PARTITION else _unescape(root, entry, value)


def _unescape(root: Path, entry: _Entry, text: str) -> str:
    """A key or value as Hive and Spark escape them in a folder name (``%`` and two hex digits,
    as in a URL). Spark escapes only ASCII (a space is %20); other writers (pyarrow, DuckDB)
    escape UTF-8 bytes, which this reads as UTF-8 too."""
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise ValueError(
            f"{root}: {entry.name}: {text!r} in a folder name has %-escapes that are not UTF-8"
        ) from None


def _out_of_step(root: Path, entry: _Entry, first: _Entry, keys: tuple[str, ...]) -> str:
    what = "the folder" if entry.path.is_dir() else "the file"
    mine = _keys(root, entry, folder=entry.path.is_dir())
    return (
        f"{root}: {what} {entry.name} is under the partition keys ({', '.join(mine) or 'none'}) "
        f"but {first.name} under ({', '.join(keys) or 'none'}): every part file must be at "
        "the same depth, under the same keys in the same order"
    )


def _labels(files: list[Path], names: list[str] | None) -> list[str]:
    return names if names is not None else [path.name for path in files]


def parquet_row_counts(files: list[Path], names: list[str] | None = None) -> list[int]:
    """Each Parquet file's number of rows, from its footer; every file must have the first
    file's columns (names and types), as the engines would otherwise differ on the others.
    Errors name a file by ``names`` (its path in the input folder), else by its file name."""
    import pyarrow.parquet as pq

    labels = _labels(files, names)
    counts: list[int] = []
    wanted: list[tuple[str, object]] | None = None
    for path, label in zip(files, labels, strict=True):
        try:
            meta = pq.ParquetFile(path).metadata
        except Exception as error:
            raise ValueError(
                f"{label} is not a readable Parquet file ({type(error).__name__})"
            ) from None
        columns = [(column.name, column.type) for column in meta.schema.to_arrow_schema()]
        if wanted is None:
            _check_header([name for name, _ in columns], label, where="Parquet schema")
            wanted = columns
        elif columns != wanted:
            raise ValueError(
                f"{label} does not have the same columns (names and types) as "
                f"{labels[0]}: every part file must have the same schema"
            )
        counts.append(meta.num_rows)
    return counts


def csv_header(files: list[Path], names: list[str] | None = None) -> list[str]:
    """The header shared by every CSV file (ValueError naming the first file that differs, by
    ``names`` as in `parquet_row_counts`)."""
    labels = _labels(files, names)
    header: list[str] | None = None
    for path, label in zip(files, labels, strict=True):
        with open(path, encoding="utf-8-sig", newline="") as handle:
            try:
                first = next(csv.reader(handle), None)
            except UnicodeDecodeError:
                raise ValueError(f"{label} is not UTF-8 text: save the file as UTF-8") from None
            except csv.Error as error:
                raise ValueError(
                    f"{label}: the header line is not readable ({type(error).__name__})"
                ) from None
        if not first:
            raise ValueError(f"{label} has no header line")
        _check_header(first, label)
        if header is None:
            header = first
        elif first != header:
            raise ValueError(
                f"{label} does not have the same header as {labels[0]}: every part "
                "file must have the same columns in the same order"
            )
    return header or []


def _check_header(header: list[str], label: str, where: str = "header line") -> None:
    """Column names every engine reads alike: no control characters (a NUL is a binary file,
    or a broken export), none empty, none twice. `where`: the CSV header line or the Parquet
    schema (DuckDB reads a Parquet column named with a NUL where Python cannot)."""
    for number, name in enumerate(header, start=1):
        if any(ord(c) < 32 or ord(c) == 127 for c in name):
            hint = "is it a text CSV file?" if where == "header line" else "a broken export?"
            raise ValueError(
                f"{label}: column {number} of the {where} has a control character "
                f"(a NUL byte?): {hint}"
            )
        if not name.strip():
            raise ValueError(f"{label}: column {number} of the {where} has no name")
    seen: set[str] = set()
    for name in header:
        if name.casefold() in seen:
            raise ValueError(f"{label}: the {where} names {name} twice")
        seen.add(name.casefold())


def check_header(header: list[str], label: str, where: str = "header line") -> None:
    """`_check_header`, for a loader that read the names itself (DuckDB, a Parquet footer)."""
    _check_header(header, label, where)


def rows_before(counts: list[int]) -> list[int]:
    """For each file, the number of rows in the files before it (its first row_number - 1)."""
    starts, total = [], 0
    for n in counts:
        starts.append(total)
        total += n
    return starts
