"""Dutch-aware text normalisation, tokenisation, stop words and stemming.

Everything here is pure and fast: the per-text work is a handful of regex passes and
dictionary look-ups (stems are cached), because discover mode runs it over a million answers.
"""

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Literal

import snowballstemmer

Language = Literal["dutch", "english"]

#: Intake placeholders such as ``[naam]`` or ``[telefoon]`` (PII already scrubbed).
PLACEHOLDER_RE = re.compile(r"\[[^\[\]\s]{1,40}\]")
_URL_RE = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+")
_APOSTROPHE_RE = re.compile(r"['’`´]")
_REPEAT_RE = re.compile(r"([a-z])\1{2,}")
_SKOOL_RE = re.compile(r"sk+o+l")
_TOKEN_RE = re.compile(r"[a-z]+")

#: Chat spelling and youth slang mapped to standard Dutch (one token to one or more tokens).
CHAT_SPELLING: dict[str, str] = {
    "gwn": "gewoon",
    "gwoon": "gewoon",
    "gewn": "gewoon",
    "ff": "even",
    "idd": "inderdaad",
    "ma": "maar",
    "mn": "mijn",
    "me": "mijn",
    "zn": "zijn",
    "k": "ik",
    "kben": "ik ben",
    "kheb": "ik heb",
    "kga": "ik ga",
    "kwil": "ik wil",
    "kzit": "ik zit",
    "t": "het",
    "tis": "het is",
    "n": "een",
    "nie": "niet",
    "nx": "niks",
    "egt": "echt",
    "ech": "echt",
    "wrm": "waarom",
    "wnt": "want",
    "mss": "misschien",
    "miss": "misschien",
    "sws": "sowieso",
    "wss": "waarschijnlijk",
    "ofz": "ofzo",
    "iig": "in ieder geval",
    "tog": "toch",
    "dr": "er",
    "bijv": "bijvoorbeeld",
    "ipv": "in plaats van",
    "evt": "eventueel",
    "vd": "van de",
    "hb": "heb",
    "bn": "ben",
    "zo'n": "zo een",
    "insta": "instagram",
    "snap": "snapchat",
    "yt": "youtube",
    "doekoe": "geld",
    "doekoes": "geld",
    "poen": "geld",
    "skeer": "blut",
    "osso": "huis",
    "fissa": "feest",
    "mattie": "vriend",
    "matties": "vrienden",
    "waggie": "auto",
    "depri": "depressief",
    "huiswrk": "huiswerk",
    "leraaren": "leraren",
    "mam": "moeder",
    "mams": "moeder",
    "mama": "moeder",
    "pap": "vader",
    "papa": "vader",
}


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Dutch function words plus chat fillers that carry no theme.
DUTCH_STOP_WORDS: frozenset[str] = _word_set(
    """
    aan af al alle alleen allemaal allerlei alles als altijd ander andere anders beetje ben
    bent best bij bijvoorbeeld daar daarom dan dat de denk der deze die ding dingen dit doch
    doe doen doet door dus echt een eens eigenlijk elk elke en er erg even eventueel ga gaan
    gaat gedaan geen gehad geval geweest gewoon ging gingen haar had hadden heb hebben hebt
    heeft heel hele hem hen het hier hij hoe hoor hou hun ieder iedereen iemand iets ik in
    inderdaad is ja je jij jou jouw jullie kan keer komen komt kon krijg krijgen krijgt kun
    kunnen kunt laat laten lijkt maakt maar mag maken me meer men met mij mijn mijzelf
    misschien moet moeten mogen na naar net niemand niet niets niks nog nooit nu of ofzo om
    omdat onder ons onze ook op over plaats soms sowieso steeds super te tegen toch toen tot u
    uit uw vaak van veel vind vinden vindt voor waar waarom waarschijnlijk wanneer want waren
    was wat we weer weet wel welke werd weten wie wij wil willen word worden wordt zal ze zeer
    zeg zeggen zegt zeker zelf zelfs zich zij zijn zit zitten zo zoals zou zouden
    """
)

#: Words about who answered rather than what about; kept as features, never used as labels.
LABEL_STOP_WORDS: frozenset[str] = frozenset(
    {
        "jongeren",
        "jongere",
        "kinderen",
        "kind",
        "kids",
        "mensen",
        "tieners",
        "leerlingen",
        "ouders",
        "ouder",
        "zoon",
        "dochter",
        "zoons",
        "dochters",
    }
)

_STOP_WORDS_EN: frozenset[str] | None = None


