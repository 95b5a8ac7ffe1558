"""The impact page over HTTP: the scenario switch, local inputs computed by the model, errors
beside their fields, and the site navigation shared with the other pages."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

from earlypath.impact.model import OUTPUTS
from earlypath.impact.page import SITE_NAV, _fmt
from earlypath.impact.run import run_impact

BASE_TEMPLATE = Path(__file__).parents[2] / "earlypath/web/templates/base.html"
LOCAL = {"births_per_year": "6000", "share_previous_miscarriage": "30", "uptake": "80"}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _current_scenario(html: str) -> str:
    return re.search(r'<a href="[^"]*"\s+aria-current="page">([^<]+)</a></li>', html).group(1)


def test_the_scenario_switch_shows_the_scenario_clicked(client) -> None:
    html = client.get("/impact?scenario=coomarasamy-2020").text
    assert _current_scenario(html) == "coomarasamy-2020"
    assert "8,450" in html and "Coomarasamy" in _text(html.split('id="outputs-h"')[0])
    national = client.get("/impact").text
    assert _current_scenario(national) == "nice-2021"
    assert "7,200" in national and "8,450" not in national


def test_local_inputs_give_the_models_result_and_interval(client) -> None:
    response = client.get("/impact", params={"scenario": "coomarasamy-2020", **LOCAL})
    assert response.status_code == 200
    expected = run_impact(
        "coomarasamy-2020",
        overrides=["births_per_year=6000", "share_previous_miscarriage=0.3", "uptake=0.8"],
    )
    answer = _text(response.text.split('class="answer"')[1].split("</div>")[0])
    assert "For 6,000 births a year" in answer
    for name in ("eligible_women", "additional_live_births", "total_drug_cost_gbp"):
        s = expected.intervals[name]
        assert (
            f"{_fmt(name, expected.point[name])} {OUTPUTS[name]} (95% interval "
            f"{_fmt(name, s.low)} to {_fmt(name, s.high)})"
        ) in answer
    # 6000 x share bleeding x share IUP x 0.3 x 0.8: far below the national figure
    assert expected.point["treated_women"] < 2000
    # the inputs table marks the local figures as the user's
    assert "set by the user" in response.text


def test_empty_local_inputs_keep_the_scenarios_values(client) -> None:
    html = client.get("/impact?scenario=nice-2021&births_per_year=&uptake=").text
    assert 'class="answer"' not in html
    assert "reproduces" in html


def test_the_scenario_links_keep_the_local_inputs(client) -> None:
    html = client.get("/impact", params={"scenario": "nice-2021", **LOCAL}).text
    links = re.findall(r'<li><a href="([^"]+)"', html.split('aria-label="Scenarios"')[1])
    other = unescape(next(h for h in links if "coomarasamy-2020" in h))
    assert "births_per_year=6000" in other and "uptake=80" in other
    switched = client.get(other).text
    assert _current_scenario(switched) == "coomarasamy-2020"
    assert "For 6,000 births a year" in _text(switched)


def test_bad_local_inputs_are_named_beside_their_field(client) -> None:
    response = client.get(
        "/impact", params={"births_per_year": "lots", "uptake": "120", "scenario": "nice-2021"}
    )
    assert response.status_code == 400
    html = response.text
    assert "There is a problem" in html
    for name, words in (
        ("births_per_year", "Births a year in your area: enter a number"),
        ("uptake", "Uptake (%): enter a number from 0 to 100"),
    ):
        field = html.split(f'<label for="{name}">')[1].split("</div>")[0]
        assert words in unescape(field)
        assert 'aria-invalid="true"' in field
        assert f'href="#{name}"' in html  # the summary links to the field
    assert 'class="answer"' not in html  # no local result from half the inputs
    assert 'value="lots"' in html  # what was typed is shown back


def test_an_unknown_scenario_is_an_error_naming_it(client) -> None:
    response = client.get("/impact?scenario=nice-2099")
    assert response.status_code == 400
    assert "Choose a scenario: nice-2021 or coomarasamy-2020" in response.text


def test_births_above_the_models_range_are_refused_in_words(client) -> None:
    response = client.get("/impact?births_per_year=9000000")
    assert response.status_code == 400
    field = response.text.split('<label for="births_per_year">')[1].split("</div>")[0]
    assert "enter a whole number from 1 to 5,000,000" in field


def test_the_site_navigation_is_the_same_on_every_page(client) -> None:
    template_links = re.findall(
        r'<a href="([^"]+)">([^<]+)</a>', BASE_TEMPLATE.read_text().split("</nav>")[0]
    )
    assert [(h, unescape(t)) for h, t in template_links] == list(SITE_NAV)
    impact = client.get("/impact").text
    header = impact.split("<header")[1].split("</header>")[0]
    assert [h for h, _ in SITE_NAV] == re.findall(r'<a href="([^"]+)"', header)
    assert 'href="/impact" aria-current="page"' in header
    for path in ("/", "/check"):
        assert 'href="/impact"' in client.get(path).text


def test_a_percent_sign_and_thousands_separator_are_accepted(client) -> None:
    response = client.get(
        "/impact", params={"births_per_year": "6,000", "uptake": "80%", "scenario": "nice-2021"}
    )
    assert response.status_code == 200
    assert "For 6,000 births a year" in _text(response.text)
    assert "uptake=0.8" in response.text
