"""Domain services over the database. They flush when they need ids but never commit.

The caller (a web request, an inbound message, a job) owns the transaction.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar, cast

from sqlalchemy import (
    Select,
    Table,
    TextClause,
    bindparam,
    delete,
    func,
    select,
    tuple_,
    update,
)
from sqlalchemy import insert as insert_
from sqlalchemy import text as sql_text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.definitions import Definition, dump_definition, parse_definition
from surveys.exceptions import Conflict, NotFound
from surveys.models import (
    Activity,
    Answer,
    AuditLog,
    Base,
    Contact,
    ContactStatus,
    Conversation,
    Municipality,
    OutboxMessage,
    OutboxStatus,
    Participant,
    ProcessedEvent,
    Round,
    RoundStatus,
    SafeguardingSignal,
    SurveyDefinition,
    utc_now,
)
from surveys.privacy.quarantine import decrypt_text, encrypt_text

T = TypeVar("T", bound=tuple[Any, ...])
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes get typed over


def scoped(statement: Select[T], municipality_id: uuid.UUID, model: Any = Round) -> Select[T]:
    """Restrict ``statement`` to one municipality; every tenant query goes through here."""
    return statement.where(model.municipality_id == municipality_id)


def new_start_code(prefix: str = "") -> str:
    """Return a random, typeable start code (base64url-safe, well under Telegram's 64 chars)."""
    return prefix + "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


async def record_audit(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    municipality_id: uuid.UUID | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append an audit record (never message text or addresses)."""
    session.add(
        AuditLog(
            municipality_id=municipality_id,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=detail or {},
        )
    )


def _table(model: type[Base]) -> Table:
    """The Core table of a model (bulk statements skip the ORM's per-row bookkeeping)."""
    return cast(Table, model.__table__)


def outbox_table() -> Table:
    """The Core ``outbox`` table (the sender's claim and settle statements use it)."""
    return _table(OutboxMessage)


def _insert_for(session: AsyncSession) -> Any:
    """The dialect's INSERT construct (both support ON CONFLICT)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


# --- inbound de-duplication ------------------------------------------------------------------


async def claim_event(session: AsyncSession, *, channel: str, event_key: str) -> bool:
    """Record an inbound event; return False when it was handled before."""
    return bool(await claim_events(session, [(channel, event_key)]))


async def claim_events(
    session: AsyncSession, keys: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Record inbound events ``(channel, event_key)``; return those not handled before.

    One ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` for all of them, so a concurrent
    duplicate waits for the first transaction and then finds the row, instead of failing the
    whole unit of work. Keys are cut to 128 characters (the column width).
    """
    unique = {(channel, key[:128]) for channel, key in keys}
    if not unique:
        return set()
    now = utc_now()
    rows = [{"channel": c, "event_key": k, "created_at": now} for c, k in sorted(unique)]
    table = _table(ProcessedEvent)
    stmt = _insert_for(session)(table).on_conflict_do_nothing()
    result = await session.execute(stmt.returning(table.c.channel, table.c.event_key), rows)
    return {(str(c), str(k)) for c, k in result.all()}


# --- definitions, municipalities, rounds -----------------------------------------------------


# Definition rows never change once stored (a new version is a new row), so a parsed copy
# can be kept per process and the hot path skips both the query and the YAML parse.
_DEFINITIONS: dict[uuid.UUID, Definition] = {}


async def get_definition(session: AsyncSession, definition_id: uuid.UUID) -> Definition:
    """Return the parsed definition version ``definition_id`` (loaded once per process)."""
    cached = _DEFINITIONS.get(definition_id)
    if cached is not None:
        return cached
    source = await session.scalar(
        select(SurveyDefinition.source).where(SurveyDefinition.id == definition_id)
    )
    if source is None:
        raise NotFound(f"survey definition {definition_id} not found")
    definition = parse_definition(source, name=f"definition {definition_id}")
    if len(_DEFINITIONS) < 1024:
        _DEFINITIONS[definition_id] = definition
    return definition


async def register_definition(session: AsyncSession, definition: Definition) -> SurveyDefinition:
    """Store a definition version, or return the stored row if that key and version exist."""
    existing = await session.scalar(
        select(SurveyDefinition).where(
            SurveyDefinition.key == definition.key, SurveyDefinition.version == definition.version
        )
    )
    if existing is not None:
        return existing
    row = SurveyDefinition(
        key=definition.key,
        version=definition.version,
        title=definition.title.nl,
        bouwsteen=definition.bouwsteen,
        sensitive=definition.sensitive,
        source=dump_definition(definition),
    )
    session.add(row)
    await session.flush()
    return row


async def create_municipality(
    session: AsyncSession, *, slug: str, name: str, settings: dict[str, Any] | None = None
) -> Municipality:
    """Create a tenant."""
    row = Municipality(slug=slug, name=name, settings=settings or {})
    session.add(row)
    await session.flush()
    return row


async def get_municipality(session: AsyncSession, slug: str) -> Municipality:
    """Return the municipality with ``slug``."""
    row = await session.scalar(select(Municipality).where(Municipality.slug == slug))
    if row is None:
        raise NotFound(f"municipality '{slug}' not found")
    return row


async def create_round(
    session: AsyncSession,
    *,
    municipality_id: uuid.UUID,
    definition: SurveyDefinition,
    title: str,
    audience: Sequence[str],
    scope: dict[str, Any] | None = None,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    retention_days: int = 365,
    start_code: str | None = None,
) -> Round:
    """Create a round in draft status."""
    row = Round(
        municipality_id=municipality_id,
        definition_id=definition.id,
        title=title,
        bouwsteen=definition.bouwsteen,
        audience=list(audience),
        scope=scope or {},
        status=RoundStatus.draft.value,
        start_code=start_code or new_start_code(),
        opens_at=opens_at,
        closes_at=closes_at,
        retention_days=retention_days,
    )
    session.add(row)
    await session.flush()
    return row


async def create_activity(
    session: AsyncSession,
    *,
    round_: Round,
    name: str,
    description: str = "",
    start_code: str | None = None,
) -> Activity:
    """Create an activity whose exit tickets go into bouwsteen 5 round ``round_``."""
    if round_.bouwsteen != 5:
        raise Conflict("activities belong to a bouwsteen 5 round")
    row = Activity(
        municipality_id=round_.municipality_id,
        round_id=round_.id,
        name=name,
        description=description,
        start_code=start_code or new_start_code(),
    )
    session.add(row)
    await session.flush()
    return row


async def find_round(
    session: AsyncSession, ref: str, municipality_id: uuid.UUID | None = None
) -> Round:
    """Find a round by id or start code (optionally within one municipality)."""
    stmt = select(Round)
    try:
        stmt = stmt.where(Round.id == uuid.UUID(ref))
    except ValueError:
        stmt = stmt.where(Round.start_code == ref)
    if municipality_id is not None:
        stmt = scoped(stmt, municipality_id)
    row = await session.scalar(stmt)
    if row is None:
        raise NotFound(f"round '{ref}' not found")
    return row


async def set_round_status(
    session: AsyncSession, round_: Round, status: RoundStatus, *, actor: str = "system"
) -> Round:
    """Open or close a round and audit it."""
    if round_.status == status.value:
        return round_
    if round_.status == RoundStatus.closed.value and status == RoundStatus.open:
        raise Conflict("a closed round cannot be opened again; create a new round")
    round_.status = status.value
    now = utc_now()
    if status == RoundStatus.open and (round_.opens_at is None or round_.opens_at > now):
        round_.opens_at = now
    if status == RoundStatus.closed:
        round_.closes_at = now
    await record_audit(
        session,
        actor=actor,
        action=f"round.{status.value}",
        municipality_id=round_.municipality_id,
        object_type="round",
        object_id=str(round_.id),
    )
    await session.flush()
    return round_


def round_status(round_: Round, now: datetime) -> Literal["open", "closed", "not_open"]:
    """Whether a round accepts answers at ``now`` (status plus schedule).

    A draft round with an opening time is scheduled: it opens by itself at that time, so no
    background job has to flip its status.
    """
    if round_.status == RoundStatus.closed.value:
        return "closed"
    if round_.closes_at is not None and now >= round_.closes_at:
        return "closed"
    if round_.opens_at is None:
        return "open" if round_.status == RoundStatus.open.value else "not_open"
    return "open" if now >= round_.opens_at else "not_open"


async def previous_round(session: AsyncSession, round_: Round) -> Round | None:
    """The latest earlier round of the same survey in the same municipality (for trends)."""
    key = select(SurveyDefinition.key).where(SurveyDefinition.id == round_.definition_id)
    stmt = (
        scoped(select(Round), round_.municipality_id)
        .join(SurveyDefinition, SurveyDefinition.id == Round.definition_id)
        .where(
            Round.id != round_.id,
            Round.created_at < round_.created_at,
            SurveyDefinition.key == key.scalar_subquery(),
        )
        .order_by(Round.created_at.desc())
        .limit(1)
    )
    previous: Round | None = await session.scalar(stmt)
    return previous


@dataclass(frozen=True)
class RoundCount:
    """A round with its live counts (for the admin page and the CLI)."""

    round: Round
    municipality: str
    started: int
    completed: int
    answers: int


async def list_rounds(
    session: AsyncSession, municipality_id: uuid.UUID | None = None
) -> list[RoundCount]:
    """List rounds with started/completed conversations and stored answers."""
    started = (
        select(Conversation.round_id, func.count().label("n"))
        .group_by(Conversation.round_id)
        .subquery()
    )
    completed = (
        select(Conversation.round_id, func.count().label("n"))
        .where(Conversation.completed_at.is_not(None))
        .group_by(Conversation.round_id)
        .subquery()
    )
    answers = select(Answer.round_id, func.count().label("n")).group_by(Answer.round_id).subquery()
    stmt = (
        select(
            Round,
            Municipality.name,
            func.coalesce(started.c.n, 0),
            func.coalesce(completed.c.n, 0),
            func.coalesce(answers.c.n, 0),
        )
        .join(Municipality, Municipality.id == Round.municipality_id)
        .outerjoin(started, started.c.round_id == Round.id)
        .outerjoin(completed, completed.c.round_id == Round.id)
        .outerjoin(answers, answers.c.round_id == Round.id)
        .order_by(Municipality.name, Round.created_at)
    )
    if municipality_id is not None:
        stmt = scoped(stmt, municipality_id)
    rows = await session.execute(stmt)
    return [RoundCount(r, name, int(s), int(c), int(a)) for r, name, s, c, a in rows.tuples().all()]


# --- participants, contacts, conversations ---------------------------------------------------


async def resolve_start_code(
    session: AsyncSession, code: str
) -> tuple[Round, Activity | None] | None:
    """Return the round (and activity) a start code names, or None if it names nothing."""
    code = code.strip()
    if not code or len(code) > 64:
        return None
    round_ = await session.scalar(select(Round).where(Round.start_code == code))
    if round_ is not None:
        return round_, None
    activity = await session.scalar(select(Activity).where(Activity.start_code == code))
    if activity is None:
        return None
    round_ = await session.get(Round, activity.round_id)
    return (round_, activity) if round_ is not None else None


async def get_or_create_contacts(
    session: AsyncSession, wanted: Sequence[tuple[str, str, str]]
) -> dict[tuple[str, str], Contact]:
    """Find the contacts for ``(channel, address_key, address)``, creating missing ones.

    A new contact gets a new participant. Two statements load the known ones and insert the
    rest (``ON CONFLICT DO NOTHING``: a concurrent first message from the same address wins,
    and its contact is used); participants left unused by such a race are removed again.

    Returns:
        The contacts by ``(channel, address_key)``.
    """
    by_key = {(channel, key): address for channel, key, address in wanted}
    if not by_key:
        return {}
    found = await _load_contacts(session, list(by_key))
    missing = [k for k in by_key if k not in found]
    if missing:
        now = utc_now()
        people = {k: uuid.uuid4() for k in missing}
        await session.execute(
            insert_(_table(Participant)),
            [{"id": pid, "created_at": now} for pid in people.values()],
        )
        stmt = _insert_for(session)(_table(Contact)).on_conflict_do_nothing()
        rows = [
            {
                "id": uuid.uuid4(),
                "participant_id": people[(channel, key)],
                "channel": channel,
                "address_key": key,
                "address": by_key[(channel, key)],
                "status": ContactStatus.active.value,
                "language": "nl",
                "created_at": now,
            }
            for channel, key in missing
        ]
        result = await session.execute(stmt.returning(_table(Contact).c.participant_id), rows)
        used = {pid for (pid,) in result.all()}
        unused = [pid for pid in people.values() if pid not in used]
        if unused:
            await session.execute(delete(Participant).where(Participant.id.in_(unused)))
        found.update(await _load_contacts(session, missing))
    return found


async def _load_contacts(
    session: AsyncSession, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Contact]:
    found: dict[tuple[str, str], Contact] = {}
    for channel in {c for c, _ in keys}:
        stmt = select(Contact).where(
            Contact.channel == channel,
            Contact.address_key.in_([k for c, k in keys if c == channel]),
        )
        for contact in await session.scalars(stmt):
            found[(contact.channel, contact.address_key)] = contact
    return found


async def get_or_create_conversation(
    session: AsyncSession, *, participant_id: uuid.UUID, round_: Round, activity: Activity | None
) -> Conversation:
    """Return the participant's conversation in a round (and activity), creating it if new."""
    found = await get_or_create_conversations(session, [(participant_id, round_, activity)])
    return next(iter(found.values()))


ConversationKey = tuple[uuid.UUID, uuid.UUID, str]


def conversation_key(
    participant_id: uuid.UUID, round_: Round, activity: Activity | None
) -> ConversationKey:
    """``(participant_id, round_id, subject)``: the subject is the activity id or ``""``."""
    return (participant_id, round_.id, str(activity.id) if activity else "")


async def get_or_create_conversations(
    session: AsyncSession, wanted: Sequence[tuple[uuid.UUID, Round, Activity | None]]
) -> dict[ConversationKey, Conversation]:
    """Return conversations for ``(participant_id, round, activity)``, creating missing ones.

    A concurrent creation of the same conversation wins (``ON CONFLICT DO NOTHING``) and its
    row is used.

    Returns:
        The conversations by ``(participant_id, round_id, subject)``; the subject is the
        activity id as text, or ``""`` for the round itself.
    """
    by_key: dict[ConversationKey, tuple[Round, Activity | None]] = {
        conversation_key(pid, round_, activity): (round_, activity)
        for pid, round_, activity in wanted
    }
    if not by_key:
        return {}
    found = await _load_conversations(session, list(by_key))
    missing = [k for k in by_key if k not in found]
    if missing:
        now = utc_now()
        rows: list[dict[str, Any]] = []
        for pid, round_id, subject in missing:
            round_, activity = by_key[(pid, round_id, subject)]
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "participant_id": pid,
                    "round_id": round_id,
                    "activity_id": activity.id if activity else None,
                    "subject": subject,
                    "definition_id": round_.definition_id,
                    "state": "new",
                    "progress": {},
                    "started_at": now,
                    "updated_at": now,
                }
            )
        table = _table(Conversation)
        await session.execute(_insert_for(session)(table).on_conflict_do_nothing(), rows)
        found.update(await _load_conversations(session, missing))
    return found


async def _load_conversations(
    session: AsyncSession, keys: Sequence[ConversationKey]
) -> dict[ConversationKey, Conversation]:
    columns = tuple_(Conversation.participant_id, Conversation.round_id, Conversation.subject)
    stmt = select(Conversation).where(columns.in_(list(keys)))
    return {(c.participant_id, c.round_id, c.subject): c for c in await session.scalars(stmt)}


async def lock_conversation(
    session: AsyncSession, conversation_id: uuid.UUID
) -> tuple[Conversation, Round]:
    """Load a conversation and its round, locking the conversation row (PostgreSQL)."""
    found = await lock_conversations(session, [conversation_id])
    if conversation_id not in found:
        raise NotFound(f"conversation {conversation_id} not found")
    return found[conversation_id]


async def lock_conversations(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[Conversation, Round]]:
    """Load conversations and their rounds, locking the conversation rows (PostgreSQL).

    The lock makes messages of one participant move the conversation one at a time; rows are
    locked in id order, so two transactions locking overlapping sets cannot deadlock. SQLite
    gets the same effect from ``BEGIN IMMEDIATE`` (see :mod:`surveys.db`). Missing ids are
    left out of the result.
    """
    if not ids:
        return {}
    stmt = (
        select(Conversation, Round)
        .join(Round, Round.id == Conversation.round_id)
        .where(Conversation.id.in_(sorted(set(ids))))
        .order_by(Conversation.id)
        .with_for_update(of=Conversation)
        .execution_options(populate_existing=True)
    )
    rows = (await session.execute(stmt)).tuples().all()
    return {conversation.id: (conversation, round_) for conversation, round_ in rows}


_UPSERT: list[TextClause] = []


def _answers_upsert() -> TextClause:
    """``INSERT ... ON CONFLICT DO UPDATE`` for answers, valid on PostgreSQL and SQLite.

    Written out because SQLAlchemy does not cache the dialects' ``on_conflict_do_update``
    constructs: compiling it cost about 0.35 ms per batch. A text statement is cached, and
    the bind types come from the table, so values are converted exactly as before.
    """
    if not _UPSERT:
        table = _table(Answer)
        columns = [c.name for c in table.columns]  # every row below sets all of them
        names = ", ".join(f'"{c}"' for c in columns)
        binds = ", ".join(f":{c}" for c in columns)
        updated = ", ".join(
            f'"{c}" = excluded."{c}"' for c in ("value", "text", "kind", "updated_at")
        )
        _UPSERT.append(
            sql_text(
                f'INSERT INTO "{table.name}" ({names}) VALUES ({binds}) '
                f'ON CONFLICT ("conversation_id", "question_key") DO UPDATE SET {updated}'
            ).bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns))
        )
    return _UPSERT[0]


