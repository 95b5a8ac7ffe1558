"""A Parquet file's top-level column names and type families, read by DuckDB without pyarrow.

`earlypath.audit.load` refuses a Parquet cohort whose flat columns have a type the audit cannot
read, naming the type as pyarrow spells it. Importing pyarrow (and NumPy with it) costs 0.15-0.3
s of a DuckDB audit that never needs it otherwise, so the names and families are first read here:
from the file's Parquet schema (DuckDB's ``parquet_schema``) and, when the file was written by
Arrow, from the Arrow schema kept in its footer (``ARROW:schema``, which pyarrow reads back: a
Parquet INT64 may be an Arrow duration). `column_families` answers only when both agree on every
column it is asked about and nothing is unusual (nested or extension columns, an unknown type, a
file DuckDB cannot read); otherwise it returns None and the caller asks pyarrow, whose answer
and error messages are the reference.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["column_families"]

# Arrow's type ids (Schema.fbs ``Type``) -> the family `load._refuse_types` gives pyarrow's type.
_ARROW_FAMILIES = {
    1: "null",
    2: "integer",
    3: "floating",
    5: "string",
    6: "boolean",
    7: "decimal",
    8: "date",
    10: "timestamp",
    20: "string",  # large_string
}
_SCHEMA_MESSAGE = 1  # MessageHeader.Schema


def column_families(
    duck: Any, path: Path, wanted: Iterable[str]
) -> tuple[list[str], dict[str, str]] | None:
    """(every top-level column name in file order, {name: family} for the ``wanted`` names the
    file has), or None when the answer is not certain (pyarrow must be asked)."""
    try:
        rows = duck.execute(
            "SELECT name, type, converted_type, logical_type, num_children FROM parquet_schema(?)",
            [str(path)],
        ).fetchall()
        kept = duck.execute(
            "SELECT value FROM parquet_kv_metadata(?) WHERE key = 'ARROW:schema'", [str(path)]
        ).fetchall()
    except Exception:  # unreadable here: pyarrow gives the reference message
        return None
    top = _top_level(rows)
    if top is None:
        return None
    names = [row[0] for row in top]
    wanted = set(wanted)
    families: dict[str, str] = {}
    for name, physical, converted, logical, children in top:
        if name in wanted:
            family = None if children else _parquet_family(physical, converted, logical)
            if family is None:
                return None
            families[name] = family
    if kept:
        arrow = _arrow_fields(kept[0][0])
        if arrow is None or [name for name, _ in arrow] != names:
            return None
        for name, family in arrow:
            if name in families and families[name] != family:
                return None
    return names, families


def _top_level(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]] | None:
    """The schema's top-level elements (the rows are the schema tree, depth first)."""
    if not rows or rows[0][4] is None:
        return None
    top, i = [], 1

    def skip(at: int) -> int:  # the index after the subtree at ``at``
        children = rows[at][4] or 0
        at += 1
        for _ in range(children):
            if at >= len(rows):
                raise IndexError
            at = skip(at)
        return at

    try:
        for _ in range(rows[0][4]):
            top.append(rows[i])
            i = skip(i)
    except (IndexError, RecursionError):
        return None
    return top if i == len(rows) else None


def _parquet_family(physical: str | None, converted: str | None, logical: str | None) -> str | None:
    """The family pyarrow reads a flat Parquet column as, when it is plain; None otherwise."""
    if converted == "DECIMAL":
        return "decimal"
    if physical == "BYTE_ARRAY":
        return "string" if converted == "UTF8" else None
    if physical == "BOOLEAN" and converted is None:
        return "boolean"
    if physical in ("FLOAT", "DOUBLE") and converted is None:
        return "floating"
    if physical == "INT96" and converted is None:
        return "timestamp"
    if physical in ("INT32", "INT64"):
        if converted == "DATE":
            return "date"
        if converted in ("TIMESTAMP_MILLIS", "TIMESTAMP_MICROS"):
            return "timestamp"
        if converted is None and logical is not None and logical.startswith("TimestampType("):
            return "timestamp"
        if converted is None and logical is None:
            return "integer"
        if converted in ("INT_8", "INT_16", "INT_32", "INT_64"):
            return "integer"
        if converted in ("UINT_8", "UINT_16", "UINT_32", "UINT_64"):
            return "integer"
    return None


def _arrow_fields(value: bytes) -> list[tuple[str, str]] | None:
    """(name, family) of each top-level field of the Arrow schema kept in a Parquet footer
    (base64 of an IPC message holding a Schema flatbuffer); a field of a type outside
    `_ARROW_FAMILIES`, with children or an extension type has the family "other"; None when
    the bytes are not what is expected."""
    try:
        data = base64.b64decode(value, validate=True)
        # The IPC message's length, after the continuation marker (older writers: none)
        data = data[8:] if data[:4] == b"\xff\xff\xff\xff" else data[4:]
        buf = _Flat(data)
        message = buf.root()
        if buf.scalar(message, 1, "B", 0) != _SCHEMA_MESSAGE:
            return None
        schema = buf.table(message, 2)
        if schema is None:
            return None
        fields = []
        for field in buf.tables(schema, 1):
            name = buf.string(field, 0)
            if name is None:
                return None
            family = _ARROW_FAMILIES.get(buf.scalar(field, 2, "B", 0), "other")
            if buf.tables(field, 5) or _is_extension(buf, field):
                family = "other"
            fields.append((name, family))
        return fields
    except (ValueError, struct.error, IndexError, UnicodeDecodeError):
        return None


def _is_extension(buf: _Flat, field: int) -> bool:
    return any(buf.string(kv, 0) == "ARROW:extension:name" for kv in buf.tables(field, 6))


class _Flat:
    """Just enough of the flatbuffer format to read tables, strings and vectors of tables."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def _u32(self, at: int) -> int:
        if at < 0 or at + 4 > len(self.data):
            raise IndexError(at)
        return int(struct.unpack_from("<I", self.data, at)[0])

    def root(self) -> int:
        return self._u32(0)

    def _slot(self, table: int, index: int) -> int | None:
        """The position of field ``index`` of the table at ``table``, or None if absent."""
        if table < 0:
            raise IndexError(table)
        vtable = table - struct.unpack_from("<i", self.data, table)[0]
        if vtable < 0:  # (a negative offset would read from the end)
            raise IndexError(vtable)
        size = struct.unpack_from("<H", self.data, vtable)[0]
        entry = 4 + 2 * index
        if entry + 2 > size:
            return None
        offset = struct.unpack_from("<H", self.data, vtable + entry)[0]
        return table + offset if offset else None

    def scalar(self, table: int, index: int, kind: str, default: int) -> int:
        at = self._slot(table, index)
        return default if at is None else int(struct.unpack_from("<" + kind, self.data, at)[0])

    def table(self, table: int, index: int) -> int | None:
        at = self._slot(table, index)
        return None if at is None else at + self._u32(at)

    def string(self, table: int, index: int) -> str | None:
        at = self.table(table, index)
        if at is None:
            return None
        length = self._u32(at)
        if at + 4 + length > len(self.data):
            raise IndexError(at)
        return self.data[at + 4 : at + 4 + length].decode("utf-8")

    def tables(self, table: int, index: int) -> list[int]:
        at = self.table(table, index)
        if at is None:
            return []
        count = self._u32(at)
        return [at + 4 + 4 * i + self._u32(at + 4 + 4 * i) for i in range(count)]
