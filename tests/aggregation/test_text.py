from hypothesis import given
from hypothesis import strategies as st

from aggregation.text import analyse, normalise_text, stem_word, strip_accents, tokenise


class TestNormaliseText:
    def test_chat_spelling_is_mapped(self) -> None:
        out = normalise_text("Gwn ff naar skool idd, mn ma zegt nie")
        assert out.split() == [
            "gewoon",
            "even",
            "naar",
            "school",
            "inderdaad",
            "mijn",
            "maar",
            "zegt",
            "niet",
        ]

    def test_skool_inside_compounds(self) -> None:
        assert "schoolwerk" in normalise_text("skoolwerk is saai")

    def test_accents_and_case(self) -> None:
        assert normalise_text("Één Café, Ruïne") == "een cafe ruine"
        assert strip_accents("ascii") == "ascii"

    def test_placeholders_urls_and_emails_are_removed(self) -> None:
        out = normalise_text("bel [telefoon] of mail [email], zie www.x.nl of a@b.nl [Naam]")
        assert out.split() == ["bel", "of", "mail", "zie", "of"]

    def test_repeated_letters_collapse(self) -> None:
        assert normalise_text("heeeeel saaaai") == "heel saai"

    def test_apostrophes(self) -> None:
        assert normalise_text("m'n vader") == "mijn vader"


class TestAnalyse:
    def test_stop_words_dropped_and_stemmed(self) -> None:
        assert analyse("ik heb te veel toetsen") == [stem_word("toetsen")]
        assert stem_word("vrienden") == stem_word("vriend")

    def test_english(self) -> None:
        assert analyse("How to run the tests", language="english") == ["run", "test"]

    @given(st.text(max_size=200))
    def test_tokens_are_plain_lowercase_letters(self, text: str) -> None:
        for token in tokenise(text):
            assert token.isascii()
            assert token.isalpha()
            assert token == token.lower()
