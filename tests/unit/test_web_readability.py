"""The page for women reads at about age 11: Flesch-Kincaid grade <= 6 (reading age = grade + 5)."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from fastapi.testclient import TestClient

from earlypath.web import create_app
from earlypath.web.config import Settings


def syllables(word: str) -> int:
    w = re.sub(r"[^a-z]", "", word.lower())
    if len(w) <= 3:
        return 1
    w = re.sub(r"(?:es|ed|e)$", "", w) or w
    return max(1, len(re.findall(r"[aeiouy]+", w)))


def grade(text: str) -> float:
    sentences = [s for s in re.split(r"[.!?:]+\s|\n", text) if re.search(r"[A-Za-z]", s)]
    words = re.findall(r"[A-Za-z']+", text)
    syl = sum(syllables(w) for w in words)
    return 0.39 * len(words) / len(sentences) + 11.8 * syl / len(words) - 15.59


@pytest.fixture(scope="module")
def client():
    return TestClient(
        create_app(Settings(auth=False, feedback_db="sqlite://"), today=lambda: dt.date(2024, 3, 4))
    )


@pytest.mark.parametrize(
    "answers",
    [
        {"scan": "womb", "bleeding": "yes", "miscarriages": "1", "period": "2024-01-15"},
        {"scan": "womb", "bleeding": "no", "miscarriages": "0", "period": "2024-01-15"},
        {"scan": "outside", "bleeding": "yes", "miscarriages": "2"},
        {"scan": "dont_know", "bleeding": "dont_know", "miscarriages": "dont_know"},
        {"scan": "womb", "bleeding": "heavy", "pain": "bad", "miscarriages": "1"},
        {"scan": "unclear", "bleeding": "yes", "pain": "mild", "miscarriages": "0"},
        {"scan": "womb", "bleeding": "yes", "miscarriages": "1"},  # no period date
        {"scan": "womb", "bleeding": "yes", "miscarriages": "2", "period": "2024-01-15"},
    ],
)
def test_answer_reads_at_about_age_11(client, answers):
    page = client.post("/check", data=answers).text
    # What she reads about her answer: the urgent advice, the answer, the note for her doctor.
    parts = re.findall(
        r'<div class="urgent".*?</div>|<section class="(?:result|note).*?</section>', page, re.S
    )
    assert parts
    text = html.unescape(re.sub(r"<[^>]+>", "\n", "\n".join(parts)))
    assert grade(text) <= 6.0, grade(text)


def test_questions_read_at_about_age_11(client):
    page = client.get("/check").text
    form = re.search(r"<form.*?</form>", page, re.S).group(0)
    text = html.unescape(re.sub(r"<[^>]+>", "\n", form))
    assert grade(text) <= 6.0, grade(text)
