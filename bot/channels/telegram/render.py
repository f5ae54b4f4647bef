"""Pure rendering: :class:`Outbound` to Telegram text and inline keyboards, and back.

Button data (``callback_data``, at most 64 bytes) is one of:

========================  ======================================================
``a:<tag>:<value>``       the answer to the question with this tag (see below)
``c:<value>``             a ``cmd:`` button (consent, continue, ...) for the engine
``t:<value>``             tick/untick one option of a multiple-choice question
``d:<tag>``               "done" for the multiple-choice question with this tag
``p:<outbox id>:<page>``  show another page of a long list
``n``                     no-op (the page counter)
========================  ======================================================

The tag (:func:`bot.engine.messages.question_tag`, 6 characters) names the question the
keyboard was sent with, so a button of an earlier question that is still on screen cannot
answer the current one: the engine says so and asks the current question again. A value too
long for 64 bytes falls back to its 1-based position, which the engine also accepts for
choice questions. Multiple choice is stateless: which options are ticked is
read back from the message's own keyboard (the ``✅`` prefix), never stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.channels.telegram.copy import TelegramCopy
from bot.engine.catalogue import Catalogue
from bot.engine.messages import Choice, Outbound, question_tag

MAX_TEXT = 4096
MAX_CALLBACK = 64
PAGE_SIZE = 8
TICKED = "✅ "
UNTICKED = "▫️ "
ANSWER, CHOICE, TOGGLE, DONE, PAGE, NOOP = "a:", "c:", "t:", "d", "p:", "n"


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message ready for ``sendMessage``: text chunks and the keyboard for the last one."""

    chunks: tuple[str, ...]
    keyboard: InlineKeyboardMarkup | None


def split_text(text: str, limit: int = MAX_TEXT) -> tuple[str, ...]:
    """Split ``text`` into chunks of at most ``limit`` characters, at line breaks if possible."""
    text = text or "…"
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = text.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    chunks.append(text)
    return tuple(chunks)


def answer_prefix(message: Outbound) -> str:
    """``a:<tag>:`` for a question's options, ``c:`` for command buttons."""
    if message.question_key is None:
        return CHOICE
    return f"{ANSWER}{question_tag(message.question_key)}:"


def parse_answer(data: str) -> tuple[str, str | None]:
    """``(value, tag)`` of ``a:<tag>:<value>`` or ``(value, None)`` of ``c:<value>``."""
    if data.startswith(ANSWER):
        tag, _, value = data[len(ANSWER) :].partition(":")
        return value, tag
    return data[len(CHOICE) :], None


def _data(prefix: str, choice: Choice, index: int) -> str:
    data = prefix + choice.value
    if len(data.encode("utf-8")) > MAX_CALLBACK:
        data = f"{prefix}{index + 1}"
    return data


def _rows(
    buttons: list[InlineKeyboardButton], labels: list[str]
) -> list[list[InlineKeyboardButton]]:
    longest = max((len(label) for label in labels), default=0)
    per_row = 3 if len(buttons) <= 3 and longest <= 12 else 2 if longest <= 18 else 1
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def detect_language(message: Outbound, catalogue: Catalogue) -> str:
    """Guess the participant's language from the engine's own hint line (Dutch fallback)."""
    hint = catalogue.texts.get("en", {}).get("hint_multiple")
    return "en" if hint and hint in message.text else "nl"


def choice_keyboard(
    message: Outbound, *, ref: int | None, page: int = 0
) -> InlineKeyboardMarkup | None:
    """The keyboard of a single-choice message (a scale is one row; long lists are paged)."""
    choices = list(message.choices)
    if not choices:
        return None
    prefix = answer_prefix(message)
    if message.style == "scale":
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(text=c.label, callback_data=_data(prefix, c, i))
                    for i, c in enumerate(choices)
                ]
            ]
        )
    indexed = list(enumerate(choices))
    pages = 1
    if len(choices) > PAGE_SIZE and ref is not None:
        pages = -(-len(choices) // PAGE_SIZE)
        page = min(max(page, 0), pages - 1)
        indexed = indexed[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    buttons = [
        InlineKeyboardButton(text=c.label, callback_data=_data(prefix, c, i)) for i, c in indexed
    ]
    rows = _rows(buttons, [c.label for _, c in indexed])
    if pages > 1:
        nav = [
            InlineKeyboardButton(
                text="◀" if page > 0 else "·",
                callback_data=f"{PAGE}{ref}:{page - 1}" if page > 0 else NOOP,
            ),
            InlineKeyboardButton(text=f"{page + 1}/{pages}", callback_data=NOOP),
            InlineKeyboardButton(
                text="▶" if page < pages - 1 else "·",
                callback_data=f"{PAGE}{ref}:{page + 1}" if page < pages - 1 else NOOP,
            ),
        ]
        rows.append(nav)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def toggle_keyboard(message: Outbound, done_label: str) -> InlineKeyboardMarkup:
    """The keyboard of a multiple-choice message: one toggle per option plus "done"."""
    buttons = [
        InlineKeyboardButton(text=UNTICKED + c.label, callback_data=_data(TOGGLE, c, i))
        for i, c in enumerate(message.choices)
    ]
    rows = _rows(buttons, [c.label for c in message.choices])
    done = f"{DONE}:{question_tag(message.question_key)}" if message.question_key else DONE
    rows.append([InlineKeyboardButton(text=done_label, callback_data=done)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def render(
    message: Outbound, *, ref: int | None, copy: TelegramCopy, catalogue: Catalogue
) -> Rendered:
    """Render an outbound message (plain text for free text, buttons for choices)."""
    chunks = split_text(message.text)
    if not message.choices:
        return Rendered(chunks, None)
    if message.multiple:
        lang = detect_language(message, catalogue)
        return Rendered(chunks, toggle_keyboard(message, copy.get("done", lang)))
    return Rendered(chunks, choice_keyboard(message, ref=ref))


def toggle(markup: InlineKeyboardMarkup, data: str) -> InlineKeyboardMarkup | None:
    """Flip the tick on the button with ``data``; None if there is no such button."""
    found = False
    rows: list[list[InlineKeyboardButton]] = []
    for row in markup.inline_keyboard:
        new_row = []
        for button in row:
            if button.callback_data == data and not found:
                found = True
                if button.text.startswith(TICKED):
                    text = UNTICKED + button.text[len(TICKED) :]
                else:
                    text = TICKED + button.text.removeprefix(UNTICKED)
                button = InlineKeyboardButton(text=text, callback_data=button.callback_data)
            new_row.append(button)
        rows.append(new_row)
    return InlineKeyboardMarkup(inline_keyboard=rows) if found else None


def ticked(markup: InlineKeyboardMarkup | None) -> tuple[list[str], list[str]]:
    """The values and labels ticked on a multiple-choice keyboard, in keyboard order."""
    values: list[str] = []
    labels: list[str] = []
    for row in markup.inline_keyboard if markup else []:
        for button in row:
            data = button.callback_data or ""
            if data.startswith(TOGGLE) and button.text.startswith(TICKED):
                values.append(data[len(TOGGLE) :])
                labels.append(button.text[len(TICKED) :])
    return values, labels


def label_for(markup: InlineKeyboardMarkup | None, data: str) -> str | None:
    """The label of the button with ``data`` on a keyboard, if present."""
    for row in markup.inline_keyboard if markup else []:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None
