"""aiogram Routers, one per concern, translating Telegram updates for the engine.

Routers (in this order): ``groups`` (any chat that is not private: leave, store nothing),
``membership`` (the participant blocked the bot: stop the contact and its queue),
``callbacks`` (button presses), ``messages`` (text, deep links, media) and ``edits`` (edited
messages never change an answer). Messages and button answers go to the engine through
:class:`bot.engine.batcher.GroupCommit`, so concurrent updates share a transaction; the rare
updates that need the database otherwise (a blocked bot, an edit, a page of a long list) get a
session of their own from an outer middleware, which commits it. Only after the commit come
the Telegram calls that acknowledge a button (``answerCallbackQuery``, removing the answered
keyboard).

Only ``chat.id`` crosses into the engine (as the address). Names, usernames, language codes,
captions and media file ids are never read, logged or stored. Filters are ``async def``:
aiogram runs plain callables (including magic ``F`` filters) in a thread pool.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.enums import ChatMemberStatus, ChatType, ContentType
from aiogram.types import (
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
    Update,
)
from aiogram.types.update import UpdateTypeLookupError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.telegram.client import CHANNEL
from bot.channels.telegram.copy import TelegramCopy
from bot.channels.telegram.render import (
    ANSWER,
    CHOICE,
    DONE,
    MAX_TEXT,
    PAGE,
    TOGGLE,
    choice_keyboard,
    detect_language,
    label_for,
    parse_answer,
    ticked,
    toggle,
)
from bot.engine.batcher import GroupCommit
from bot.engine.engine import EngineConfig
from bot.engine.messages import Inbound, Outbound
from surveys import outbox, service
from surveys.models import ContactStatus
from surveys.privacy.pseudonyms import pseudonymise

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
START_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
INVALID_CODE = "~"  # cannot be a start code: the engine answers "unknown code"
MEDIA = {
    ContentType.ANIMATION,
    ContentType.AUDIO,
    ContentType.DOCUMENT,
    ContentType.LIVE_PHOTO,
    ContentType.PAID_MEDIA,
    ContentType.PHOTO,
    ContentType.STICKER,
    ContentType.STORY,
    ContentType.VIDEO,
    ContentType.VIDEO_NOTE,
    ContentType.VOICE,
    ContentType.CHECKLIST,
    ContentType.CONTACT,
    ContentType.DICE,
    ContentType.GAME,
    ContentType.POLL,
    ContentType.VENUE,
    ContentType.LOCATION,
    ContentType.INVOICE,
    ContentType.WEB_APP_DATA,
    ContentType.USERS_SHARED,
    ContentType.CHAT_SHARED,
}
AfterCommit = list[Callable[[], Awaitable[Any]]]


@dataclass(frozen=True)
class TelegramDeps:
    """What the handlers need (passed to aiogram as workflow data ``deps``).

    Attributes:
        sessionmaker: Sessions for updates that do not go through the engine.
        config: The engine configuration (pepper, copy, scrubber).
        copy: The adapter's own copy (button labels, notices).
        notify: Called after such a session commits (wakes the outbox sender).
        batcher: Runs messages and button answers through the engine in shared transactions.
    """

    sessionmaker: async_sessionmaker[AsyncSession]
    config: EngineConfig
    copy: TelegramCopy
    notify: Callable[[], None]
    batcher: GroupCommit


def _channel_key(bot: Bot) -> str:
    return f"{CHANNEL}:{bot.id}"


def start_text(text: str) -> str:
    """Normalise ``/start[@bot] [payload]``: the payload is routing only, and only if valid."""
    head, _, payload = text.strip().partition(" ")
    payload = payload.strip()
    if not payload:
        return "/start"
    if not START_PAYLOAD.match(payload):
        return f"/start {INVALID_CODE}"
    return f"/start {payload}"


def to_inbound(message: Message, *, bot: Bot, event_id: str) -> Inbound | None:
    """Translate a private message, or None for service messages that need no answer."""
    address = str(message.chat.id)
    content = message.content_type
    if content == ContentType.TEXT and message.text is not None:
        text = message.text
        if re.match(r"^/start(@\w+)?(\s|$)", text, flags=re.IGNORECASE):
            text = start_text(text)
        return Inbound(CHANNEL, address, event_id, text=text, bot=str(bot.id))
    if content in MEDIA:
        return Inbound(CHANNEL, address, event_id, kind="media", bot=str(bot.id))
    return None


# --- middleware ------------------------------------------------------------------------------


async def _run(call: Callable[[], Awaitable[Any]]) -> Any:
    return await call()  # aiogram method objects are awaitables, not coroutines


class Unit:
    """An update's own database session, opened on first use and committed by the middleware."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self.opened: AsyncSession | None = None

    async def session(self) -> AsyncSession:
        """The session, in a transaction that the middleware commits after the handler."""
        if self.opened is None:
            self.opened = self.sessionmaker()
            await self.opened.begin()
        return self.opened

    async def finish(self, *, commit: bool) -> bool:
        """Commit (or roll back) and close; True if something was committed."""
        session, self.opened = self.opened, None
        if session is None:
            return False
        try:
            if commit:
                await session.commit()
            else:
                await session.rollback()
        finally:
            await session.close()
        return commit


