"""Pure transcripts: inbound list -> expected outbound list, for every command."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from bot.engine.catalogue import default_catalogue
from bot.engine.flow import (
    CONSENT_YES,
    ERASE_NO,
    ERASE_YES,
    FREE_TEXT_MARK,
    Progress,
    RoundContext,
    Step,
    parse_command,
    step,
)
from bot.engine.messages import (
    Complete,
    DeleteAnswer,
    EraseParticipant,
    Inbound,
    SetLanguage,
    StopContact,
    StoreAnswer,
    question_tag,
)
from surveys.definitions import MAX_FREE_TEXT, Definition, load_templates

CAT = default_catalogue()
CTX = RoundContext(places={"wijk": ["Centrum", "Noord"]})


@pytest.fixture(scope="module")
def jongeren() -> Definition:
    return load_templates()["bouwsteen1-jongeren"]


@dataclass
class Run:
    definition: Definition | None
    progress: Progress = Progress()
    context: RoundContext = CTX
    last: Step | None = None
    n: int = 0

    def send(
        self, text: str | None = None, *, choice: str | None = None, kind: str = "text"
    ) -> Step:
        self.n += 1
        inbound = Inbound("test", "addr", f"e{self.n}", text=text, choice=choice, kind=kind)  # type: ignore[arg-type]
        self.last = step(
            self.definition, self.progress, inbound, context=self.context, catalogue=CAT
        )
        self.progress = self.last.progress
        return self.last


def keys(s: Step) -> list[str | None]:
    return [o.question_key for o in s.outbound]


def start(defn: Definition) -> Run:
    run = Run(defn)
    run.send("/start")
    run.send(choice=CONSENT_YES)
    return run


class TestParseCommand:
    @pytest.mark.parametrize(
        ("text", "command"),
        [
            ("/start", "start"),
            ("/start@JeugdstemBot", "start"),
            ("Hulp", "help"),
            (" help! ", "help"),
            ("/stop", "stop"),
            ("privacy", "privacy"),
            ("/verwijder", "erase"),
            ("terug", "back"),
            ("Overslaan", "skip"),
            ("english", "lang_en"),
        ],
    )
    def test_whole_message_commands(self, text: str, command: str) -> None:
        assert parse_command(Inbound("t", "a", "e", text=text))[0] == command

    @pytest.mark.parametrize(
        "text", ["dit helpt niet", "ik wil stoppen met school", "terug naar huis"]
    )
    def test_words_inside_an_answer_are_not_commands(self, text: str) -> None:
        assert parse_command(Inbound("t", "a", "e", text=text)) == (None, "")

    def test_start_with_code(self) -> None:
        assert parse_command(Inbound("t", "a", "e", text="/start demo-Code_1")) == (
            "start",
            "demo-Code_1",
        )


class TestFullRound:
    def test_bouwsteen1_jongeren_transcript(self, jongeren: Definition) -> None:
        run = Run(jongeren)
        first = run.send("/start")
        assert first.outbound[0].choices[0].value == CONSENT_YES
        assert "computerprogramma" in first.outbound[0].text  # says it is a bot
        assert keys(run.send(choice=CONSENT_YES)) == ["leeftijd"]
        assert keys(run.send("2")) == ["wijk"]
        assert keys(run.send("Noord")) == ["welbevinden"]
        assert keys(run.send("🙂")) == ["zorg"]
        s = run.send("Te veel toetsen tegelijk")
        assert s.effects == (
            StoreAnswer("zorg", FREE_TEXT_MARK, "Te veel toetsen tegelijk", "zorg"),
        )
        assert keys(s) == ["kans"]
        assert keys(run.send("overslaan")) == ["veilig"]
        assert keys(run.send("4")) == ["vrije_tijd"]
        s = run.send("1, 4")
        assert s.effects == (StoreAnswer("vrije_tijd", ["sport", "online"], None, None),)
        assert keys(run.send("ja")) == [None]  # 'signaal' only asked after "nee"
        assert run.progress.state == "done"
        assert isinstance(run.last.effects[-1], Complete)  # type: ignore[union-attr]
        assert run.last.outbound[0].text == jongeren.outro.nl  # type: ignore[union-attr]
        assert run.progress.answers == {
            "leeftijd": "16-17",
            "wijk": "noord",
            "welbevinden": "4",
            "zorg": FREE_TEXT_MARK,
            "veilig": "4",
            "vrije_tijd": ["sport", "online"],
            "vertrouwen": "ja",
        }

    def test_branch_follows_condition(self, jongeren: Definition) -> None:
        run = start(jongeren)
        for answer in ["1", "overslaan", "3", "overslaan", "overslaan", "2", "overslaan"]:
            run.send(answer)
        assert keys(run.send("nee")) == ["signaal"]

    def test_free_text_never_kept_in_progress(self, jongeren: Definition) -> None:
        run = start(jongeren)
        run.send("1")
        run.send("overslaan")
        run.send("3")
        run.send("mijn geheime tekst")
        assert "mijn geheime tekst" not in str(run.progress.to_dict())


class TestInvalidInput:
    def test_button_of_an_earlier_question_does_not_answer_this_one(
        self, jongeren: Definition
    ) -> None:
        run = start(jongeren)
        asked = run.last.outbound[-1] if run.last else None
        assert asked is not None and asked.question_key == "leeftijd"
        value = asked.choices[0].value
        stale = Inbound(
            "test", "addr", "old", choice=value, kind="choice", question_tag=question_tag("wijk")
        )
        s = step(jongeren, run.progress, stale, context=CTX, catalogue=CAT)
        assert s.effects == ()
        assert s.outbound[-1].text.startswith(CAT.get("stale_button", "nl"))
        assert keys(s)[-1] == "leeftijd" and s.progress.current == "leeftijd"
        fresh = replace(stale, question_tag=question_tag("leeftijd"))
        s = step(jongeren, run.progress, fresh, context=CTX, catalogue=CAT)
        assert [e for e in s.effects if isinstance(e, StoreAnswer)][0].question_key == "leeftijd"

    def test_choice_reasks_with_hint(self, jongeren: Definition) -> None:
        run = start(jongeren)
        s = run.send("banaan")
        assert keys(s) == ["leeftijd"]
        assert s.outbound[0].text.startswith(CAT.get("invalid_choice"))
        assert s.effects == ()

    @pytest.mark.parametrize(
        ("typed", "band"), [("14", "12-15"), ("14 jaar", "12-15"), ("2", "16-17"), ("19", "18-23")]
    )
    def test_typed_age_maps_to_its_band(self, jongeren: Definition, typed: str, band: str) -> None:
        run = start(jongeren)
        run.send(typed)
        assert run.progress.answers["leeftijd"] == band  # "2" is no age in any band: option 2

    def test_exclusive_option_cannot_be_combined(self) -> None:
        ouders = load_templates()["bouwsteen1-ouders"]
        run = start(ouders)
        question = ouders.question("zorgen_onderwerp")
        geen = next(i for i, o in enumerate(question.options, 1) if o.exclusive)
        run.progress = replace(run.progress, current="zorgen_onderwerp")
        s = run.send(f"1,{geen}")
        assert keys(s) == ["zorgen_onderwerp"] and s.effects == ()
        assert "niet samen met iets anders" in s.outbound[0].text

    def test_scale_out_of_range(self, jongeren: Definition) -> None:
        run = start(jongeren)
        run.send("1")
        run.send("overslaan")
        s = run.send("9")
        assert keys(s) == ["welbevinden"] and CAT.get("invalid_scale") in s.outbound[0].text

    def test_free_text_too_long_is_refused_politely(self, jongeren: Definition) -> None:
        run = start(jongeren)
        for a in ["1", "overslaan", "3"]:
            run.send(a)
        s = run.send("x" * (MAX_FREE_TEXT + 1))
        assert keys(s) == ["zorg"] and s.effects == ()
        assert CAT.get("too_long", max=MAX_FREE_TEXT) in s.outbound[0].text

    def test_empty_text(self, jongeren: Definition) -> None:
        run = start(jongeren)
        for a in ["1", "overslaan", "3"]:
            run.send(a)
        s = run.send("   ")
        assert keys(s) == ["zorg"] and s.effects == ()

    def test_media_gets_text_only_notice(self, jongeren: Definition) -> None:
        run = start(jongeren)
        s = run.send(kind="media")
        assert s.outbound[0].text == CAT.get("media_not_supported") and s.effects == ()
        assert run.progress.current == "leeftijd"


class TestCommands:
    def test_help_from_every_state(self, jongeren: Definition) -> None:
        for setup in ([], ["/start"], ["/start", "ja"], ["/start", "ja", "1"], ["/stop"]):
            run = Run(jongeren)
            for text in setup:
                run.send(text)
            before = run.progress
            s = run.send("hulp")
            assert "0800-0432" in s.outbound[0].text and "113" in s.outbound[0].text
            assert run.progress == before and s.effects == ()

    def test_help_without_conversation(self) -> None:
        s = Run(None).send("/hulp")
        assert "112" in s.outbound[0].text

    def test_privacy(self, jongeren: Definition) -> None:
        s = start(jongeren).send("privacy")
        assert s.outbound[0].text == CAT.get("privacy")

    def test_back_deletes_previous_answer_and_reasks(self, jongeren: Definition) -> None:
        run = start(jongeren)
        run.send("1")
        s = run.send("terug")
        assert keys(s) == ["leeftijd"] and s.effects == (DeleteAnswer("leeftijd"),)
        assert "leeftijd" not in run.progress.answers

    def test_back_at_first_question(self, jongeren: Definition) -> None:
        s = start(jongeren).send("terug")
        assert keys(s) == ["leeftijd"] and CAT.get("back_at_start") in s.outbound[0].text

    def test_skip_optional_and_refuse_required(self, jongeren: Definition) -> None:
        run = start(jongeren)
        s = run.send("overslaan")
        assert keys(s) == ["leeftijd"] and CAT.get("not_skippable") in s.outbound[0].text
        run.send("1")
        assert keys(run.send("overslaan")) == ["welbevinden"]

    def test_stop_then_start_resumes(self, jongeren: Definition) -> None:
        run = start(jongeren)
        run.send("1")
        s = run.send("stop")
        assert s.effects == (StopContact(),) and run.progress.state == "stopped"
        assert run.send("iets").outbound[0].text == CAT.get("stopped_reminder")
        s = run.send("/start")
        assert keys(s) == ["wijk"] and CAT.get("resume") in s.outbound[0].text

    def test_erase_needs_confirmation(self, jongeren: Definition) -> None:
        run = start(jongeren)
        run.send("1")
        s = run.send("/verwijder")
        assert [c.value for c in s.outbound[0].choices] == [ERASE_YES, ERASE_NO] and s.effects == ()
        s = run.send("nee")
        assert keys(s) == ["wijk"] and s.effects == ()
        run.send("verwijder")
        s = run.send(choice=ERASE_YES)
        assert s.effects == (EraseParticipant(),) and run.progress == Progress()

    def test_erase_typed_yes(self, jongeren: Definition) -> None:
        run = start(jongeren)
        run.send("verwijder")
        assert run.send("ja").effects == (EraseParticipant(),)

    def test_language_switch(self, jongeren: Definition) -> None:
        run = start(jongeren)
        s = run.send("english")
        assert s.effects == (SetLanguage("en"),)
        assert keys(s) == [None, "leeftijd"] and s.outbound[1].text.startswith("How old")

    def test_consent_declined(self, jongeren: Definition) -> None:
        run = Run(jongeren)
        run.send("/start")
        s = run.send("nee")
        assert run.progress.state == "declined" and s.outbound[0].text == CAT.get("declined")


class TestRoundStatus:
    @pytest.mark.parametrize(
        ("status", "key"), [("closed", "round_closed"), ("not_open", "round_not_open")]
    )
    def test_closed_round_says_so(self, jongeren: Definition, status: str, key: str) -> None:
        run = Run(jongeren, context=RoundContext(status=status))  # type: ignore[arg-type]
        assert run.send("/start").outbound[0].text == CAT.get(key)
        assert "0800-0432" in run.send("hulp").outbound[0].text

    def test_done_round(self, jongeren: Definition) -> None:
        run = Run(jongeren, progress=Progress(state="done"))
        assert run.send("/start").outbound[0].text == CAT.get("already_done")


class TestCatalogue:
    def test_languages_have_same_keys(self) -> None:
        assert set(CAT.texts["nl"]) == set(CAT.texts["en"])
