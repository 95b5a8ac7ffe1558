"""`earlypath serve`: run the service with uvicorn."""

from __future__ import annotations

import ipaddress
import logging
import sys
from typing import Annotated, Any

import typer

from earlypath.errors import EXIT_INPUT, exit_code
from earlypath.fhir.terminology import ValueSetError, load_value_sets
from earlypath.web.config import ConfigError, Settings
from earlypath.web.database import check_replay_database
from earlypath.web.log_privacy import keep_ids_out_of_logs
from earlypath.web.security import IssuerRegistry

BANNER = """
==========================================================================
  WARNING: CDS Hooks security is OFF (EARLYPATH_CDS_AUTH=off).
  Any caller can use the CDS services. Local testing only, never with
  real patient data. The service listens on loopback only.
==========================================================================
"""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def uvicorn_options(settings: Settings, host: str, port: int, workers: int) -> dict[str, Any]:
    """How `earlypath serve` runs uvicorn (the load benchmark serves its baseline the same way)."""
    return {
        "host": host,
        "port": port,
        "workers": workers,
        # The stdlib asyncio loop, not uvloop: under saturation uvloop served connections
        # unfairly here (p99 534 ms vs 75 ms for the same 0.7 ms handler at 50 connections).
        "loop": "asyncio",
        # httptools plus a header size limit and a header-read timeout (431 / 408).
        "http": "earlypath.web.protocol:GuardedHttpToolsProtocol",
        "timeout_keep_alive": settings.keep_alive_timeout,
        "limit_concurrency": settings.max_concurrency,
        "log_level": "info",
        "access_log": False,
    }


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="uvicorn worker processes.")] = 1,
) -> None:
    """Run the web service: clinician page, page for women, JSON API and CDS Hooks."""
    import uvicorn

    try:
        settings = Settings.from_env().checked()
        if settings.auth and settings.issuers_file:
            IssuerRegistry.from_file(settings.issuers_file)  # a malformed allow-list stops here
            check_replay_database(settings.feedback_db, settings.auth)
    except ConfigError as error:
        typer.echo(f"refusing to start: {error}", err=True)
        raise typer.Exit(exit_code(error)) from None
    try:
        load_value_sets()  # checked before starting: a bad site file is named, not a traceback
    except ValueSetError as error:
        typer.echo(f"refusing to start: value sets: {error}", err=True)
        raise typer.Exit(exit_code(error)) from None
    if not settings.auth:
        if not _is_loopback(host):
            typer.echo(
                "refusing to start: EARLYPATH_CDS_AUTH=off is allowed on a loopback address only",
                err=True,
            )
            raise typer.Exit(EXIT_INPUT)
        typer.echo(BANNER, err=True)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    keep_ids_out_of_logs()
    typer.echo(
        f"earlypath: open http://{host}:{port}/ (women: /check, API: /docs, CDS: /cds-services)",
        err=True,
    )
    uvicorn.run(
        "earlypath.web.app:create_app",
        factory=True,
        **uvicorn_options(settings, host, port, workers),
    )
