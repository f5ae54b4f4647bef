"""Tests for surveys.definitions: shipped templates, validation errors, conditions, round trip."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from surveys.definitions import (
    DEFAULT_AGE_BANDS,
    Condition,
    Definition,
    QuestionType,
    dump_definition,
    iter_texts,
    load_definition,
    load_templates,
    parse_definition,
    place_value,
    template_sources,
)
from surveys.exceptions import InvalidDefinition, SurveysError

EXPECTED_TEMPLATES = {
    "bouwsteen1-jongeren",
    "bouwsteen1-ouders",
    "bouwsteen1-professionals",
    "bouwsteen5-exit-ticket",
    "armoede-ouders",
    "school-npo-jongeren",
    "sgg-jongeren",
}
SENSITIVE_VARIANTS = {"armoede-ouders": "armoede", "sgg-jongeren": "sgg"}
TEMPLATES = load_templates()
TEMPLATE_KEYS = sorted(TEMPLATES)

# WhatsApp list rows show at most 24 characters; longer labels get cut off.
MAX_LABEL = 24
# B1: short sentences. The longest sentence in participant copy may have this many words.
MAX_SENTENCE_WORDS = 20


def _all_texts(definition: Definition) -> list[Any]:
    texts = list(iter_texts(definition))
    for q in definition.questions:
        texts.extend(q.scale_labels or ())
    return texts


def _valid() -> dict[str, Any]:
    """A small valid definition as a dict, to be broken one rule at a time."""
    return {
        "key": "test-survey",
        "version": 1,
        "title": {"nl": "Test", "en": "Test"},
        "bouwsteen": 1,
        "audience": ["jongeren"],
        "intro": {"nl": "Hoi!", "en": "Hi!"},
        "outro": {"nl": "Bedankt!", "en": "Thanks!"},
        "questions": [
            {
                "key": "vertrouwen",
                "type": "yes_no",
                "text": {"nl": "Kun je met iemand praten?", "en": "Can you talk to someone?"},
                "purpose": "Beschermende factor volgen.",
            },
            {
                "key": "kleur",
                "type": "single_choice",
                "text": {"nl": "Welke kleur?", "en": "Which colour?"},
                "purpose": "Een keuzevraag voor de test.",
                "options": [
                    {"value": "rood", "label": {"nl": "Rood", "en": "Red"}},
                    {"value": "blauw", "label": {"nl": "Blauw", "en": "Blue"}},
                ],
            },
            {
                "key": "signaal",
                "type": "free_text",
                "kind": "signaal",
                "optional": True,
                "when": [{"question": "vertrouwen", "equals": "nee"}],
                "text": {"nl": "Wat zou helpen?", "en": "What would help?"},
                "purpose": "Signalen ophalen.",
            },
        ],
    }


def _yaml(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


class TestLoadTemplates:
    def test_all_expected_templates_are_shipped(self) -> None:
        assert set(TEMPLATES) == EXPECTED_TEMPLATES

    def test_each_file_holds_its_own_key(self) -> None:
        # load_templates keys by definition key, so two files with one key would hide one.
        sources = template_sources()
        keys = [parse_definition(src, name=stem).key for stem, src in sources.items()]
        assert len(keys) == len(set(keys))
        for stem, src in sources.items():
            assert parse_definition(src, name=stem).key == stem.replace("_", "-")

    @pytest.mark.parametrize("key", TEMPLATE_KEYS)
    def test_version_is_one(self, key: str) -> None:
        assert TEMPLATES[key].version == 1

    @pytest.mark.parametrize("key", TEMPLATE_KEYS)
    def test_every_question_has_a_purpose(self, key: str) -> None:
        for q in TEMPLATES[key].questions:
            assert len(q.purpose.strip()) >= 15, q.key

    @pytest.mark.parametrize("key", TEMPLATE_KEYS)
    def test_every_text_has_dutch_and_english(self, key: str) -> None:
        for text in _all_texts(TEMPLATES[key]):
            assert text.nl.strip(), text
            assert text.en.strip(), text
            assert text.nl.strip() != text.en.strip() or len(text.nl) < 25, text

    @pytest.mark.parametrize("key", TEMPLATE_KEYS)
    def test_dutch_sentences_are_short(self, key: str) -> None:
        for text in _all_texts(TEMPLATES[key]):
            for sentence in re.split(r"(?<=[.!?])\s+", text.nl.strip()):
                assert len(sentence.split()) <= MAX_SENTENCE_WORDS, sentence

    @pytest.mark.parametrize("key", TEMPLATE_KEYS)
    def test_option_labels_fit_a_chat_button(self, key: str) -> None:
        for q in TEMPLATES[key].questions:
            options = q.resolved_options()
            assert len(options) <= 10, q.key
            for o in options:
                assert len(o.label.nl) <= MAX_LABEL, o.label.nl
                assert len(o.label.en) <= MAX_LABEL, o.label.en

    @pytest.mark.parametrize("key", TEMPLATE_KEYS)
    def test_uses_several_question_types(self, key: str) -> None:
        assert len({q.type for q in TEMPLATES[key].questions}) >= 3

    @pytest.mark.parametrize("key", TEMPLATE_KEYS)
    def test_free_text_asks_not_to_name_people_or_is_about_ideas(self, key: str) -> None:
        for q in TEMPLATES[key].questions:
            if q.type == QuestionType.free_text and q.hint is not None:
                assert "namen" in q.hint.nl or "hulp" in q.hint.nl, q.key

    @pytest.mark.parametrize("key", TEMPLATE_KEYS)
    def test_one_form_of_address(self, key: str) -> None:
        definition = TEMPLATES[key]
        words = {
            w.lower() for t in _all_texts(definition) for w in re.findall(r"[A-Za-zÀ-ÿ]+", t.nl)
        }
        uses_u = bool(words & {"u", "uw"})
        uses_je = bool(words & {"je", "jij", "jouw", "jou"})
        assert not (uses_u and uses_je), key
        if "jongeren" in [a.value for a in definition.audience]:
            assert uses_je
            assert not uses_u

    @pytest.mark.parametrize("key", sorted(SENSITIVE_VARIANTS))
    def test_sensitive_variants_are_marked(self, key: str) -> None:
        assert TEMPLATES[key].sensitive is True
        assert TEMPLATES[key].variant == SENSITIVE_VARIANTS[key]

    def test_npo_variant_is_marked_and_asks_for_the_school(self) -> None:
        definition = TEMPLATES["school-npo-jongeren"]
        assert definition.variant == "npo"
        schools = [q for q in definition.questions if q.type == QuestionType.place]
        assert [q.scope.value for q in schools if q.scope] == ["school"]

    @pytest.mark.parametrize("key", sorted(EXPECTED_TEMPLATES - set(SENSITIVE_VARIANTS)))
    def test_other_templates_are_not_sensitive(self, key: str) -> None:
        assert TEMPLATES[key].sensitive is False

    @pytest.mark.parametrize("key", sorted(SENSITIVE_VARIANTS))
    def test_sensitive_questions_can_be_skipped(self, key: str) -> None:
        for q in TEMPLATES[key].questions:
            if q.type != QuestionType.age_band:
                assert q.optional, q.key

    @pytest.mark.parametrize("key", sorted(SENSITIVE_VARIANTS))
    def test_sensitive_intro_mentions_skipping_and_help(self, key: str) -> None:
        intro = TEMPLATES[key].intro
        assert "overslaan" in intro.nl
        assert "hulp" in intro.nl
        assert "skip" in intro.en
        assert "hulp" in intro.en

    def test_sgg_asks_about_the_environment_not_about_victims(self) -> None:
        definition = TEMPLATES["sgg-jongeren"]
        for q in definition.questions:
            assert "ooit" not in q.text.nl.lower(), q.key
            assert not re.search(r"\b(is jou|heb jij|ben jij)\b", q.text.nl.lower()), q.key
        texts = " ".join(q.text.nl for q in definition.questions)
        assert "Hoe veilig voelen jongeren zich" in texts
        assert "bij wie je terecht kunt" in texts
        assert "Wat zou helpen" in texts
        for q in definition.questions:
            if q.type == QuestionType.free_text:
                assert q.hint is not None
                assert "hulp" in q.hint.nl

    def test_armoede_never_asks_for_amounts(self) -> None:
        for q in TEMPLATES["armoede-ouders"].questions:
            texts = [q.text.nl.lower()] + [o.label.nl.lower() for o in q.options]
            for text in texts:
                assert "euro" not in text
                assert "inkomen" not in text
                assert "hoeveel" not in text

    def test_parents_answer_about_the_age_of_their_child(self) -> None:
        for key in ("bouwsteen1-ouders", "armoede-ouders"):
            band = TEMPLATES[key].question("kind_leeftijd")
            assert band.type == QuestionType.age_band
            assert [o.value for o in band.options] == ["0-3", "4-11", "12-17", "18-23"]

    def test_professionals_choose_one_role(self) -> None:
        definition = TEMPLATES["bouwsteen1-professionals"]
        assert definition.question("rol").type == QuestionType.single_choice
        settings = {o.value for o in definition.question("setting").options}
        assert {"thuis", "school", "wijk", "online"} <= settings

    def test_exit_ticket_is_short(self) -> None:
        definition = TEMPLATES["bouwsteen5-exit-ticket"]
        assert definition.bouwsteen == 5
        assert 3 <= len(definition.questions) <= 5
        types = [q.type for q in definition.questions]
        assert types.count(QuestionType.free_text) == 1
        assert definition.question("waardering").style.value == "smileys"
        assert definition.question("terugkomen").type == QuestionType.yes_no

    def test_some_templates_branch(self) -> None:
        branching = [k for k, d in TEMPLATES.items() if any(q.when for q in d.questions)]
        assert len(branching) >= 5


class TestParseDefinition:
    def test_valid_definition_parses(self) -> None:
        definition = parse_definition(_yaml(_valid()), name="ok.yaml")
        assert [q.key for q in definition.questions] == ["vertrouwen", "kleur", "signaal"]
        assert definition.question("signaal").when[0].equals == "nee"

    def _refused(self, data: Any, name: str = "broken.yaml") -> str:
        source = data if isinstance(data, str) else _yaml(data)
        with pytest.raises(InvalidDefinition) as info:
            parse_definition(source, name=name)
        return str(info.value)

    def test_duplicate_key(self) -> None:
        data = _valid()
        data["questions"].append(copy.deepcopy(data["questions"][1]))
        msg = self._refused(data)
        assert msg.startswith("broken.yaml: ")
        assert "'kleur'" in msg
        assert "used twice" in msg

    @pytest.mark.parametrize(
        ("field", "value", "problem"),
        [
            ("max_choices", 1, "max_choices"),
            ("scope", "school", "scope"),
            ("style", "smileys", "scale question"),
        ],
    )
    def test_fields_that_do_not_fit_the_type(self, field: str, value: Any, problem: str) -> None:
        data = _valid()
        data["questions"][0][field] = value
        msg = self._refused(data)
        assert "'vertrouwen'" in msg and problem in msg

    def test_condition_on_free_text_can_only_test_answered(self) -> None:
        data = _valid()
        data["questions"].append(
            {
                "key": "later",
                "type": "yes_no",
                "when": [{"question": "signaal", "equals": "iets"}],
                "text": {"nl": "Nog iets?", "en": "Anything else?"},
                "purpose": "Test van een voorwaarde.",
            }
        )
        assert "can only test 'answered'" in self._refused(data)

    def test_empty_condition_value(self) -> None:
        data = _valid()
        data["questions"][2]["when"] = [{"question": "vertrouwen", "equals": ""}]
        assert "cannot be empty" in self._refused(data)

    def test_two_files_with_one_key(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from surveys import definitions

        source = _yaml(_valid())
        monkeypatch.setattr(definitions, "template_sources", lambda: {"a": source, "b": source})
        with pytest.raises(
            InvalidDefinition, match="b.yaml: key 'test-survey' is also used by a.yaml"
        ):
            definitions.load_templates()

    def test_free_text_without_kind(self) -> None:
        data = _valid()
        del data["questions"][2]["kind"]
        msg = self._refused(data)
        assert msg.startswith("broken.yaml: ")
        assert "'signaal'" in msg
        assert "needs a kind" in msg

    def test_choice_with_one_option(self) -> None:
        data = _valid()
        data["questions"][1]["options"] = data["questions"][1]["options"][:1]
        msg = self._refused(data)
        assert msg.startswith("broken.yaml: ")
        assert "'kleur'" in msg
        assert "at least two options" in msg

    def test_condition_referring_to_a_later_question(self) -> None:
        data = _valid()
        data["questions"][1]["when"] = [{"question": "signaal", "answered": True}]
        msg = self._refused(data)
        assert msg.startswith("broken.yaml: ")
        assert "'kleur'" in msg
        assert "'signaal'" in msg
        assert "not an earlier question" in msg

    def test_condition_referring_to_an_unknown_question(self) -> None:
        data = _valid()
        data["questions"][2]["when"] = [{"question": "bestaat_niet", "equals": "ja"}]
        msg = self._refused(data)
        assert "'signaal'" in msg
        assert "'bestaat_niet'" in msg
        assert "not an earlier question" in msg

    def test_condition_referring_to_itself(self) -> None:
        data = _valid()
        data["questions"][2]["when"] = [{"question": "signaal", "answered": True}]
        assert "not an earlier question" in self._refused(data)

    def test_condition_value_not_an_option(self) -> None:
        data = _valid()
        data["questions"][2]["when"] = [{"question": "kleur", "in": ["rood", "groen"]}]
        msg = self._refused(data)
        assert msg.startswith("broken.yaml: ")
        assert "'signaal'" in msg
        assert "'groen'" in msg
        assert "not options of 'kleur'" in msg

    def test_condition_value_not_a_yes_no_answer(self) -> None:
        data = _valid()
        data["questions"][2]["when"] = [{"question": "vertrouwen", "equals": "misschien"}]
        assert "'misschien'" in self._refused(data)

    def test_condition_with_two_tests(self) -> None:
        data = _valid()
        data["questions"][2]["when"] = [{"question": "vertrouwen", "equals": "ja", "in": ["ja"]}]
        msg = self._refused(data)
        assert "'signaal'" in msg
        assert "exactly one of" in msg

    def test_unknown_field_on_a_question(self) -> None:
        data = _valid()
        data["questions"][1]["colour"] = "red"
        msg = self._refused(data)
        assert msg.startswith("broken.yaml: ")
        assert "'kleur'" in msg
        assert "colour" in msg
        assert "Extra inputs are not permitted" in msg

    def test_unknown_field_at_the_top(self) -> None:
        data = _valid()
        data["author"] = "someone"
        msg = self._refused(data)
        assert msg.startswith("broken.yaml: survey: author")

    def test_bad_yaml(self) -> None:
        msg = self._refused("key: [unclosed\nquestions: {", name="bad.yaml")
        assert msg.startswith("bad.yaml: ")
        assert "not valid YAML" in msg

    def test_top_level_list(self) -> None:
        msg = self._refused(_yaml([_valid()]), name="list.yaml")
        assert msg == "list.yaml: expected a mapping at the top level"

    def test_missing_english_copy(self) -> None:
        data = _valid()
        del data["questions"][0]["text"]["en"]
        msg = self._refused(data)
        assert "'vertrouwen'" in msg
        assert "text.en" in msg

    def test_missing_purpose(self) -> None:
        data = _valid()
        del data["questions"][1]["purpose"]
        msg = self._refused(data)
        assert "'kleur'" in msg
        assert "purpose" in msg

    def test_no_questions(self) -> None:
        data = _valid()
        data["questions"] = []
        assert "at least one question" in self._refused(data)

    def test_error_is_a_surveys_error(self) -> None:
        with pytest.raises(SurveysError):
            parse_definition("[]", name="x.yaml")


class TestLoadDefinition:
    def test_loads_a_file(self, tmp_path: Path) -> None:
        path = tmp_path / "ok.yaml"
        path.write_text(_yaml(_valid()), encoding="utf-8")
        assert load_definition(path).key == "test-survey"

    def test_error_names_the_path(self, tmp_path: Path) -> None:
        data = _valid()
        del data["questions"][2]["kind"]
        path = tmp_path / "broken.yaml"
        path.write_text(_yaml(data), encoding="utf-8")
        with pytest.raises(InvalidDefinition, match=re.escape(str(path))):
            load_definition(path)

    def test_missing_file(self, tmp_path: Path) -> None:
        path = tmp_path / "missing.yaml"
        with pytest.raises(InvalidDefinition, match="cannot read file"):
            load_definition(path)


class TestConditionHolds:
    @pytest.mark.parametrize(
        ("condition", "answers", "expected"),
        [
            # equals
            ({"equals": "ja"}, {"q": "ja"}, True),
            ({"equals": "ja"}, {"q": "nee"}, False),
            ({"equals": "ja"}, {}, False),
            ({"equals": "a"}, {"q": ["a", "b"]}, True),
            ({"equals": "c"}, {"q": ["a", "b"]}, False),
            ({"equals": "3"}, {"q": 3}, True),
            # in
            ({"in": ["a", "b"]}, {"q": "a"}, True),
            ({"in": ["a", "b"]}, {"q": "c"}, False),
            ({"in": ["a", "b"]}, {}, False),
            ({"in": ["a", "b"]}, {"q": ["c", "b"]}, True),
            ({"in": ["a", "b"]}, {"q": ["c", "d"]}, False),
            ({"in": ["a"]}, {"q": []}, False),
            # not_in
            ({"not_in": ["geen"]}, {"q": "school"}, True),
            ({"not_in": ["geen"]}, {"q": "geen"}, False),
            ({"not_in": ["geen"]}, {}, False),
            ({"not_in": ["geen"]}, {"q": ["school", "geld"]}, True),
            ({"not_in": ["geen"]}, {"q": ["school", "geen"]}, False),
            # answered
            ({"answered": True}, {"q": "x"}, True),
            ({"answered": True}, {}, False),
            ({"answered": True}, {"q": None}, False),
            ({"answered": False}, {}, True),
            ({"answered": False}, {"q": "x"}, False),
        ],
    )
    def test_truth_table(
        self, condition: dict[str, Any], answers: dict[str, Any], expected: bool
    ) -> None:
        cond = Condition.model_validate({"question": "q", **condition})
        assert cond.holds(answers) is expected

    def test_other_answers_do_not_matter(self) -> None:
        cond = Condition.model_validate({"question": "q", "equals": "ja"})
        assert cond.holds({"other": "ja"}) is False

    @pytest.mark.parametrize(
        "condition",
        [{}, {"equals": "a", "not_in": ["b"]}, {"in": ["a"], "answered": True}],
    )
    def test_needs_exactly_one_test(self, condition: dict[str, Any]) -> None:
        with pytest.raises(ValueError, match="exactly one of"):
            Condition.model_validate({"question": "q", **condition})


class TestDumpDefinition:
    @pytest.mark.parametrize("key", TEMPLATE_KEYS)
    def test_round_trip_of_each_template(self, key: str) -> None:
        definition = TEMPLATES[key]
        again = parse_definition(dump_definition(definition), name=f"{key} (dumped)")
        assert again == definition
        assert dump_definition(again) == dump_definition(definition)

    def test_round_trip_keeps_every_condition_form(self) -> None:
        data = _valid()
        data["questions"].append(
            {
                "key": "drie",
                "type": "scale",
                "text": {"nl": "Hoe vaak?", "en": "How often?"},
                "purpose": "Alle vormen van een conditie.",
                "scale_labels": [{"nl": "nooit", "en": "never"}, {"nl": "vaak", "en": "often"}],
                "when": [
                    {"question": "kleur", "in": ["rood"]},
                    {"question": "kleur", "not_in": ["blauw"]},
                    {"question": "signaal", "answered": False},
                ],
            }
        )
        definition = parse_definition(_yaml(data))
        dumped = dump_definition(definition)
        assert "in:" in dumped
        assert "in_" not in dumped
        assert parse_definition(dumped) == definition

    def test_round_trip_after_index_is_cached(self) -> None:
        definition = parse_definition(_yaml(_valid()))
        assert definition.index == {"vertrouwen": 0, "kleur": 1, "signaal": 2}
        assert parse_definition(dump_definition(definition)) == definition


class TestIterTexts:
    def test_yields_title_intro_outro_questions_hints_and_options(self) -> None:
        definition = TEMPLATES["bouwsteen1-ouders"]
        texts = list(iter_texts(definition))
        expected = 3 + sum(1 + (q.hint is not None) + len(q.options) for q in definition.questions)
        assert len(texts) == expected
        assert texts[0] == definition.title


class TestPlaceValue:
    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("Centrum", "centrum"),
            ("Noord", "noord"),
            ("Oud-West", "oud-west"),
            ("De Kolk & Vaart", "de-kolk-vaart"),
            ("  Zuid  ", "zuid"),
        ],
    )
    def test_slugs(self, name: str, value: str) -> None:
        assert place_value(name) == value

    def test_long_names_are_cut(self) -> None:
        assert len(place_value("x" * 80)) == 40


class TestResolvedOptions:
    def test_default_age_bands(self) -> None:
        question = TEMPLATES["bouwsteen1-jongeren"].question("leeftijd")
        values = [o.value for o in question.resolved_options()]
        assert values == [band[0] for band in DEFAULT_AGE_BANDS]

    def test_place_options_come_from_the_municipality_plus_extras(self) -> None:
        question = TEMPLATES["bouwsteen1-professionals"].question("wijk")
        values = [o.value for o in question.resolved_options({"wijk": ["Noord", "Zuid"]})]
        assert values == ["noord", "zuid", "hele_gemeente", "anders"]

    def test_smiley_scale(self) -> None:
        question = TEMPLATES["bouwsteen5-exit-ticket"].question("waardering")
        assert [o.value for o in question.resolved_options()] == ["1", "2", "3", "4", "5"]
