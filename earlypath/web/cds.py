"""CDS Hooks 2.0.1 endpoints: discovery, the services, and feedback.

The services map FHIR R4 data to an episode (`earlypath.fhir`), ask the engine, and word its
answer as cards (`earlypath.fhir.cards`). No clinical rule lives here.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from earlypath.engines.python import assess
from earlypath.errors import InputError
from earlypath.fhir.cards import decision_card, order_cards, problem_card
from earlypath.fhir.mapping import flatten, has_pregnancy_context, map_resources
from earlypath.fhir.medication_request import is_progesterone_order
from earlypath.web.feedback import FeedbackError, validate_feedback
from earlypath.web.prefetch import DataUnavailable, gather
from earlypath.web.security import require_cds_client

log = logging.getLogger("earlypath.web.cds")

PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    # All her Observations, not a code list: a scan finding may be the value of a generic code
    # ("procedure findings"), and a site's own codes (EARLYPATH_VALUESETS) must be fetched too.
    "observations": "Observation?patient={{context.patientId}}",
    "medications": "MedicationRequest?patient={{context.patientId}}&status=active",
    "allergies": "AllergyIntolerance?patient={{context.patientId}}",
}
# Without these the decision cannot be made: absent and unfetchable -> 412.
REQUIRED = ("conditions", "observations", "medications")


@dataclass(frozen=True)
class Service:
    id: str
    hook: str
    title: str
    description: str

    def discovery(self) -> dict[str, Any]:
        return {
            "hook": self.hook,
            "title": self.title,
            "description": self.description,
            "id": self.id,
            "prefetch": dict(PREFETCH),
        }


SERVICES: dict[str, Service] = {
    s.id: s
    for s in (
        Service(
            "ng126-progesterone",
            "patient-view",
            "NICE NG126: progesterone for threatened miscarriage",
            "On opening the record of a pregnant woman: whether NICE NG126 1.5.2/1.5.3 recommends "
            "vaginal micronised progesterone, why, and the plan (dose, stop date, quantities); "
            "offers a draft MedicationRequest.",
        ),
        Service(
            "ng126-progesterone-order-select",
            "order-select",
            "NICE NG126: check a progesterone order as it is chosen",
            "When progesterone is selected: warns if NICE NG126 does not support it for this "
            "woman, or if the dose, route, frequency or end date differ from the plan.",
        ),
        Service(
            "ng126-progesterone-order-sign",
            "order-sign",
            "NICE NG126: check a progesterone order before signing",
            "Before a progesterone order is signed: warns if NICE NG126 does not support it for "
            "this woman, or if the dose, route, frequency or end date differ from the plan.",
        ),
    )
}

router = APIRouter(dependencies=[Depends(require_cds_client)], tags=["CDS Hooks"])


def _bad_request(problems: list[tuple[str, str]]) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"field": f, "message": m} for f, m in problems]}, status_code=400
    )


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


@router.get("/cds-services", summary="CDS Hooks discovery")
async def discovery() -> dict[str, Any]:
    return {"services": [s.discovery() for s in SERVICES.values()]}


def _check_request(body: Any, service: Service) -> list[tuple[str, str]]:
    if not isinstance(body, dict):
        return [("(request)", "must be a JSON object")]
    problems = []
    if body.get("hook") != service.hook:
        problems.append(("hook", f"must be '{service.hook}' for this service"))
    if not isinstance(body.get("hookInstance"), str) or not body["hookInstance"]:
        problems.append(("hookInstance", "is required"))
    context = body.get("context")
    if not isinstance(context, dict):
        problems.append(("context", "is required (an object)"))
    elif not isinstance(context.get("patientId"), str) or not context["patientId"]:
        problems.append(("context.patientId", "is required"))
    if "fhirAuthorization" in body and not isinstance(body.get("fhirServer"), str):
        problems.append(("fhirServer", "is required when fhirAuthorization is given"))
    if "prefetch" in body and not isinstance(body["prefetch"], dict):
        problems.append(("prefetch", "must be an object"))
    return problems


def _draft_orders(context: dict[str, Any], hook: str) -> list[dict[str, Any]]:
    orders = [r for r in flatten(context.get("draftOrders") or []) if isinstance(r, dict)]
    if hook == "order-select":
        selections = context.get("selections")
        if isinstance(selections, list):
            chosen = {str(s) for s in selections}
            orders = [
                o
                for o in orders
                if f"{o.get('resourceType')}/{o.get('id')}" in chosen or str(o.get("id")) in chosen
            ]
    return [o for o in orders if is_progesterone_order(o)]


@router.post("/cds-services/{service_id}", summary="Call a CDS service")
async def call_service(service_id: str, request: Request) -> JSONResponse:
    service = SERVICES.get(service_id)
    if service is None:
        return JSONResponse({"errors": [{"field": "id", "message": "no such service"}]}, 404)
    body = await _json_body(request)
    problems = _check_request(body, service)
    if problems:
        return _bad_request(problems)
    context: dict[str, Any] = body["context"]
    patient_id: str = context["patientId"]
    orders: list[dict[str, Any]] = []
    if service.hook != "patient-view":
        orders = _draft_orders(context, service.hook)
        if not orders:
            return JSONResponse({"cards": []})
    state = request.app.state
    try:
        resources = await gather(PREFETCH, REQUIRED, body, state.fhir_transport)
    except DataUnavailable as error:
        log.warning("cds %s: 412 (%s)", service.id, error.kind)
        return JSONResponse(
            {"errors": [{"field": "prefetch", "message": "required FHIR data is not available"}]},
            status_code=412,
        )
    today: dt.date = state.today()
    mapped = map_resources(resources, today)
    if service.hook == "patient-view" and not has_pregnancy_context(mapped):
        return JSONResponse({"cards": []})  # no pregnancy in the record: nothing to say
    try:
        assessment = assess(mapped.episode, state.policy)
    except InputError as error:
        return JSONResponse({"cards": [problem_card(mapped.problems + error.problems)]})
    if service.hook == "patient-view":
        cards = [decision_card(assessment, patient_id, mapped.problems, mapped.evidence)]
    else:
        cards = order_cards(assessment, orders, patient_id, mapped.problems, mapped.evidence)
    return JSONResponse({"cards": cards})


@router.post("/cds-services/{service_id}/feedback", summary="Feedback on cards")
async def feedback(service_id: str, request: Request) -> JSONResponse:
    if service_id not in SERVICES:
        return JSONResponse({"errors": [{"field": "id", "message": "no such service"}]}, 404)
    body = await _json_body(request)
    try:
        items = validate_feedback(body)
    except FeedbackError as error:
        return _bad_request(error.problems)
    stored = await run_in_threadpool(request.app.state.feedback.add, service_id, items)
    return JSONResponse({"stored": stored})
