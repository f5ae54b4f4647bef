"""The pure conversation step: ``(definition, progress, inbound) -> (progress, outbound, effects)``.

No I/O happens here: the async shell in :mod:`bot.engine.engine` loads the conversation,
calls :func:`step` and applies the returned effects in one transaction.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal

from bot.engine.catalogue import Catalogue
from bot.engine.messages import (
    AnswerValue,
    Choice,
    Complete,
    DeleteAnswer,
    Effect,
    EraseParticipant,
    Inbound,
    Outbound,
    Quarantine,
    SetLanguage,
    StopContact,
    StoreAnswer,
    UnlinkContact,
    question_tag,
)
from surveys.definitions import MAX_FREE_TEXT, Definition, Option, Question, QuestionType
from surveys.privacy.safeguarding import NO_SIGNAL, classify, help_card

State = Literal[
    "new",
    "consent",
    "asking",
    "paused",
    "parent_consent",
    "confirm_erase",
    "done",
    "declined",
    "stopped",
]
RoundStatus = Literal["open", "closed", "not_open"]
Under16 = Literal["allowed", "anonymous", "parent_consent"]
# Stands in for free text in progress; the text itself is never kept there.
FREE_TEXT_MARK = "[tekst]"

CMD_PREFIX = "cmd:"
CONSENT_YES, CONSENT_NO = "cmd:consent-yes", "cmd:consent-no"
ERASE_YES, ERASE_NO = "cmd:erase-yes", "cmd:erase-no"
CONTINUE, STOP = "cmd:continue", "cmd:stop"
PARENT_YES = "cmd:parent-yes"
PARENT_CONSENT_KEY = "ouder_toestemming"

COMMANDS: dict[str, str] = {
    "start": "start",
    "begin": "start",
    "hulp": "help",
    "help": "help",
    "stop": "stop",
    "stoppen": "stop",
    "privacy": "privacy",
    "verwijder": "erase",
    "verwijderen": "erase",
    "wissen": "erase",
    "delete": "erase",
    "terug": "back",
    "vorige": "back",
    "back": "back",
    "overslaan": "skip",
    "sla over": "skip",
    "skip": "skip",
    "verder": "continue",
    "doorgaan": "continue",
    "continue": "continue",
    "english": "lang_en",
    "engels": "lang_en",
    "nederlands": "lang_nl",
    "dutch": "lang_nl",
}
YES = {"ja", "j", "yes", "y", "jep", "jup", "yep", "jazeker", "ok", "oke", "oké", "goed"}
NO = {"nee", "n", "no", "nope", "neen", "nee hoor"}
_STRIP = " \t\r\n.!?,;:"
_SPLIT = re.compile(r"\s*[,;/+&]\s*|\s+en\s+|\s+and\s+")


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a participant is in a conversation; stored as JSON on the conversation row."""

    state: State = "new"
    current: str | None = None
    answers: Mapping[str, AnswerValue] = field(default_factory=dict)
    history: tuple[str, ...] = ()
    lang: str = "nl"
    resume: State | None = None
    under16: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Serialise to plain JSON data."""
        return {
            "state": self.state,
            "current": self.current,
            "answers": dict(self.answers),
            "history": list(self.history),
            "lang": self.lang,
            "resume": self.resume,
            "under16": self.under16,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Progress:
        """Rebuild from :meth:`to_dict` output (an empty mapping gives a new conversation)."""
        if not data:
            return cls()
        return cls(
            state=data.get("state", "new"),
            current=data.get("current"),
            answers=dict(data.get("answers") or {}),
            history=tuple(data.get("history") or ()),
            lang=data.get("lang", "nl"),
            resume=data.get("resume"),
            under16=bool(data.get("under16", False)),
        )


@dataclass(frozen=True, slots=True)
class RoundContext:
    """What the shell knows about the round that the pure step needs.

    Attributes:
        status: ``open``, ``closed`` or ``not_open`` (scheduled for later).
        places: Scope lists of the round (``wijk``, ``school``, ``klas``) for place questions.
        retention_days: How long answers are kept (told in the consent text).
        under16: The municipality's path for participants under 16: ``allowed``,
            ``anonymous`` (nothing kept to reach them after the survey) or ``parent_consent``.
    """

    status: RoundStatus = "open"
    places: Mapping[str, list[str]] = field(default_factory=dict)
    retention_days: int = 365
    under16: Under16 = "allowed"


@dataclass(frozen=True, slots=True)
class Step:
    """The result of one step: new progress, messages to send, effects to apply."""

    progress: Progress
    outbound: tuple[Outbound, ...]
    effects: tuple[Effect, ...] = ()


def normalise_command(raw: str) -> str:
    """Lower-case, trim punctuation, drop a leading slash and a ``@botname`` suffix."""
    text = unicodedata.normalize("NFKC", raw).strip().lower()
    if text.startswith("/"):
        text = text[1:]
        head, _, rest = text.partition(" ")
        text = (head.split("@", 1)[0] + (" " + rest if rest else "")).strip()
    return text.strip(_STRIP)


def parse_command(inbound: Inbound) -> tuple[str | None, str]:
    """Return ``(command, argument)`` if the whole message is a command, else ``(None, "")``.

    Only a message that is exactly a command word counts, so "dit helpt niet" is an answer.
    """
    if inbound.choice and inbound.choice.startswith(CMD_PREFIX):
        return None, ""
    if not inbound.text:
        return None, ""
    text = normalise_command(inbound.text)
    if text in COMMANDS:
        return COMMANDS[text], ""
    head, _, arg = text.partition(" ")
    if head == "start" and arg and " " not in arg.strip():
        return "start", inbound.text.strip().split(None, 1)[1].strip()
    return None, ""


class _Answer:
    __slots__ = ("value", "text", "error", "error_values")

    def __init__(
        self,
        value: AnswerValue = None,
        text: str | None = None,
        error: str | None = None,
        **error_values: object,
    ) -> None:
        self.value = value
        self.text = text
        self.error = error
        self.error_values = error_values


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip(_STRIP)


@lru_cache(maxsize=4096)
def _fold_option(option: Option) -> tuple[str, str, str]:
    """Folded labels and value of an option (cached: options are immutable survey copy)."""
    return _fold(option.label.nl), _fold(option.label.en), _fold(option.value)


_AGE = re.compile(r"^(\d{1,2})\s*(jaar|jr|j|years?|yrs?)?$")
_BAND = re.compile(r"^(\d{1,2})(?:-(\d{1,2})|(\+))$")


def _age_band(folded: str, options: list[Option]) -> str | None:
    """Map a typed age ("14", "14 jaar") to the band that contains it, if any."""
    match = _AGE.match(folded)
    if match is None:
        return None
    age = int(match.group(1))
    for opt in options:
        band = _BAND.match(opt.value)
        if band is None:
            continue
        low = int(band.group(1))
        high = int(band.group(2)) if band.group(2) else 200
        if low <= age <= high:
            return opt.value
    return None


def _match_option(raw: str, options: list[Option], question: Question) -> str | None:
    raw = raw.strip()
    for opt in options:
        if raw == opt.value:
            return opt.value
    folded = _fold(raw)
    if question.type == QuestionType.age_band:
        # A typed number is an age when a band contains it ("2" is a toddler, not option 2).
        band = _age_band(folded, options)
        if band is not None:
            return band
    if folded.isdigit():
        index = int(folded)
        if question.type == QuestionType.scale:
            return str(index) if 1 <= index <= 5 else None
        return options[index - 1].value if 1 <= index <= len(options) else None
    for opt in options:
        if folded in _fold_option(opt):
            return opt.value
    if question.type == QuestionType.yes_no:
        if folded in YES:
            return "ja"
        if folded in NO:
            return "nee"
    return None


def _parse_answer(
    question: Question, options: list[Option], inbound: Inbound, lang: str
) -> _Answer:
    raw = inbound.choice if inbound.choice is not None else (inbound.text or "")
    qtype = question.type
    if qtype == QuestionType.free_text:
        text = (inbound.text or "").strip()
        if not text:
            return _Answer(error="empty_text" if question.optional else "empty_text_required")
        if len(text) > MAX_FREE_TEXT:
            return _Answer(error="too_long", max=MAX_FREE_TEXT)
        return _Answer(value=FREE_TEXT_MARK, text=text)
    if qtype == QuestionType.multiple_choice:
        whole = _match_option(raw, options, question)
        parts = [whole] if whole else [p for p in _SPLIT.split(raw.strip()) if p]
        if whole is None and len(parts) == 1 and parts[0].isdigit() and len(parts[0]) > 1:
            parts = list(parts[0])  # "13" typed for options 1 and 3
        values: list[str] = []
        for part in parts:
            matched = part if whole else _match_option(part, options, question)
            if matched is None:
                return _Answer(error="invalid_multiple")
            if matched not in values:
                values.append(matched)
        if not values:
            return _Answer(error="invalid_multiple")
        exclusive = [o for o in options if o.exclusive and o.value in values]
        if exclusive and len(values) > 1:
            return _Answer(error="exclusive_choice", label=exclusive[0].label.get(lang))
        if question.max_choices and len(values) > question.max_choices:
            return _Answer(error="too_many", max=question.max_choices)
        order = {o.value: i for i, o in enumerate(options)}
        return _Answer(value=sorted(values, key=lambda v: order.get(v, 0)))
    matched = _match_option(raw, options, question)
    if matched is None:
        return _Answer(error="invalid_scale" if qtype == QuestionType.scale else "invalid_choice")
    return _Answer(value=matched)


def render_question(
    question: Question,
    lang: str,
    catalogue: Catalogue,
    places: Mapping[str, list[str]] | None = None,
    prefix: str | None = None,
) -> Outbound:
    """Render ``question`` as a channel-neutral message."""
    lines = [prefix] if prefix else []
    lines.append(question.text.get(lang))
    if question.hint:
        lines.append(question.hint.get(lang))
    options = question.resolved_options(dict(places) if places else None)
    if question.type == QuestionType.free_text:
        lines.append(catalogue.get("hint_free_text", lang))
    elif question.type == QuestionType.multiple_choice:
        lines.append(catalogue.get("hint_multiple", lang))
    if question.optional:
        lines.append(catalogue.get("hint_skip", lang))
    style: Literal["buttons", "scale", "list"] = "buttons"
    if question.type == QuestionType.scale:
        style = "scale"
    elif len(options) > 8:
        style = "list"
    return Outbound(
        text="\n".join(lines),
        choices=tuple(Choice(o.value, o.label.get(lang)) for o in options),
        multiple=question.type == QuestionType.multiple_choice,
        style=style,
        question_key=question.key,
        free_text=question.type == QuestionType.free_text,
    )


def _askable(question: Question, answers: Mapping[str, AnswerValue], ctx: RoundContext) -> bool:
    if not all(cond.holds(dict(answers)) for cond in question.when):
        return False
    if question.type in (QuestionType.free_text, QuestionType.scale, QuestionType.yes_no):
        return True
    return bool(question.resolved_options(dict(ctx.places) if ctx.places else None))


def next_question(
    definition: Definition,
    after: str | None,
    answers: Mapping[str, AnswerValue],
    ctx: RoundContext,
) -> Question | None:
    """Return the first askable question after ``after`` (or from the start)."""
    start = 0 if after is None else definition.index[after] + 1
    for question in definition.questions[start:]:
        if _askable(question, answers, ctx):
            return question
    return None


class _Stepper:
    """One step's working state; keeps :func:`step` readable."""

    def __init__(
        self,
        definition: Definition | None,
        progress: Progress,
        ctx: RoundContext,
        catalogue: Catalogue,
    ) -> None:
        self.definition = definition
        self.progress = progress
        self.ctx = ctx
        self.catalogue = catalogue
        self.out: list[Outbound] = []
        self.effects: list[Effect] = []

    def say(self, key: str, **values: object) -> None:
        self.out.append(Outbound(self.catalogue.get(key, self.progress.lang, **values)))

    def ask(self, question: Question, prefix: str | None = None) -> None:
        self.progress = replace(self.progress, state="asking", current=question.key)
        self.out.append(
            render_question(question, self.progress.lang, self.catalogue, self.ctx.places, prefix)
        )

    def ask_current(self, prefix_key: str | None = None, **values: object) -> None:
        prefix = (
            self.catalogue.get(prefix_key, self.progress.lang, **values) if prefix_key else None
        )
        if self.definition and self.progress.current:
            self.ask(self.definition.question(self.progress.current), prefix)
        elif prefix:
            self.out.append(Outbound(prefix))

    def consent(self) -> None:
        assert self.definition is not None
        lang = self.progress.lang
        text = self.catalogue.get(
            "consent",
            lang,
            intro=self.definition.intro.get(lang).strip(),
            retention_days=self.ctx.retention_days,
        )
        choices = (
            Choice(CONSENT_YES, self.catalogue.get("consent_yes", lang)),
            Choice(CONSENT_NO, self.catalogue.get("consent_no", lang)),
        )
        self.progress = replace(self.progress, state="consent", current=None)
        self.out.append(Outbound(text, choices))

    def advance(self) -> None:
        assert self.definition is not None
        nxt = next_question(self.definition, self.progress.current, self.progress.answers, self.ctx)
        if nxt is None:
            self.progress = replace(self.progress, state="done", current=None)
            self.effects.append(Complete())
            if self.progress.under16 and self.ctx.under16 == "anonymous":
                self.effects.append(UnlinkContact())
            self.out.append(Outbound(self.definition.outro.get(self.progress.lang)))
        else:
            self.ask(nxt)

    def parent_consent(self) -> None:
        lang = self.progress.lang
        self.progress = replace(self.progress, state="parent_consent")
        self.out.append(
            Outbound(
                self.catalogue.get("parent_consent", lang),
                (
                    Choice(PARENT_YES, self.catalogue.get("parent_yes", lang)),
                    Choice(STOP, self.catalogue.get("stop_label", lang)),
                ),
            )
        )

    def pause_prompt(self) -> None:
        lang = self.progress.lang
        self.out.append(
            Outbound(
                self.catalogue.get("paused", lang),
                (
                    Choice(CONTINUE, self.catalogue.get("continue", lang)),
                    Choice(STOP, self.catalogue.get("stop_label", lang)),
                ),
            )
        )

    def result(self) -> Step:
        return Step(self.progress, tuple(self.out), tuple(self.effects))


