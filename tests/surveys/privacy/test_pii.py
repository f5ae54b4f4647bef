from typing import get_args

import pytest

from surveys.privacy.pii import PLACEHOLDERS, PiiType, ScrubResult, scrub


def types(result: ScrubResult) -> list[str]:
    return [s.type for s in result.spans]


def assert_gone(text: str, secret: str, **kwargs: object) -> ScrubResult:
    result = scrub(text, **kwargs)  # type: ignore[arg-type]
    assert secret not in result.text, result.text
    return result


class TestPhone:
    @pytest.mark.parametrize(
        "number",
        [
            "06-12345678",
            "0612345678",
            "06 12 34 56 78",
            "+31612345678",
            "+31 6 1234 5678",
            "0031 6 12345678",
            "020-1234567",
        ],
    )
    def test_anon_02_formats(self, number: str) -> None:
        result = assert_gone(f"bel me: {number} na school", number)
        assert "[telefoon]" in result.text
        assert types(result) == ["phone"]
        (span,) = result.spans
        assert f"bel me: {number} na school"[span.start : span.end] == number

    def test_every_digit_is_removed(self) -> None:
        result = scrub("bel me: 0031 6 12345678 ok")
        assert not any(ch.isdigit() for ch in result.text)

    @pytest.mark.parametrize(
        "text",
        [
            "zes-nul 1 2 3 4 5 6 7 8",
            "zes-nul-zes 1 2 3 4 5 6 7 8",
            "zes nul een twee drie vier vijf zes zeven acht",
            "0 6 1 2 3 4 5 6 7 8",
        ],
    )
    def test_spelled_and_spaced_evasion(self, text: str) -> None:
        result = scrub(f"mijn nummer: {text}")
        assert "phone" in types(result)
        assert "5 6 7" not in result.text
        assert "zeven" not in result.text

    @pytest.mark.parametrize("text", ["bel 112 bij nood", "De Kindertelefoon is 0800-0432."])
    def test_public_help_numbers_are_kept(self, text: str) -> None:
        assert scrub(text).text == text


class TestBsn:
    def test_valid_nine_digit_bsn(self) -> None:
        result = assert_gone("mijn bsn is 111222333", "111222333")
        assert types(result) == ["bsn"]

    def test_eight_digit_bsn_is_zero_padded(self) -> None:
        result = assert_gone("bsn 12345672", "12345672")
        assert types(result) == ["bsn"]

    def test_invalid_bsn_is_generic_number(self) -> None:
        result = assert_gone("mijn nummer is 123456789", "123456789")
        assert types(result) == ["number"]
        assert "[nummer]" in result.text


class TestIban:
    @pytest.mark.parametrize("iban", ["NL91ABNA0417164300", "NL91 ABNA 0417 1643 00"])
    def test_anon_04_whole_iban(self, iban: str) -> None:
        result = assert_gone(f"stort op {iban} graag", iban)
        assert "ABNA" not in result.text
        assert "NL91" not in result.text
        assert types(result) == ["iban"]
        assert result.text == "stort op [iban] graag"


class TestPostcode:
    @pytest.mark.parametrize("postcode", ["1234 AB", "1234AB"])
    def test_anon_05_postcode(self, postcode: str) -> None:
        result = assert_gone(f"postcode {postcode} in de wijk", postcode)
        assert types(result) == ["postcode"]

    def test_invalid_letters_fall_back_to_number(self) -> None:
        result = assert_gone("ik woon in 1234 SS", "1234")
        assert types(result) == ["number"]


class TestHandles:
    @pytest.mark.parametrize(
        ("text", "secret"),
        [
            ("volg me @naam_2010", "naam_2010"),
            ("insta: sannetje", "sannetje"),
            ("snap sannev", "sannev"),
            ("tiktok: dansqueen", "dansqueen"),
            ("discord x#1234", "x#1234"),
        ],
    )
    def test_anon_06(self, text: str, secret: str) -> None:
        result = assert_gone(text, secret)
        assert "handle" in types(result)

    def test_adversarial_5_combined(self) -> None:
        text = "insta: @sannetje_2010 snap sannev tiktok @s.v"
        result = scrub(text)
        for secret in ("sannetje_2010", "sannev", "@s.v"):
            assert secret not in result.text
        assert types(result).count("handle") == 3

    @pytest.mark.parametrize(
        "text", ["ik snap niet waarom de skatebaan weg moet", "snap je wat ik bedoel?"]
    )
    def test_snap_as_verb_is_kept(self, text: str) -> None:
        assert scrub(text).spans == ()


class TestSchools:
    @pytest.mark.parametrize(
        ("text", "school"),
        [
            ("ik zit op obs De Klimop", "De Klimop"),
            ("mijn broertje zit op cbs De Wegwijzer", "Wegwijzer"),
            ("ik zit op Gymnasium Celeanum", "Celeanum"),
            ("ik zit op het Stedelijk Lyceum", "Stedelijk"),
            ("we gaan naar het Erasmus College voor de open dag", "Erasmus"),
            ("op het Da Vinci College is het druk", "Da Vinci"),
            ("ik zat op obs de klimop", "klimop"),
            ("mijn zus gaat naar ROC Midden Nederland", "Midden Nederland"),
        ],
    )
    def test_anon_07_patterns(self, text: str, school: str) -> None:
        result = assert_gone(text, school)
        assert "school" in types(result)

    def test_anon_07_municipality_list(self) -> None:
        text = "ik zit op de Regenboogschool en ik speel bij VV Oranje Zwart"
        result = scrub(text, schools=["Regenboogschool", "vv oranje zwart"])
        assert "Regenboog" not in result.text
        assert "Oranje" not in result.text
        assert types(result) == ["school", "school"]

    @pytest.mark.parametrize(
        "text",
        ["Ik zit op de havo en ik vind het saai.", "Na de vmbo wil ik naar het mbo."],
    )
    def test_school_types_are_not_names(self, text: str) -> None:
        assert scrub(text).spans == ()


