"""The HTML pages: the clinician page (/) and the page for women (/check).

Plain HTML forms posted to the server; no JavaScript is needed. The pages hold no clinical
logic: they turn form answers into an episode, call `earlypath.assess`, and show its answer.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from earlypath import __version__
from earlypath.engines.python import assess
from earlypath.errors import InputError, Problem
from earlypath.guideline.versions import VERSIONS
from earlypath.model import parse_episode_json
from earlypath.policy import Policy
from earlypath.web import forms, plain
from earlypath.web.schemas import CORE_SECTIONS

TEMPLATES = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

DECISION_WORDS = {
    "offer": "Offer vaginal micronised progesterone 400 mg twice daily",
    "continue": "Continue progesterone",
    "stop": "Stop progesterone",
    "do_not_offer": "Do not offer progesterone",
    "needs_information": "More information is needed before a decision",
}
KNOWN_SECTIONS = frozenset(CORE_SECTIONS)

router = APIRouter(include_in_schema=False)


def _render(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(name).render(
        version=__version__, auth_off=not request.app.state.settings.auth, **values
    )
    return HTMLResponse(html, status_code=status)


def extra_sections(assessment: dict[str, Any]) -> list[tuple[str, Any]]:
    """Pathway sections other than progesterone (scan_assessment, anti_d, ...), in order."""
    return [
        (key, value)
        for key, value in assessment.items()
        if key not in KNOWN_SECTIONS and isinstance(value, dict | list) and value
    ]


def _labelled(
    problems: list[Problem], fields: dict[str, str], labels: dict[str, str]
) -> list[dict[str, str]]:
    out = []
    for p in problems:
        name = fields.get(p.field)
        if name is None:  # e.g. scans[0] as a whole
            name = next((v for k, v in fields.items() if p.field.startswith(k)), "")
        out.append(
            {"input": name or "main", "label": labels.get(name, p.field), "message": p.message}
        )
    return out


CLINICIAN_LABELS = {
    "assessed_on": "Date of assessment",
    "guideline_version": "NG126 version",
    "previous_miscarriages": "Number of previous miscarriages",
    "vaginal_bleeding": "Vaginal bleeding",
    "lmp": "LMP",
    "scan_date": "Scan date",
    "scan_route": "Scan route",
    "scan_location": "Scan location",
    "fetal_pole": "Fetal pole",
    "fetal_heartbeat": "Fetal heartbeat",
    "crl_mm": "Crown-rump length",
    "msd_mm": "Mean sac diameter",
    "allergies": "Allergies",
    "stop_at": "Stop progesterone at",
}


def _clinician_page(
    request: Request, form: dict[str, str], status: int = 200, **values: Any
) -> HTMLResponse:
    return _render(
        request,
        "clinician.html",
        status,
        f=form,
        versions=[v.version for v in VERSIONS],
        words=DECISION_WORDS,
        **values,
    )


@router.get("/", response_class=HTMLResponse)
async def clinician_form(request: Request) -> HTMLResponse:
    return _clinician_page(request, forms.clinician_defaults(request.app.state.today()))


@router.post("/", response_class=HTMLResponse)
async def clinician_submit(request: Request) -> HTMLResponse:
    form = {
        **forms.clinician_defaults(request.app.state.today()),
        **forms.parse_form(await request.body()),
    }
    stop_at = form.get("stop_at", "16+0")
    if stop_at not in ("16+0", "16+6"):
        errors = [
            {"input": "stop_at", "label": "Stop progesterone at", "message": "must be 16+0 or 16+6"}
        ]
        return _clinician_page(request, form, 422, errors=errors)
    pasted = form.get("episode_json", "").strip()
    try:
        # The whole contract (several scans, the pathway's fields) can be pasted as JSON.
        episode = parse_episode_json(pasted) if pasted else forms.clinician_episode(form)
        assessment = assess(episode, Policy(stop_at=stop_at))  # type: ignore[arg-type]
    except InputError as error:
        if pasted:
            errors = [
                {"input": "episode_json", "label": p.field, "message": p.message}
                for p in error.problems
            ]
        else:
            errors = _labelled(error.problems, forms.CLINICIAN_FIELDS, CLINICIAN_LABELS)
        return _clinician_page(request, form, 422, errors=errors)
    return _clinician_page(request, form, a=assessment, extra_sections=extra_sections(assessment))


CHECK_LABELS = {
    "scan": "Question 1: the scan",
    "bleeding": "Question 2: bleeding",
    "miscarriages": "Question 3: miscarriages before",
    "period": "The date your last period started (it must be a real date, in the last 45 weeks, and not in the future)",
}


def _check_page(
    request: Request, form: dict[str, str], status: int = 200, **values: Any
) -> HTMLResponse:
    return _render(
        request,
        "check.html",
        status,
        f=form,
        ask=plain.ASK,
        support=plain.SUPPORT,
        today=request.app.state.today().isoformat(),
        **values,
    )


@router.get("/check", response_class=HTMLResponse)
async def check_form(request: Request) -> HTMLResponse:
    return _check_page(request, {"scan": "", "bleeding": "", "miscarriages": "", "period": ""})


@router.post("/check", response_class=HTMLResponse)
async def check_submit(request: Request) -> HTMLResponse:
    form = forms.parse_form(await request.body())
    today: dt.date = request.app.state.today()
    try:
        assessment = assess(forms.check_episode(form, today))
    except InputError as error:
        errors = _labelled(error.problems, forms.CHECK_FIELDS, CHECK_LABELS)
        return _check_page(request, form, 422, errors=errors)
    return _check_page(request, form, r=plain.explain(assessment))
