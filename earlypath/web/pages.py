"""The HTML pages: the clinician page (/) and the page for women (/check).

Plain HTML forms posted to the server; no JavaScript is needed. The pages hold no clinical
logic: they turn form answers into an episode, call `earlypath.assess`, and show its answer.
"""

from __future__ import annotations

import datetime as dt
import re
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
from earlypath.web import forms, next_steps, plain, words
from earlypath.web.schemas import CORE_SECTIONS

TEMPLATES = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
TEMPLATES.filters.update(
    uk_date=words.uk_date,
    label=words.label,
    title=words.title,
    in_text=words.in_text,
    plural=words.plural,
    display=words.display,
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
        if key not in KNOWN_SECTIONS
        and key != "pathway_policy"
        and isinstance(value, dict | list)
        and value
    ]


def _path_label(path: str) -> str:
    """A contract path in clinical words: scans[1].crl_mm -> Scan 2: crown-rump length."""
    match = re.match(r"^(\w+)\[(\d+)\](?:\.(\w+))?", path)
    if match:
        key, index, name = match.group(1), int(match.group(2)), match.group(3)
        for group in forms.GROUPS:
            if group.repeat and group.repeat.key == key:
                row = f"{group.repeat.row_label} {index + 1}"
                fields = {f.name: f.label for f in group.repeat.fields}
                return f"{row}: {fields.get(name, words.label(name)).lower()}" if name else row
    for group in forms.GROUPS:
        for f in (*group.fields, *group.after):
            if f.name == path:
                return f.label
    return words.title(path) if path != "(episode)" else "Episode"


def _clinician_errors(
    problems: list[Problem], built: forms.FormEpisode | None
) -> list[dict[str, str]]:
    """Each problem with the input it belongs to, its label and a message in clinical words."""
    out = []
    for p in problems:
        if built is None:  # pasted JSON: every error belongs to the text box
            target, name = "episode_json", _path_label(p.field)
        else:
            target = built.inputs.get(p.field) or next(
                (v for k, v in built.inputs.items() if p.field.startswith(k)), "form-title"
            )
            name = built.labels.get(p.field) or _path_label(p.field)
        out.append({"input": target, "label": name, "message": words.clinical_message(p.message)})
    return out


def _clinician_page(
    request: Request, form: dict[str, str], status: int = 200, add: str = "", **values: Any
) -> HTMLResponse:
    errors = values.get("errors") or []
    return _render(
        request,
        "clinician.html",
        status,
        f=form,
        groups=forms.GROUPS,
        rows={
            g.repeat.key: forms.rows_to_show(form, g.repeat, add == g.repeat.key)
            for g in forms.GROUPS
            if g.repeat
        },
        field_errors={e["input"]: e["message"] for e in errors},
        max_rows=forms.MAX_ROWS,
        versions=[v.version for v in VERSIONS],
        words=DECISION_WORDS,
        **values,
    )


def _section_views(assessment: dict[str, Any], steps: list[next_steps.Step]) -> list[dict]:
    """Each pathway section, open when it has a step in the Next steps panel."""
    acting = {step.section for step in steps}
    return [
        {
            "key": key,
            "s": assessment[key],
            "open": key in acting,
            "citations": next_steps.citations(assessment[key]),
        }
        for key in next_steps.SECTIONS
        if key != "progesterone" and isinstance(assessment.get(key), dict)
    ]


@router.get("/", response_class=HTMLResponse)
async def clinician_form(request: Request) -> HTMLResponse:
    return _clinician_page(request, forms.clinician_defaults(request.app.state.today()))


@router.post("/", response_class=HTMLResponse)
async def clinician_submit(request: Request) -> HTMLResponse:
    form = {
        **forms.clinician_defaults(request.app.state.today()),
        **forms.parse_form(await request.body()),
    }
    add = form.pop("add_row", "")
    if add:  # "Add another scan / hCG result": draw one more row, assess nothing yet
        return _clinician_page(request, form, add=add)
    stop_at = form.get("stop_at", "16+0")
    if stop_at not in ("16+0", "16+6"):
        errors = [
            {
                "input": "stop_at",
                "label": "Stop progesterone at",
                "message": "Choose 16+0 or 16+6",
            }
        ]
        return _clinician_page(request, form, 422, errors=errors)
    pasted = form.get("episode_json", "").strip()
    built = None if pasted else forms.clinician_episode(form)
    try:
        # The whole contract (several scans, the pathway's fields) can be pasted as JSON.
        episode = parse_episode_json(pasted) if built is None else built.episode
        assessment = assess(episode, Policy(stop_at=stop_at))  # type: ignore[arg-type]
    except InputError as error:
        return _clinician_page(request, form, 422, errors=_clinician_errors(error.problems, built))
    steps = next_steps.gather(assessment, DECISION_WORDS)
    return _clinician_page(
        request,
        form,
        a=assessment,
        steps=steps,
        p_citations=next_steps.citations(assessment["progesterone"]),
        sections=_section_views(assessment, steps),
        extra_sections=[
            (k, v) for k, v in extra_sections(assessment) if k not in next_steps.SECTIONS
        ],
    )


# Her questions, as the error summary names them, and what to say when an answer is not usable.
CHECK_LABELS = {
    "scan": "Question 1: the scan",
    "bleeding": "Question 2: bleeding",
    "pain": "Question 3: pain",
    "miscarriages": "Question 4: miscarriages before",
    "period": "When your last period started",
}
CHECK_MESSAGES = {
    "period": "Enter a real date in the last 45 weeks, not in the future, or leave it empty",
}


def _check_errors(problems: list[Problem]) -> list[dict[str, str]]:
    """Her errors, named by her question. The only date she gives is her period date, so any
    date problem (such as the scan's date, which she is not asked) is about it."""
    out: dict[str, dict[str, str]] = {}
    for p in problems:
        name = forms.CHECK_FIELDS.get(p.field, "period")
        message = CHECK_MESSAGES.get(name, "Choose one of the answers")
        out.setdefault(name, {"input": name, "label": CHECK_LABELS[name], "message": message})
    return list(out.values())


def _check_page(
    request: Request, form: dict[str, str], status: int = 200, **values: Any
) -> HTMLResponse:
    errors = values.get("errors") or []
    return _render(
        request,
        "check.html",
        status,
        f=form,
        support=plain.SUPPORT,
        nice=plain.WHAT_NICE_IS,
        get_help_now=plain.GET_HELP_NOW,
        today=request.app.state.today(),
        field_errors={e["input"]: e["message"] for e in errors},
        **values,
    )


@router.get("/check", response_class=HTMLResponse)
async def check_form(request: Request) -> HTMLResponse:
    return _check_page(request, {})


@router.post("/check", response_class=HTMLResponse)
async def check_submit(request: Request) -> HTMLResponse:
    form = forms.parse_form(await request.body())
    today: dt.date = request.app.state.today()
    episode = forms.check_episode(form, today)
    try:
        assessment = assess(episode)
    except InputError as error:
        return _check_page(request, form, 422, errors=_check_errors(error.problems))
    return _check_page(request, form, r=plain.explain(assessment, form))
