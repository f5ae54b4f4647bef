"""Tests for surveys.demo_data: fictional demo answers that fit their templates."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from typing import Any

import pytest

from surveys.definitions import MAX_FREE_TEXT, Definition, QuestionType, load_templates, place_value
from surveys.demo_data import DemoResponse, demo_answers, demo_config, demo_wijken

TEMPLATES = load_templates()
RESPONSES = demo_answers()
WIJKEN = ["Centrum", "Noord", "Oost", "Zuid", "West"]

# Words that would make a demo text a crisis or abuse disclosure; the demo must hold none.
CRISIS_WORDS = re.compile(
    r"zelfmoord|su[iï]cid|dood|snij|kras|verkracht|aangerand|misbruik|sla(at|an) me|"
    r"mishandel|loverboy|sextortion|naaktfoto",
    re.IGNORECASE,
)
PERSONAL_DATA = re.compile(r"\d|@|https?:|www\.|\bstraat \w+ ?\d", re.IGNORECASE)


def _problems(definition: Definition, answers: dict[str, Any]) -> list[str]:
    """Everything wrong with one response, checked independently of demo_data."""
    problems: list[str] = []
    places = {"wijk": WIJKEN}
    keys = [q.key for q in definition.questions]
    problems += [f"unknown question {k}" for k in answers if k not in keys]
    given: dict[str, Any] = {}
    for q in definition.questions:
        asked = all(c.holds(given) for c in q.when)
        value = answers.get(q.key)
        if not asked:
            if value is not None:
                problems.append(f"{q.key}: answered although its condition does not hold")
            continue
        if value is None:
            if not q.optional:
                problems.append(f"{q.key}: required but missing")
            continue
        given[q.key] = value
        allowed = {o.value for o in q.resolved_options(places)}
        if q.type == QuestionType.free_text:
            if not isinstance(value, str) or not 0 < len(value) <= MAX_FREE_TEXT:
                problems.append(f"{q.key}: bad free text {value!r}")
        elif q.type == QuestionType.multiple_choice:
            if not isinstance(value, list) or not value or len(set(value)) != len(value):
                problems.append(f"{q.key}: bad choices {value!r}")
            elif not set(value) <= allowed:
                problems.append(f"{q.key}: {set(value) - allowed} not options")
            elif q.max_choices is not None and len(value) > q.max_choices:
                problems.append(f"{q.key}: more than {q.max_choices} choices")
        elif not isinstance(value, str) or value not in allowed:
            problems.append(f"{q.key}: {value!r} not in {sorted(allowed)}")
    return problems


def _plain(text: str) -> str:
    return text.lower().rstrip(".")


def _free_texts() -> list[str]:
    return [
        text
        for plan in demo_config().templates.values()
        for pools in plan.free_text.values()
        for pool in pools.values()
        for text in pool
    ]


class TestDemoAnswers:
    def test_counts(self) -> None:
        counts = Counter(r.definition_key for r in RESPONSES)
        assert counts == {
            "bouwsteen1-jongeren": 200,
            "bouwsteen1-ouders": 80,
            "bouwsteen5-exit-ticket": 30,
        }

    def test_every_response_fits_its_template(self) -> None:
        problems = [
            f"#{i} {r.definition_key}: {p}"
            for i, r in enumerate(RESPONSES)
            for p in _problems(TEMPLATES[r.definition_key], r.answers)
        ]
        assert problems == []

    def test_the_checker_catches_bad_answers(self) -> None:
        definition = TEMPLATES["bouwsteen1-jongeren"]
        good = next(r.answers for r in RESPONSES if r.definition_key == definition.key)
        assert _problems(definition, good) == []
        assert _problems(definition, {**good, "leeftijd": "99"})
        assert _problems(definition, {**good, "vrije_tijd": ["sport", "sport"]})
        assert _problems(definition, {**good, "vertrouwen": "ja", "signaal": "tekst"})
        assert _problems(definition, {k: v for k, v in good.items() if k != "welbevinden"})
        assert _problems(definition, {**good, "extra": "x"})

    def test_deterministic_for_a_seed(self) -> None:
        assert demo_answers(7) == RESPONSES
        assert demo_answers(11) == demo_answers(11)

    def test_other_seed_gives_other_answers(self) -> None:
        assert demo_answers(8) != RESPONSES

    def test_default_seed_is_seven(self) -> None:
        assert demo_answers() == demo_answers(7)

    def test_responses_are_frozen(self) -> None:
        with pytest.raises(dataclasses.FrozenInstanceError):
            RESPONSES[0].definition_key = "x"  # type: ignore[misc]
        assert isinstance(RESPONSES[0], DemoResponse)

    def test_wijken_use_place_values(self) -> None:
        wijken = Counter(r.answers.get("wijk") for r in RESPONSES)
        assert {place_value(w) for w in WIJKEN} <= set(wijken)
        assert set(wijken) <= {place_value(w) for w in WIJKEN} | {"anders", None}

    def test_optional_questions_are_sometimes_skipped(self) -> None:
        youth = [r.answers for r in RESPONSES if r.definition_key == "bouwsteen1-jongeren"]
        with_zorg = sum("zorg" in a for a in youth)
        assert 0.5 * len(youth) < with_zorg < len(youth)

    def test_branching_is_followed_both_ways(self) -> None:
        youth = [r.answers for r in RESPONSES if r.definition_key == "bouwsteen1-jongeren"]
        assert any(a.get("vertrouwen") == "nee" and "signaal" in a for a in youth)
        assert all("signaal" not in a for a in youth if a.get("vertrouwen") == "ja")

    @pytest.mark.parametrize("seed", [7, 1, 2024])
    def test_themes_differ_between_wijken(self, seed: int) -> None:
        # The demo gives Noord more worries about safety in the neighbourhood.
        pool = demo_config().templates["bouwsteen1-jongeren"].free_text["zorg"]
        safety = {_plain(t) for t in pool["veiligheid_buurt"]}

        def share(wijken: set[str]) -> float:
            zorgen = [
                _plain(str(r.answers["zorg"]))
                for r in demo_answers(seed)
                if r.definition_key == "bouwsteen1-jongeren"
                and r.answers.get("wijk") in wijken
                and "zorg" in r.answers
            ]
            return sum(z in safety for z in zorgen) / len(zorgen)

        others = {place_value(w) for w in WIJKEN} - {"noord"}
        assert share({"noord"}) > 1.5 * share(others)

    def test_free_texts_vary(self) -> None:
        texts = [
            v
            for r in RESPONSES
            for k, v in r.answers.items()
            if TEMPLATES[r.definition_key].question(k).type == QuestionType.free_text
        ]
        assert len(texts) > 300
        assert len(set(texts)) > 200


class TestDemoConfig:
    def test_a_few_hundred_distinct_texts(self) -> None:
        texts = _free_texts()
        assert len(texts) >= 300
        assert len(set(texts)) == len(texts)

    @pytest.mark.parametrize(
        "theme",
        [
            "mentale_gezondheid",
            "school_prestatiedruk",
            "geld",
            "veiligheid_buurt",
            "online_social_media",
            "middelen",
            "vrije_tijd_sport",
            "wonen_gezin",
            "pesten",
            "toekomst_werk",
            "openbare_ruimte_vervoer",
        ],
    )
    def test_every_theme_has_youth_and_parent_texts(self, theme: str) -> None:
        config = demo_config()
        assert theme in config.themes
        for key in ("bouwsteen1-jongeren", "bouwsteen1-ouders"):
            for question in ("zorg", "kans"):
                assert len(config.templates[key].free_text[question][theme]) >= 3

    def test_texts_hold_no_personal_data(self) -> None:
        assert [t for t in _free_texts() if PERSONAL_DATA.search(t)] == []

    def test_texts_hold_no_crisis_or_abuse_disclosures(self) -> None:
        assert [t for t in _free_texts() if CRISIS_WORDS.search(t)] == []

    def test_texts_fit_a_free_text_answer(self) -> None:
        assert all(0 < len(t) <= MAX_FREE_TEXT for t in _free_texts())

    def test_weights_name_real_questions_and_options(self) -> None:
        config = demo_config()
        for key, plan in config.templates.items():
            definition = TEMPLATES[key]
            tables = [(q, w) for q, w in plan.weights.items()]
            tables += [(q, w) for q, by in plan.weights_by_theme.items() for w in by.values()]
            for question_key, weights in tables:
                allowed = {o.value for o in definition.question(question_key).resolved_options()}
                assert set(weights) <= allowed, (key, question_key)
            for question_key, by_theme in plan.theme_options.items():
                allowed = {o.value for o in definition.question(question_key).options}
                assert set(by_theme.values()) <= allowed
                assert set(by_theme) <= set(config.themes)
            for question_key in plan.free_text:
                assert definition.question(question_key).type == QuestionType.free_text

    def test_boosts_name_real_themes(self) -> None:
        config = demo_config()
        for boost in config.theme_boost.values():
            assert set(boost) <= set(config.themes)

    def test_demo_wijken(self) -> None:
        assert demo_wijken() == WIJKEN