def _is(inbound: Inbound, value: str, words: set[str]) -> bool:
    if inbound.choice == value:
        return True
    return inbound.choice is None and _fold(inbound.text or "") in words


def step(
    definition: Definition | None,
    progress: Progress,
    inbound: Inbound,
    *,
    context: RoundContext,
    catalogue: Catalogue,
) -> Step:
    """Advance one conversation by one inbound message.

    Args:
        definition: The pinned survey definition, or None when the participant has no
            conversation yet (only commands and the welcome text apply).
        progress: The stored progress.
        inbound: The participant's message.
        context: Round status and scope.
        catalogue: Participant-facing copy.

    Returns:
        The new progress, the messages to send and the effects to apply, in order.
    """
    s = _Stepper(definition, progress, context, catalogue)
    command, _arg = parse_command(inbound)
    state = progress.state

    if inbound.kind in ("media", "unsupported"):
        s.say("media_not_supported")
        return s.result()
    if command == "help":
        s.out.append(Outbound(help_card(NO_SIGNAL, lang=progress.lang)))
        return s.result()
    typed = inbound.text if inbound.choice is None and command is None else None
    signal = (
        classify(typed)
        if typed and _worth_checking(definition, progress, inbound, context)
        else NO_SIGNAL
    )
    if signal.category != "none":
        # Help first, at once; the text goes to the encrypted quarantine, never to answers.
        assert typed is not None
        s.out.append(Outbound(help_card(signal, lang=progress.lang)))
        s.effects.append(
            Quarantine(typed, signal.category, signal.subtype, question_key=progress.current)
        )
        if state in ("asking", "paused", "parent_consent", "confirm_erase"):
            resume = progress.resume if state in ("paused", "confirm_erase") else state
            s.progress = replace(progress, state="paused", resume=resume or "asking")
            s.pause_prompt()
        return s.result()
    if command == "privacy":
        s.say("privacy")
        return s.result()
    if command in ("lang_en", "lang_nl"):
        lang = "en" if command == "lang_en" else "nl"
        s.progress = replace(progress, lang=lang)
        s.effects.append(SetLanguage(lang))
        s.say("language_set")
        if state == "asking":
            s.ask_current()
        return s.result()
    if command == "erase":
        resume = progress.resume if state == "confirm_erase" else state
        s.progress = replace(progress, state="confirm_erase", resume=resume)
        lang = progress.lang
        s.out.append(
            Outbound(
                catalogue.get("erase_confirm", lang),
                (
                    Choice(ERASE_YES, catalogue.get("erase_yes", lang)),
                    Choice(ERASE_NO, catalogue.get("erase_no", lang)),
                ),
            )
        )
        return s.result()
    if inbound.choice == ERASE_YES or (state == "confirm_erase" and _is(inbound, ERASE_YES, YES)):
        s.progress = Progress(lang=progress.lang)
        s.effects.append(EraseParticipant())
        s.say("erased")
        return s.result()
    if inbound.choice == ERASE_NO or (state == "confirm_erase" and _is(inbound, ERASE_NO, NO)):
        s.progress = replace(progress, state=progress.resume or "new", resume=None)
        if s.progress.state == "asking":
            s.ask_current("erase_cancelled")
        else:
            s.say("erase_cancelled")
        return s.result()
    if state == "confirm_erase":
        s.progress = replace(progress, state=progress.resume or "new", resume=None)
        state = s.progress.state
        progress = s.progress
    if command == "stop" or inbound.choice == STOP:
        if state != "stopped":
            s.progress = replace(progress, state="stopped", resume=state)
        s.effects.append(StopContact())
        s.say("stopped")
        return s.result()
    if definition is None:
        s.say("welcome")
        return s.result()
    if context.status != "open":
        s.say("round_closed" if context.status == "closed" else "round_not_open")
        return s.result()

    if command == "start":
        if state == "stopped":
            state = progress.resume or "new"
            s.progress = progress = replace(progress, state=state, resume=None)
        if state in ("new", "declined", "consent"):
            s.consent()
        elif state == "parent_consent":
            s.parent_consent()
        elif state == "paused":
            s.pause_prompt()
        elif state == "asking":
            s.ask_current("resume")
        else:
            s.say("already_done")
        return s.result()

    if state == "stopped":
        s.say("stopped_reminder")
    elif state == "new":
        s.consent()
    elif state == "consent":
        if _is(inbound, CONSENT_YES, YES):
            s.progress = replace(progress, state="asking", current=None)
            s.advance()
        elif _is(inbound, CONSENT_NO, NO):
            s.progress = replace(progress, state="declined")
            s.say("declined")
        else:
            s.consent()
    elif state == "declined":
        s.say("declined")
    elif state == "done":
        s.say("already_done")
    elif state == "paused":
        if command == "continue" or inbound.choice == CONTINUE or _is(inbound, CONTINUE, YES):
            s.progress = replace(progress, state="asking", resume=None)
            if s.progress.current is None:
                s.advance()
            else:
                s.ask_current()
        else:
            s.pause_prompt()
    elif state == "parent_consent":
        if inbound.choice == PARENT_YES or _is(inbound, PARENT_YES, YES):
            s.effects.append(StoreAnswer(PARENT_CONSENT_KEY, "ja"))
            s.progress = replace(progress, state="asking")
            s.advance()
        elif _is(inbound, STOP, NO):
            s.progress = replace(progress, state="stopped", resume="parent_consent")
            s.effects.append(StopContact())
            s.say("stopped")
        else:
            s.parent_consent()
    else:
        _step_asking(s, definition, command, inbound)
    return s.result()


