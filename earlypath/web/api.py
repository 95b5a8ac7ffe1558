"""The JSON API: POST /api/assess (the CLI's `assess`, over HTTP) and GET /api/schema."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from earlypath.engines.python import assess_json
from earlypath.errors import InputError
from earlypath.model import episode_json_schema, parse_episode_json
from earlypath.policy import Policy
from earlypath.web.schemas import ref

router = APIRouter(prefix="/api", tags=["API"])


def errors_response(problems: list[Any], status: int = 422) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"field": p.field, "message": p.message} for p in problems]},
        status_code=status,
    )


_ERRORS = {
    "description": "Invalid input: one entry per problem, naming the field",
    "content": {"application/json": {"schema": ref("Errors")}},
}


@router.post(
    "/assess",
    summary="Assess an episode",
    description="Takes an episode (the input contract) and returns the assessment, exactly as "
    "`earlypath assess` prints it.",
    response_class=Response,
    responses={
        200: {
            "description": "The assessment",
            "content": {"application/json": {"schema": ref("Assessment")}},
        },
        422: _ERRORS,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ref("Episode")}},
        }
    },
)
async def assess_episode(
    request: Request,
    stop_at: str = Query(
        "16+0",
        pattern=r"^16\+[06]$",
        description="Policy: stop progesterone at 16+0 (default) or 16+6.",
    ),
) -> Response:
    body = await request.body()
    try:
        # Both can refuse the input: the contract, and the engine (e.g. an unknown NG126 version).
        # assess_json: byte for byte the JSON text of `assess`, built from kept section texts.
        text = assess_json(parse_episode_json(body), Policy(stop_at=stop_at))  # type: ignore[arg-type]
    except InputError as error:
        return errors_response(error.problems)
    return Response(text + b"\n", media_type="application/json")


@router.get(
    "/schema",
    summary="The input contract as JSON Schema",
    responses={
        200: {
            "description": "JSON Schema (draft 2020-12) of the episode",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def schema() -> dict[str, Any]:
    return episode_json_schema()
