"""CDS Hooks 2.0.1 endpoints: discovery, the services, and feedback.

The services map FHIR R4 data to an episode (`earlypath.fhir`), ask the engine, and word its
answer as cards (`earlypath.fhir.cards`). No clinical rule lives here.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from earlypath.engines.python import (  # assess_for_cards: a part the benchmarks count
    assess_for_cards,  # noqa: F401
    cards_assessment,
)
from earlypath.errors import InputError
from earlypath.fhir.card_text import cards_response, decision_response, warm_up_cards
from earlypath.fhir.cards import (  # decision_card: a part the benchmarks count
    decision_card,  # noqa: F401
    merged_record_card,
    order_cards,
    problem_card,
)
from earlypath.fhir.codes import status_list
from earlypath.fhir.mapping import flatten, has_pregnancy_context, map_resources
from earlypath.fhir.medication_request import is_progesterone_order, relative_reference
from earlypath.fhir.merged import merged_record
from earlypath.json_text import dumps_bytes
from earlypath.records import native
from earlypath.records.native import cds_source
from earlypath.web import digit_runs
from earlypath.web.allergy_check import allergy_problem, unchecked_reason, without_product
from earlypath.web.digit_runs import has_long_digit_run
from earlypath.web.feedback import FeedbackError, validate_feedback
from earlypath.web.fhir_urls import FhirBase, is_fhir_id
from earlypath.web.limits import NOT_PARSED, parsed_body
from earlypath.web.patient_scope import ScopeProblem, scope_problem
from earlypath.web.prefetch import DataUnavailable, ForeignPatient, gather, gather_merged
from earlypath.web.security import require_cds_client

log = logging.getLogger("earlypath.web.cds")


# Every status the record reading reads a medicine's record in, asked for as it is read: a
# prescription or a statement the reading would use is never filtered out by the query. Whether she
# is on progesterone reads the current statuses (`reading.json`: active and on-hold; "unknown"
# leaves it unknown); a methotrexate given for an ectopic pregnancy, a previous ectopic (NG126 1.3,
# 1.6), is read in the statuses the audit reads care given in (`care_given_request_status`:
# completed and stopped too; `care_given_administration_status`). Before stop 37 the requests were
# asked in the current statuses only, so a methotrexate completed in 2019 never reached the card
# while the audit read it. A MedicationStatement is read in every status but not-taken and
# entered-in-error (`statement_not_taken_status`), so all of hers are asked for: a FHIR search
# lists the statuses it wants and has no portable "not" (`status:not` is optional).
def _statuses(*lists: str) -> str:
    return ",".join(sorted(frozenset().union(*(status_list(name) for name in lists))))


_REQUEST_STATUSES = _statuses(
    "active_medication_status", "unknown_medication_status", "care_given_request_status"
)
_ADMINISTRATION_STATUSES = _statuses("care_given_administration_status")
PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    # All her Observations, not a code list: a scan finding may be the value of a generic code
    # ("procedure findings"), and a site's own codes (EARLYPATH_VALUESETS) must be fetched too.
    "observations": "Observation?patient={{context.patientId}}",
    # Each medicines search also asks for the Medications its records name (FHIR R4 `_include`:
    # they come in the Bundle with search.mode "include", no patient of their own), which the
    # reading joins as it joins an export's Medication.ndjson (`medicationReference`
    # "Medication/x": progesterone, or methotrexate for an ectopic). An EHR that ignores
    # `_include` leaves such a medicine unresolved: unknown, never "not progesterone".
    "medications": "MedicationRequest?patient={{context.patientId}}&status="
    + _REQUEST_STATUSES
    + "&_include=MedicationRequest:medication",
    # What she says she takes (a GP record, a medicines reconciliation: UK Core and GP Connect
    # send current medicines as MedicationStatement): half of whether she is on progesterone.
    "statements": "MedicationStatement?patient={{context.patientId}}"
    "&_include=MedicationStatement:medication",
    "allergies": "AllergyIntolerance?patient={{context.patientId}}",
    # Her scan reports: a hospital may send an early pregnancy scan as an ultrasound
    # DiagnosticReport whose findings are only its coded conclusion (a miscarriage, an ectopic).
    # All of them, not a code or category filter: a site's report codes vary.
    "reports": "DiagnosticReport?patient={{context.patientId}}",
    # Her procedures: a GP or hospital record may hold a previous ectopic pregnancy or miscarriage
    # only as what was done for it (a salpingectomy, an evacuation for a missed miscarriage;
    # records/definition.py reads them, stop 31). Optional: what they give is read "yes" or "at
    # least one" only, so a record without them leaves those facts unknown, never "no".
    "procedures": "Procedure?patient={{context.patientId}}",
    # The doses given her (a hospital's record of an injection): read for a methotrexate given for
    # an ectopic pregnancy only, a "yes" (a previous ectopic) and never a "no", so optional as her
    # procedures are. Not read for progesterone: a dose is an event, not a current course (the
    # request or her statement says what she is on). A hospital may record the methotrexate it
    # gave only so, with no request in the record the card is sent.
    "administrations": "MedicationAdministration?patient={{context.patientId}}&status="
    + _ADMINISTRATION_STATUSES
    + "&_include=MedicationAdministration:medication",
    # Her imaging studies (stop 51): a PACS sends one when a scan's images are taken, before its
    # report. An obstetric one with no report read that day holds the decision back (what it
    # shows is unknown; records/definition.py `_IMAGES_ONLY_ROWS`). Optional: it is read "yes"
    # only (a scan not read), never "no", so without it the decision is as before.
    "imaging": "ImagingStudy?patient={{context.patientId}}",
}
# Without these the decision cannot be made: absent and unfetchable -> 412. The statements are
# required as the requests are: without them "not on progesterone" would be read from the
# requests alone, a guess (unknown is never false). An EHR that keeps no MedicationStatement
# sends the key as null or an empty Bundle ("no data"), which is read as none. So are her scan
# reports: without them a report concluding a miscarriage after a confirmed scan would be unseen
# (an offer).
REQUIRED = ("conditions", "observations", "medications", "statements", "reports")


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


def parse_json(raw: bytes, parsed: Any = NOT_PARSED) -> Any:
    """The JSON value `json.loads` gives for `raw`, or None if it is not JSON.

    orjson parses most bodies several times faster; what it refuses (a BOM, UTF-16, NaN, a lone
    surrogate, ...) or might read otherwise (a very long integer) is left to `json.loads`.
    ``parsed``: orjson's value of these very bytes when it was parsed already (by
    `RequestLimits`, to measure its nesting; a body with more than 64 brackets, which is any
    real record): used instead of parsing again, under the same conditions.
    """
    # 19 digits in a row may be an integer beyond 64 bits, which orjson reads as a float
    if not has_long_digit_run(raw):
        if parsed is not NOT_PARSED:
            return parsed
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


async def _json_body(request: Request) -> Any:
    return parse_json(await request.body(), parsed_body(request.scope))


class CdsJSONResponse(JSONResponse):
    """A JSONResponse written by orjson: the same bytes (`earlypath.json_text`), faster.

    Its headers are the two JSONResponse writes, in its order (content-length, content-type),
    set directly: Starlette's general header building was about 2% of a call.
    """

    def __init__(self, content: Any, status_code: int = 200) -> None:
        self._answer(dumps_bytes(content), status_code)

    def _answer(self, body: bytes, status_code: int) -> None:
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
        ]

    def render(self, content: Any) -> bytes:
        return dumps_bytes(content)

    @classmethod
    def of_text(cls, body: bytes) -> CdsJSONResponse:
        """A 200 answer whose JSON text is written already (`decision_response`)."""
        response = cls.__new__(cls)
        response._answer(body, 200)
        return response


def _bad_request(problems: list[tuple[str, str]]) -> JSONResponse:
    return CdsJSONResponse(
        {"errors": [{"field": f, "message": m} for f, m in problems]}, status_code=400
    )


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
    elif not is_fhir_id(context["patientId"]):
        problems.append(("context.patientId", "must be a FHIR id (A-Z a-z 0-9 - ., 1 to 64)"))
    if body.get("fhirAuthorization") is not None and not isinstance(body.get("fhirServer"), str):
        problems.append(("fhirServer", "is required when fhirAuthorization is given"))
    if body.get("fhirServer") is not None and FhirBase.parse(body["fhirServer"]) is None:
        problems.append(
            ("fhirServer", "must be an absolute http(s) URL without user info, query or fragment")
        )
    if "prefetch" in body and not isinstance(body["prefetch"], dict):
        problems.append(("prefetch", "must be an object"))
    return problems


def _refused(field: str, problem: ScopeProblem) -> JSONResponse:
    """Data about another patient, or not tied to her, in the call: nothing is decided (the ids
    and identifiers are not echoed)."""
    return CdsJSONResponse(
        {"errors": [{"field": field, "message": problem.message}]}, status_code=422
    )


def _unavailable(error: DataUnavailable) -> JSONResponse:
    field = f"prefetch.{error.key}" if error.key else "prefetch"
    return CdsJSONResponse(
        {
            "errors": [
                {
                    "field": field,
                    "message": f"FHIR data is not available in full ({error.kind})",
                }
            ]
        },
        status_code=412,
    )


def _draft_entries(draft: Any) -> list[tuple[str | None, dict[str, Any]]]:
    """(fullUrl, resource) of each draft order resource: a Bundle's entries, or a list."""
    if isinstance(draft, dict) and draft.get("resourceType") == "Bundle":
        entry = draft.get("entry")
        entries = entry if isinstance(entry, list) else []
        return [
            (e.get("fullUrl") if isinstance(e.get("fullUrl"), str) else None, e["resource"])
            for e in entries
            if isinstance(e, dict) and isinstance(e.get("resource"), dict)
        ]
    return [(None, r) for r in flatten(draft or []) if isinstance(r, dict)]


