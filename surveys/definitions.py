"""Survey definitions: YAML files validated by pydantic.

A definition is a list of questions with Dutch (B1) and English copy, a purpose per question
(why the municipality needs it, shown to admins) and optional conditions that skip a question
depending on earlier answers. Definitions are immutable once loaded; rounds pin a version.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from surveys.exceptions import InvalidDefinition

Lang = Literal["nl", "en"]
LANGS: tuple[Lang, ...] = ("nl", "en")
MAX_FREE_TEXT = 2000


class QuestionType(StrEnum):
    """The kinds of question a survey can ask."""

    single_choice = "single_choice"
    multiple_choice = "multiple_choice"
    scale = "scale"
    yes_no = "yes_no"
    free_text = "free_text"
    age_band = "age_band"
    place = "place"


class AnswerKind(StrEnum):
    """What a free-text answer is about (bouwsteen 1: zorgen, kansen, signalen)."""

    zorg = "zorg"
    kans = "kans"
    signaal = "signaal"
    open = "open"


class ScaleStyle(StrEnum):
    """How a 1-5 scale is shown."""

    numbers = "numbers"
    smileys = "smileys"


class PlaceScope(StrEnum):
    """Which scope list a place question draws its options from."""

    wijk = "wijk"
    school = "school"
    klas = "klas"


class Audience(StrEnum):
    """Who a survey or round is for."""

    jongeren = "jongeren"
    ouders = "ouders"
    professionals = "professionals"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """A participant-facing text in Dutch (B1) and English."""

    nl: Annotated[str, Field(min_length=1)]
    en: Annotated[str, Field(min_length=1)]

    def get(self, lang: str) -> str:
        """Return the copy for ``lang``, falling back to Dutch."""
        return self.en if lang == "en" else self.nl


class Option(_Strict):
    """One answer option of a choice question."""

    value: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_\-+]+$")]
    label: Text
    exclusive: bool = False  # "geen"/"niets": cannot be combined with other choices


class Condition(_Strict):
    """Ask a question only when an earlier answer matches.

    Exactly one of ``equals``, ``in_`` (YAML ``in``), ``not_in`` or ``answered`` is set.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    question: str
    equals: str | None = None
    in_: list[str] | None = Field(default=None, alias="in")
    not_in: list[str] | None = None
    answered: bool | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        tests = [self.equals, self.in_, self.not_in, self.answered]
        if sum(t is not None for t in tests) != 1:
            raise ValueError("a condition needs exactly one of: equals, in, not_in, answered")
        if self.equals == "" or self.in_ == [] or self.not_in == []:
            raise ValueError("a condition value cannot be empty")
        return self

    def holds(self, answers: dict[str, Any]) -> bool:
        """Evaluate the condition against the answers given so far."""
        value = answers.get(self.question)
        if self.answered is not None:
            return (value is not None) == self.answered
        values = {str(v) for v in value} if isinstance(value, list) else {str(value)}
        if value is None:
            values = set()
        if self.equals is not None:
            return self.equals in values
        if self.in_ is not None:
            return bool(values & set(self.in_))
        assert self.not_in is not None
        return value is not None and not (values & set(self.not_in))


SMILEYS: tuple[str, ...] = ("😞", "🙁", "😐", "🙂", "😀")
DEFAULT_AGE_BANDS: tuple[tuple[str, str, str], ...] = (
    ("12-15", "12 tot en met 15 jaar", "12 to 15 years"),
    ("16-17", "16 of 17 jaar", "16 or 17 years"),
    ("18-23", "18 tot en met 23 jaar", "18 to 23 years"),
    ("24+", "24 jaar of ouder", "24 or older"),
)


