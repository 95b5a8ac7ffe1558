"""The HTML pages over HTTP (no browser): forms, results, errors, pathway sections, /impact."""

from __future__ import annotations

from earlypath.web import pages

ELIGIBLE = {
    "assessed_on": "2024-03-04",
    "previous_miscarriages": "1",
    "vaginal_bleeding": "yes",
    "lmp": "2024-01-15",
    "scans-0-location": "intrauterine",
    "scans-0-date": "2024-03-04",
    "scans-0-fetal_pole": "yes",
    "scans-0-fetal_heartbeat": "yes",
    "scans-0-crl_mm": "9.5",
}


def test_clinician_page_prefills_the_date_of_assessment_only(client):
    html = client.get("/").text
    assert 'value="2024-03-04"' in html  # today (fixed in tests)
    assert 'value="2024-01-15"' not in html  # no made-up LMP
    assert "<script" not in html  # no JavaScript needed


def test_clinician_offer_with_plan(client):
    html = client.post("/", data=ELIGIBLE).text
    for needle in (
        "Offer vaginal micronised progesterone 400 mg twice daily",
        "6 May 2024",
        "1.5.2",
        "23 August 2023",
        "56 capsules",
        "252 capsules",
        "Off-label",
        "Print summary",
    ):
        assert needle in html, needle


def test_clinician_policy_16_plus_6(client):
    html = client.post("/", data={**ELIGIBLE, "stop_at": "16+6"}).text
    assert "12 May 2024" in html
    assert client.post("/", data={**ELIGIBLE, "stop_at": "18+0"}).status_code == 422


def test_clinician_errors_are_shown_with_links(client):
    response = client.post("/", data={**ELIGIBLE, "scans-0-crl_mm": "abc"})
    assert response.status_code == 422
    assert 'href="#scans-0-crl_mm"' in response.text
    response = client.post("/", data={**ELIGIBLE, "scans-0-date": "2024-03-09"})
    assert response.status_code == 422
    assert 'href="#scans-0-date"' in response.text
    assert "Must not be after the date of assessment" in response.text


def test_pathway_sections_render_generically(client, monkeypatch):
    real = pages.assess

    def with_future_section(episode, policy):
        result = real(episode, policy)
        result["future_topic"] = {
            "decision": "offer_something",
            "recommendation": "Do the new thing.",
            "reasons": ["Because of a new rule."],
            "due_on": "2024-03-11",
            "trace": {"branch": "x"},
        }
        return result

    monkeypatch.setattr(pages, "assess", with_future_section)
    html = client.post("/", data=ELIGIBLE).text
    for needle in (
        "Future topic",
        "Offer something",
        "Do the new thing.",
        "Because of a new rule.",
        "Due on",
        "11 March 2024",
    ):
        assert needle in html, needle


def test_check_page(client):
    html = client.get("/check").text
    assert "I don&#39;t know" in html or "I don't know" in html
    answer = client.post(
        "/check",
        data={"scan": "womb", "bleeding": "yes", "miscarriages": "1", "period": "2024-01-15"},
    ).text
    assert "NICE says you should be offered progesterone" in answer and "6 May 2024" in answer
    bad = client.post("/check", data={"scan": "womb", "period": "2030-01-01"})
    assert bad.status_code == 422 and 'href="#period"' in bad.text


def test_static_css_is_served(client):
    response = client.get("/static/earlypath.css")
    assert response.status_code == 200 and "@media print" in response.text


def test_impact_page_when_present(client):
    response = client.get("/impact")
    assert response.status_code in (200, 404)
    assert "<html" in response.text.lower()


def test_clinician_page_accepts_a_pasted_episode(client):
    episode = (
        '{"assessed_on": "2024-03-04", "previous_miscarriages": 2, "vaginal_bleeding": true, "scans": ['
        '{"date": "2024-02-20", "location": "unknown"},'
        '{"date": "2024-03-04", "location": "intrauterine", "fetal_pole": true, "crl_mm": 9.5}]}'
    )
    html = client.post("/", data={"episode_json": episode}).text
    assert "Offer vaginal micronised progesterone" in html and "6 May 2024" in html
    bad = client.post(
        "/", data={"episode_json": '{"assessed_on": "2024-03-04", "scans": [{"date": "x"}]}'}
    )
    assert (
        bad.status_code == 422
        and "Scan 1: scan date" in bad.text
        and "scans[0]" not in bad.text
        and 'href="#episode_json"' in bad.text
    )
