"""Many one-woman exports read as a few (stop 43).

A reading of an export (the compiled reading on DuckDB, or a whole audit) costs seconds whatever
its size, so a module whose parametrised tests each read an export of one woman pays that once a
test. `ReadOnce` is given every export the module's tests build, names each woman ``w<n>.``
(`tests.fhir_exports.namespaced`: no two women share a patient, an encounter, a Medication or a
merge link), and reads the women of one export shape (`export_shape`: its files, which of them
hold lines, whether links merge a record) as one export, when a test first asks for one of them.
Each woman is so read with the plan her own export would have had, and the reading is per
patient: her rows are those her own export would give, under her namespaced ids.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

import ibis

from tests.audit.test_fhir_mapping_agrees import export_shape
from tests.fhir_exports import Export, concatenated, export_merges, namespaced, write_export

Read = TypeVar("Read")


class Part(NamedTuple, Generic[Read]):
    """A woman as read together with others: her ids' prefix, her export with those ids, and the
    reading of the export that holds her (every woman of her export shape)."""

    space: str
    hers: Export
    reading: Read


def _key(export: Export) -> str:
    return json.dumps(export, sort_keys=True)


class ReadOnce(Generic[Read]):
    """``read(export, folder)`` reads an export (``folder`` an empty folder for its files) once per
    export shape of the women of ``exports``; `part` gives a test its woman's share."""

    def __init__(
        self, exports: Iterable[Export], folder: Path, read: Callable[[Export, Path], Read]
    ) -> None:
        self._women: dict[str, tuple[str, Export, tuple[Any, ...]]] = {}
        self._shapes: dict[tuple[Any, ...], list[Export]] = {}
        for export in exports:
            if _key(export) in self._women:
                continue  # two tests of one woman: she is read once
            space = f"w{len(self._women)}."
            hers = {kind: namespaced(resources, space) for kind, resources in export.items()}
            shape = export_shape(export)
            self._women[_key(export)] = (space, hers, shape)
            self._shapes.setdefault(shape, []).append(hers)
        self._folder = folder
        self._read = read
        self._readings: dict[tuple[Any, ...], Read] = {}

    def part(self, export: Export) -> Part[Read]:
        """Her share of the reading of her export shape (read now if it was not yet)."""
        found = self._women.get(_key(export))
        if found is None:
            raise KeyError("this export is not one of the module's women: add it to their list")
        space, hers, shape = found
        if shape not in self._readings:
            folder = self._folder / f"export{len(self._readings)}"
            folder.mkdir(parents=True)
            self._readings[shape] = self._read(concatenated(self._shapes[shape]), folder)
        return Part(space, hers, self._readings[shape])


_LITERAL_REF = re.compile(r"^(?P<kind>[A-Z][A-Za-z]+)/(?P<id>[^/]+)$")


def in_space(value: Any, space: str) -> Any:
    """``value`` (a woman's reading of her export alone: steps, problems) as it reads when she is
    read with others under ``space``: every ``Type/id`` text with ``space`` before the id, as
    `tests.fhir_exports.namespaced` names her resources (tuples and lists kept as they are)."""
    if isinstance(value, str):
        found = _LITERAL_REF.match(value)
        return f"{found['kind']}/{space}{found['id']}" if found else value
    if isinstance(value, tuple):
        return tuple(in_space(v, space) for v in value)
    if isinstance(value, list):
        return [in_space(v, space) for v in value]
    if isinstance(value, dict):
        return {k: in_space(v, space) for k, v in value.items()}
    return value


def compiled_on_duckdb(export: Export, folder: Path) -> tuple[list[dict[str, Any]], list[dict]]:
    """``read`` for `ReadOnce`: the compiled reading of the export on a new DuckDB connection, as
    `tests.records.test_engines_agree.audit_reading` reads it (`fetched`: rows and problems)."""
    from tests.records.test_ibis_export import compiled_reading, fetched

    write_export(export, folder)
    return fetched(compiled_reading(ibis.duckdb.connect(), folder, "duck", export_merges(export)))
