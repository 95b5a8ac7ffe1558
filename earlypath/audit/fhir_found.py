"""Lines of a type the audit reads inside the export files it does not read as a type.

A bulk export may hold a resource the audit needs in a file it would otherwise skip: a Condition
written into ``Claim.ndjson``, a ``data.ndjson`` or ``export.ndjson`` holding every type, a
manifest entry of a skipped type holding read types. Left unread, an ectopic pregnancy there is
lost and progesterone counted as due. `scan_lines` looks at such a file once: it counts its
non-empty lines (the skipped count, as before) and copies each line whose ``resourceType`` is
read into a private selection (`FoundSelection`), one small NDJSON file per (file, type), which
the loader then reads after that type's own files, on every engine.

The scan is cheap where the big files are (Synthea's Claim and ExplanationOfBenefit): it reads
large blocks and looks for the bytes ``"resourceType": "<a read type>"`` in a whole block before
any JSON is parsed; only the lines holding them are parsed, to read the top-level type (a Claim
may contain a resource of a read type). A letter written as a ``\\u`` escape could spell the key
or the type without those bytes: a line holding one is parsed too. A line that is not JSON is
counted, as before, and not read (it is no resource); it never stops the audit. One that looked
like a read type (the bytes above) is also listed, as a line of no resourceType not read.
"""

from __future__ import annotations

import atexit
import gzip
import json
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

__all__ = ["FoundLines", "FoundSelection", "scan_lines"]

_BLOCK = 8 << 20  # bytes read at a time
# \u0041-\u005A and \u0061-\u007A: a letter escaped (no exporter needs to, so rare: parsed)
_ESCAPED_LETTER = re.compile(rb"\\u00(?:4[1-9A-Fa-f]|5[0-9Aa]|6[1-9A-Fa-f]|7[0-9Aa])")
# a line holding only whitespace (Python's bytes.strip), after another line or first
_BLANK_LINE = re.compile(rb"\n[ \t\r\x0b\x0c]*\n")
_BLANK_START = re.compile(rb"[ \t\r\x0b\x0c]*\n")
# a name safe to hand the engines' readers as a path (no pattern characters)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class FoundLines:
    """Lines of a read type in a file not read as that type: counted by file and type, never
    their content (the fields `earlypath.records.ibis_compile.OtherTypeLines` has)."""

    file: str  # the file's name
    filed_as: str | None  # the type its name or manifest entry gives (None: none)
    resource_type: str | None  # None: lines that look like a read type but are not JSON
    lines: int
    read: bool  # False: not JSON, or the file is not part of the export (not in its manifest)


@dataclass
class FoundSelection:
    """The found lines of an export, copied by type into a folder only this user can read
    (patient data, as the export), removed when the process ends."""

    folder: Path | None = None
    _made: dict[Path, dict[str, Path]] = field(default_factory=dict)
    _open: dict[str, IO[bytes]] = field(default_factory=dict)
    _source: Path | None = None

    def start(self, source: Path) -> None:
        self._close()
        self._source = source

    def write(self, kind: str, line: bytes) -> None:
        assert self._source is not None
        handle = self._open.get(kind)
        if handle is None:
            path = self._path(kind, self._source)
            handle = self._open[kind] = path.open("wb")
            self._made.setdefault(self._source, {})[kind] = path
        # a byte order mark Python's JSON reader skipped would not be skipped mid-file
        handle.write(line.removeprefix(b"\xef\xbb\xbf").rstrip(b"\r\n") + b"\n")

    def made(self, source: Path) -> dict[str, Path]:
        """The copies made of ``source``'s lines, by type (closed: ready to read)."""
        self._close()
        return dict(self._made.get(source, {}))

    def _path(self, kind: str, source: Path) -> Path:
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="earlypath-found-"))
            atexit.register(shutil.rmtree, self.folder, ignore_errors=True)
        place = self.folder / kind
        place.mkdir(exist_ok=True)
        # named as its file (what an engine's message about it then names), never .gz
        name = re.sub(r"\.gz$", "", source.name, flags=re.IGNORECASE)
        if not _SAFE_NAME.match(name) or (place / name).exists():
            name = f"file{len(list(place.iterdir()))}.ndjson"
        return place / name

    def _close(self) -> None:
        for handle in self._open.values():
            handle.close()
        self._open.clear()


def _type_pattern(read: Iterable[str]) -> re.Pattern[bytes]:
    kinds = b"|".join(re.escape(k.encode("ascii")) for k in sorted(read))
    return re.compile(rb'"resourceType"[ \t\r]*:[ \t\r]*"(?:' + kinds + rb')"')


def _blocks(path: Path) -> Iterator[bytes]:
    """The file's bytes in blocks of whole lines (the last one may lack its newline)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            if not block.endswith(b"\n"):
                block += handle.readline()  # the rest of its last line
            yield block


def _non_empty_lines(block: bytes) -> int:
    text = block if block.endswith(b"\n") else block + b"\n"
    # usual case: no blank line (a search as fast as a count; no split into lines)
    if not _BLANK_LINE.search(text) and not _BLANK_START.match(text):
        return text.count(b"\n")
    return sum(1 for line in text.split(b"\n") if line.strip())


def _candidate_lines(block: bytes, pattern: re.Pattern[bytes]) -> list[tuple[int, int]]:
    """(start, end) of each line that may be of a read type, in order, once each."""
    starts: set[int] = set()
    for finder in (pattern, _ESCAPED_LETTER):
        for match in finder.finditer(block):
            starts.add(block.rfind(b"\n", 0, match.start()) + 1)
    out = []
    for start in sorted(starts):
        end = block.find(b"\n", start)
        out.append((start, len(block) if end < 0 else end))
    return out


def _not_json(name: str) -> None:
    # NaN and Infinity: Python reads them, JSON (and the engines' readers) do not
    raise ValueError(name)


def _top_type(line: bytes) -> tuple[bool, str | None]:
    """Is the line JSON, and its top-level resourceType (None when it has none)."""
    try:
        value = json.loads(line, parse_constant=_not_json)
    except (ValueError, RecursionError):  # not JSON (or not UTF-8): no resource
        return False, None
    kind = value.get("resourceType") if isinstance(value, dict) else None
    return True, kind if isinstance(kind, str) else None


def scan_lines(
    path: Path, read: frozenset[str], selection: FoundSelection | None
) -> tuple[int, dict[str | None, int]]:
    """The file's non-empty lines, and how many of them are of each type in ``read`` (each
    copied into ``selection`` when one is given); under None, the lines that looked like one
    (the bytes of a read type's ``resourceType``) but are not JSON. Raises OSError/EOFError/
    zlib.error when the file cannot be read (a broken gzip)."""
    pattern = _type_pattern(read)
    total = 0
    found: dict[str | None, int] = {}
    if selection is not None:
        selection.start(path)
    for block in _blocks(path):
        total += _non_empty_lines(block)
        for start, end in _candidate_lines(block, pattern):
            is_json, kind = _top_type(block[start:end])
            if not is_json:  # it looked like a read type: counted, so it is never lost unseen
                found[None] = found.get(None, 0) + 1
            elif kind in read:
                found[kind] = found.get(kind, 0) + 1
                if selection is not None:
                    selection.write(kind, block[start:end])
    return total, found