def _worth_checking(
    definition: Definition | None, progress: Progress, inbound: Inbound, ctx: RoundContext
) -> bool:
    """Whether typed text needs the safeguarding check.

    Everything typed is checked, except a text that is exactly a valid answer to the current
    choice question ("2", "Noord", "ja"): such a text cannot carry a disclosure, and skipping
    it keeps the step cheap.
    """
    if definition is None or progress.state != "asking" or progress.current is None:
        return True
    question = definition.question(progress.current)
    if question.type == QuestionType.free_text:
        return True
    options = question.resolved_options(dict(ctx.places) if ctx.places else None)
    return _parse_answer(question, options, inbound, progress.lang).error is not None


def _step_asking(
    s: _Stepper, definition: Definition, command: str | None, inbound: Inbound
) -> None:
    progress = s.progress
    if progress.current is None:
        s.advance()
        return
    question = definition.question(progress.current)
    if command == "continue":
        s.ask(question)
        return
    if command == "back":
        if not progress.history:
            s.ask(question, s.catalogue.get("back_at_start", progress.lang))
            return
        previous = progress.history[-1]
        answers = {k: v for k, v in progress.answers.items() if k != previous}
        s.progress = replace(progress, history=progress.history[:-1], answers=answers)
        s.effects.append(DeleteAnswer(previous))
        s.ask(definition.question(previous))
        return
    if command == "skip":
        if not question.optional:
            s.ask(question, s.catalogue.get("not_skippable", progress.lang))
            return
        s.progress = replace(progress, history=(*progress.history, question.key))
        s.advance()
        return
    if command == "start":
        s.ask(question)
        return
    if inbound.question_tag is not None and inbound.question_tag != question_tag(question.key):
        s.ask(question, s.catalogue.get("stale_button", progress.lang))
        return
    options = question.resolved_options(dict(s.ctx.places) if s.ctx.places else None)
    answer = _parse_answer(question, options, inbound, progress.lang)
    if answer.error:
        s.ask(question, s.catalogue.get(answer.error, progress.lang, **answer.error_values))
        return
    kind = question.kind.value if question.kind else None
    s.effects.append(StoreAnswer(question.key, answer.value, answer.text, kind))
    answers = dict(progress.answers)
    answers[question.key] = answer.value
    s.progress = replace(progress, answers=answers, history=(*progress.history, question.key))
    if question.type == QuestionType.age_band and isinstance(answer.value, str):
        young = _under_16(answer.value)
        s.progress = replace(s.progress, under16=young)
        if young and s.ctx.under16 == "parent_consent" and PARENT_CONSENT_KEY not in answers:
            s.parent_consent()
            return
        if young and s.ctx.under16 == "anonymous":
            s.say("under16_anonymous")
    s.advance()


def _under_16(band: str) -> bool:
    """Whether every age in a band value such as ``12-15`` is below 16."""
    match = _BAND.match(band)
    if match is None or not match.group(2):
        return False
    return int(match.group(2)) < 16