class UnitOfWork(BaseMiddleware):
    """At most one own session per update, committed; Telegram calls only after the commit."""

    def __init__(self, deps: TelegramDeps) -> None:
        self.deps = deps

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        """Run the handler inside a transaction, commit, then run the after-commit calls."""
        assert isinstance(event, Update)
        try:
            event.event_type  # noqa: B018 - raises for update types aiogram does not know
        except UpdateTypeLookupError:
            log.debug("update %s: unknown type ignored", event.update_id)
            return UNHANDLED
        after: AfterCommit = []
        data["after_commit"] = after
        unit = Unit(self.deps.sessionmaker)
        data["unit"] = unit
        try:
            result = await handler(event, data)
        except BaseException:
            await unit.finish(commit=False)
            raise
        if await unit.finish(commit=True):
            self.deps.notify()
        if after:
            outcomes = await asyncio.gather(*(_run(call) for call in after), return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, Exception):
                    log.info("telegram call after commit failed: %s", type(outcome).__name__)
        return result


# --- filters (async: aiogram runs sync callables in a thread) --------------------------------


def _chat_type(event: TelegramObject) -> str | None:
    if isinstance(event, Message | ChatMemberUpdated):
        return str(event.chat.type)
    if isinstance(event, CallbackQuery):
        return str(event.message.chat.type) if event.message is not None else None
    return None


async def is_private(event: TelegramObject) -> bool:
    """The update comes from a one-to-one chat with a participant."""
    return _chat_type(event) == ChatType.PRIVATE


async def is_not_private(event: TelegramObject) -> bool:
    """The update comes from a group, supergroup or channel (or an inline message)."""
    return _chat_type(event) != ChatType.PRIVATE


# --- routers ---------------------------------------------------------------------------------


def groups_router() -> Router:
    """Groups, supergroups and channels: leave, store nothing, answer nothing."""
    router = Router(name="telegram.groups")

    async def leave_chat(event: Message, bot: Bot, after_commit: AfterCommit) -> None:
        after_commit.append(lambda: bot.leave_chat(chat_id=event.chat.id))

    for observer in (router.message, router.edited_message, router.channel_post):
        observer.register(leave_chat, is_not_private)

    @router.my_chat_member(is_not_private)
    async def added(event: ChatMemberUpdated, bot: Bot, after_commit: AfterCommit) -> None:
        status = event.new_chat_member.status
        if status not in (ChatMemberStatus.LEFT, ChatMemberStatus.KICKED):
            after_commit.append(lambda: bot.leave_chat(chat_id=event.chat.id))

    @router.callback_query(is_not_private)
    async def group_button(cb: CallbackQuery, bot: Bot, after_commit: AfterCommit) -> None:
        after_commit.append(lambda: cb.answer())
        if cb.message is not None:
            chat_id = cb.message.chat.id
            after_commit.append(lambda: bot.leave_chat(chat_id=chat_id))

    return router


