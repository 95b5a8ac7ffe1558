"""With CDS auth on, the used-JWT-id store must survive restarts and be shared by workers: an
in-memory feedback database (EARLYPATH_FEEDBACK_DB=sqlite://) refuses the start. The w15 probe
found a token accepted again after a restart, and twice with --workers 2, on such a database.
"""

from __future__ import annotations

import pytest
import uvicorn
from typer.testing import CliRunner

from earlypath.cli import app as cli_app
from earlypath.web import create_app
from earlypath.web.config import ConfigError, Settings
from tests.integration.conftest import BASE, secure_settings
from tests.integration.fhir_data import eligible_resources, hook_request, prefetch_for

MEMORY_URLS = ["sqlite://", "sqlite:///:memory:", "sqlite:///file:jti?mode=memory&uri=true"]


@pytest.mark.parametrize("url", MEMORY_URLS)
def test_auth_on_with_an_in_memory_database_refuses_to_start(issuers_file, url):
    settings = Settings(auth=True, issuers_file=str(issuers_file), feedback_db=url, public_url=BASE)
    with pytest.raises(ConfigError, match="EARLYPATH_FEEDBACK_DB is an in-memory database"):
        create_app(settings)


def test_serve_refuses_it_with_the_reason(monkeypatch, issuers_file):
    monkeypatch.setenv("EARLYPATH_CDS_AUTH", "on")
    monkeypatch.setenv("EARLYPATH_PUBLIC_URL", "https://cds.example.org")
    monkeypatch.setenv("EARLYPATH_CDS_ISSUERS", str(issuers_file))
    monkeypatch.setenv("EARLYPATH_FEEDBACK_DB", "sqlite://")

    def started(*args, **kwargs):
        raise AssertionError("the service started")

    monkeypatch.setattr(uvicorn, "run", started)
    result = CliRunner().invoke(cli_app, ["serve"])
    assert result.exit_code == 2
    assert "refusing to start: EARLYPATH_FEEDBACK_DB is an in-memory database" in result.output


def test_auth_off_or_a_file_database_still_starts(make_client, issuers_file, tmp_path):
    body = hook_request("patient-view", prefetch_for(eligible_resources()))
    off = make_client(Settings(auth=False, feedback_db="sqlite://"))
    assert off.post("/cds-services/ng126-progesterone", json=body).status_code == 200
    on = make_client(secure_settings(issuers_file, tmp_path / "jti.sqlite3"))
    assert on.post("/cds-services/ng126-progesterone", json=body).status_code == 401  # no token
