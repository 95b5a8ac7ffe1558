"""CDS Hooks feedback, kept in a database (SQLAlchemy; embedded SQLite by default).

One row per feedback item: which service and card, the outcome, accepted suggestion ids, the
override reason and the user's comment, and when it happened. Never logged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from earlypath.web.database import open_engine


class Base(DeclarativeBase):
    pass


class FeedbackRow(Base):
    __tablename__ = "cds_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = mapped_column(String(200), index=True)
    card: Mapped[str] = mapped_column(String(200), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    accepted_suggestions: Mapped[Any] = mapped_column(JSON, nullable=True)
    override_reason: Mapped[Any] = mapped_column(JSON, nullable=True)
    user_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome_timestamp: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class FeedbackError(ValueError):
    """The feedback body does not follow CDS Hooks 2.0; `problems` name the fields."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))
        self.problems = problems


# Size limits: generous for any real EHR, small enough that a request cannot bloat the database.
MAX_ITEMS = 100
MAX_ID_LENGTH = 200  # card uuid, suggestion id
MAX_SUGGESTIONS = 20
MAX_CODING_TEXT = 500  # reason system, code, display
MAX_COMMENT_LENGTH = 2_000
MAX_TIMESTAMP_LENGTH = 64
# Only the first problems are listed: a body of 10,000 bad items gets a short answer.
MAX_PROBLEMS = 20


def _is_text(value: Any, limit: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit


def _timestamp_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return "is required (ISO 8601 date and time, UTC)"
    if len(value) > MAX_TIMESTAMP_LENGTH:
        return f"is longer than {MAX_TIMESTAMP_LENGTH} characters"
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return "is not an ISO 8601 date and time"
    if "T" not in value.upper() or moment.tzinfo is None:
        return "must be a date and time with a time zone (e.g. 2020-12-11T00:00:00Z)"
    return None


def _accepted_problems(accepted: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(accepted, list) or not accepted:
        return [(where, "is required for 'accepted': [{\"id\": ...}]")]
    if len(accepted) > MAX_SUGGESTIONS:
        return [(where, f"has more than {MAX_SUGGESTIONS} suggestions")]
    return [
        (f"{where}[{j}]", f'must be {{"id": <text of at most {MAX_ID_LENGTH} characters>}}')
        for j, suggestion in enumerate(accepted)
        if not isinstance(suggestion, dict)
        or set(suggestion) != {"id"}
        or not _is_text(suggestion["id"], MAX_ID_LENGTH)
    ]


def _override_problems(reason: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(reason, dict):
        return [(where, "must be an object: {reason: Coding, userComment: text}")]
    problems = []
    unknown = sorted(set(reason) - {"reason", "userComment"})
    if unknown:
        problems.append((where, f"has unknown field(s) {unknown}"))
    coding = reason.get("reason")
    if coding is not None:
        if not isinstance(coding, dict) or not _is_text(coding.get("code"), MAX_CODING_TEXT):
            problems.append((f"{where}.reason", "must be a Coding with a code"))
        else:
            for name in ("system", "display"):
                if name in coding and not _is_text(coding[name], MAX_CODING_TEXT):
                    problems.append(
                        (f"{where}.reason.{name}", f"must be text of at most {MAX_CODING_TEXT}")
                    )
    comment = reason.get("userComment")
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT_LENGTH):
        problems.append(
            (f"{where}.userComment", f"must be text of at most {MAX_COMMENT_LENGTH} characters")
        )
    return problems


def _item_problems(item: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(item, dict):
        return [(where, "must be an object")]
    problems = []
    if not _is_text(item.get("card"), MAX_ID_LENGTH):
        problems.append(
            (f"{where}.card", f"is required (the card uuid, at most {MAX_ID_LENGTH} characters)")
        )
    outcome = item.get("outcome")
    if outcome not in ("accepted", "overridden"):
        problems.append((f"{where}.outcome", "must be 'accepted' or 'overridden'"))
    timestamp = _timestamp_problem(item.get("outcomeTimestamp"))
    if timestamp:
        problems.append((f"{where}.outcomeTimestamp", timestamp))
    if outcome == "accepted":
        problems += _accepted_problems(
            item.get("acceptedSuggestions"), f"{where}.acceptedSuggestions"
        )
        if "overrideReason" in item:
            problems.append((f"{where}.overrideReason", "is only for 'overridden' outcomes"))
    elif outcome == "overridden":
        if "acceptedSuggestions" in item:
            problems.append((f"{where}.acceptedSuggestions", "is only for 'accepted' outcomes"))
        if "overrideReason" in item:
            problems += _override_problems(item["overrideReason"], f"{where}.overrideReason")
    return problems


def validate_feedback(body: Any) -> list[dict[str, Any]]:
    """Check a feedback request body (CDS Hooks 2.0 and the size limits above).

    Returns the feedback items or raises FeedbackError naming each field at fault.
    """
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("feedback"), list)
        or not body["feedback"]
    ):
        raise FeedbackError([("feedback", "must be a non-empty array")])
    items = body["feedback"]
    if len(items) > MAX_ITEMS:
        raise FeedbackError([("feedback", f"has more than {MAX_ITEMS} items")])
    problems: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        problems += _item_problems(item, f"feedback[{i}]")
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise FeedbackError(problems[:MAX_PROBLEMS])
    return items


class FeedbackStore:
    """Feedback in any SQLAlchemy database (see `earlypath.web.database`)."""

    def __init__(self, url: str):
        self.engine: Engine = open_engine(url)
        Base.metadata.create_all(self.engine)

    def add(self, service_id: str, items: list[dict[str, Any]]) -> int:
        now = dt.datetime.now(dt.UTC)
        with Session(self.engine) as session, session.begin():
            for item in items:
                reason = item.get("overrideReason") or {}
                session.add(
                    FeedbackRow(
                        service_id=service_id,
                        card=item["card"],
                        outcome=item["outcome"],
                        accepted_suggestions=item.get("acceptedSuggestions"),
                        override_reason=reason.get("reason"),
                        user_comment=reason.get("userComment"),
                        outcome_timestamp=item["outcomeTimestamp"],
                        received_at=now,
                    )
                )
        return len(items)

    def all(self, service_id: str | None = None) -> list[dict[str, Any]]:
        with Session(self.engine) as session:
            query = select(FeedbackRow).order_by(FeedbackRow.id)
            if service_id:
                query = query.where(FeedbackRow.service_id == service_id)
            return [
                {
                    "service_id": r.service_id,
                    "card": r.card,
                    "outcome": r.outcome,
                    "accepted_suggestions": r.accepted_suggestions,
                    "override_reason": r.override_reason,
                    "user_comment": r.user_comment,
                    "outcome_timestamp": r.outcome_timestamp,
                }
                for r in session.scalars(query)
            ]

    def close(self) -> None:
        self.engine.dispose()
