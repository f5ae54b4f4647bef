import datetime as dt
import re

import pytest

from surveys.privacy.safeguarding import (
    Signal,
    classify,
    help_card,
    helplines_for,
    load_helplines,
    normalise,
)

CRISIS_PLAIN = "ik denk aan zelfmoord"


class TestClassifyCrisis:
    def test_safe_03_colloquial_word_does_not_mask_crisis(self) -> None:
        assert classify("ik ben doodmoe en ik wil niet meer leven") == Signal("crisis", "suicide")

    @pytest.mark.parametrize(
        "text",
        [
            "z.e.l.f.m.o.o.r.d",
            "z3lfm00rd",
            "zelfmoooord",
            "zelf\u200bmoord",
            "ik denk aan suïcide",
            "ik denk aan suicide",
            "ZELFMOORD",
            "zelf moord",
            "z e l f m o o r d",
        ],
    )
    def test_safe_04_obfuscation_same_category(self, text: str) -> None:
        assert classify(text) == classify(CRISIS_PLAIN) == Signal("crisis", "suicide")

    @pytest.mark.parametrize(
        "text",
        ["ik wil niet meer leeeeven", "ik w1l n13t m33r l3v3n", "ik wil niet meer l.e.v.e.n"],
    )
    def test_safe_04_obfuscated_phrase(self, text: str) -> None:
        assert classify(text) == Signal("crisis", "suicide")

    @pytest.mark.parametrize("text", ["kms lol", "I want to unalive myself", "i wanna kill myself"])
    def test_adversarial_10_english_slang(self, text: str) -> None:
        assert classify(text) == Signal("crisis", "suicide")

    @pytest.mark.parametrize(
        "text",
        [
            "mijn vriendin zegt dat ze zichzelf snijdt",
            "mijn broer krast zichzelf",
            "ik snij mezelf",
        ],
    )
    def test_adversarial_11_self_harm_third_person(self, text: str) -> None:
        assert classify(text) == Signal("crisis", "self_harm")

    def test_third_person_suicide(self) -> None:
        assert classify("mijn vriendin wil dood") == Signal("crisis", "suicide")

    def test_negation_still_shows_help(self) -> None:
        assert classify("ik wil niet dood maar ik denk er wel aan").category == "crisis"

    def test_acute_danger(self) -> None:
        assert classify("help er staat iemand met een mes voor de deur") == Signal(
            "crisis", "acute_danger"
        )


class TestClassifyDisclosure:
    def test_adversarial_12_home_violence_with_secrecy(self) -> None:
        text = "mijn stiefvader slaat me als mama weg is, niet doorvertellen"
        assert classify(text) == Signal("disclosure", "domestic_violence")

    def test_adversarial_13_sextortion(self) -> None:
        text = "hij dreigt mijn naaktfoto's te verspreiden als ik niet betaal"
        assert classify(text) == Signal("disclosure", "online_exploitation")

    def test_adversarial_6_teacher(self) -> None:
        text = "meester Jansen van obs De Klimop zit aan me"
        assert classify(text) == Signal("disclosure", "sexual_violence")

    def test_abuse_outside_home(self) -> None:
        assert classify("mijn trainer slaat ons als we verliezen") == Signal("disclosure", "abuse")

    def test_negated_disclosure_is_ignored(self) -> None:
        assert classify("mijn vader slaat me nooit") == Signal("none")


class TestClassifyNegatives:
    @pytest.mark.parametrize(
        "text",
        [
            "ik ga dood van het lachen 😂",
            "doodsaai die les",
            "die toets was moord",
            "ik ben doodmoe",
            "dit helpt niet",
            "hulp bij huiswerk zou fijn zijn",
            "ik schaam me dood",
            "mijn vader slaat de bal heel hard",
            "ik wil niet meer naar die club",
            "we hebben in de les over zelfmoordpreventie gepraat",
            "meer bankjes in het park",
        ],
    )
    def test_adversarial_8_29_colloquial(self, text: str) -> None:
        assert classify(text) == Signal("none", None)

    @pytest.mark.parametrize("text", ["", "   ", "😢", "\x00", "\ud800", "Z̴̧̛a̷l̶g̸o̷ \u202e"])
    def test_adversarial_17_18_41_odd_input(self, text: str) -> None:
        assert classify(text).category == "none"

    def test_adversarial_28_other_scripts_do_not_crash(self) -> None:
        for text in ["أريد أن أموت", "Ölmek istiyorum", "Chcę umrzeć", "Mi ke muri"]:
            assert classify(text).category in ("none", "crisis")

    def test_long_input(self) -> None:
        assert classify("de buurt is leuk. " * 300 + "ik wil niet meer leven").category == "crisis"