def _names(full_url: str | None, resource: dict[str, Any]) -> set[str]:
    """What a selection or a reference may call a draft resource: `Type/id`, id, fullUrl."""
    names = {full_url} if full_url else set()
    if resource.get("id") is not None:
        names |= {f"{resource.get('resourceType')}/{resource['id']}", str(resource["id"])}
    return names


def _draft_orders(context: dict[str, Any], hook: str) -> list[dict[str, Any]]:
    entries = _draft_entries(context.get("draftOrders"))
    medications = {
        name: resource
        for full_url, resource in entries
        if resource.get("resourceType") == "Medication"
        for name in _names(full_url, resource)
    }
    orders = [(full_url, r) for full_url, r in entries if is_progesterone_order(r, medications)]
    selections = context.get("selections")
    if hook == "order-select" and isinstance(selections, list):
        # `MedicationRequest/103` as the spec writes it; also a bare id, the entry's fullUrl
        # (a urn:uuid for an order not yet saved) or an absolute URL.
        chosen = {str(s).strip() for s in selections}
        chosen |= {relative_reference(s) or s for s in chosen}
        orders = [(u, r) for u, r in orders if _names(u, r) & chosen]
    return [r for _, r in orders]


@router.post("/cds-services/{service_id}", summary="Call a CDS service")
async def call_service(service_id: str, request: Request) -> JSONResponse:
    service = SERVICES.get(service_id)
    if service is None:
        return CdsJSONResponse({"errors": [{"field": "id", "message": "no such service"}]}, 404)
    return await answer_call(service, request, await request.body())


