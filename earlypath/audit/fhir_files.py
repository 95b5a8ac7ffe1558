"""Which NDJSON files of a FHIR bulk export hold which resource type, in what order.

A folder from a FHIR Bulk Data ``$export`` is named in one of several ways, all accepted:
``Patient.ndjson``; ``Patient.000.ndjson``, ``Patient.001.ndjson`` (several parts of one type);
``1.Patient.ndjson``, ``2.Patient.ndjson`` (the SMART Bulk Data client's standard names); any of
these gzipped (``.ndjson.gz``). Parts of one type are read in order of their numbers (``2.`` before
``10.``). When the folder holds the export's manifest (a ``.json`` file with an ``output`` list
of ``{type, url}``), the manifest says which file holds which type: each ``url`` is found in the
folder by its last path segment (or by the client's ``destination``, when it added one); a file it
lists that is not there is an error, as is a manifest that reports export errors (or a partial
export) and one of an export of part records (kicked off with ``_since``, or listing ``deleted``
resources; filtered by ``_typeFilter`` or ``_elements`` for a type the audit reads).

The types read are the reading definition's (`earlypath.audit.fhir_flat.RESOURCES`): since stop 31
that includes Procedure (a salpingectomy for an ectopic pregnancy, a procedure for a miscarriage:
a previous one, or this pregnancy's), skipped before.

A line whose ``resourceType`` is not its file's type (a mixed or mislabelled file) is read as
the type it says when the audit reads that type (`earlypath.records.ibis_compile.load_resources`),
and counted by file and type in the summary and the report; one of a type not read, or with no
``resourceType``, is left out and counted the same way: never dropped silently.

Resource types the audit does not read (Claim, ...) are skipped and counted, and files
whose name gives no resource type (the client's ``log.ndjson``) are listed as ignored. Each such
file is still looked at once (`earlypath.audit.fhir_found`): a line whose ``resourceType`` is one
the audit reads (a Condition inside ``Claim.ndjson``, a ``data.ndjson`` holding the whole export)
is read as that type, by every engine, and counted by file and type with the lines of another
type; the skipped count is then of the lines not read. A file in a folder with a manifest that
the manifest does not list is not part of the export: its lines of a read type are counted, not
read. An export without one of the files the audit cannot do without (Encounter, Patient,
Condition) is an error naming what is missing: read as empty, it would be an audit of nobody
that looks like a success.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from earlypath.audit.fhir_found import FoundLines, FoundSelection, scan_lines
from earlypath.audit.parts import refuse_pattern_paths
from earlypath.errors import InputError, Problem
from earlypath.fhir.outcomes import says_data_missing

__all__ = [
    "REQUIRED",
    "ExportFiles",
    "discover_export",
    "is_export",
    "is_ndjson",
    "resource_type_of",
]

# Without these there is nothing to judge (Encounter), nobody to exclude or describe (Patient),
# and no diagnosis to read (Condition).
REQUIRED = ("Encounter", "Patient", "Condition")
# [n.]Type[suffix].ndjson[.gz]: the suffix starts with a non-letter (.000, -2, _part1), so that
# MedicationRequest.ndjson is never read as a part of Medication.
_NAME = re.compile(r"^(?:(\d+)\.)?([A-Z][A-Za-z]*)([^A-Za-z].*)?\.ndjson(?:\.gz)?$")


@dataclass
class ExportFiles:
    """The files of an export by resource type, and what was left unread."""

    folder: Path
    files: dict[str, list[Path]]
    skipped: dict[str, int] = field(default_factory=dict)  # type -> resources not read
    ignored: list[str] = field(default_factory=list)  # file names that name no resource type
    manifest: str | None = None
    # lines whose resourceType is not their file's type, found while reading
    # (`earlypath.records.ibis_compile.OtherTypeLines`): read as their own type when it is read
    other_type_lines: list[Any] = field(default_factory=list)
    # lines of a read type found in the files not read as a type (skipped, ignored): `FoundLines`
    found_lines: list[FoundLines] = field(default_factory=list)
    # the copies of those lines handed to the loader, by type (in ``files``, after the type's
    # own files, in the order of the files they were found in)
    selections: dict[Path, str] = field(default_factory=dict)
    found_selection: FoundSelection = field(default_factory=FoundSelection, repr=False)

    def of(self, kind: str) -> list[Path]:
        return self.files.get(kind, [])

    def summary(self) -> dict[str, Any]:
        """What summary.json says about the export (names and counts, never contents)."""
        return {
            "manifest": self.manifest,
            "files_read": {
                k: names
                for k, v in sorted(self.files.items())
                if (names := [p.name for p in v if p not in self.selections])
            },
            "skipped_resource_types": dict(sorted(self.skipped.items())),
            "ignored_files": sorted(self.ignored),
            "lines_of_another_type": [
                {
                    "file": o.file,
                    "file_type": o.filed_as,
                    "resourceType": o.resource_type,
                    "lines": o.lines,
                    "read_as": o.resource_type if o.read else None,
                }
                for o in sorted(
                    [*self.other_type_lines, *self.found_lines],
                    key=lambda o: (o.file, o.resource_type is None, o.resource_type or ""),
                )
            ],
        }


def is_ndjson(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(".ndjson") or name.endswith(".ndjson.gz")


def is_export(folder: Path) -> bool:
    """Does the folder hold a bulk export: NDJSON files, or an export manifest (whose files a
    server may name without the .ndjson suffix)?"""
    if any(p.is_file() and is_ndjson(p) for p in folder.iterdir()):
        return True
    try:
        return _manifest(folder) is not None
    except InputError:
        return True  # several manifests: an export, refused as such when read


def resource_type_of(name: str) -> str | None:
    """The resource type a file name gives (``1.Condition.ndjson`` -> Condition), or None."""
    match = _NAME.match(name)
    return match.group(2) if match else None


def _order_key(name: str) -> tuple[Any, ...]:
    """Parts of one type in number order: 2.X before 10.X, X.ndjson before X.000, X.2 before X.10."""
    match = _NAME.match(name)
    prefix = int(match.group(1)) if match and match.group(1) else -1
    suffix = (match.group(3) or "") if match else name
    pieces = tuple(
        (0, int(piece), "") if piece.isdigit() else (1, 0, piece)
        for piece in re.split(r"(\d+)", suffix)
        if piece
    )
    return (prefix, pieces, name)


def count_resources(path: Path) -> int:
    """Non-empty lines of an NDJSON file (gzipped or not)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            return sum(1 for line in handle if line.strip())
    except (OSError, EOFError, zlib.error) as error:
        raise _unreadable(path, error) from None