class TestNormalise:
    def test_normalisation_steps(self) -> None:
        assert normalise("Z3LFM00RD!!") == "zelfmord ,"
        assert normalise("m'n vriend") == "mn vriend"
        assert normalise("suïcide") == "suicide"


class TestHelpCard:
    @pytest.mark.parametrize(
        ("signal", "must", "must_not"),
        [
            (Signal("crisis", "suicide"), ["113", "0800-0113"], ["0800-2000"]),
            (Signal("crisis", "self_harm"), ["113", "0800-0113"], ["0800-0188"]),
            (Signal("disclosure", "domestic_violence"), ["0800-2000", "0800-0432"], ["0800-0188"]),
            (Signal("disclosure", "abuse"), ["0800-2000", "0800-0432"], []),
            (Signal("disclosure", "sexual_violence"), ["0800-0188"], ["0800-2000"]),
            (Signal("disclosure", "online_exploitation"), ["helpwanted.nl"], ["0800-0188"]),
            (Signal("crisis", "acute_danger"), ["112"], ["0800-0188"]),
        ],
    )
    def test_safe_05_mapping(self, signal: Signal, must: list[str], must_not: list[str]) -> None:
        card = help_card(signal)
        for item in must:
            assert item in card
        for item in must_not:
            assert item not in card

    def test_general_card_lists_everything(self) -> None:
        card = help_card(Signal("none"))
        for item in ["112", "0800-0113", "0800-2000", "0800-0432", "0800-0188", "helpwanted.nl"]:
            assert item in card
        assert len(helplines_for(Signal("none"))) == len(load_helplines())

    @pytest.mark.parametrize("lang", ["nl", "en"])
    def test_never_claims_a_human_is_reading(self, lang: str) -> None:
        for subtype in [None, "suicide", "abuse", "acute_danger"]:
            card = help_card(Signal("none" if subtype is None else "crisis", subtype), lang=lang)  # type: ignore[arg-type]
            assert re.search(r"leest niemand|niemand leest|nobody is reading", card, re.IGNORECASE)
            assert not re.search(
                r"(ik|we|wij) (lees|lezen)|medewerker leest|someone is reading", card, re.I
            )

    def test_english_card(self) -> None:
        assert "Call 113" in help_card(Signal("crisis", "suicide"), lang="en")

    def test_unknown_language_falls_back_to_dutch(self) -> None:
        assert help_card(Signal("crisis", "suicide"), lang="xx") == help_card(
            Signal("crisis", "suicide")
        )


class TestHelplineConfig:
    def test_safe_06_last_verified_is_recent(self) -> None:
        today = dt.datetime.now(tz=dt.UTC).date()
        for line in load_helplines():
            age = (today - line.last_verified).days
            assert age <= 180, f"{line.key} last verified {age} days ago; re-check the number"

    def test_required_fields(self) -> None:
        lines = load_helplines()
        assert {
            "emergency_112",
            "zelfmoordpreventie_113",
            "veilig_thuis",
            "kindertelefoon",
            "centrum_seksueel_geweld",
            "helpwanted",
        } <= {line.key for line in lines}
        for line in lines:
            assert line.name
            assert line.ages
            assert line.hours
            assert line.categories
            assert line.number or line.url
            assert set(line.description) >= {"nl", "en"}

    def test_every_subtype_has_a_helpline(self) -> None:
        for subtype in [
            "suicide",
            "self_harm",
            "acute_danger",
            "abuse",
            "domestic_violence",
            "sexual_violence",
            "online_exploitation",
        ]:
            assert helplines_for(Signal("crisis", subtype))  # type: ignore[arg-type]


class TestLeadReviewCases:
    """Sentences the lead wrote after the module was done; all four were missed at first."""

    @pytest.mark.parametrize(
        ("text", "subtype"),
        [
            ("wil er gewoon een eind aan maken", "suicide"),
            ("soms denk ik dat iedereen beter af is zonder mij", "suicide"),
            (
                "iemand online zegt dat hij mijn fotos deelt als ik geen geld stuur",
                "online_exploitation",
            ),
            ("er is een man die mij geld geeft voor fotos", "online_exploitation"),
        ],
    )
    def test_detected(self, text: str, subtype: str) -> None:
        assert classify(text).subtype == subtype

    @pytest.mark.parametrize(
        "text",
        [
            "we willen er een eind aan maken dat jongeren gepest worden",
            "iedereen is beter af als de bus vaker rijdt",
            "hij deelt fotos als ik wil",
        ],
    )
    def test_not_detected(self, text: str) -> None:
        assert classify(text).category == "none"
