"""Value sets: the codes earlypath reads from FHIR, as FHIR R4 ``ValueSet`` resources.

Each fact the record reader needs (a miscarriage, an ectopic pregnancy, a crown-rump length, a
progesterone product, ...) reads one named value set. The packaged sets live in
``earlypath/fhir/valuesets/<name>.json``, one ``ValueSet`` with an ``expansion`` each; every code
in an expansion carries where it was checked (a public code list, a specification, dm+d) in the
extension ``CHECKED``. A site adds its own local codes by pointing ``EARLYPATH_VALUESETS`` at a
folder of ValueSet JSON files: a file whose ``url`` is a packaged set's ``url`` adds its codes to
that set (never removes any). Every file is validated when the sets are first loaded; a bad file
is a `ValueSetError` naming the file and what is wrong.

earlypath-specific extensions (all optional except ``CHECKED``):
- ``CHECKED`` (on a code, string): where the code was verified; required on every code.
- ``AT_LEAST`` (on a code, integer): a history code meaning "at least n" (recurrent miscarriage).
- ``MATCH_WORD`` (on the ValueSet, string, repeatable): a word that also matches when it stands
  on its own in a concept's text or display (product names carried only in text); its parts,
  written with a space or a hyphen, match parts joined by spaces or hyphens (stop 52).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from earlypath.errors import Problem, ValueSetError

__all__ = [
    "AT_LEAST",
    "CHECKED",
    "MATCH_WORD",
    "SITE_VALUESETS_ENV",
    "URL_PREFIX",
    "LoadedValueSet",
    "ValueSetCode",
    "ValueSetError",
    "load_value_sets",
    "site_value_sets_folder",
]

URL_PREFIX = "urn:earlypath:valueset:"
CHECKED = "urn:earlypath:fhir:checked"
AT_LEAST = "urn:earlypath:fhir:at-least"
MATCH_WORD = "urn:earlypath:fhir:match-word"
SITE_VALUESETS_ENV = "EARLYPATH_VALUESETS"
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_WORD = re.compile(r"[a-z0-9]+([ -][a-z0-9]+)*")


@dataclass(frozen=True)
class ValueSetCode:
    system: str
    code: str
    display: str
    # where it was checked: each note of its extension on its own
    checked_in: tuple[str, ...]
    at_least: int | None = None

    @property
    def checked(self) -> str:
        """Where it was checked, its notes joined with "; "."""
        return "; ".join(self.checked_in)


@dataclass(frozen=True)
class LoadedValueSet:
    """One named set: its codes, match words, and the files it was read from."""

    name: str
    url: str
    title: str
    description: str
    codes: tuple[ValueSetCode, ...]
    words: tuple[str, ...]
    origins: tuple[str, ...]


def _extensions(element: dict[str, Any], url: str) -> list[Any]:
    found = []
    for ext in element.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == url:
            found.append(ext)
    return found


def _read(path: str, text: str) -> tuple[str, dict[str, Any], list[ValueSetCode], list[str]]:
    """Parse and check one ValueSet file; returns (url, resource, codes, words)."""

    def bad(message: str) -> ValueSetError:
        return ValueSetError([Problem(path, message)])

    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise bad(f"is not JSON ({error.msg}, line {error.lineno})") from None
    if not isinstance(data, dict) or data.get("resourceType") != "ValueSet":
        raise bad("is not a FHIR ValueSet (resourceType must be 'ValueSet')")
    url = data.get("url")
    if not isinstance(url, str) or not url:
        raise bad("has no 'url'")
    expansion = data.get("expansion")
    contains = expansion.get("contains") if isinstance(expansion, dict) else None
    if not isinstance(contains, list):
        raise bad("has no 'expansion.contains' list (earlypath reads expanded value sets)")
    codes: list[ValueSetCode] = []
    for i, item in enumerate(contains):
        where = f"expansion.contains[{i}]"
        if not isinstance(item, dict):
            raise bad(f"{where} is not an object")
        system, code = item.get("system"), item.get("code")
        if not isinstance(system, str) or not re.match(r"[a-z][a-z0-9+.-]*:", system):
            raise bad(f"{where}.system must be an absolute URI")
        if not isinstance(code, str) or not code.strip() or code != code.strip():
            raise bad(f"{where}.code must be a non-empty string without padding")
        checked = [e.get("valueString") for e in _extensions(item, CHECKED)]
        if not checked or not all(isinstance(c, str) and c.strip() for c in checked):
            raise bad(f"{where} ({code}) does not say where it was checked (extension {CHECKED})")
        at_least = None
        for ext in _extensions(item, AT_LEAST):
            value = ext.get("valueInteger")
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise bad(f"{where} ({code}): {AT_LEAST} must be a positive valueInteger")
            at_least = value
        display = item.get("display")
        codes.append(
            ValueSetCode(
                system, code, display if isinstance(display, str) else "", tuple(checked), at_least
            )
        )
    words = []
    for ext in _extensions(data, MATCH_WORD):
        word = ext.get("valueString")
        if not isinstance(word, str) or not _WORD.fullmatch(word):
            raise bad(f"{MATCH_WORD} must be lower-case letters, digits, single spaces and hyphens")
        words.append(word)
    return url, data, codes, words


def _packaged() -> Iterable[tuple[str, str]]:
    folder = resources.files("earlypath.fhir") / "valuesets"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            yield f"earlypath/fhir/valuesets/{entry.name}", entry.read_text(encoding="utf-8")


def _site(folder: str) -> Iterable[tuple[str, str]]:
    root = Path(folder)
    if not root.is_dir():
        raise ValueSetError([Problem(SITE_VALUESETS_ENV, f"{folder!r} is not a folder")])
    for path in sorted(root.glob("*.json")):
        try:
            yield str(path), path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ValueSetError([Problem(str(path), f"cannot be read ({error})")]) from None


# `os.environ.get` of a name that is not set raises and catches a KeyError inside
# `Mapping.get` (about 8k instructions, on every record reading). `os.environ` keeps the
# environment in a dict of encoded names (`_data`, what its `__getitem__` reads): asked
# directly, an unset name is one dict look-up. It is read each call, so a change made through
# `os.environ` (a test's `monkeypatch.setenv`) is seen at once, as before; an `os.environ`
# replaced by another mapping is asked by `get`.
_SITE_KEY = os.environ.encodekey(SITE_VALUESETS_ENV)


def site_value_sets_folder() -> str | None:
    """The folder of a site's own value sets: ``$EARLYPATH_VALUESETS`` (unset or empty: none)."""
    environ = os.environ
    if type(environ) is os._Environ:
        raw = environ._data.get(_SITE_KEY)  # type: ignore[attr-defined]
        return environ.decodevalue(raw) if raw else None
    return os.environ.get(SITE_VALUESETS_ENV) or None


