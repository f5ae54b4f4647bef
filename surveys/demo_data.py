"""Synthetic, clearly fictional demo answers for the shipped templates (no database).

The Dutch texts and the weights live in ``surveys/demo_data.yaml``; this module only turns them
into completed responses. Every response follows its template: questions whose ``when`` does not
hold are left out, optional questions are sometimes skipped, and every value is a valid option,
``"1"``..``"5"`` for scales, ``"ja"``/``"nee"`` or free text. Each demo participant mostly talks
about one theme (mentale gezondheid, geld, ...), weighted by wijk and age band, so the dashboard
has clusters and differences between wijken to show. Output is deterministic for a given seed.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field

from surveys.definitions import (
    Definition,
    PlaceScope,
    Question,
    QuestionType,
    load_templates,
    place_value,
)

Answer = str | list[str]
_Weights = dict[str, Annotated[float, Field(ge=0)]]
_Rate = Annotated[float, Field(ge=0, le=1)]


@dataclass(frozen=True)
class DemoResponse:
    """One completed, synthetic response to a template.

    Attributes:
        definition_key: Key of the template answered, e.g. ``bouwsteen1-jongeren``.
        answers: Question key to answer: an option value, ``"1"``..``"5"``, ``"ja"``/``"nee"``,
            a list of option values (multiple choice) or free text.
    """

    definition_key: str
    answers: dict[str, Answer]


class _Plan(BaseModel):
    """How to answer one template (one entry under ``templates`` in the YAML)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    count: Annotated[int, Field(ge=0)]
    weights: dict[str, _Weights] = Field(default_factory=dict)
    weights_by_theme: dict[str, dict[str, _Weights]] = Field(default_factory=dict)
    theme_options: dict[str, dict[str, str]] = Field(default_factory=dict)
    free_text: dict[str, dict[str, list[Annotated[str, Field(min_length=1)]]]] = Field(
        default_factory=dict
    )