def stop_words(language: Language = "dutch") -> frozenset[str]:
    """Return the stop-word set for ``language``.

    Args:
        language: ``"dutch"`` (default, our data) or ``"english"`` (benchmarks only).

    Returns:
        A frozen set of lowercase, accent-free stop words.
    """
    global _STOP_WORDS_EN
    if language == "dutch":
        return DUTCH_STOP_WORDS
    if _STOP_WORDS_EN is None:
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        _STOP_WORDS_EN = frozenset(ENGLISH_STOP_WORDS)
    return _STOP_WORDS_EN


def strip_accents(text: str) -> str:
    """Remove diacritics (``ë`` to ``e``); ASCII input is returned unchanged."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii")


def normalise_text(text: str, *, language: Language = "dutch") -> str:
    """Lowercase, strip accents and placeholders, and map chat spelling to standard Dutch.

    Intake placeholders (``[naam]``, ``[telefoon]``), URLs and e-mail addresses are removed
    entirely, so they can never become features, labels or leaked values. Runs of three or
    more identical letters collapse to two (``heeeel`` to ``heel``).

    Args:
        text: One answer as written.
        language: ``"dutch"`` applies the chat-spelling map; ``"english"`` skips it.

    Returns:
        Space-separated normalised tokens (letters only).
    """
    return " ".join(tokenise(text, language=language))


def tokenise(text: str, *, language: Language = "dutch") -> list[str]:
    """Split an answer into normalised tokens (see :func:`normalise_text`).

    Args:
        text: One answer as written.
        language: Language of the text.

    Returns:
        Lowercase ASCII letter tokens, chat spelling mapped, stop words kept.
    """
    lowered = PLACEHOLDER_RE.sub(" ", text.lower())
    if "http" in lowered or "www" in lowered or "@" in lowered:
        lowered = _URL_RE.sub(" ", lowered)
    lowered = strip_accents(_APOSTROPHE_RE.sub("", lowered))
    lowered = _REPEAT_RE.sub(r"\1\1", lowered)
    if language != "dutch":
        return _TOKEN_RE.findall(lowered)
    if "sk" in lowered:
        lowered = _SKOOL_RE.sub("school", lowered)
    out: list[str] = []
    for token in _TOKEN_RE.findall(lowered):
        mapped = CHAT_SPELLING.get(token)
        if mapped is None:
            out.append(token)
        else:
            out.extend(mapped.split())
    return out


_STEMMERS: dict[str, Callable[[str], str]] = {}


def _stemmer(language: Language) -> Callable[[str], str]:
    stem = _STEMMERS.get(language)
    if stem is None:
        impl = snowballstemmer.stemmer(language)
        stem = lru_cache(maxsize=500_000)(impl.stemWord)
        _STEMMERS[language] = stem
    return stem


def stem_word(word: str, *, language: Language = "dutch") -> str:
    """Return the Snowball stem of one normalised word (cached)."""
    return _stemmer(language)(word)


def analyse(text: str, *, language: Language = "dutch") -> list[str]:
    """Tokenise, drop stop words and stem: the terms our features and labels are built from.

    Args:
        text: One answer as written.
        language: Language of the text.

    Returns:
        Content-word stems in order (at least two letters long).
    """
    stops = stop_words(language)
    stem = _stemmer(language)
    return [
        stem(tok) for tok in tokenise(text, language=language) if len(tok) > 1 and tok not in stops
    ]


def analyse_to_string(text: str, *, language: Language = "dutch") -> str:
    """Same as :func:`analyse`, joined by spaces (the input format of our vectorisers)."""
    return " ".join(analyse(text, language=language))


def analyse_many(texts: Iterable[str], *, language: Language = "dutch") -> list[str]:
    """Apply :func:`analyse_to_string` to many texts."""
    return [analyse_to_string(t, language=language) for t in texts]


def surface_forms(texts: Iterable[str], *, language: Language = "dutch") -> dict[str, str]:
    """Map each stem to its most frequent surface word, for human-readable labels.

    Args:
        texts: Answers as written.
        language: Language of the texts.

    Returns:
        ``{stem: word}`` with the most common normalised word per stem.
    """
    stops = stop_words(language)
    stem = _stemmer(language)
    counts: dict[str, dict[str, int]] = {}
    for text in texts:
        for tok in tokenise(text, language=language):
            if len(tok) > 1 and tok not in stops:
                per = counts.setdefault(stem(tok), {})
                per[tok] = per.get(tok, 0) + 1
    return {
        s: max(words.items(), key=lambda kv: (kv[1], -len(kv[0])))[0] for s, words in counts.items()
    }
