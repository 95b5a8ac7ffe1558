"""Card detail Markdown is built only from escaped text: FHIR strings (and anything else put in
it) show as written and never become HTML, links or images in the EHR.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markdown_it import MarkdownIt

from earlypath.engines.python import assess
from earlypath.errors import Problem
from earlypath.fhir.cards import decision_card, detail_markdown, md, order_cards, problem_card
from earlypath.web import create_app
from earlypath.web.config import Settings
from tests.integration.fhir_data import (
    TODAY,
    bundle,
    eligible_resources,
    hook_request,
    prefetch_for,
    progesterone_order,
)

PAYLOADS = [
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "![img](https://remote.example/pixel.png)",
    "<img src=x onerror=alert(1)>",
    "<https://remote.example/auto>",
    "line one\n# Decision: offer\n- **fake**",
    "`code` *em* _em_ ~~strike~~ | table |",
    "&lt;script&gt; \\[escaped\\]",
]
RENDER = MarkdownIt("commonmark", {"html": True})


def _assert_inert(markdown: str) -> None:
    html = RENDER.render(markdown)
    for bad in ("<script", "<img", "<a ", 'javascript:alert(1)"', "<code", "<h1", "<em"):
        assert bad not in html, (bad, html)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_md_makes_any_text_inert_and_keeps_it_readable(payload):
    _assert_inert(md(payload))
    _assert_inert(f"- {md(payload)}")
    rendered = RENDER.render(md(payload))
    assert "\n" not in md(payload)
    # what a clinician reads is the text as written (line breaks as spaces)
    assert (
        "alert(1)" in rendered
        or "remote.example" in rendered
        or "strike" in rendered
        or "fake" in rendered
        or "escaped" in rendered
    )


def _every_string_replaced(value: Any, payload: str) -> Any:
    if isinstance(value, dict):
        return {k: _every_string_replaced(v, payload) for k, v in value.items()}
    if isinstance(value, list):
        return [_every_string_replaced(v, payload) for v in value]
    return payload if isinstance(value, str) else value


def _assessment() -> dict[str, Any]:
    from earlypath.fhir.mapping import map_resources

    mapped = map_resources(prefetch_for(eligible_resources()), TODAY)
    return assess(mapped.episode)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_detail_escapes_every_value_whatever_its_source(payload):
    assessment = _assessment()
    hostile = _every_string_replaced(copy.deepcopy(assessment), payload)
    hostile["progesterone"]["decision"] = "offer"
    problems = [Problem(payload, payload)]
    evidence = {payload: [payload, "Condition/" + payload]}
    _assert_inert(detail_markdown(hostile, problems, evidence))
    _assert_inert(problem_card(problems)["detail"])
    card = decision_card(assessment, "p", problems, evidence)
    _assert_inert(card["detail"])
    order = progesterone_order(rid="draft" + payload, text="progesterone " + payload)
    for card in order_cards(assessment, [order], "p", problems, evidence):
        _assert_inert(card["detail"])


def test_fhir_strings_reach_cds_cards_escaped():
    client = TestClient(
        create_app(Settings(auth=False, feedback_db="sqlite://"), today=lambda: TODAY)
    )
    payload = " ".join(PAYLOADS[:3])
    resources = eligible_resources()
    resources[0]["id"] = "m1" + payload  # an id FHIR R4 would refuse: echoed as a data problem
    resources[0]["code"]["text"] = payload
    prefetch = prefetch_for(resources)
    prefetch["observations"]["entry"].append(
        {
            "resource": {
                "resourceType": "Observation",
                "id": "x" + payload,
                "code": {"text": payload},
            }
        }
    )
    response = client.post(
        "/cds-services/ng126-progesterone", json=hook_request("patient-view", prefetch)
    )
    details = [card["detail"] for card in response.json()["cards"]]
    order = progesterone_order(rid="d1" + payload, text="progesterone " + payload)
    response = client.post(
        "/cds-services/ng126-progesterone-order-sign",
        json=hook_request(
            "order-sign", prefetch_for(eligible_resources()), draftOrders=bundle([order])
        ),
    )
    details += [card["detail"] for card in response.json()["cards"]]
    assert any("Observation/x" in d for d in details)
    assert any("MedicationRequest/d1" in d for d in details)
    for detail in details:
        assert "<script" not in detail and "](javascript:" not in detail and "![" not in detail
        _assert_inert(detail)