class Question(_Strict):
    """One question of a survey."""

    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    type: QuestionType
    text: Text
    purpose: Annotated[str, Field(min_length=5)]
    hint: Text | None = None
    optional: bool = False
    options: list[Option] = Field(default_factory=list)
    kind: AnswerKind | None = None
    style: ScaleStyle = ScaleStyle.numbers
    scale_labels: tuple[Text, Text] | None = None
    scope: PlaceScope | None = None
    max_choices: int | None = None
    when: list[Condition] = Field(default_factory=list)

    @model_validator(mode="after")
    def _type_rules(self) -> Question:
        t = self.type
        if (
            t in (QuestionType.single_choice, QuestionType.multiple_choice)
            and len(self.options) < 2
        ):
            raise ValueError(f"a {t.value} question needs at least two options")
        if t == QuestionType.free_text and self.kind is None:
            raise ValueError("a free_text question needs a kind: zorg, kans, signaal or open")
        if t != QuestionType.free_text and self.kind is not None:
            raise ValueError("only free_text questions have a kind")
        if t == QuestionType.place and self.scope is None:
            raise ValueError("a place question needs a scope: wijk, school or klas")
        if t in (QuestionType.scale, QuestionType.yes_no, QuestionType.free_text) and self.options:
            raise ValueError(f"a {t.value} question has fixed answers; remove 'options'")
        values = [o.value for o in self.options]
        if len(values) != len(set(values)):
            raise ValueError("option values must be unique")
        if self.max_choices is not None and (
            t != QuestionType.multiple_choice or not 1 <= self.max_choices <= len(self.options)
        ):
            raise ValueError(
                "max_choices only fits a multiple_choice question, 1..number of options"
            )
        if t != QuestionType.multiple_choice and any(o.exclusive for o in self.options):
            raise ValueError("only options of a multiple_choice question can be exclusive")
        if t != QuestionType.place and self.scope is not None:
            raise ValueError("only place questions have a scope")
        if t != QuestionType.scale and (
            self.style != ScaleStyle.numbers or self.scale_labels is not None
        ):
            raise ValueError("style and scale_labels only fit a scale question")
        return self

    def resolved_options(self, places: dict[str, list[str]] | None = None) -> list[Option]:
        """Options to offer, filling in the fixed answers of age band, yes/no, scale and place.

        The result is cached per question and scope (questions are immutable); callers get a
        fresh list but must not mutate the options.
        """
        names: tuple[str, ...] = ()
        if self.type == QuestionType.place and self.scope is not None and places:
            names = tuple(places.get(self.scope.value) or ())
        cache_key = (id(self), names)
        hit = _OPTIONS_CACHE.get(cache_key)
        if hit is not None and hit[0] is self:
            return list(hit[1])
        options = self._build_options(names)
        if len(_OPTIONS_CACHE) > 4096:
            _OPTIONS_CACHE.clear()
        _OPTIONS_CACHE[cache_key] = (self, tuple(options))
        return options

    def _build_options(self, names: tuple[str, ...]) -> list[Option]:
        if self.type == QuestionType.yes_no:
            return [
                Option(value="ja", label=Text(nl="Ja", en="Yes")),
                Option(value="nee", label=Text(nl="Nee", en="No")),
            ]
        if self.type == QuestionType.scale:
            if self.style == ScaleStyle.smileys:
                return [
                    Option(value=str(i + 1), label=Text(nl=s, en=s)) for i, s in enumerate(SMILEYS)
                ]
            return [Option(value=str(i), label=Text(nl=str(i), en=str(i))) for i in range(1, 6)]
        if self.type == QuestionType.age_band and not self.options:
            return [Option(value=v, label=Text(nl=nl, en=en)) for v, nl, en in DEFAULT_AGE_BANDS]
        if names:
            extra = [o for o in self.options if o.value not in {_slug(n) for n in names}]
            return [Option(value=_slug(n), label=Text(nl=n, en=n)) for n in names] + extra
        return list(self.options)


# (id(question), scope names) -> (question, options); the question is kept to guard the id.
_OPTIONS_CACHE: dict[tuple[int, tuple[str, ...]], tuple[Question, tuple[Option, ...]]] = {}


def _slug(name: str) -> str:
    out = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    while "--" in out:
        out = out.replace("--", "-")
    return out[:40] or "x"


def place_value(name: str) -> str:
    """Return the option value used for a wijk/school/klas name."""
    return _slug(name)