def _unreadable(path: Path, error: Exception) -> InputError:
    return InputError(
        [Problem(path.name, f"cannot be read ({type(error).__name__}): is it complete?")]
    )


def _look_into(
    export: ExportFiles, path: Path, filed_as: str | None, read: bool = True
) -> tuple[int, int]:
    """Look at a file not read as a type once: its lines of a type the audit reads are read as
    that type (``read``: handed to the loader after the type's own files) and counted. Its
    non-empty lines, and how many of them are read."""
    wanted = frozenset(export.files)
    selection = export.found_selection if read else None
    try:
        total, found = scan_lines(path, wanted, selection)
    except (OSError, EOFError, zlib.error) as error:
        raise _unreadable(path, error) from None
    for kind, lines in sorted(found.items(), key=lambda k: (k[0] is None, k[0] or "")):
        export.found_lines.append(FoundLines(path.name, filed_as, kind, lines, read and bool(kind)))
    if selection is not None:
        for kind, copy in selection.made(path).items():
            export.selections[copy] = kind  # read after the type's own files (`discover_export`)
    return total, sum(n for kind, n in found.items() if kind) if read else 0


def discover_export(
    folder: Path, read: Iterable[str], required: Iterable[str] = REQUIRED
) -> ExportFiles:
    """The files of each type in ``read``, in order; other types skipped and counted.

    Raises `InputError` naming the problem: a required type with no file, a manifest listing a
    file that is not in the folder, or a manifest reporting errors."""
    folder = Path(folder)
    wanted = tuple(read)
    manifest = _manifest(folder)
    if manifest is not None:
        export = _from_manifest(folder, manifest, wanted)
    else:
        export = _from_names(folder, wanted)
    for copy, kind in export.selections.items():
        export.files[kind].append(copy)
    refuse_pattern_paths(p for files in export.files.values() for p in files)
    missing = [kind for kind in required if not export.of(kind)]
    if missing:
        raise InputError(
            [
                Problem(
                    kind,
                    f"no {kind} file in the export ({folder.name}): the audit needs Encounter, "
                    "Patient and Condition NDJSON (named Type.ndjson, Type.000.ndjson or "
                    "1.Type.ndjson, optionally .gz)",
                )
                for kind in missing
            ]
        )
    return export


