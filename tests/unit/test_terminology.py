"""Value sets as FHIR R4 ValueSet files: packaged sets are valid, each code says where it was
checked, and a site's local codes are added (never removing any); a bad file names itself."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from fhir.resources.R4B.valueset import ValueSet

from earlypath.fhir.terminology import (
    CHECKED,
    URL_PREFIX,
    ValueSetError,
    _packaged,
    load_value_sets,
)

SNOMED = "http://snomed.info/sct"


def test_packaged_sets_are_valid_fhir_r4_value_sets() -> None:
    for path, text in _packaged():
        ValueSet.model_validate(json.loads(text))  # raises on anything R4 would refuse
        assert json.loads(text)["url"].startswith(URL_PREFIX), path


def test_every_packaged_code_says_where_it_was_checked() -> None:
    sets = load_value_sets(None)
    assert {"miscarriage_event", "ectopic_pregnancy", "progesterone"} <= set(sets)
    for value_set in sets.values():
        for code in value_set.codes:
            assert code.checked.strip(), (value_set.name, code.code)
            # its notes are kept once: what it says is their join, whatever they become
            assert code.checked == "; ".join(code.checked_in), (value_set.name, code.code)
            other = dataclasses.replace(code, checked_in=("a", "b"))
            assert other.checked == "a; b", (value_set.name, code.code)


def _site_file(folder: Path, name: str, body: dict) -> Path:
    path = folder / name
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def _local(code: str, url: str = URL_PREFIX + "ectopic_pregnancy", **extra) -> dict:
    item = {"system": SNOMED, "code": code, "display": "local", **extra}
    item.setdefault("extension", [{"url": CHECKED, "valueString": "local: EPU lead, 2026"}])
    return {"resourceType": "ValueSet", "url": url, "expansion": {"contains": [item]}}


def test_a_site_file_adds_local_codes_to_a_packaged_set(tmp_path: Path) -> None:
    _site_file(tmp_path, "ectopic.json", _local("999000111"))
    packaged = load_value_sets(None)["ectopic_pregnancy"]
    merged = load_value_sets(str(tmp_path))["ectopic_pregnancy"]
    assert (SNOMED, "999000111") in {(c.system, c.code) for c in merged.codes}
    assert set(packaged.codes) <= set(merged.codes)
    assert merged.origins[-1].endswith("ectopic.json")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("{not json", "is not JSON"),
        ({"resourceType": "CodeSystem"}, "is not a FHIR ValueSet"),
        (_local("1", url="urn:earlypath:valueset:nonesuch"), "is not one of earlypath's"),
        (_local("1", extension=[]), "does not say where it was checked"),
        ({"resourceType": "ValueSet", "url": URL_PREFIX + "bleeding"}, "expansion.contains"),
        (_local(" 12 "), "without padding"),
    ],
)
def test_a_bad_site_file_is_an_error_naming_it(tmp_path: Path, body, says: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(body if isinstance(body, str) else json.dumps(body), encoding="utf-8")
    with pytest.raises(ValueSetError) as error:
        load_value_sets(str(tmp_path))
    assert str(path) in str(error.value) and says in str(error.value)


def test_a_missing_site_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueSetError, match="EARLYPATH_VALUESETS"):
        load_value_sets(str(tmp_path / "absent"))
