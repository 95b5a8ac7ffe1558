"""CDS Hooks feedback: the specification's three examples are accepted and kept in the database."""

from __future__ import annotations

import pytest

from earlypath.web.config import Settings, default_feedback_url
from earlypath.web.feedback import FeedbackStore

FEEDBACK = "/cds-services/ng126-progesterone/feedback"

SPEC_ACCEPTED = {
    "feedback": [
        {
            "card": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
            "outcome": "accepted",
            "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
            "outcomeTimestamp": "2020-12-11T00:00:00Z",
        }
    ]
}
SPEC_OVERRIDDEN = {
    "feedback": [
        {
            "card": "f6b95768-b1c8-40dc-8385-bf3504b82ffb",
            "outcome": "overridden",
            "outcomeTimestamp": "2020-12-11T00:00:00Z",
        }
    ]
}
SPEC_OVERRIDDEN_WITH_REASON = {
    "feedback": [
        {
            "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
            "outcome": "overridden",
            "overrideReason": {
                "reason": {
                    "code": "d7ecf885",
                    "system": "https://example.com/cds-hooks/override-reason-system",
                },
                "userComment": "A comment entered by the clinician.",
            },
            "outcomeTimestamp": "2020-12-11T00:00:00Z",
        }
    ]
}


def test_spec_feedback_examples_are_stored(make_client, tmp_path):
    db = tmp_path / "feedback.sqlite3"
    client = make_client(Settings(auth=False, feedback_db=f"sqlite:///{db}"))
    for body in (SPEC_ACCEPTED, SPEC_OVERRIDDEN, SPEC_OVERRIDDEN_WITH_REASON):
        response = client.post(FEEDBACK, json=body)
        assert response.status_code == 200, response.text
    rows = FeedbackStore(f"sqlite:///{db}").all()
    assert [r["card"] for r in rows] == [
        "4e0a3a1e-3283-4575-ab82-028d55fe2719",
        "f6b95768-b1c8-40dc-8385-bf3504b82ffb",
        "9368d37b-283f-44a0-93ea-547cebab93ed",
    ]
    assert rows[0]["accepted_suggestions"] == [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}]
    assert rows[2]["override_reason"]["code"] == "d7ecf885"
    assert rows[2]["user_comment"] == "A comment entered by the clinician."
    assert {r["service_id"] for r in rows} == {"ng126-progesterone"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"feedback": []},
        {"feedback": [{"outcome": "accepted", "outcomeTimestamp": "2020-12-11T00:00:00Z"}]},
        {
            "feedback": [
                {"card": "x", "outcome": "accepted", "outcomeTimestamp": "2020-12-11T00:00:00Z"}
            ]
        },
        {
            "feedback": [
                {"card": "x", "outcome": "maybe", "outcomeTimestamp": "2020-12-11T00:00:00Z"}
            ]
        },
        {"feedback": [{"card": "x", "outcome": "overridden", "outcomeTimestamp": "yesterday"}]},
    ],
)
def test_invalid_feedback_is_400(client, body):
    response = client.post(FEEDBACK, json=body)
    assert response.status_code == 400
    assert response.json()["errors"]


def test_feedback_for_unknown_service_is_404(client):
    assert client.post("/cds-services/nope/feedback", json=SPEC_OVERRIDDEN).status_code == 404


def test_feedback_db_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("EARLYPATH_FEEDBACK_DB", f"sqlite:///{tmp_path / 'x.db'}")
    assert Settings.from_env().feedback_db == f"sqlite:///{tmp_path / 'x.db'}"
    monkeypatch.delenv("EARLYPATH_FEEDBACK_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert Settings.from_env().feedback_db == default_feedback_url()
    assert (
        default_feedback_url()
        == f"sqlite:///{tmp_path / 'data' / 'earlypath' / 'cds-feedback.sqlite3'}"
    )
    store = FeedbackStore(default_feedback_url())  # creates the folder
    assert (tmp_path / "data" / "earlypath").is_dir()
    store.close()
