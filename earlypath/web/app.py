"""The FastAPI application: pages, JSON API, CDS Hooks, and the impact page."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from earlypath import __version__
from earlypath.fhir.terminology import load_value_sets
from earlypath.policy import DEFAULT_POLICY, Policy
from earlypath.web import api, cds, pages
from earlypath.web.clock import site_today
from earlypath.web.config import Settings
from earlypath.web.cors import ServiceCORS
from earlypath.web.database import check_replay_database
from earlypath.web.feedback import FeedbackStore
from earlypath.web.guards import (
    LoopbackOnlyWhenAuthOff,
    QuietErrors,
    SecurityHeaders,
    inline_styles,
    page_csp,
)
from earlypath.web.heap import settle_heap
from earlypath.web.limits import RequestLimits
from earlypath.web.log_privacy import keep_ids_out_of_logs
from earlypath.web.replay import ReplayStore
from earlypath.web.schemas import openapi_components
from earlypath.web.security import IssuerRegistry, Verifier
from earlypath.web.service_lane import ServiceLaneApp

log = logging.getLogger("earlypath.web")

AUTH_OFF_WARNING = (
    "CDS Hooks JWT checks are OFF (EARLYPATH_CDS_AUTH=off): any caller can use the CDS services. "
    "Local testing only; never with real patient data."
)


def http_error_response(exc: StarletteHTTPException) -> Response:
    """The answer to an HTTPException: 401 with its challenge only, else a JSON error."""
    if exc.status_code == 401:
        return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return JSONResponse(
        {"errors": [{"field": "(request)", "message": str(exc.detail)}]},
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


DOCS_ASSETS = "/docs-assets"
# Swagger UI's own colours for methods, badges and buttons fall below WCAG AA contrast (axe).
DOCS_CONTRAST = (
    ".swagger-ui .opblock-summary-method{color:#fff;text-shadow:none}"
    ".swagger-ui .opblock.opblock-post .opblock-summary-method{background:#0b6e4f}"
    ".swagger-ui .opblock.opblock-get .opblock-summary-method{background:#1d5fa8}"
    ".swagger-ui .opblock.opblock-put .opblock-summary-method{background:#8a4b00}"
    ".swagger-ui .opblock.opblock-delete .opblock-summary-method{background:#a11c1c}"
    ".swagger-ui .info .title small{background:#4a5160}"
    ".swagger-ui .info .title small.version-stamp{background:#3d6b00}"
    ".swagger-ui .info .base-url,.swagger-ui .info a.link,.swagger-ui .url{color:#1d5fa8}"
    ".swagger-ui .json-schema-2020-12-expand-deep-button{color:#444}"
    ".swagger-ui .parameter__in,.swagger-ui .parameter__extension{color:#4a4a4a}"
    # examples wrap instead of scrolling in a region the keyboard cannot reach
    ".swagger-ui .highlight-code .microlight{overflow:visible;max-height:none;"
    "white-space:pre-wrap;word-break:break-word}"
)


def _mount_docs(app: FastAPI) -> None:
    """/docs: Swagger UI from the swagger-ui-bundle package, so it works with no internet."""
    import swagger_ui_bundle

    app.mount(
        DOCS_ASSETS,
        StaticFiles(directory=str(swagger_ui_bundle.swagger_ui_path)),
        name="docs-assets",
    )

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title}: API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
            # without deep links an operation's path is not a link nested in its button
            swagger_ui_parameters={"deepLinking": False, "syntaxHighlight": False},
        )
        html = (
            bytes(page.body)
            .decode()
            .replace("<html>", '<html lang="en-GB">', 1)
            .replace('<div id="swagger-ui">', '<main id="swagger-ui">', 1)
            .replace("</div>\n    <script", "</main>\n    <script", 1)
            .replace("</head>", f"<style>{DOCS_CONTRAST}</style></head>", 1)
        )
        return HTMLResponse(html)


def create_app(
    settings: Settings | None = None,
    *,
    today: Callable[[], dt.date] | None = None,
    policy: Policy = DEFAULT_POLICY,
    fhir_transport: httpx.AsyncBaseTransport | None = None,
    jwks_transport: httpx.BaseTransport | None = None,
) -> FastAPI:
    """Build the service. Settings default to the environment (see `earlypath.web.config`)."""
    # Refuse to build a service that could not run safely (e.g. auth on without a public URL).
    settings = (settings or Settings.from_env()).checked()
    keep_ids_out_of_logs()  # however the service is started: no ids, tokens or queries logged
    load_value_sets()  # a bad site value-set file stops the start, naming the file

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.auth:
            log.warning(AUTH_OFF_WARNING)
        elif app.state.verifier is None:
            log.warning(
                "No CDS clients are allowed (EARLYPATH_CDS_ISSUERS not set): every CDS call gets 401."
            )
        # the first call costs what the others do
        cds.warm_up(app.state.today(), policy, settings.time_zone)
        settle_heap()  # no long collector pauses inside calls (earlypath.web.heap)
        yield
        app.state.feedback.close()

    app = ServiceLaneApp(
        title="earlypath",
        version=__version__,
        description="NICE NG126 early pregnancy decisions: clinician page, page for women, JSON API "
        "and CDS Hooks 2.0 services over FHIR R4.",
        lifespan=lifespan,
        docs_url=None,  # served below from the package's own Swagger UI assets (no CDN)
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.today = today or site_today(settings.time_zone)
    # the zone a record's instants are dated in: the zone of today (`earlypath.records.time_zone`)
    app.state.time_zone = settings.time_zone
    app.state.policy = policy
    app.state.fhir_transport = fhir_transport
    app.state.verifier = None
    app.state.feedback = FeedbackStore(settings.feedback_db)
    if settings.auth and settings.issuers_file:
        issuers = IssuerRegistry.from_file(settings.issuers_file)
        check_replay_database(settings.feedback_db, settings.auth)
        app.state.verifier = Verifier(
            issuers,
            # Used JWT ids live in the feedback database: shared by workers, kept over restarts.
            replay=ReplayStore(app.state.feedback.engine),
            clock_skew=settings.jwt_clock_skew,
            jwks_transport=jwks_transport,
        )

    # Innermost: CDS service calls skip the router's matching and dependency solving.
    app.add_middleware(cds.ServiceCalls, http_error=http_error_response)
    app.add_middleware(QuietErrors)
    # Browser-based CDS clients call from other origins; tokens travel in headers, not cookies.
    app.add_middleware(
        ServiceCORS,  # Starlette's CORSMiddleware, its simple answer on the raw headers
        allow_origins=["*"],
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Accept"],
        allow_credentials=False,
        max_age=600,
    )
    # Outermost last: limits before anything reads the body; headers on every answer.
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.max_body_bytes,
        body_timeout=settings.body_timeout,
        max_json_depth=settings.max_json_depth,
        max_header_bytes=settings.max_header_bytes,
    )
    if not settings.auth:
        app.add_middleware(LoopbackOnlyWhenAuthOff)
    https = (settings.public_url or "").startswith("https://")
    app.add_middleware(SecurityHeaders, https=https)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return http_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"][1:]) or "(request)", "message": e["msg"]}
            for e in exc.errors()
        ]
        return JSONResponse({"errors": errors}, status_code=422)

    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(cds.router)
    app.mount(
        "/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static"
    )

    _mount_docs(app)

    @app.get("/impact", include_in_schema=False, response_class=HTMLResponse)
    async def impact(request: Request) -> HTMLResponse:
        # the model (numpy) is imported on first use, not when the service starts
        from earlypath.impact.page import render_impact_request

        query = dict(request.query_params)
        status, page = await run_in_threadpool(render_impact_request, query)
        # Its styles are inline (a generated page): allowed by hash, not unsafe-inline.
        csp = page_csp(inline_styles(page))
        return HTMLResponse(page, status_code=status, headers={"Content-Security-Policy": csp})

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema.setdefault("components", {}).setdefault("schemas", {}).update(openapi_components())
        app.openapi_schema = schema
        return schema

    app.openapi = custom_openapi  # type: ignore[method-assign]
    app.open_cds_lane()  # last: CDS service calls go straight to the middlewares added above
    return app
