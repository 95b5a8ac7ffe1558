"""A CDS call reads the app's values (settings, today, policy, FHIR transport) by item.

`app.state.name` on Starlette's `State` is a failed attribute look-up (an AttributeError raised
and caught) before `State.__getattr__` answers: about 1 us each, four a call (stop 31). The
service reads `state["name"]` instead, the same dict, so a value changed after start-up is still
the one read.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.datastructures import State

from tests.integration.fhir_data import eligible_resources, hook_request, prefetch_for

PV = "/cds-services/ng126-progesterone"


@pytest.fixture
def attribute_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names read from any `State` through `__getattr__` (the real one answers)."""
    names: list[str] = []
    real = State.__getattr__

    def counted(self: State, key: Any) -> Any:
        names.append(key)
        return real(self, key)

    monkeypatch.setattr(State, "__getattr__", counted)
    return names


def test_a_patient_view_call_reads_the_app_state_by_item(client, attribute_reads):
    body = hook_request("patient-view", prefetch_for(eligible_resources()))
    client.post(PV, json=body)  # the first call: warm-up and start-up reads are not the call's
    attribute_reads.clear()
    response = client.post(PV, json=body)
    assert response.status_code == 200, response.text
    assert "Offer" in response.json()["cards"][0]["summary"]
    read = set(attribute_reads)
    assert not read & {"settings", "today", "policy", "fhir_transport", "verifier"}, read

    # the same dict: a value set after start-up (as a test or a site does) is the one read
    original = client.app.state["today"]
    asked: list[bool] = []

    def today() -> Any:
        asked.append(True)
        return original()

    client.app.state.today = today
    response = client.post(PV, json=body)
    assert response.status_code == 200, response.text
    assert asked == [True]