def _from_names(folder: Path, wanted: tuple[str, ...]) -> ExportFiles:
    export = ExportFiles(folder, {kind: [] for kind in wanted})
    for path in sorted((p for p in folder.iterdir() if p.is_file() and is_ndjson(p)), key=_key):
        kind = resource_type_of(path.name)
        if kind is None:
            export.ignored.append(path.name)
            _look_into(export, path, None)
        elif kind in export.files:
            export.files[kind].append(path)
        else:
            total, read = _look_into(export, path, kind)
            export.skipped[kind] = export.skipped.get(kind, 0) + total - read
    return export


def _key(path: Path) -> tuple[Any, ...]:
    return _order_key(path.name)


# --- the $export manifest -------------------------------------------------------------------------


def _manifest(folder: Path) -> tuple[str, dict[str, Any]] | None:
    """The folder's export manifest (name, content): a JSON object with an ``output`` list."""
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue  # not a manifest (it is not read as one either)
        if isinstance(content, dict) and isinstance(content.get("output"), list):
            found.append((path.name, content))
    if len(found) > 1:
        names = ", ".join(name for name, _ in found)
        raise InputError(
            [Problem("manifest", f"the folder holds more than one export manifest ({names})")]
        )
    return found[0] if found else None


def _manifest_file(folder: Path, entry: Any, where: str) -> tuple[str, Path]:
    if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
        raise InputError([Problem(where, "is not an object with a type and a url")])
    destination = entry.get("destination")
    if isinstance(destination, str) and destination:
        name = Path(destination).name
    elif isinstance(entry.get("url"), str) and entry["url"]:
        name = unquote(urlsplit(entry["url"]).path.rstrip("/").rsplit("/", 1)[-1])
    else:
        raise InputError([Problem(where, "has no url")])
    path = folder / name
    if not name or not path.is_file():
        raise InputError(
            [Problem(where, f"lists a {entry['type']} file {name!r} that is not in the folder")]
        )
    return entry["type"], path


def _from_manifest(
    folder: Path, manifest: tuple[str, dict[str, Any]], wanted: tuple[str, ...]
) -> ExportFiles:
    name, content = manifest
    export = ExportFiles(folder, {kind: [] for kind in wanted}, manifest=name)
    listed = set()
    looked_into: dict[Path, tuple[int, int]] = {}  # a skipped type's files: (lines, read)
    for index, entry in enumerate(content["output"]):
        where = f"{name} output[{index}]"
        kind, path = _manifest_file(folder, entry, where)
        listed.add(path.name)
        if kind not in export.files and path not in looked_into:
            looked_into[path] = _look_into(export, path, kind)
        count = entry.get("count")
        if isinstance(count, int) and not isinstance(count, bool):
            found = looked_into[path][0] if path in looked_into else count_resources(path)
            if found != count:
                raise InputError(
                    [
                        Problem(
                            where,
                            f"{path.name} holds {found} resources, the manifest says {count}: "
                            "the download is incomplete",
                        )
                    ]
                )
        if kind in export.files:
            export.files[kind].append(path)
        else:
            total, read = looked_into[path]
            export.skipped[kind] = export.skipped.get(kind, 0) + total - read
    _refuse_partial_export(name, content, wanted)
    _refuse_export_errors(folder, name, content.get("error"))
    export.ignored = sorted(
        p.name for p in folder.iterdir() if p.is_file() and is_ndjson(p) and p.name not in listed
    )
    # not part of the export by its manifest: its lines of a read type counted, not read
    for ignored in export.ignored:
        _look_into(export, folder / ignored, None, read=False)
    return export