async def whole_body(receive: Any) -> bytes:
    """The request body from the ASGI messages, as `Request.body` reads it (`ClientDisconnect`
    when the client goes first), without its stream machinery: a CDS call's body comes in one
    message from `RequestLimits`, and Starlette's read of it cost about 12 us a call."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def answer_call(service: Service, request: Request, raw: bytes) -> JSONResponse:
    """One call of ``service`` with the request body ``raw`` (the client already checked)."""
    body = parse_json(raw, parsed_body(request.scope))
    problems = _check_request(body, service)
    if problems:
        return _bad_request(problems)
    context: dict[str, Any] = body["context"]
    patient_id: str = context["patientId"]
    orders: list[dict[str, Any]] = []
    drafts = context.get("draftOrders")
    # no draft orders (every patient-view call): nothing to walk, and no problem in nothing
    problem = None if drafts is None else scope_problem(drafts, patient_id)
    if problem is not None:
        log.warning("cds %s: 422 (draft order: %s)", service.id, problem.reason)
        return _refused("context.draftOrders", problem)
    if service.hook != "patient-view":
        orders = _draft_orders(context, service.hook)
        if not orders:
            return CdsJSONResponse({"cards": []})
    # the app's values by item (`State.__getitem__`): `state.name` is a failed attribute look-up,
    # an AttributeError raised and caught, then `__getattr__` (about 1 us each, three a call)
    state = request.app.state
    left_out: list[str] = []
    try:
        resources = await gather(PREFETCH, REQUIRED, body, state["fhir_transport"], left_out)
    except DataUnavailable as error:
        log.warning("cds %s: 412 (%s) for prefetch.%s", service.id, error.kind, error.key)
        return _unavailable(error)
    except ForeignPatient as error:
        log.warning("cds %s: 422 (%s) in %s", service.id, error.problem.reason, error.field)
        return _refused(error.field, error.problem)
    today: dt.date = state["today"]()
    zone: str = state["time_zone"]
    mapped = map_resources(resources, today, zone)
    if service.hook == "patient-view" and not has_pregnancy_context(mapped):
        return CdsJSONResponse({"cards": []})  # no pregnancy in the record: nothing to say
    merged = merged_record(resources, patient_id)
    if merged.not_sent and body.get("fhirServer") is not None:
        # the records hers replaces, not sent: asked of the FHIR server (Patient.link `replaces`
        # says to consult them); if it cannot answer, their history stays unknown (blocked)
        try:
            extra = await gather_merged(
                PREFETCH, REQUIRED, body, merged.not_sent, state["fhir_transport"], left_out
            )
        except DataUnavailable as error:
            log.warning("cds %s: merged record unavailable (%s)", service.id, error.kind)
        except ForeignPatient as error:
            log.warning("cds %s: 422 (%s) in %s", service.id, error.problem.reason, error.field)
            return _refused(error.field, error.problem)
        else:
            looked_up = frozenset(merged.not_sent)
            resources = [*resources, *extra]
            mapped = map_resources(resources, today, zone)
            merged = merged_record(resources, patient_id, looked_up)
    if merged.blocked:
        # a record merged away, or one whose merged record was not sent: nothing is decided
        # on it (`earlypath.fhir.merged`); the card names the record to open or to send
        return CdsJSONResponse({"cards": [merged_record_card(merged)]})
    unchecked = unchecked_reason(left_out, resources)
    try:
        # the cards read the progesterone section only (no trace): the pathway sections are not
        # computed
        read = cards_assessment(mapped.episode, state["policy"])
        if service.hook == "patient-view" and unchecked is None:
            # `{"cards": [decision_card(...)]}`'s text, from the card's kept template: by the
            # engine's key, the assessment is built only for a card not kept
            return CdsJSONResponse.of_text(
                cards_response(read, patient_id, mapped.problems, mapped.evidence)
            )
        assessment = read.assessment()
    except InputError as error:
        return CdsJSONResponse({"cards": [problem_card(mapped.problems + error.problems)]})
    if unchecked is not None:
        # no product chosen on a false "no allergies" (see earlypath.web.allergy_check)
        assessment = without_product(assessment, unchecked)
        mapped.problems.append(allergy_problem(unchecked))
    if service.hook == "patient-view":
        return CdsJSONResponse.of_text(
            decision_response(assessment, patient_id, mapped.problems, mapped.evidence)
        )
    cards = order_cards(assessment, orders, patient_id, mapped.problems, mapped.evidence)
    return CdsJSONResponse({"cards": cards})


def warm_up(today: dt.date, policy: Any, time_zone: str | None = None) -> None:
    """Build, before the first call, what a call builds on first use: the compiled record
    reading, the engine's parts for the guideline version in force, the card's text. The first
    call after start-up took about 0.3 s, now it takes what the others do. An empty record is
    read and decided (every fact unknown), then a made-up woman (`card_text.warm_up_cards`); nothing
    is kept but the caches.

    Only a speed-up: should any of it raise (a date with no guideline version in force, a
    broken engine), the service starts as it did without it and each call answers for itself.
    """
    try:
        mapped = map_resources([], today, time_zone)
        # which record reading the calls run: the compiled build or the source exec'd
        log.info("CDS record reading: %s", native.describe(cds_source()))
        log.info("CDS body's long-number check: %s", digit_runs.describe())
        # as a call asks: `cards_assessment` builds the card's key function too
        assessment = cards_assessment(mapped.episode, policy).assessment()
        decision_response(assessment, None, mapped.problems, mapped.evidence)
        dumps_bytes({"cards": []})
        warm_up_cards(today, policy)
    except Exception as error:  # noqa: BLE001 - never a reason not to start
        log.warning("warm-up skipped (%s)", type(error).__name__)


# Each known service by the path that calls it (`/cds-services/{id}`; no id holds a "/", so
# this is the route's one path segment): one dict look-up where a regular expression was matched,
# twice a call (the lane, then `ServiceCalls`).
_SERVICE_BY_PATH: dict[str, Service] = {f"/cds-services/{s.id}": s for s in SERVICES.values()}


def service_called(scope: dict[str, Any]) -> Service | None:
    """The service a request calls (`POST /cds-services/{id}` of a known id), or None."""
    if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
        return _SERVICE_BY_PATH.get(scope["path"])
    return None


def is_service_call(scope: dict[str, Any]) -> bool:
    return service_called(scope) is not None


class ServiceCalls:
    """ASGI middleware: a POST to a CDS service goes straight to `call_service`.

    The same handler and the same client check (`require_cds_client`) as the FastAPI route,
    without the router's matching and dependency solving (about a fifth of a call's CPU apart
    from record reading). Installed innermost, so every other middleware (limits, headers,
    auth-off loopback rule, CORS, QuietErrors) still sees the call. Anything else, an unknown
    service id included, goes on to the router; the route stays for the OpenAPI schema.
    `http_error` answers an HTTPException from the check as the app's handler does.
    """

    def __init__(self, app: Any, *, http_error: Callable[[StarletteHTTPException], Response]):
        self.app = app
        self.http_error = http_error

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        service = service_called(scope)
        if service is None:
            await self.app(scope, receive, send)
            return
        await self.respond(service, scope, receive, send)

    async def respond(
        self,
        service: Service,
        scope: dict[str, Any],
        receive: Any,
        send: Any,
        raw: bytes | None = None,
    ) -> None:
        """Answer a call of ``service``; ``raw`` is its body when already read (the fused lane,
        `earlypath.web.cds_lane`), else it is read from ``receive`` once the client is checked."""
        request = Request(scope, receive, send)
        response: Response
        try:
            await require_cds_client(request)
            if raw is None:
                raw = await whole_body(receive)
            response = await answer_call(service, request, raw)
        except StarletteHTTPException as error:
            response = self.http_error(error)
        await response(scope, receive, send)


@router.post("/cds-services/{service_id}/feedback", summary="Feedback on cards")
async def feedback(service_id: str, request: Request) -> JSONResponse:
    if service_id not in SERVICES:
        return CdsJSONResponse({"errors": [{"field": "id", "message": "no such service"}]}, 404)
    body = await _json_body(request)
    try:
        items = validate_feedback(body)
    except FeedbackError as error:
        return _bad_request(error.problems)
    stored = await run_in_threadpool(request.app.state.feedback.add, service_id, items)
    return CdsJSONResponse({"stored": stored})
