"""The async shell around the pure step: inbound messages in, answers and outbox rows out.

:func:`handle_many` runs a batch of inbound messages in the caller's transaction; :func:`handle`
runs one. Per batch the shell de-duplicates every event on its channel's event id (one
statement), loads or creates the contacts (one or two), locks the conversations in id order
(one), runs :func:`bot.engine.flow.step` per message in arrival order, and writes the answers
(one upsert) and the replies (one outbox insert). Rare effects (stop, erase, unlink) write the
buffered rows first and then run on their own, so a batch means exactly what the same messages
handled one by one would mean. The caller commits, and only then delivers the queued messages.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine.catalogue import Catalogue, default_catalogue
from bot.engine.flow import Progress, RoundContext, parse_command, step
from bot.engine.messages import (
    Complete,
    DeleteAnswer,
    EraseParticipant,
    Inbound,
    Outbound,
    Quarantine,
    SetLanguage,
    StopContact,
    StoreAnswer,
    UnlinkContact,
)
from surveys import service
from surveys.definitions import Definition
from surveys.models import Activity, Contact, ContactStatus, Conversation, Round, utc_now
from surveys.outbox import ClaimedMessage
from surveys.privacy.pseudonyms import pseudonymise

log = logging.getLogger(__name__)
_CODE_SHAPE = re.compile(r"^[A-Za-z0-9_-]{6,64}$")


def _keep(text: str, schools: Sequence[str]) -> str:
    return text


@dataclass(frozen=True)
class EngineConfig:
    """What the shell needs besides the session.

    Attributes:
        pepper: Secret for the contact pseudonym (from settings, never from the database).
        quarantine_key: Key that encrypts quarantined safeguarding texts.
        catalogue: Participant-facing copy.
        scrub: Removes personal data from free text before it is stored; gets the text and
            the round's school names.
    """

    pepper: str
    quarantine_key: str = ""
    catalogue: Catalogue = field(default_factory=default_catalogue)
    scrub: Callable[[str, Sequence[str]], str] = _keep


@dataclass(frozen=True)
class HandleResult:
    """What one inbound message did.

    Attributes:
        duplicate: The event was handled before; nothing was stored or queued.
        outbound: The messages queued for delivery (already in the outbox).
        outbox_ids: Their outbox ids, in order.
        stored: The questions whose answers it stored.
    """

    duplicate: bool
    outbound: tuple[Outbound, ...] = ()
    outbox_ids: tuple[int, ...] = ()
    stored: tuple[str, ...] = ()


@dataclass(frozen=True)
class BatchResult:
    """What a batch did: one result per inbound message, and the rows to deliver.

    Attributes:
        results: Per inbound message, in the order given.
        queued: The outbox rows this batch queued that are still pending at its end (a stop
            or an erasure later in the batch cancels earlier rows for that address), as a
            sender holds them (``attempts`` is 1 when they were queued leased).
    """

    results: list[HandleResult]
    queued: list[ClaimedMessage]


class _Batch:
    """Prefetched rows and buffered writes of the messages handled in one transaction."""

    def __init__(self, session: AsyncSession, lease_until: datetime | None) -> None:
        self.session = session
        self.lease_until = lease_until
        self.contacts: dict[tuple[str, str], Contact] = {}
        self.conversations: dict[uuid.UUID, tuple[Conversation, Round]] = {}
        self.answers: dict[tuple[uuid.UUID, str], tuple[Conversation, dict[str, Any] | None]] = {}
        self.outbox: list[tuple[int, dict[str, Any]]] = []  # (inbound index, row)
        self.ids: dict[int, list[int]] = {}  # inbound index -> outbox ids
        self.queued: list[tuple[str, ClaimedMessage]] = []  # (channel, row)
        self.stored: dict[int, list[str]] = {}  # inbound index -> question keys answered
        self.codes: dict[str, tuple[Round, Activity | None] | None] = {}
        self.started: dict[service.ConversationKey, Conversation] = {}

    async def resolve(self, code: str) -> tuple[Round, Activity | None] | None:
        """The round (and activity) a start code names, looked up once per batch."""
        if code not in self.codes:
            self.codes[code] = await service.resolve_start_code(self.session, code)
        return self.codes[code]

    async def prepare_starts(self, starts: list[tuple[Contact, str]]) -> None:
        """Resolve the start codes of the batch and get or create their conversations."""
        wanted = []
        for contact, code in starts:
            resolved = await self.resolve(code)
            if resolved is not None:
                wanted.append((contact.participant_id, *resolved))
        self.started = await service.get_or_create_conversations(self.session, wanted)

    async def contact(self, channel: str, address_key: str, address: str) -> Contact:
        key = (channel, address_key)
        if key not in self.contacts:
            found = await service.get_or_create_contacts(self.session, [(*key, address)])
            self.contacts.update(found)
        return self.contacts[key]

    async def conversation(self, conversation_id: uuid.UUID) -> tuple[Conversation, Round]:
        if conversation_id not in self.conversations:
            self.conversations[conversation_id] = await service.lock_conversation(
                self.session, conversation_id
            )
        return self.conversations[conversation_id]

    def save(self, conversation: Conversation, key: str, answer: dict[str, Any] | None) -> None:
        """Buffer an answer (None deletes it); the last one per question wins."""
        self.answers[(conversation.id, key)] = (conversation, answer)

    def forget(self, participant_id: uuid.UUID | None, channel: str, address: str | None) -> None:
        """Drop what the batch holds of a participant (rows deleted) or an address (stopped)."""
        if address is not None:
            self.queued = [q for q in self.queued if (q[0], q[1].address) != (channel, address)]
        if participant_id is None:
            return
        for key, contact in list(self.contacts.items()):
            if contact.participant_id == participant_id:
                del self.contacts[key]
        for cid, (conversation, _) in list(self.conversations.items()):
            if conversation.participant_id == participant_id:
                del self.conversations[cid]

    async def flush(self) -> None:
        """Write the buffered answers and outbox rows (before a rare effect, and at the end)."""
        saves = []
        for (_, question_key), (conversation, answer) in self.answers.items():
            if answer is None:
                await service.delete_answer(self.session, conversation, question_key)
            else:
                saves.append({"conversation": conversation, "question_key": question_key, **answer})
        self.answers = {}
        await service.save_answers(self.session, saves)
        pending, self.outbox = self.outbox, []
        rows = [row for _, row in pending]
        ids = await service.enqueue_many(self.session, rows, lease_until=self.lease_until)
        attempts = 0 if self.lease_until is None else 1
        for (owner, row), outbox_id in zip(pending, ids, strict=True):
            self.ids.setdefault(owner, []).append(outbox_id)
            queued = ClaimedMessage(outbox_id, row["address"], row["payload"], attempts)
            self.queued.append((row["channel"], queued))


async def handle(session: AsyncSession, inbound: Inbound, *, config: EngineConfig) -> HandleResult:
    """Run one inbound message as one unit of work (without committing).

    Args:
        session: The caller's session; the caller commits and then delivers.
        inbound: The participant's message, translated by a channel adapter.
        config: Pepper, copy and scrubber.

    Returns:
        Whether it was a duplicate, and the messages queued in the outbox.
    """
    return (await handle_many(session, [inbound], config=config)).results[0]


async def handle_many(
    session: AsyncSession,
    inbounds: Sequence[Inbound],
    *,
    config: EngineConfig,
    lease_until: datetime | None = None,
) -> BatchResult:
    """Run inbound messages in arrival order in the caller's transaction (without committing).

    Args:
        session: The caller's session; the caller commits and then delivers.
        inbounds: The messages, in the order they arrived.
        config: Pepper, copy and scrubber.
        lease_until: Queue the replies already claimed until then by the caller's own
            sender, which gets :attr:`BatchResult.queued` after the commit (None: any
            sender claims them from the table).

    Returns:
        One result per message, and the outbox rows queued.
    """
    batch = _Batch(session, lease_until)
    keys = [(f"{i.channel}:{i.bot}", i.event_id[:128]) for i in inbounds]
    fresh = await service.claim_events(session, keys)
    address_keys: dict[int, str] = {}
    wanted: dict[tuple[str, str], str] = {}
    codes: dict[int, str] = {}
    for index, (inbound, key) in enumerate(zip(inbounds, keys, strict=True)):
        if key in fresh:
            address_key = pseudonymise(config.pepper, inbound.channel, inbound.bot, inbound.address)
            address_keys[index] = address_key
            wanted[(inbound.channel, address_key)] = inbound.address
            command, argument = parse_command(inbound)
            if command == "start" and argument:
                codes[index] = argument
    batch.contacts = await service.get_or_create_contacts(
        session, [(channel, key, address) for (channel, key), address in wanted.items()]
    )
    await batch.prepare_starts(
        [
            (batch.contacts[(inbounds[i].channel, address_keys[i])], code)
            for i, code in codes.items()
        ]
    )
    active = [c.active_conversation_id for c in batch.contacts.values()]
    started = [c.id for c in batch.started.values()]
    batch.conversations = await service.lock_conversations(
        session, [cid for cid in active if cid is not None] + started
    )
    outbound: dict[int, list[Outbound]] = {}
    for index, (inbound, key) in enumerate(zip(inbounds, keys, strict=True)):
        if key not in fresh:
            continue
        fresh.discard(key)  # a second copy in the same batch is a duplicate
        outbound[index] = await _handle_one(batch, index, inbound, address_keys[index], config)
    await batch.flush()
    results = [
        HandleResult(
            duplicate=False,
            outbound=tuple(outbound[i]),
            outbox_ids=tuple(batch.ids.get(i, ())),
            stored=tuple(batch.stored.get(i, ())),
        )
        if i in outbound
        else HandleResult(duplicate=True)
        for i in range(len(inbounds))
    ]
    return BatchResult(results=results, queued=[row for _, row in batch.queued])


async def _attach(batch: _Batch, contact: Contact, code: str) -> Conversation | None:
    resolved = await batch.resolve(code)
    if resolved is None:
        return None
    round_, activity = resolved
    conversation = batch.started.get(
        service.conversation_key(contact.participant_id, round_, activity)
    )
    if conversation is None:
        conversation = await service.get_or_create_conversation(
            batch.session, participant_id=contact.participant_id, round_=round_, activity=activity
        )
    contact.active_conversation_id = conversation.id
    return conversation


async def _handle_one(
    batch: _Batch, index: int, inbound: Inbound, address_key: str, config: EngineConfig
) -> list[Outbound]:
    session = batch.session
    contact = await batch.contact(inbound.channel, address_key, inbound.address)
    command, argument = parse_command(inbound)
    conversation: Conversation | None = None
    start_inbound = inbound

    if command == "start" and argument:
        conversation = await _attach(batch, contact, argument)
        if conversation is None:
            return _reply(
                batch, index, inbound, contact, None, [_text(config, "unknown_code", contact)]
            )
    elif command is None and contact.active_conversation_id is None and inbound.text:
        # Someone typed the code from a poster instead of opening the link.
        candidate = inbound.text.strip()
        if _CODE_SHAPE.match(candidate):
            conversation = await _attach(batch, contact, candidate)
            if conversation is not None:
                start_inbound = Inbound(
                    channel=inbound.channel,
                    address=inbound.address,
                    event_id=inbound.event_id,
                    text="/start",
                    bot=inbound.bot,
                )

    definition: Definition | None = None
    round_: Round | None = None
    context = RoundContext()
    progress = Progress(lang=contact.language)
    conversation_id = conversation.id if conversation else contact.active_conversation_id
    if conversation_id is not None:
        conversation, round_ = await batch.conversation(conversation_id)
        definition = await service.get_definition(session, conversation.definition_id)
        scope = round_.scope or {}
        context = RoundContext(
            status=service.round_status(round_, utc_now()),
            places={k: list(v) for k, v in scope.items() if k in ("wijk", "school", "klas")},
            retention_days=round_.retention_days,
            under16=scope.get("under16", "allowed"),
        )
        progress = Progress.from_dict(conversation.progress)
        if not conversation.progress:
            progress = Progress(lang=contact.language)

    result = step(definition, progress, start_inbound, context=context, catalogue=config.catalogue)

    erased = unlinked = False
    for effect in result.effects:
        if isinstance(effect, Quarantine):
            await _quarantine(session, config, effect, round_, contact)
        elif isinstance(effect, UnlinkContact):
            await batch.flush()
            await service.unlink_contacts(session, contact.participant_id)
            batch.forget(contact.participant_id, inbound.channel, None)
            session.expunge(contact)
            unlinked = True
        elif isinstance(effect, StoreAnswer) and conversation is not None:
            schools = (round_.scope or {}).get("school", []) if round_ else []
            text = config.scrub(effect.text, schools) if effect.text is not None else None
            batch.stored.setdefault(index, []).append(effect.question_key)
            batch.save(
                conversation,
                effect.question_key,
                {"value": effect.value, "text": text, "kind": effect.kind},
            )
        elif isinstance(effect, DeleteAnswer) and conversation is not None:
            batch.save(conversation, effect.question_key, None)
        elif isinstance(effect, Complete) and conversation is not None:
            conversation.completed_at = utc_now()
        elif isinstance(effect, StopContact):
            await batch.flush()
            await service.stop_contact(session, contact)
            batch.forget(None, contact.channel, contact.address)
        elif isinstance(effect, SetLanguage):
            contact.language = effect.lang
        elif isinstance(effect, EraseParticipant):
            await batch.flush()
            await service.erase_participant(session, contact.participant_id)
            batch.forget(contact.participant_id, contact.channel, contact.address)
            erased = True

    if not erased:
        restarted = command == "start" or start_inbound is not inbound
        if not unlinked and restarted and result.progress.state != "stopped":
            contact.status = ContactStatus.active.value
        if conversation is not None:
            conversation.progress = result.progress.to_dict()
            conversation.state = result.progress.state
            conversation.current_question = result.progress.current
            conversation.updated_at = utc_now()
    return _reply(
        batch,
        index,
        inbound,
        None if erased else contact,
        None if erased else conversation,
        list(result.outbound),
    )


async def _quarantine(
    session: AsyncSession,
    config: EngineConfig,
    effect: Quarantine,
    round_: Round | None,
    contact: Contact,
) -> None:
    """Store the signal; a failure here must never stop the help card from going out."""
    try:
        async with session.begin_nested():
            await service.quarantine_text(
                session,
                key=config.quarantine_key,
                text=effect.text,
                category=effect.category,
                subtype=effect.subtype,
                round_=round_,
                participant_id=contact.participant_id,
                question_key=effect.question_key,
            )
    except Exception:
        log.exception("quarantine write failed; help card sent anyway")


def _text(config: EngineConfig, key: str, contact: Contact) -> Outbound:
    return Outbound(config.catalogue.get(key, contact.language))


def _reply(
    batch: _Batch,
    index: int,
    inbound: Inbound,
    contact: Contact | None,
    conversation: Conversation | None,
    outbound: list[Outbound],
) -> list[Outbound]:
    conversation_id = conversation.id if conversation is not None and contact else None
    for message in outbound:
        row = {
            "channel": inbound.channel,
            "address": inbound.address,
            "conversation_id": conversation_id,
            "payload": message.to_payload(),
        }
        batch.outbox.append((index, row))
    log.info(
        "inbound handled",
        extra={
            "channel": inbound.channel,
            "conversation_id": str(conversation_id) if conversation_id else None,
            "replies": len(outbound),
        },
    )
    return outbound