def load_value_sets(site_folder: str | None = None) -> dict[str, LoadedValueSet]:
    """Every value set by name: the packaged ones, with a site's local codes added.

    ``site_folder`` defaults to ``$EARLYPATH_VALUESETS`` (unset: packaged sets only). Sets are
    read once per folder (a bad folder is read, and refused, every time it is asked for).
    """
    if site_folder is None:
        site_folder = site_value_sets_folder()
    return _load_value_sets(site_folder)


@cache
def _load_value_sets(site_folder: str | None) -> dict[str, LoadedValueSet]:
    sets: dict[str, LoadedValueSet] = {}
    by_url: dict[str, str] = {}
    for path, text in _packaged():
        url, data, codes, words = _read(path, text)
        name = url.removeprefix(URL_PREFIX)
        if not url.startswith(URL_PREFIX) or not _NAME.fullmatch(name):
            raise ValueSetError([Problem(path, f"url must be {URL_PREFIX}<name>")])
        if not path.endswith(f"/{name}.json"):
            raise ValueSetError([Problem(path, f"must be named {name}.json after its url")])
        sets[name] = LoadedValueSet(
            name,
            url,
            str(data.get("title") or name),
            str(data.get("description") or ""),
            tuple(codes),
            tuple(words),
            (path,),
        )
        by_url[url] = name
    if site_folder:
        for path, text in _site(site_folder):
            url, _, codes, words = _read(path, text)
            known = by_url.get(url)
            if known is None:
                raise ValueSetError(
                    [Problem(path, f"url {url!r} is not one of earlypath's value sets")]
                )
            name = known
            old = sets[name]
            seen = {(c.system, c.code) for c in old.codes}
            added = tuple(c for c in codes if (c.system, c.code) not in seen)
            # the packaged set with the site's codes and words added (its name, url and titles)
            sets[name] = replace(
                old,
                codes=old.codes + added,
                words=old.words + tuple(w for w in words if w not in old.words),
                origins=old.origins + (path,),
            )
    return sets
