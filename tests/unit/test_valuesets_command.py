"""`earlypath valuesets` lists every value set with its counts, sources and files; the service
refuses to start on a bad site value-set file, naming it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from earlypath.cli import app
from earlypath.fhir.terminology import CHECKED, URL_PREFIX, ValueSetError, load_value_sets

CLI = [sys.executable, "-c", "from earlypath.cli import main; main()"]
SNOMED = "http://snomed.info/sct"


def run(*args: str, env_folder: Path | None = None) -> subprocess.CompletedProcess:
    import os

    env = {k: v for k, v in os.environ.items() if k != "EARLYPATH_VALUESETS"}
    if env_folder is not None:
        env["EARLYPATH_VALUESETS"] = str(env_folder)
    return subprocess.run(
        [*CLI, "valuesets", *args], capture_output=True, text=True, timeout=120, env=env
    )


def _local_file(folder: Path, body: dict | str, name: str = "local.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(body if isinstance(body, str) else json.dumps(body), encoding="utf-8")
    return path


LOCAL_ECTOPIC = {
    "resourceType": "ValueSet",
    "url": URL_PREFIX + "ectopic_pregnancy",
    "expansion": {
        "contains": [
            {
                "system": "urn:oid:1.2.3.4",
                "code": "EPU-ECT",
                "display": "Ectopic (EPU local code)",
                "extension": [{"url": CHECKED, "valueString": "local: EPU lead, 2026"}],
            }
        ]
    },
}


def test_json_lists_every_set_with_its_counts_and_sources() -> None:
    done = run("--json")
    assert done.returncode == 0, done.stderr
    listed = {s["name"]: s for s in json.loads(done.stdout)["value_sets"]}
    packaged = load_value_sets(None)
    assert set(listed) == set(packaged)
    for name, value_set in packaged.items():
        summary = listed[name]
        assert summary["codes"] == len(value_set.codes)
        assert summary["files"] == {"packaged": f"earlypath/fhir/valuesets/{name}.json", "site": []}
        # every code was checked somewhere: the largest source alone may not hold them all,
        # but together they count every code at least once
        assert sum(s["codes"] for s in summary["checked_in"]) >= summary["codes"]
    primis = (
        "opensafely/nhs-covid-vaccination-coverage codelists/primis-covid19-vacc-uptake-pregdel.csv"
    )
    assert primis in {s["source"] for s in listed["ectopic_pregnancy"]["checked_in"]}


def test_text_names_a_site_file_and_counts_its_codes(tmp_path: Path) -> None:
    path = _local_file(tmp_path / "site", LOCAL_ECTOPIC)
    done = run("--site", str(tmp_path / "site"))
    assert done.returncode == 0, done.stderr
    packaged = len(load_value_sets(None)["ectopic_pregnancy"].codes)
    assert f"ectopic_pregnancy: {packaged + 1} code(s)" in done.stdout
    assert f"site: {path}" in done.stdout
    assert "checked in (1): local: EPU lead, 2026" in done.stdout


def test_a_bad_site_file_is_exit_2_naming_the_file(tmp_path: Path) -> None:
    path = _local_file(tmp_path / "site", "{ not json", name="broken.json")
    done = run(env_folder=tmp_path / "site")
    assert done.returncode == 2
    assert str(path) in done.stderr and "is not JSON" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_service_does_not_build_with_a_bad_site_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from earlypath.web.app import create_app
    from earlypath.web.config import Settings

    path = _local_file(tmp_path / "site", {**LOCAL_ECTOPIC, "url": "urn:other"}, "other.json")
    monkeypatch.setenv("EARLYPATH_VALUESETS", str(tmp_path / "site"))
    settings = Settings(auth=False, feedback_db=f"sqlite:///{tmp_path / 'fb.sqlite3'}")
    with pytest.raises(ValueSetError) as raised:
        create_app(settings)
    assert str(path) in str(raised.value)


def test_serve_refuses_to_start_with_a_bad_site_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    path = _local_file(tmp_path / "site", {"resourceType": "ValueSet"}, "no-url.json")
    monkeypatch.setenv("EARLYPATH_VALUESETS", str(tmp_path / "site"))
    monkeypatch.setenv("EARLYPATH_CDS_AUTH", "off")
    started = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append(k))
    result = CliRunner().invoke(app, ["serve", "--port", "8124"])
    assert result.exit_code == 2
    assert "refusing to start" in result.output and str(path) in result.output
    assert started == []


def test_the_service_reads_a_good_site_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    from earlypath.fhir.mapping import map_resources

    _local_file(tmp_path / "site", LOCAL_ECTOPIC)
    monkeypatch.setenv("EARLYPATH_VALUESETS", str(tmp_path / "site"))
    local = {
        "resourceType": "Condition",
        "id": "c",
        "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": "urn:oid:1.2.3.4", "code": "EPU-ECT"}]},
        "onsetDateTime": "2024-03-04",
    }
    lmp = {
        "resourceType": "Observation",
        "id": "l",
        "status": "final",
        "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "8665-2"}]},
        "effectiveDateTime": "2024-03-04",
        "valueDateTime": "2024-01-20",
    }
    episode = map_resources([lmp, local], dt.date(2024, 3, 4)).episode
    assert episode["scans"] == [{"date": "2024-03-04", "location": "ectopic", "route": None}]
