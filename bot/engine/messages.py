"""Channel-neutral messages and the effects of one engine step (frozen dataclasses)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

InboundKind = Literal["text", "choice", "media", "unsupported"]


def question_tag(key: str) -> str:
    """A short stable tag of a question key, for button data that must fit in a few bytes."""
    return hashlib.blake2s(key.encode("utf-8"), digest_size=3).hexdigest()


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message from a participant, already translated by a channel adapter.

    Attributes:
        channel: Channel name, e.g. ``web``, ``telegram``, ``whatsapp``, ``terminal``.
        address: Where replies go (chat id, web session id); never stored with answers.
        event_id: The channel's unique id for this event, used to drop duplicates.
        text: Typed text, if any.
        choice: Value of a pressed button, if any.
        kind: ``media`` for photos, voice and the like (never downloaded).
        bot: Which bot of the channel received it (part of the pseudonym).
        question_tag: For a pressed button, :func:`question_tag` of the question it was
            shown with (buttons outlive their question: an old one must not answer a new
            question).
        received_at: When the channel received it.
    """

    channel: str
    address: str
    event_id: str
    text: str | None = None
    choice: str | None = None
    kind: InboundKind = "text"
    bot: str = "default"
    question_tag: str | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class Choice:
    """One button or list item offered to the participant."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message to send; each channel renders choices its own way.

    Attributes:
        text: The message body (already in the participant's language).
        choices: Buttons or list items; empty for plain text.
        multiple: The participant may pick several choices (sent as comma-separated values).
        style: ``buttons`` (default), ``scale`` (one row) or ``list`` (long lists).
        question_key: The question this message asks, if it asks one.
        free_text: The message expects typed text.
    """

    text: str
    choices: tuple[Choice, ...] = ()
    multiple: bool = False
    style: Literal["buttons", "scale", "list"] = "buttons"
    question_key: str | None = None
    free_text: bool = False

    def to_payload(self) -> dict[str, Any]:
        """Serialise for the outbox."""
        return {
            "text": self.text,
            "choices": [{"value": c.value, "label": c.label} for c in self.choices],
            "multiple": self.multiple,
            "style": self.style,
            "question_key": self.question_key,
            "free_text": self.free_text,
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Outbound:
        """Rebuild an outbound message from its outbox payload."""
        return cls(
            text=str(data["text"]),
            choices=tuple(
                Choice(str(c["value"]), str(c["label"])) for c in data.get("choices", [])
            ),
            multiple=bool(data.get("multiple", False)),
            style=data.get("style", "buttons"),
            question_key=data.get("question_key"),
            free_text=bool(data.get("free_text", False)),
        )


AnswerValue = str | list[str] | None


@dataclass(frozen=True, slots=True)
class StoreAnswer:
    """Store (or replace) the answer to a question."""

    question_key: str
    value: AnswerValue
    text: str | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteAnswer:
    """Remove a stored answer (the participant went back and skipped it)."""

    question_key: str


@dataclass(frozen=True, slots=True)
class Complete:
    """The participant finished the survey."""


@dataclass(frozen=True, slots=True)
class StopContact:
    """Stop every outbound message to this participant, queued ones included."""


@dataclass(frozen=True, slots=True)
class EraseParticipant:
    """Erase every answer, conversation and contact of this participant."""


@dataclass(frozen=True, slots=True)
class SetLanguage:
    """Remember the participant's language choice."""

    lang: str


@dataclass(frozen=True, slots=True)
class Quarantine:
    """Keep a possible crisis or disclosure text apart, encrypted; never as an answer."""

    text: str
    category: str
    subtype: str | None
    question_key: str | None = None


@dataclass(frozen=True, slots=True)
class UnlinkContact:
    """Forget how to reach this participant (the anonymous path for under-16s)."""


Effect = (
    StoreAnswer
    | DeleteAnswer
    | Complete
    | StopContact
    | EraseParticipant
    | SetLanguage
    | Quarantine
    | UnlinkContact
)