class DemoConfig(BaseModel):
    """The validated contents of ``demo_data.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    other_place_rate: _Rate
    skip_rate: _Rate
    free_text_skip_rate: _Rate
    chat_style_rate: _Rate
    max_picks: Annotated[int, Field(ge=1)]
    exclusive_values: list[str]
    wijken: _Weights
    themes: _Weights
    theme_boost: dict[str, _Weights]
    templates: dict[str, _Plan]


@functools.cache
def demo_config() -> DemoConfig:
    """Load and validate ``surveys/demo_data.yaml`` (cached)."""
    source = (resources.files("surveys") / "demo_data.yaml").read_text(encoding="utf-8")
    return DemoConfig.model_validate(yaml.safe_load(source))


def demo_wijken() -> list[str]:
    """Return the names of the demo wijken, e.g. ``["Centrum", "Noord", ...]``."""
    return list(demo_config().wijken)


def demo_answers(seed: int = 7) -> list[DemoResponse]:
    """Return completed synthetic responses for the demo templates.

    About 200 for ``bouwsteen1-jongeren``, 80 for ``bouwsteen1-ouders`` and 30 for
    ``bouwsteen5-exit-ticket`` (the counts are set in ``demo_data.yaml``).

    Args:
        seed: Seed for ``random.Random``; the same seed gives the same responses.

    Returns:
        The responses, grouped per template in the order of the YAML file.

    Raises:
        KeyError: The YAML names a template that is not shipped.
    """
    config = demo_config()
    templates = load_templates()
    rng = random.Random(seed)
    out: list[DemoResponse] = []
    for key, plan in config.templates.items():
        definition = templates[key]
        for _ in range(plan.count):
            answers = _Respondent(definition, plan, config, rng).answer_all()
            out.append(DemoResponse(definition_key=key, answers=answers))
    return out


def _weighted(rng: random.Random, weights: Mapping[str, float]) -> str:
    """Pick a key with probability proportional to its weight."""
    keys = [k for k, w in weights.items() if w > 0]
    if not keys:
        raise ValueError("nothing to choose from: all weights are zero")
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


class _Respondent:
    """One fictional participant filling in one template."""

    def __init__(
        self, definition: Definition, plan: _Plan, config: DemoConfig, rng: random.Random
    ) -> None:
        self.definition = definition
        self.plan = plan
        self.config = config
        self.rng = rng
        self.answers: dict[str, Answer] = {}
        self._theme: str | None = None

    def answer_all(self) -> dict[str, Answer]:
        for q in self.definition.questions:
            if not all(cond.holds(self.answers) for cond in q.when):
                continue
            if q.optional:
                is_text = q.type == QuestionType.free_text
                rate = self.config.free_text_skip_rate if is_text else self.config.skip_rate
                if self.rng.random() < rate:
                    continue
            self.answers[q.key] = self._answer(q)
        return self.answers

    @property
    def theme(self) -> str:
        """The theme this participant mostly talks about, drawn once it is first needed."""
        if self._theme is None:
            weights = dict(self.config.themes)
            wijk_names = {place_value(name): name for name in self.config.wijken}
            for q in self.definition.questions:
                value = self.answers.get(q.key)
                if not isinstance(value, str):
                    continue
                if q.type == QuestionType.age_band:
                    boost = self.config.theme_boost.get(value, {})
                elif q.type == QuestionType.place and value in wijk_names:
                    boost = self.config.theme_boost.get(wijk_names[value], {})
                else:
                    continue
                for theme, factor in boost.items():
                    if theme in weights:
                        weights[theme] *= factor
            self._theme = _weighted(self.rng, weights)
        return self._theme

    def _weights(self, q: Question, values: list[str]) -> dict[str, float]:
        by_theme = self.plan.weights_by_theme.get(q.key)
        if by_theme and self.theme in by_theme:
            return dict(by_theme[self.theme])
        if q.key in self.plan.weights:
            return dict(self.plan.weights[q.key])
        return dict.fromkeys(values, 1.0)

    def _answer(self, q: Question) -> Answer:
        values = [o.value for o in q.resolved_options()]
        if q.type == QuestionType.free_text:
            return self._free_text(q)
        if q.type == QuestionType.multiple_choice:
            return self._multiple(q, values)
        if q.type == QuestionType.place:
            return self._place(q)
        return _weighted(self.rng, self._weights(q, values))

    def _place(self, q: Question) -> str:
        extra = [o.value for o in q.options]
        if extra and self.rng.random() < self.config.other_place_rate:
            return self.rng.choice(extra)
        if q.scope == PlaceScope.wijk:
            return place_value(_weighted(self.rng, self.config.wijken))
        if extra:
            return self.rng.choice(extra)
        raise ValueError(f"question '{q.key}': no demo places for scope {q.scope}")

    def _multiple(self, q: Question, values: list[str]) -> list[str]:
        weights = self._weights(q, values)
        limit = min(self.config.max_picks, q.max_choices or len(values))
        wanted = self.rng.randint(1, limit)
        chosen: list[str] = []
        by_theme = self.plan.theme_options.get(q.key)
        if by_theme and by_theme.get(self.theme) in weights:
            chosen.append(by_theme[self.theme])
            weights.pop(by_theme[self.theme])
        while len(chosen) < wanted and any(w > 0 for w in weights.values()):
            pick = _weighted(self.rng, weights)
            weights.pop(pick)
            if pick in self.config.exclusive_values:
                if not chosen:
                    return [pick]
                continue
            chosen.append(pick)
        return [v for v in values if v in chosen]

    def _free_text(self, q: Question) -> str:
        pools = self.plan.free_text.get(q.key)
        if not pools:
            raise ValueError(f"question '{q.key}': demo_data.yaml has no free texts for it")
        pool = pools.get(self.theme) or pools[self.rng.choice(sorted(pools))]
        text = self.rng.choice(pool)
        if self.rng.random() < self.config.chat_style_rate:
            if text[1:2].islower():  # keep acronyms such as "OV" as they are
                text = text[:1].lower() + text[1:]
            text = text.rstrip(".")
        return text