class TestNamesAndAddresses:
    def test_adversarial_1_everything_in_one_message(self) -> None:
        text = "Ik ben Sanne de Vries uit 2B van het Stedelijk Lyceum, 06-12345678"
        result = scrub(text)
        assert result.text == "Ik ben [naam] uit 2B van het [school], [telefoon]"
        assert types(result) == ["name", "school", "phone"]

    def test_adversarial_6_teacher_and_school(self) -> None:
        result = scrub("meester Jansen van obs De Klimop zit aan me")
        assert result.text == "meester [naam] van [school] zit aan me"

    @pytest.mark.parametrize(
        ("text", "secret"),
        [
            ("ik heet daan", "daan"),
            ("Hoi ik heet Mohammed El Amrani", "Amrani"),
            ("juf Anja is de beste", "Anja"),
            ("mijn vriend Kyano heeft geen fiets", "Kyano"),
            ("Ik ging met Roos naar de Jumbo.", "Roos"),
        ],
    )
    def test_names(self, text: str, secret: str) -> None:
        result = assert_gone(text, secret)
        assert "name" in types(result)

    def test_adversarial_42_address_and_postcode(self) -> None:
        result = scrub("ik woon op Dorpsstraat 3a, 1234AB")
        assert result.text == "ik woon op [adres], [postcode]"

    def test_adversarial_42_indirect_location_is_not_redacted(self) -> None:
        text = "ik woon naast de Jumbo bij het station in Ons Dorp"
        assert scrub(text).text == text

    @pytest.mark.parametrize(
        "text",
        [
            "Roos is mijn lievelingsbloem.",
            "Ben jij ook naar de film geweest?",
            "De Jumbo bij ons in de wijk is te duur voor jongeren.",
            "Ik ben onderweg 2 uur kwijt naar school.",
            "Er zijn 300 leerlingen op mijn school.",
            "We hebben om 15:30 training.",
            "Op 5 mei is het Bevrijdingsdag.",
        ],
    )
    def test_clean_sentences_untouched(self, text: str) -> None:
        result = scrub(text)
        assert result.spans == ()
        assert result.text == text


class TestDates:
    @pytest.mark.parametrize(
        ("text", "secret"),
        [
            ("Ik ben geboren op 12-03-2011", "12-03-2011"),
            ("geboren 3 mei 2010", "3 mei 2010"),
            ("ik ben jarig op 14 februari", "14 februari"),
            ("ik ben geboren in 2011", "2011"),
            ("geb. datum 01/02/2009", "01/02/2009"),
        ],
    )
    def test_priv_09_date_of_birth_redacted(self, text: str, secret: str) -> None:
        result = assert_gone(text, secret)
        assert "date" in types(result)


class TestNormalisationAndOffsets:
    def test_offsets_refer_to_original_text_with_zero_width(self) -> None:
        text = "bel\u200b me 06\u200b-1234\u200d5678 ok"
        result = scrub(text)
        (span,) = result.spans
        assert span.type == "phone"
        assert text[span.start : span.end] == "06\u200b-1234\u200d5678"
        assert result.text == "bel me [telefoon] ok"

    def test_fullwidth_digits(self) -> None:
        result = scrub("bel ０６１２３４５６７８")
        assert types(result) == ["phone"]

    def test_spans_are_sorted_and_disjoint(self) -> None:
        text = "Ik ben Lars, bel 06-11223344 of mail lars@voorbeeld.nl, Beukenlaan 7, 2012 AB"
        spans = scrub(text).spans
        assert [s.type for s in spans] == ["name", "phone", "email", "address", "postcode"]
        for a, b in zip(spans, spans[1:], strict=False):
            assert a.end <= b.start

    def test_placeholders_cover_all_types(self) -> None:
        assert set(PLACEHOLDERS) == set(get_args(PiiType))


class TestAdversarialInputs:
    @pytest.mark.parametrize("text", ["", "   ", "😢", "\n\t"])
    def test_41_empty_and_low_information(self, text: str) -> None:
        result = scrub(text)
        assert result.spans == ()

    def test_17_combining_and_rtl_override(self) -> None:
        text = "Z̴̧̛a̷l̶g̸o̷ \u202ebel 06-12345678\u202c 😀😀😀"
        result = scrub(text)
        assert "12345678" not in result.text
        assert "\u202e" not in result.text

    def test_18_null_byte_and_lone_surrogate(self) -> None:
        text = "bel\x00 06-12345678 \ud800 ok"
        result = scrub(text)
        assert "12345678" not in result.text
        assert "\x00" not in result.text
        assert "\ud800" not in result.text

    @pytest.mark.parametrize(
        "text",
        [
            "مرحبا، رقمي هو 0612345678",
            "Merhaba, numaram 06 12 34 56 78",
            "Mój numer to +31 6 1234 5678",
            "Mi number ta 0031 6 12345678",
        ],
    )
    def test_28_non_dutch_text(self, text: str) -> None:
        result = scrub(text)
        assert "phone" in types(result)
        assert "5678" not in result.text

    def test_long_message(self) -> None:
        text = ("Ik vind de buurt leuk. " * 200) + "bel 06-12345678"
        result = scrub(text)
        assert result.text.endswith("bel [telefoon]")
