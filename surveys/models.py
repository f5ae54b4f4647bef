"""Every table of jeugdstem (SQLAlchemy 2 typed models).

Identity is kept apart from answers: ``participants`` hold only a random id, the channel address
lives in ``contacts`` (erasable), and answers point at the participant id only.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    TIMESTAMP,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp; SQLite hands back naive values, which are UTC here."""

    impl = TIMESTAMP(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes and store UTC."""
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use surveys.models.utc_now()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to values SQLite returns without a zone."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


# SQLite has no 64-bit autoincrement for BIGINT; use INTEGER there (same values, rowid alias).
AutoIncrement = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base with the naming convention Alembic relies on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class RoundStatus(StrEnum):
    """Life cycle of a survey round."""

    draft = "draft"
    open = "open"
    closed = "closed"


class ContactStatus(StrEnum):
    """Whether we may send to a channel contact."""

    active = "active"
    stopped = "stopped"


class OutboxStatus(StrEnum):
    """Delivery state of a queued outbound message."""

    pending = "pending"
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"


class Municipality(Base):
    """A tenant: one municipality and its settings."""

    __tablename__ = "municipalities"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class SurveyDefinition(Base):
    """One version of a survey definition; rounds and conversations pin a row."""

    __tablename__ = "survey_definitions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    key: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    bouwsteen: Mapped[int] = mapped_column(Integer)
    sensitive: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Round(Base):
    """A survey round: one definition, an audience and a scope, open for a period."""

    __tablename__ = "rounds"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    municipality_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("municipalities.id", ondelete="CASCADE"), index=True
    )
    definition_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("survey_definitions.id"))
    title: Mapped[str] = mapped_column(String(200))
    bouwsteen: Mapped[int] = mapped_column(Integer)
    audience: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {"wijk": [...], "school": [...], "klas": [...], "age_bands": [...]}
    scope: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=RoundStatus.draft.value)
    start_code: Mapped[str] = mapped_column(String(64), unique=True)
    opens_at: Mapped[datetime | None] = mapped_column(default=None)
    closes_at: Mapped[datetime | None] = mapped_column(default=None)
    retention_days: Mapped[int] = mapped_column(Integer, default=365)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Activity(Base):
    """An activity whose outcomes a bouwsteen 5 round collects (exit tickets)."""

    __tablename__ = "activities"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    municipality_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("municipalities.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    start_code: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Participant(Base):
    """A participant: a random id and nothing else."""

    __tablename__ = "participants"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Contact(Base):
    """How to reach a participant on one channel; kept apart from answers so it can be erased.

    ``address_key`` is a keyed hash (HMAC with the pepper from settings) used for look-ups;
    ``address`` is what the channel needs to deliver (chat id, web session id).
    """

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("channel", "address_key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    participant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(40))
    address_key: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=ContactStatus.active.value)
    language: Mapped[str] = mapped_column(String(8), default="nl")
    active_conversation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Conversation(Base):
    """A participant's progress through one round (and activity), pinned to a definition."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("participant_id", "round_id", "subject"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    participant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), index=True
    )
    activity_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), default=None
    )
    # "" for a plain round, the activity id for an exit ticket (NULL-free for the unique key).
    subject: Mapped[str] = mapped_column(String(40), default="")
    definition_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("survey_definitions.id"))
    state: Mapped[str] = mapped_column(String(20))
    current_question: Mapped[str | None] = mapped_column(String(40), default=None)
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)


class Answer(Base):
    """One answer to one question; free text is stored only after scrubbing."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("conversation_id", "question_key"),
        Index("ix_answers_round_question", "round_id", "question_key"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    participant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    activity_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), default=None
    )
    question_key: Mapped[str] = mapped_column(String(40))
    value: Mapped[Any] = mapped_column(JSON, default=None)
    text: Mapped[str | None] = mapped_column(Text, default=None)
    kind: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class ProcessedEvent(Base):
    """An inbound channel event already handled; the unique key makes handling idempotent."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("channel", "event_key"),)

    id: Mapped[int] = mapped_column(AutoIncrement, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(40))
    event_key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)


class OutboxMessage(Base):
    """A queued outbound message; delivered only after the transaction that queued it commits.

    The integer id orders messages per address (web chat clients acknowledge by id).
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_channel_status_address", "channel", "status", "address"),)

    id: Mapped[int] = mapped_column(AutoIncrement, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(200))
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    payload: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.pending.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


class AuditLog(Base):
    """An append-only record of a sensitive action (never message text)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(AutoIncrement, primary_key=True, autoincrement=True)
    municipality_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str | None] = mapped_column(String(40), default=None)
    object_id: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class SafeguardingSignal(Base):
    """A possible crisis or disclosure, kept apart from answers, the text encrypted.

    Readable only by the safeguarding role of the same municipality; every read is audited.
    Never used for clustering or exports.
    """

    __tablename__ = "safeguarding_signals"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    municipality_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("municipalities.id", ondelete="CASCADE"), index=True, default=None
    )
    round_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("rounds.id", ondelete="SET NULL"), default=None
    )
    participant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), default=None
    )
    question_key: Mapped[str | None] = mapped_column(String(40), default=None)
    category: Mapped[str] = mapped_column(String(16))
    subtype: Mapped[str | None] = mapped_column(String(32), default=None)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)


