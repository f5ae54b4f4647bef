"""The async shell around the pure step: one inbound message is one unit of work.

``handle`` de-duplicates on the channel's event id, locks the conversation, runs
:func:`bot.engine.flow.step`, stores answers, queues replies in the outbox and returns. The
caller commits, and only then delivers the queued messages.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

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
from surveys.models import Contact, ContactStatus, Conversation, Round, utc_now
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
    """

    duplicate: bool
    outbound: tuple[Outbound, ...] = ()
    outbox_ids: tuple[int, ...] = ()


async def _attach(session: AsyncSession, contact: Contact, code: str) -> Conversation | None:
    resolved = await service.resolve_start_code(session, code)
    if resolved is None:
        return None
    round_, activity = resolved
    conversation = await service.get_or_create_conversation(
        session, participant_id=contact.participant_id, round_=round_, activity=activity
    )
    contact.active_conversation_id = conversation.id
    return conversation


async def handle(session: AsyncSession, inbound: Inbound, *, config: EngineConfig) -> HandleResult:
    """Run one inbound message as one unit of work (without committing).

    Args:
        session: The caller's session; the caller commits and then delivers.
        inbound: The participant's message, translated by a channel adapter.
        config: Pepper, copy and scrubber.

    Returns:
        Whether it was a duplicate, and the messages queued in the outbox.
    """
    channel_key = f"{inbound.channel}:{inbound.bot}"
    if not await service.claim_event(session, channel=channel_key, event_key=inbound.event_id):
        return HandleResult(duplicate=True)

    address_key = pseudonymise(config.pepper, inbound.channel, inbound.bot, inbound.address)
    contact = await service.get_or_create_contact(
        session, channel=inbound.channel, address_key=address_key, address=inbound.address
    )
    command, argument = parse_command(inbound)
    conversation: Conversation | None = None
    start_inbound = inbound

    if command == "start" and argument:
        conversation = await _attach(session, contact, argument)
        if conversation is None:
            return await _reply(
                session, inbound, contact, None, [_text(config, "unknown_code", contact)]
            )
    elif command is None and contact.active_conversation_id is None and inbound.text:
        # Someone typed the code from a poster instead of opening the link.
        candidate = inbound.text.strip()
        if _CODE_SHAPE.match(candidate):
            conversation = await _attach(session, contact, candidate)
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
        conversation, round_ = await service.lock_conversation(session, conversation_id)
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
            await service.unlink_contacts(session, contact.participant_id)
            session.expunge(contact)
            unlinked = True
        elif isinstance(effect, StoreAnswer) and conversation is not None:
            schools = (round_.scope or {}).get("school", []) if round_ else []
            text = config.scrub(effect.text, schools) if effect.text is not None else None
            await service.save_answer(
                session,
                conversation,
                question_key=effect.question_key,
                value=effect.value,
                text=text,
                kind=effect.kind,
            )
        elif isinstance(effect, DeleteAnswer) and conversation is not None:
            await service.delete_answer(session, conversation, effect.question_key)
        elif isinstance(effect, Complete) and conversation is not None:
            conversation.completed_at = utc_now()
        elif isinstance(effect, StopContact):
            await service.stop_contact(session, contact)
        elif isinstance(effect, SetLanguage):
            contact.language = effect.lang
        elif isinstance(effect, EraseParticipant):
            await service.erase_participant(session, contact.participant_id)
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
    return await _reply(
        session,
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


async def _reply(
    session: AsyncSession,
    inbound: Inbound,
    contact: Contact | None,
    conversation: Conversation | None,
    outbound: list[Outbound],
) -> HandleResult:
    ids = await service.enqueue(
        session,
        channel=inbound.channel,
        address=inbound.address,
        payloads=[o.to_payload() for o in outbound],
        conversation_id=conversation.id if conversation is not None and contact else None,
    )
    log.info(
        "inbound handled",
        extra={
            "channel": inbound.channel,
            "conversation_id": str(conversation.id) if conversation and contact else None,
            "replies": len(outbound),
        },
    )
    return HandleResult(duplicate=False, outbound=tuple(outbound), outbox_ids=tuple(ids))