def _refuse_export_errors(folder: Path, name: str, errors: Any) -> None:
    """The manifest's ``error`` files are OperationOutcomes: one saying data is missing (an
    error or fatal issue, or one of any severity saying the export is partial: incomplete,
    too-costly, suppressed..., `earlypath.fhir.outcomes`, the CDS service's rule too) means the
    export is incomplete. Other warnings and information are not. A listed error file that is not
    in the folder or cannot be read is refused."""
    if not errors:
        return
    if not isinstance(errors, list):
        raise InputError([Problem(f"{name} error", "is not a list")])
    for index, entry in enumerate(errors):
        where = f"{name} error[{index}]"
        _, path = _manifest_file(folder, entry, where)
        if any(says_data_missing(outcome) for outcome in _outcomes(path, where)):
            raise InputError(
                [
                    Problem(
                        where,
                        f"the export reports an error ({path.name}): resources may "
                        "be missing, so the audit would judge incomplete records: "
                        "export again",
                    )
                ]
            )


def _outcomes(path: Path, where: str) -> list[dict[str, Any]]:
    """The objects of an error file (NDJSON, gzipped or not; CRLF and a byte order mark on a
    line are read as JSON reads them). Raises `InputError` naming the file when it cannot be
    read or a line is not a JSON object."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            lines = [line for line in handle if line.strip()]
    except (OSError, EOFError, zlib.error) as error:
        raise _unreadable(path, error) from None
    out = []
    for line in lines:
        try:
            outcome = json.loads(line)  # bytes: a UTF-8 byte order mark is skipped
        except ValueError:  # not JSON, or not UTF-8
            raise InputError([Problem(where, f"{path.name} is not NDJSON")]) from None
        if not isinstance(outcome, dict):
            raise InputError([Problem(where, f"{path.name} holds a line that is not an object")])
        out.append(outcome)
    return out


# Kick-off parameters that make an export hold part of each record (Bulk Data Access IG v2,
# "Query Parameters"): only what changed since a time, only what matches a search, only some
# elements of each resource. The audit judges whole records, so such an export is refused.
_PARTIAL_PARAMETERS = {
    "_since": "holds only the resources changed since a time (_since)",
    "_typeFilter": "holds only the {kind} resources matching a search (_typeFilter)",
    "_elements": "holds only some elements of the {kind} resources (_elements)",
}


def _refuse_partial_export(name: str, content: dict[str, Any], wanted: tuple[str, ...]) -> None:
    """Refuse an export of changes (``_since``; a manifest listing ``deleted`` resources is one)
    or one filtered for a type the audit reads (``_typeFilter``, ``_elements``), as the kick-off
    URL in the manifest's ``request`` shows it: its records are part records, and an ectopic
    pregnancy left out of one reads as none."""
    request = content.get("request")
    query = parse_qs(urlsplit(request).query) if isinstance(request, str) else {}
    reasons = []
    if query.get("_since"):
        reasons.append(_PARTIAL_PARAMETERS["_since"])
    for parameter in ("_typeFilter", "_elements"):
        kinds = _types_named(query.get(parameter, []), wanted)
        if kinds:
            reasons.append(_PARTIAL_PARAMETERS[parameter].format(kind=", ".join(kinds)))
    if reasons:
        raise InputError(
            [
                Problem(
                    f"{name} request",
                    f"the export {reason}: the audit judges whole records, so it would judge "
                    "part of each: export again without it",
                )
                for reason in reasons
            ]
        )
    deleted = content.get("deleted")
    if deleted:  # only an export of changes (_since) lists deleted resources
        raise InputError(
            [
                Problem(
                    f"{name} deleted",
                    "the export lists deleted resources, so it is an export of the changes since "
                    "a time (_since): the audit judges whole records, so it would judge part of "
                    "each: export again without _since",
                )
            ]
        )


def _types_named(values: list[str], wanted: tuple[str, ...]) -> list[str]:
    """The read types a ``_typeFilter`` (``Type?search``) or ``_elements`` (``Type.element`` or
    ``element``, for every type) list applies to."""
    kinds: set[str] = set()
    for value in values:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            head = re.split(r"[?.]", item, maxsplit=1)[0]
            if "?" not in item and "." not in item:
                kinds.update(wanted)  # an element of every type
            elif head in wanted:
                kinds.add(head)
    return sorted(kinds)