class ThemeRun(Base):
    """One clustering run over a round's scrubbed answers, with its stored theme summary.

    ``summary`` holds only aggregates (suppressed counts, labels, terms, trend) and, for quotes,
    answer ids: quote texts are read from ``answers`` when shown, so an erased answer disappears
    from every summary at once.
    """

    __tablename__ = "theme_runs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    round_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), index=True
    )
    municipality_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("municipalities.id", ondelete="CASCADE"), index=True
    )
    mode: Mapped[str] = mapped_column(String(16))
    model_version: Mapped[str] = mapped_column(String(80))
    k_min: Mapped[int] = mapped_column(Integer)
    total_respondents: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    model: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class AnswerTheme(Base):
    """Which theme(s) an answer belongs to in a run (cluster membership)."""

    __tablename__ = "answer_themes"
    __table_args__ = (
        UniqueConstraint("run_id", "answer_id", "theme_id"),
        Index("ix_answer_themes_run_theme", "run_id", "theme_id"),
    )

    id: Mapped[int] = mapped_column(AutoIncrement, primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("theme_runs.id", ondelete="CASCADE"))
    answer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("answers.id", ondelete="CASCADE"), index=True
    )
    theme_id: Mapped[str] = mapped_column(String(60))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    primary: Mapped[bool] = mapped_column(default=True)


# --- admin: staff accounts, sessions, tokens ------------------------------------------------


class StaffRole(StrEnum):
    """What a staff member of a municipality may do in the admin."""

    admin = "admin"
    jongerenwerker = "jongerenwerker"
    beleidsmedewerker = "beleidsmedewerker"
    safeguarding = "safeguarding"


class User(Base):
    """A staff account; belongs to exactly one municipality and has one role."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    municipality_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("municipalities.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)


class UserSession(Base):
    """A login session; only the SHA-256 of the cookie value is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    municipality_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("municipalities.id", ondelete="CASCADE")
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime] = mapped_column()


class ApiToken(Base):
    """A bearer token for scripted access; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    municipality_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("municipalities.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


class LoginFailure(Base):
    """A failed login, keyed by a hash of the account or client address (for back-off)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_created", "key", "created_at"),)

    id: Mapped[int] = mapped_column(AutoIncrement, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class RoundOwner(Base):
    """A jongerenwerker who owns (created or was given) a round."""

    __tablename__ = "round_owners"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    municipality_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("municipalities.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


# --- admin: theme edits, quote review, duiding ----------------------------------------------


class ThemeEdit(Base):
    """A reviewer's edit of a round's themes (rename, merge, split), replayed in order."""

    __tablename__ = "theme_edits"

    id: Mapped[int] = mapped_column(AutoIncrement, primary_key=True, autoincrement=True)
    municipality_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("municipalities.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), index=True
    )
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("theme_runs.id", ondelete="CASCADE"))
    operation: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actor: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class QuoteReview(Base):
    """A reviewer's decision on showing one answer as a quote."""

    __tablename__ = "quote_reviews"
    __table_args__ = (UniqueConstraint("round_id", "answer_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    municipality_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("municipalities.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    answer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    theme_id: Mapped[str] = mapped_column(String(60))
    approved: Mapped[bool] = mapped_column(default=False)
    reviewer: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Duiding(Base):
    """A duiding (interpretation) of one or more rounds along the four questions."""

    __tablename__ = "duidingen"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    municipality_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("municipalities.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    round_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {"herkennen": {"notes": {sub_key: text}, "sources": text}, ...}
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)
    signed_off_by: Mapped[str | None] = mapped_column(String(200), default=None)
    signed_off_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class DuidingVersion(Base):
    """A frozen copy of a duiding at sign-off (content, ambities, actions, evidence)."""

    __tablename__ = "duiding_versions"
    __table_args__ = (UniqueConstraint("duiding_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    municipality_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("municipalities.id", ondelete="CASCADE"), index=True
    )
    duiding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("duidingen.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
    signed_off_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Ambitie(Base):
    """A positively phrased ambition (at most three per duiding), linked to themes."""

    __tablename__ = "ambities"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    municipality_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("municipalities.id", ondelete="CASCADE"), index=True
    )
    duiding_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("duidingen.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    theme_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class DuidingAction(Base):
    """An improvement action agreed in a duiding, with an owner and a status."""

    __tablename__ = "duiding_actions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    municipality_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("municipalities.id", ondelete="CASCADE"), index=True
    )
    duiding_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("duidingen.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due: Mapped[str | None] = mapped_column(String(20), default=None)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class MonitorFigure(Base):
    """An existing monitor figure (GGD, CBS, school scan) shown beside the survey evidence."""

    __tablename__ = "monitor_figures"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    municipality_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("municipalities.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(60))
    indicator: Mapped[str] = mapped_column(String(200))
    wijk: Mapped[str] = mapped_column(String(100), default="")
    age_band: Mapped[str] = mapped_column(String(40), default="")
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20), default="%")
    n: Mapped[int | None] = mapped_column(Integer, default=None)
    period: Mapped[str] = mapped_column(String(40), default="")
    method_note: Mapped[str] = mapped_column(Text, default="")
    uploaded_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