async def save_answers(session: AsyncSession, answers: Sequence[dict[str, Any]]) -> None:
    """Store or replace answers (text must already be scrubbed), one statement for all.

    Each item holds ``conversation`` (the :class:`Conversation`), ``question_key``, ``value``,
    ``text`` and ``kind``. At most one item per conversation and question.
    """
    if not answers:
        return
    now = utc_now()
    rows = []
    for item in answers:
        conversation: Conversation = item["conversation"]
        rows.append(
            {
                "id": uuid.uuid4(),
                "conversation_id": conversation.id,
                "participant_id": conversation.participant_id,
                "round_id": conversation.round_id,
                "activity_id": conversation.activity_id,
                "question_key": item["question_key"],
                "value": item["value"],
                "text": item["text"],
                "kind": item["kind"],
                "created_at": now,
                "updated_at": now,
            }
        )
    await session.execute(_answers_upsert(), rows)


async def delete_answer(session: AsyncSession, conversation: Conversation, key: str) -> None:
    """Remove the answer to ``key`` in ``conversation``."""
    await session.execute(
        delete(Answer).where(Answer.conversation_id == conversation.id, Answer.question_key == key)
    )


async def cancel_outbox(session: AsyncSession, *, channel: str, address: str) -> int:
    """Cancel every queued message to an address; return how many were cancelled."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.address == address,
            OutboxMessage.status == OutboxStatus.pending.value,
        )
        .values(status=OutboxStatus.cancelled.value)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def stop_contact(session: AsyncSession, contact: Contact) -> None:
    """Mark a contact stopped and cancel its queued messages."""
    contact.status = ContactStatus.stopped.value
    await cancel_outbox(session, channel=contact.channel, address=contact.address)


async def erase_participant(
    session: AsyncSession, participant_id: uuid.UUID, *, actor: str = "participant"
) -> dict[str, int]:
    """Erase every answer, conversation and contact of a participant, and the participant.

    Returns the number of rows removed per table; the audit record holds only these counts.
    """
    counts: dict[str, int] = {}
    contacts = (
        await session.scalars(select(Contact).where(Contact.participant_id == participant_id))
    ).all()
    for contact in contacts:
        await cancel_outbox(session, channel=contact.channel, address=contact.address)
    for model in (Answer, SafeguardingSignal, Conversation, Contact):
        result = await session.execute(delete(model).where(model.participant_id == participant_id))
        counts[model.__tablename__] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    result = await session.execute(delete(Participant).where(Participant.id == participant_id))
    counts["participants"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    await record_audit(session, actor=actor, action="participant.erased", detail=counts)
    return counts


# --- outbox ----------------------------------------------------------------------------------


async def enqueue(
    session: AsyncSession,
    *,
    channel: str,
    address: str,
    payloads: Sequence[dict[str, Any]],
    conversation_id: uuid.UUID | None = None,
) -> list[int]:
    """Queue outbound messages; they are delivered only after the caller commits."""
    rows = [
        {"channel": channel, "address": address, "conversation_id": conversation_id, "payload": p}
        for p in payloads
    ]
    return await enqueue_many(session, rows)


async def enqueue_many(
    session: AsyncSession, rows: Sequence[dict[str, Any]], *, lease_until: datetime | None = None
) -> list[int]:
    """Queue outbound messages (``channel``, ``address``, ``conversation_id``, ``payload``).

    Args:
        session: The caller's session; delivery starts only after its commit.
        rows: The messages, in the order they must reach each address.
        lease_until: Queue them already claimed by the caller's in-process sender until then
            (see :mod:`surveys.outbox`): it gets them straight after the commit, without a
            claim transaction; if the process dies first, they are claimed again after the
            lease, as after any claim.

    Returns:
        The outbox ids, in the order of ``rows``.
    """
    if not rows:
        return []
    now = utc_now()
    result = await session.execute(
        insert_(_table(OutboxMessage)).returning(
            _table(OutboxMessage).c.id, sort_by_parameter_order=True
        ),
        [
            {
                "channel": row["channel"],
                "address": row["address"],
                "conversation_id": row.get("conversation_id"),
                "payload": row["payload"],
                "status": OutboxStatus.pending.value,
                "attempts": 0 if lease_until is None else 1,
                "next_attempt_at": lease_until,
                "created_at": now,
            }
            for row in rows
        ],
    )
    return list(result.scalars().all())


async def pending_messages(
    session: AsyncSession, *, channel: str, address: str, after: int = 0
) -> list[OutboxMessage]:
    """Return the queued messages to one address with id greater than ``after``, in order."""
    rows = await session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.address == address,
            OutboxMessage.status == OutboxStatus.pending.value,
            OutboxMessage.id > after,
        )
        .order_by(OutboxMessage.id)
    )
    return list(rows.all())


async def mark_delivered(session: AsyncSession, *, channel: str, address: str, up_to: int) -> int:
    """Mark every pending message to an address with id ≤ ``up_to`` as sent."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.address == address,
            OutboxMessage.status == OutboxStatus.pending.value,
            OutboxMessage.id <= up_to,
        )
        .values(status=OutboxStatus.sent.value, sent_at=utc_now())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def unlink_contacts(session: AsyncSession, participant_id: uuid.UUID) -> int:
    """Delete every way to reach a participant, keeping the answers (anonymous path)."""
    result = await session.execute(delete(Contact).where(Contact.participant_id == participant_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- safeguarding quarantine -----------------------------------------------------------------


async def quarantine_text(
    session: AsyncSession,
    *,
    key: str,
    text: str,
    category: str,
    subtype: str | None,
    round_: Round | None,
    participant_id: uuid.UUID | None,
    question_key: str | None,
) -> SafeguardingSignal:
    """Store a possible crisis or disclosure text, encrypted, apart from the answers."""
    row = SafeguardingSignal(
        municipality_id=round_.municipality_id if round_ else None,
        round_id=round_.id if round_ else None,
        participant_id=participant_id,
        question_key=question_key,
        category=category,
        subtype=subtype,
        ciphertext=encrypt_text(key, text),
    )
    session.add(row)
    await session.flush()
    return row


@dataclass(frozen=True)
class QuarantineItem:
    """One decrypted quarantine entry, for the safeguarding role."""

    id: uuid.UUID
    round_id: uuid.UUID | None
    category: str
    subtype: str | None
    text: str
    created_at: datetime


async def read_quarantine(
    session: AsyncSession,
    *,
    key: str,
    municipality_id: uuid.UUID,
    actor: str,
    reason: str,
) -> list[QuarantineItem]:
    """Decrypt the quarantine of one municipality; every read is audited with its reason.

    Raises:
        Conflict: No reason was given.
    """
    if len(reason.strip()) < 5:
        raise Conflict("a reason is required to read the safeguarding quarantine")
    stmt = scoped(select(SafeguardingSignal), municipality_id, SafeguardingSignal).order_by(
        SafeguardingSignal.created_at
    )
    rows = (await session.scalars(stmt)).all()
    await record_audit(
        session,
        actor=actor,
        action="quarantine.read",
        municipality_id=municipality_id,
        object_type="safeguarding_signals",
        detail={"reason": reason.strip()[:200], "rows": len(rows)},
    )
    return [
        QuarantineItem(
            r.id, r.round_id, r.category, r.subtype, decrypt_text(key, r.ciphertext), r.created_at
        )
        for r in rows
    ]


# --- retention -------------------------------------------------------------------------------


async def purge_expired(
    session: AsyncSession,
    now: datetime,
    *,
    inbox_days: int = 7,
    quarantine_days: int = 30,
) -> dict[str, int]:
    """Delete data past its retention period and audit the counts.

    * processed inbound events older than ``inbox_days``;
    * delivered, cancelled or failed outbox rows older than ``inbox_days``;
    * quarantined safeguarding texts older than ``quarantine_days``;
    * answers and conversations of rounds whose end (or start, if open-ended) plus the round's
      ``retention_days`` lies before ``now``; participants left without any conversation.
    """
    from datetime import timedelta

    counts: dict[str, int] = {}

    async def run(name: str, stmt: Any) -> None:
        result = await session.execute(stmt)
        counts[name] = int(result.rowcount or 0)  # type: ignore[attr-defined]

    inbox_cutoff = now - timedelta(days=inbox_days)
    await run(
        "processed_events", delete(ProcessedEvent).where(ProcessedEvent.created_at < inbox_cutoff)
    )
    await run(
        "outbox",
        delete(OutboxMessage).where(
            OutboxMessage.created_at < inbox_cutoff,
            OutboxMessage.status != OutboxStatus.pending.value,
        ),
    )
    await run(
        "safeguarding_signals",
        delete(SafeguardingSignal).where(
            SafeguardingSignal.created_at < now - timedelta(days=quarantine_days)
        ),
    )
    expired: list[uuid.UUID] = []
    for round_ in (await session.scalars(select(Round))).all():
        end = round_.closes_at or round_.opens_at or round_.created_at
        if end + timedelta(days=round_.retention_days) < now:
            expired.append(round_.id)
    counts["answers"] = counts["conversations"] = 0
    if expired:
        await run("answers", delete(Answer).where(Answer.round_id.in_(expired)))
        await run("conversations", delete(Conversation).where(Conversation.round_id.in_(expired)))
    orphans = (
        select(Participant.id)
        .where(
            ~select(Conversation.id).where(Conversation.participant_id == Participant.id).exists()
        )
        .where(~select(Contact.id).where(Contact.participant_id == Participant.id).exists())
    )
    await run("participants", delete(Participant).where(Participant.id.in_(orphans)))
    await record_audit(session, actor="retention", action="retention.purged", detail=counts)
    return counts