async def _claim_update(
    unit: Unit, bot: Bot, deps: TelegramDeps, update: Update, chat_id: int
) -> tuple[AsyncSession, str] | None:
    """Claim an update handled outside the engine; None when it was handled before.

    Returns:
        The update's session and the chat's pseudonymous contact key.
    """
    session = await unit.session()
    key = f"u:{update.update_id}"
    if not await service.claim_event(session, channel=_channel_key(bot), event_key=key):
        return None
    return session, pseudonymise(deps.config.pepper, CHANNEL, str(bot.id), str(chat_id))


def membership_router() -> Router:
    """The participant blocked (or deleted) the bot: mark the contact stopped, cancel its queue."""
    router = Router(name="telegram.membership")

    @router.my_chat_member(is_private)
    async def membership(
        event: ChatMemberUpdated,
        bot: Bot,
        unit: Unit,
        deps: TelegramDeps,
        event_update: Update,
    ) -> None:
        if event.new_chat_member.status not in (ChatMemberStatus.KICKED, ChatMemberStatus.LEFT):
            return  # unblocked: the participant's next /start makes the contact active again
        claimed = await _claim_update(unit, bot, deps, event_update, event.chat.id)
        if claimed is None:
            return
        session, address_key = claimed
        stopped = await outbox.stop_contact_by_key(
            session, channel=CHANNEL, address_key=address_key
        )
        log.info("telegram contact blocked the bot (known contact: %s)", stopped)

    return router


def _edit_answered(bot: Bot, message: Message, chosen: str | None) -> Callable[[], Awaitable[Any]]:
    """Remove the keyboard of an answered question and show the answer under it."""
    text = message.text
    if text and chosen and len(text) + len(chosen) + 4 <= MAX_TEXT:
        return lambda: bot.edit_message_text(
            chat_id=message.chat.id, message_id=message.message_id, text=f"{text}\n\n» {chosen}"
        )
    return lambda: bot.edit_message_reply_markup(
        chat_id=message.chat.id, message_id=message.message_id, reply_markup=None
    )


