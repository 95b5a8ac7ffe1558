"""`earlypath serve`: refuses to run without CDS security anywhere but loopback."""

from __future__ import annotations

from typer.testing import CliRunner

from earlypath.cli import app
from earlypath.web import serve as serve_module


def test_auth_off_refused_on_public_address(monkeypatch):
    monkeypatch.setenv("EARLYPATH_CDS_AUTH", "off")
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "8000"])
    assert result.exit_code == 2
    assert "loopback address only" in result.output


def test_auth_off_on_loopback_prints_banner_and_runs(monkeypatch):
    monkeypatch.setenv("EARLYPATH_CDS_AUTH", "off")
    calls = {}
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: calls.update(k))
    result = CliRunner().invoke(app, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert "security is OFF" in result.output
    assert "http://127.0.0.1:8123/" in result.output
    assert calls["host"] == "127.0.0.1" and calls["port"] == 8123 and calls["factory"] is True


def test_loopback_detection():
    assert serve_module._is_loopback("127.0.0.1")
    assert serve_module._is_loopback("::1")
    assert serve_module._is_loopback("localhost")
    assert not serve_module._is_loopback("0.0.0.0")
    assert not serve_module._is_loopback("example.org")
