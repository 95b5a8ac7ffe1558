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


def validate_feedback(body: Any) -> list[dict[str, Any]]:
    """Check a feedback request body; returns the feedback items or raises FeedbackError."""
    problems: list[tuple[str, str]] = []
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("feedback"), list)
        or not body["feedback"]
    ):
        raise FeedbackError([("feedback", "must be a non-empty array")])
    items = body["feedback"]
    for i, item in enumerate(items):
        where = f"feedback[{i}]"
        if not isinstance(item, dict):
            problems.append((where, "must be an object"))
            continue
        if not isinstance(item.get("card"), str) or not item["card"]:
            problems.append((f"{where}.card", "is required (the card uuid)"))
        if item.get("outcome") not in ("accepted", "overridden"):
            problems.append((f"{where}.outcome", "must be 'accepted' or 'overridden'"))
        if not isinstance(item.get("outcomeTimestamp"), str):
            problems.append((f"{where}.outcomeTimestamp", "is required (ISO timestamp)"))
        else:
            try:
                dt.datetime.fromisoformat(item["outcomeTimestamp"].replace("Z", "+00:00"))
            except ValueError:
                problems.append((f"{where}.outcomeTimestamp", "is not an ISO timestamp"))
        accepted = item.get("acceptedSuggestions")
        accepted_ok = (
            isinstance(accepted, list)
            and bool(accepted)
            and all(isinstance(a, dict) and isinstance(a.get("id"), str) for a in accepted)
        )
        if item.get("outcome") == "accepted" and not accepted_ok:
            problems.append(
                (f"{where}.acceptedSuggestions", "is required for 'accepted': [{\"id\": ...}]")
            )
        reason = item.get("overrideReason")
        if reason is not None and not isinstance(reason, dict):
            problems.append((f"{where}.overrideReason", "must be an object"))
    if problems:
        raise FeedbackError(problems)
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