def callbacks_router() -> Router:
    """Inline buttons: toggles and pages edit the keyboard; answers go to the engine once."""
    router = Router(name="telegram.callbacks")

    @router.callback_query(is_private)
    async def button(
        cb: CallbackQuery,
        bot: Bot,
        unit: Unit,
        deps: TelegramDeps,
        after_commit: AfterCommit,
    ) -> None:
        data = cb.data or ""
        message = cb.message if isinstance(cb.message, Message) else None
        if message is None:  # too old to edit (inaccessible): just stop the spinner
            after_commit.append(lambda: cb.answer())
            return
        markup: InlineKeyboardMarkup | None = message.reply_markup
        lang = detect_language(Outbound(message.text or ""), deps.config.catalogue)
        chat_id, message_id = message.chat.id, message.message_id

        if data.startswith(TOGGLE) and markup is not None:
            new = toggle(markup, data)
            after_commit.append(lambda: cb.answer())
            if new is not None:
                after_commit.append(
                    lambda: bot.edit_message_reply_markup(
                        chat_id=chat_id, message_id=message_id, reply_markup=new
                    )
                )
            return
        if data.startswith(PAGE):
            after_commit.append(lambda: cb.answer())
            ref, _, page = data[len(PAGE) :].partition(":")
            if not (ref.isdigit() and page.lstrip("-").isdigit()):
                return
            payload = await outbox.get_payload(
                await unit.session(), message_id=int(ref), channel=CHANNEL, address=str(chat_id)
            )
            if payload is None:
                return
            keyboard = choice_keyboard(Outbound.from_payload(payload), ref=int(ref), page=int(page))
            after_commit.append(
                lambda: bot.edit_message_reply_markup(
                    chat_id=chat_id, message_id=message_id, reply_markup=keyboard
                )
            )
            return
        chosen: str | None
        tag: str | None = None
        if data == DONE or data.startswith(DONE + ":"):
            tag = data[len(DONE) + 1 :] or None
            values, labels = ticked(markup)
            if not values:
                after_commit.append(lambda: cb.answer(text=deps.copy.get("pick_first", lang)))
                return
            choice, chosen = ",".join(values), ", ".join(labels)
        elif data.startswith((ANSWER, CHOICE)):
            (choice, tag), chosen = parse_answer(data), label_for(markup, data)
        else:  # NOOP, or data we never made
            after_commit.append(lambda: cb.answer())
            return

        # One answer per keyboard message: a second tap (or a forged repeat) is a duplicate.
        inbound = Inbound(
            CHANNEL,
            str(chat_id),
            f"k:{chat_id}:{message_id}",
            choice=choice,
            kind="choice",
            bot=str(bot.id),
            question_tag=tag,
        )
        result = await deps.batcher.submit(inbound)
        if result.duplicate:
            after_commit.append(lambda: cb.answer(text=deps.copy.get("already_answered", lang)))
        else:
            after_commit.append(lambda: cb.answer())
        if result.duplicate or (tag is not None and not result.stored):
            chosen = None  # not (or no longer) this keyboard's answer: just remove the buttons
        after_commit.append(_edit_answered(bot, message, chosen))

    return router


def messages_router() -> Router:
    """Private messages: text and deep links go to the engine, media gets a text-only reply."""
    router = Router(name="telegram.messages")

    @router.message(is_private)
    async def message(
        message: Message,
        bot: Bot,
        deps: TelegramDeps,
        event_update: Update,
    ) -> None:
        inbound = to_inbound(message, bot=bot, event_id=f"u:{event_update.update_id}")
        if inbound is None:
            return
        await deps.batcher.submit(inbound)

    return router


def edits_router() -> Router:
    """Edited messages never change a stored answer; the participant is told how to go back."""
    router = Router(name="telegram.edits")

    @router.edited_message(is_private)
    async def edited(
        message: Message,
        bot: Bot,
        unit: Unit,
        deps: TelegramDeps,
        event_update: Update,
    ) -> None:
        claimed = await _claim_update(unit, bot, deps, event_update, message.chat.id)
        if claimed is None:
            return
        session, address_key = claimed
        address = str(message.chat.id)
        state = await outbox.contact_state(session, channel=CHANNEL, address_key=address_key)
        if state is not None and state[1] == ContactStatus.stopped.value:
            return  # stopped: no messages at all
        notice = Outbound(deps.copy.get("edited", state[0] if state else "nl"))
        await service.enqueue(
            session, channel=CHANNEL, address=address, payloads=[notice.to_payload()]
        )
        await outbox.wake_senders(session)  # for a sender in another process

    return router


def build_dispatcher(deps: TelegramDeps) -> Dispatcher:
    """The dispatcher with the unit-of-work middleware and every router, in order."""
    # No FSM: the engine keeps all conversation state in the database (saves a storage
    # lookup and a middleware per update).
    dispatcher = Dispatcher(name="jeugdstem-telegram", deps=deps, disable_fsm=True)
    dispatcher.update.outer_middleware(UnitOfWork(deps))
    # Private messages and buttons are nearly all traffic, so their routers come first; the
    # filters are disjoint (private or not), so the order changes nothing else.
    dispatcher.include_routers(
        messages_router(), callbacks_router(), membership_router(), edits_router(), groups_router()
    )
    return dispatcher