class Definition(_Strict):
    """A whole survey: metadata, intro/outro copy and questions."""

    key: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{1,60}$")]
    version: Annotated[int, Field(ge=1)]
    title: Text
    description: str = ""
    bouwsteen: Literal[1, 5]
    audience: list[Audience]
    sensitive: bool = False
    variant: str | None = None
    intro: Text
    outro: Text
    questions: list[Question]

    @model_validator(mode="after")
    def _cross_checks(self) -> Definition:
        if not self.questions:
            raise ValueError("a survey needs at least one question")
        seen: dict[str, Question] = {}
        for q in self.questions:
            if q.key in seen:
                raise ValueError(f"question '{q.key}': the key is used twice")
            for cond in q.when:
                if cond.question not in seen:
                    raise ValueError(
                        f"question '{q.key}': condition refers to '{cond.question}', "
                        "which is not an earlier question"
                    )
                earlier = seen[cond.question]
                if earlier.type == QuestionType.free_text and cond.answered is None:
                    raise ValueError(
                        f"question '{q.key}': a condition on free-text question "
                        f"'{cond.question}' can only test 'answered'"
                    )
                allowed = {o.value for o in earlier.resolved_options()}
                wanted = [cond.equals] if cond.equals else (cond.in_ or cond.not_in or [])
                if allowed and earlier.type != QuestionType.place:
                    unknown = [w for w in wanted if w not in allowed]
                    if unknown:
                        raise ValueError(
                            f"question '{q.key}': condition value(s) {unknown} are not options "
                            f"of '{cond.question}'"
                        )
            seen[q.key] = q
        return self

    def question(self, key: str) -> Question:
        """Return the question with ``key``."""
        for q in self.questions:
            if q.key == key:
                return q
        raise KeyError(key)

    @functools.cached_property
    def index(self) -> dict[str, int]:
        """Position of each question key."""
        return {q.key: i for i, q in enumerate(self.questions)}


def _describe(exc: ValidationError, data: Any) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = list(err.get("loc", ()))
        where = "survey"
        if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int):
            idx = loc[1]
            key = "?"
            if isinstance(data, dict):
                qs = data.get("questions")
                if isinstance(qs, list) and idx < len(qs) and isinstance(qs[idx], dict):
                    key = str(qs[idx].get("key", "?"))
            where = f"question '{key}' (#{idx + 1})"
            loc = loc[2:]
        field = ".".join(str(p) for p in loc)
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append(f"{where}: {field + ': ' if field else ''}{msg}")
    return problems


def parse_definition(source: str, *, name: str = "<string>") -> Definition:
    """Parse and validate YAML ``source``.

    Args:
        source: The YAML text.
        name: File name used in error messages.

    Returns:
        The validated definition.

    Raises:
        InvalidDefinition: The YAML is malformed or breaks a rule; the message names the file,
            the question and the problem.
    """
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        raise InvalidDefinition(f"{name}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidDefinition(f"{name}: expected a mapping at the top level")
    try:
        return Definition.model_validate(data)
    except ValidationError as exc:
        raise InvalidDefinition(f"{name}: " + "; ".join(_describe(exc, data))) from exc


def load_definition(path: Path) -> Definition:
    """Load and validate a definition file."""
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidDefinition(f"{path}: cannot read file: {exc.strerror}") from exc
    return parse_definition(source, name=str(path))


def template_sources() -> dict[str, str]:
    """Return the YAML source of every shipped template, keyed by file stem."""
    folder = resources.files("surveys") / "templates"
    out: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            out[entry.name.rsplit(".", 1)[0]] = entry.read_text(encoding="utf-8")
    return out


def load_templates() -> dict[str, Definition]:
    """Load every shipped template, keyed by definition key.

    Raises:
        InvalidDefinition: A template is invalid, or two files use the same key.
    """
    out: dict[str, Definition] = {}
    files: dict[str, str] = {}
    for stem, src in template_sources().items():
        definition = parse_definition(src, name=f"{stem}.yaml")
        if definition.key in out:
            raise InvalidDefinition(
                f"{stem}.yaml: key '{definition.key}' is also used by {files[definition.key]}.yaml"
            )
        out[definition.key] = definition
        files[definition.key] = stem
    return out


def dump_definition(definition: Definition) -> str:
    """Serialise a definition back to YAML (used to store the pinned copy)."""
    data = definition.model_dump(mode="json", by_alias=True, exclude_none=True)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def iter_texts(definition: Definition) -> Iterable[Text]:
    """Yield every participant-facing text of a definition (for copy checks)."""
    yield definition.title
    yield definition.intro
    yield definition.outro
    for q in definition.questions:
        yield q.text
        if q.hint:
            yield q.hint
        yield from q.scale_labels or ()
        for o in q.options:
            yield o.label
