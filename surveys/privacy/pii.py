"""Dutch PII scrubbing for free-text answers, applied before anything is stored.

Pipeline (all offline, no model downloads):

1. Normalise a copy of the text (NFKC, drop zero-width/format characters, map non-ASCII digits to
   ASCII) while keeping a map from every normalised character back to the original offset.
2. Run independent detectors on the normalised text. Validator-backed ones first
   (``phonenumbers`` for phone numbers, ``stdnum`` for BSN/IBAN/postcode), then regexes and word
   lists for e-mail, URLs, handles, addresses, dates of birth, schools and person names.
3. Resolve overlaps by a fixed priority (a phone number beats a generic number, an e-mail beats a
   handle ...), map the kept spans back to the original text, and replace them with typed
   placeholders such as ``[telefoon]``.

The word lists live in ``surveys/privacy/data/`` so they can be reviewed without reading code.
Nothing here logs or keeps the input text.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import phonenumbers
import yaml
from stdnum import iban as std_iban
from stdnum.nl import bsn as std_bsn
from stdnum.nl import postcode as std_postcode

PiiType = Literal[
    "name",
    "phone",
    "email",
    "url",
    "bsn",
    "iban",
    "postcode",
    "address",
    "date",
    "handle",
    "school",
    "number",
]

PLACEHOLDERS: dict[str, str] = {
    "name": "[naam]",
    "phone": "[telefoon]",
    "email": "[email]",
    "url": "[url]",
    "bsn": "[bsn]",
    "iban": "[iban]",
    "postcode": "[postcode]",
    "address": "[adres]",
    "date": "[datum]",
    "handle": "[handle]",
    "school": "[school]",
    "number": "[nummer]",
}

# Lower number wins when two candidate spans overlap.
_PRIORITY: dict[str, int] = {
    "email": 0,
    "url": 1,
    "iban": 2,
    "date": 3,
    "bsn": 4,
    "phone": 5,
    "postcode": 6,
    "address": 7,
    "handle": 8,
    "school": 9,
    "name": 10,
    "number": 11,
}

_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")


@dataclass(frozen=True)
class Span:
    """A detected PII span, in offsets of the original (un-normalised) input text."""

    start: int
    end: int
    type: PiiType


@dataclass(frozen=True)
class ScrubResult:
    """Outcome of :func:`scrub`: the placeholder text and the spans that were replaced."""

    text: str
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class _Cand:
    start: int
    end: int
    type: PiiType


# --------------------------------------------------------------------------- lexicon


@dataclass(frozen=True)
class _Lexicon:
    first_names: frozenset[str]
    ambiguous_first: frozenset[str]
    surnames: frozenset[str]
    ambiguous_surnames: frozenset[str]
    lists: dict[str, frozenset[str]]


def _read_data(name: str) -> str:
    return resources.files("surveys.privacy").joinpath("data", name).read_text(encoding="utf-8")


def _read_name_list(name: str) -> tuple[frozenset[str], frozenset[str]]:
    plain: set[str] = set()
    ambiguous: set[str] = set()
    for raw in _read_data(name).splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("*"):
            ambiguous.add(line[:-1].casefold())
        else:
            plain.add(line.casefold())
    return frozenset(plain | ambiguous), frozenset(ambiguous)


@functools.cache
def _lexicon() -> _Lexicon:
    data: dict[str, Any] = yaml.safe_load(_read_data("pii_lexicon.yaml"))
    lists = {
        key: frozenset(str(w).casefold() for w in value)
        for key, value in data.items()
        if isinstance(value, list)
    }
    first, amb_first = _read_name_list("first_names.txt")
    sur, amb_sur = _read_name_list("surnames.txt")
    return _Lexicon(first, amb_first, sur, amb_sur, lists)


def _alt(words: frozenset[str] | Sequence[str]) -> str:
    """Regex alternation of literal phrases, longest first, spaces matching any whitespace."""
    ordered = sorted(set(words), key=lambda w: (-len(w), w))
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in ordered)


# --------------------------------------------------------------------------- normalisation


def _normalise(text: str) -> tuple[str, list[int]]:
    """Return the normalised text and, per normalised char, its offset in ``text``."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ch in _INVISIBLE:
            continue
        category = unicodedata.category(ch)
        if category in ("Cf", "Cs") or ch == "\x00":
            continue
        for out in unicodedata.normalize("NFKC", ch):
            if out.isdigit() and not out.isascii():
                value = unicodedata.digit(out, None)
                out = str(value) if value is not None else out
            chars.append(out)
            origin.append(i)
    return "".join(chars), origin


# --------------------------------------------------------------------------- regexes

_TOKEN = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_CAP = r"[A-ZÀ-ÖØ-ÞĀ-Ž][^\W\d_]*(?:['’\-][^\W\d_]+)*"

_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,}")
_EMAIL_SPELLED = re.compile(
    r"[\w.+\-]+\s*(?:\(at\)|\[at\]|\s@\s|\sat\s|\sapenstaartje\s)\s*[\w\-]+\s*"
    r"(?:\.|\(dot\)|\[dot\]|\spunt\s|\sdot\s)\s*(?:com|nl|be|net|org|eu)\b",
    re.IGNORECASE,
)
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_BARE_DOMAIN = re.compile(
    r"(?<![\w@.\-])(?:[\w\-]+\.)+(?:nl|com|be|org|net|eu|io|me|tv|gg|app|info|ly|co|de|xyz)"
    r"(?:/[^\s<>\"']*)?(?![\w])",
    re.IGNORECASE,
)
_AT_HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?")
_IBAN_NL = re.compile(r"(?<![\w])NL\s?\d{2}\s?[A-Z]{4}\s?(?:\d\s?){9}\d(?![\w])", re.IGNORECASE)
_IBAN_ANY = re.compile(
    r"(?<![\w])[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?(?![\w])", re.IGNORECASE
)
_POSTCODE = re.compile(r"(?<![\w])([1-9]\d{3})(\s?)([A-Za-z]{2})(?![\w])")
_DATE_NUMERIC = re.compile(
    r"(?<![\d.\-/])(?:0?[1-9]|[12]\d|3[01])([-/.])(?:0?[1-9]|1[0-2])\1(?:(?:19|20)\d{2}|\d{2})"
    r"(?![\d.\-/]\d)"
)
_DAY_MONTH_NUMERIC = re.compile(
    r"(?<![\d.\-/])(?:0?[1-9]|[12]\d|3[01])[-/](?:0?[1-9]|1[0-2])(?![\d/\-])"
)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_SPELLED_DIGITS = {
    "nul": "0",
    "zero": "0",
    "een": "1",
    "één": "1",
    "eén": "1",
    "twee": "2",
    "drie": "3",
    "vier": "4",
    "vijf": "5",
    "zes": "6",
    "zeven": "7",
    "acht": "8",
    "negen": "9",
}
_DIGIT_TOKEN = re.compile(r"\d+|\b(?:" + "|".join(_SPELLED_DIGITS) + r")\b", re.IGNORECASE)
_DIGIT_GAP = re.compile(r"[\s\-.,/()]{0,3}")
_SERVICE_NUMBER = re.compile(r"^(?:0?800|0?900|0?909|0?906|112|113|14\d{2,3})")


@functools.cache
def _compiled() -> dict[str, re.Pattern[str]]:
    lex = _lexicon().lists
    months = _alt(lex["months"])
    suffixes = _alt(lex["street_suffixes"])
    quantity = _alt(lex["quantity_words"])
    particles = r"(?:de|van|der|den|het|'t|aan|op|in|ter|ten)"
    out: dict[str, re.Pattern[str]] = {}
    out["date_text"] = re.compile(
        rf"(?<![\w])(?:0?[1-9]|[12]\d|3[01])(?:e|ste|de)?\s*(?:{months})\.?"
        rf"(?:\s+(?:(?:19|20)\d{{2}}|'\d{{2}}))?(?![\w])",
        re.IGNORECASE,
    )
    out["month_year"] = re.compile(rf"(?<![\w])(?:{months})\.?\s+(?:19|20)\d{{2}}(?!\d)", re.I)
    out["birth_cue"] = re.compile(rf"(?<![\w])(?:{_alt(lex['birth_cues'])})", re.IGNORECASE)
    street_word = rf"[^\W\d_][^\W\d_'’\-]*(?:['’\-][^\W\d_]+)*(?:{suffixes})"
    out["address"] = re.compile(
        rf"(?<![\w])(?P<pre>(?-i:(?:{_CAP}\s+(?:{particles}\s+)*){{0,3}}))"
        rf"(?P<street>{street_word})\s*,?\s*(?P<num>\d{{1,4}})"
        rf"(?:\s?[A-Za-z](?![\w]))?(?:\s?[-/]\s?\d{{1,3}}(?!\d)|\s?(?:hs|bis)\b)?"
        rf"(?!\s*(?:{quantity})\b)(?![\d,.:]\d)",
        re.IGNORECASE,
    )
    out["address_live"] = re.compile(
        rf"(?<![\w])(?:woon|woont|wonen|woonde)\s+(?:in|op|aan)\s+(?:de\s+|het\s+)?"
        rf"(?P<pre>(?-i:(?:{_CAP}\s+(?:{particles}\s+)*){{0,3}}))(?P<street>{street_word})(?![\w])",
        re.IGNORECASE,
    )
    platforms = _alt(lex["handle_platforms"])
    out["platform"] = re.compile(
        rf"(?<![\w@])(?P<cue>{platforms})(?![\w])(?P<sep>(?:\s*(?:naam|name|account|id|tag)\b)?"
        rf"\s*(?:[:=\-–]|\bis\b)?\s*)(?P<handle>@?[\w][\w.\-]*(?:#\d{{4}})?)",
        re.IGNORECASE,
    )
    school_body = (
        rf"(?:(?:de|het|'t|De|Het|'T|Van|van|St\.?|Sint)\s+)?{_CAP}"
        rf"(?:\s+(?:(?:van|de|der|den|aan|op|het|'t)\s+)?{_CAP})*"
    )
    out["school_prefix"] = re.compile(
        rf"(?<![\w])(?i:{_alt(lex['school_prefix'])})\s+(?P<body>{school_body})"
    )
    out["school_strong"] = re.compile(
        rf"(?<![\w])(?i:{_alt(lex['school_strong_prefix'])})\s+"
        rf"(?P<body>(?:(?:de|het|'t)\s+)?[^\W\d_]{{3,}})",
        re.IGNORECASE,
    )
    school_suffix = _alt([w.title() for w in lex["school_suffix"]])
    out["school_suffix"] = re.compile(
        rf"(?<![\w])(?P<pre>(?:{_CAP}\s+){{1,3}})(?:{school_suffix})(?![\w])"
        rf"(?P<post>\s+{_CAP})?"
    )
    out["school_cue"] = re.compile(
        rf"(?<![\w])(?i:{_alt(lex['school_cues'])})\s+(?P<body>(?:(?i:het|de|'t)\s+)?{_CAP}"
        rf"(?:\s+{_CAP})*)"
    )
    return out


# --------------------------------------------------------------------------- detectors


def _find_email(text: str) -> Iterator[_Cand]:
    for m in _EMAIL.finditer(text):
        yield _Cand(m.start(), m.end(), "email")
    for m in _EMAIL_SPELLED.finditer(text):
        yield _Cand(m.start(), m.end(), "email")


def _find_url(text: str) -> Iterator[_Cand]:
    for pattern in (_URL, _BARE_DOMAIN):
        for m in pattern.finditer(text):
            end = m.end()
            while end > m.start() and text[end - 1] in ".,;:!?)":
                end -= 1
            yield _Cand(m.start(), end, "url")


def _find_iban(text: str) -> Iterator[_Cand]:
    for m in _IBAN_NL.finditer(text):
        yield _Cand(m.start(), m.end(), "iban")
    for m in _IBAN_ANY.finditer(text):
        if std_iban.is_valid(m.group()):
            yield _Cand(m.start(), m.end(), "iban")


def _find_phone(text: str) -> Iterator[_Cand]:
    for match in phonenumbers.PhoneNumberMatcher(text, "NL"):
        national = str(match.number.national_number)
        if match.number.country_code == 31 and _SERVICE_NUMBER.match(national):
            continue  # public help/service lines (0800, 112 ...) are not personal data
        yield _Cand(match.start, match.end, "phone")


def _find_digit_runs(text: str) -> Iterator[_Cand]:
    """Spaced, dotted or spelled-out digit sequences: phone, BSN or a generic long number."""
    tokens = list(_DIGIT_TOKEN.finditer(text))
    i = 0
    while i < len(tokens):
        j = i
        while j + 1 < len(tokens) and _DIGIT_GAP.fullmatch(
            text, tokens[j].end(), tokens[j + 1].start()
        ):
            j += 1
        group = tokens[i : j + 1]
        i = j + 1
        digits = "".join(_SPELLED_DIGITS.get(t.group().casefold(), t.group()) for t in group)
        spelled = any(not t.group().isdigit() for t in group)
        # Trim spelled words at the edges that are really the article "een" (one).
        while group and not group[0].group().isdigit() and len(digits) > 10:
            digits = digits[1:]
            group = group[1:]
        start, end = group[0].start(), group[-1].end()
        if len(digits) < 6:
            continue
        if spelled and len(digits) < 8:
            continue
        plus = start > 0 and text[start - 1] == "+"
        if _SERVICE_NUMBER.match(digits.lstrip("0")) and len(digits) <= 10:
            continue  # public help/service line such as 0800-0432
        if len(digits) >= 9 and (digits.startswith(("0", "31")) or plus or spelled):
            if not _SERVICE_NUMBER.match(digits.lstrip("0")):
                yield _Cand(start - 1 if plus else start, end, "phone")
            continue
        if len(digits) in (8, 9) and not spelled and std_bsn.is_valid(digits.zfill(9)):
            yield _Cand(start, end, "bsn")
            continue
        yield _Cand(start, end, "number")


def _find_postcode(text: str) -> Iterator[_Cand]:
    for m in _POSTCODE.finditer(text):
        digits, space, letters = m.group(1), m.group(2), m.group(3)
        if space and not letters.isupper():
            # "2024 en": lower-case letters after a space are usually a word, unless cued.
            before = text[max(0, m.start() - 12) : m.start()].casefold()
            if "postcode" not in before:
                continue
        if std_postcode.is_valid(f"{digits} {letters.upper()}"):
            yield _Cand(m.start(), m.end(), "postcode")
        elif letters.isupper():
            yield _Cand(m.start(), m.end(), "number")  # postcode-shaped, e.g. "1234 SS"


def _near_birth_cue(text: str, start: int, end: int) -> bool:
    window = text[max(0, start - 40) : min(len(text), end + 20)]
    return _compiled()["birth_cue"].search(window) is not None


def _find_date(text: str) -> Iterator[_Cand]:
    pats = _compiled()
    for m in _DATE_NUMERIC.finditer(text):
        yield _Cand(m.start(), m.end(), "date")
    for m in pats["date_text"].finditer(text):
        has_year = bool(re.search(r"\d{2}\s*$", m.group())) and bool(
            re.search(r"\s(?:\d{4}|'\d{2})$", m.group())
        )
        if has_year or _near_birth_cue(text, m.start(), m.end()):
            yield _Cand(m.start(), m.end(), "date")
    for pattern in (pats["month_year"], _DAY_MONTH_NUMERIC, _YEAR):
        for m in pattern.finditer(text):
            if _near_birth_cue(text, m.start(), m.end()):
                yield _Cand(m.start(), m.end(), "date")


def _find_address(text: str) -> Iterator[_Cand]:
    lex = _lexicon().lists
    pats = _compiled()
    for key in ("address", "address_live"):
        for m in pats[key].finditer(text):
            street = m.group("street").casefold()
            blacklisted = street in lex["street_blacklist"] or street in lex["street_suffixes"]
            if blacklisted and not m.group("pre"):
                continue
            start = m.start("pre") if m.group("pre") else m.start("street")
            pre_tokens = m.group("pre").split()
            while pre_tokens and pre_tokens[0].casefold() in lex["stopwords"]:
                start = (
                    text.index(pre_tokens[1], start) if len(pre_tokens) > 1 else m.start("street")
                )
                pre_tokens.pop(0)
            yield _Cand(start, m.end(), "address")


def _is_handle_like(token: str) -> bool:
    return any(c.isdigit() or c in "_." for c in token.strip("."))


def _find_handle(text: str) -> Iterator[_Cand]:
    lex = _lexicon().lists
    for m in _AT_HANDLE.finditer(text):
        if len(m.group()) >= 3:
            yield _Cand(m.start(), m.end(), "handle")
    for m in _compiled()["platform"].finditer(text):
        handle = m.group("handle").rstrip(".-")
        cue = m.group("cue").casefold()
        sep = m.group("sep")
        owner = text[max(0, m.start() - 6) : m.start()].casefold().split()
        explicit = any(c in sep for c in ":=-–") or (
            "is" in sep.casefold().split()
            and bool(owner)
            and owner[-1] in ("mijn", "mn", "m'n", "haar", "zijn", "z'n", "onze", "je", "jouw")
        )
        explicit = explicit or handle.startswith("@")
        bare = handle.lstrip("@").casefold()
        if not bare or bare in lex["stopwords"] or bare in lex["handle_platforms"]:
            continue
        if not explicit and not _is_handle_like(handle):
            if cue in lex["ambiguous_platforms"]:
                before = text[max(0, m.start() - 6) : m.start()].casefold().split()
                if before and before[-1] in lex["stopwords"] and before[-1] not in ("op", "via"):
                    continue
            following = text[m.start("handle") + len(handle) :].lstrip()
            nxt = _TOKEN.match(following)
            if nxt and nxt.group().casefold() not in lex["handle_platforms"] | {
                "en",
                "of",
                "daar",
                "pls",
                "volgen",
                "toevoegen",
                "adden",
                "add",
                "follow",
            }:
                continue
        end = m.start("handle") + len(handle)
        yield _Cand(m.start("handle"), end, "handle")


def _trim_school(text: str, start: int, end: int) -> tuple[int, int]:
    lex = _lexicon().lists
    body = text[start:end]
    tokens = body.split()
    while tokens and tokens[-1].casefold() in lex["stopwords"] | lex["months"]:
        end = start + body.rstrip().rfind(tokens[-1])
        body = text[start:end].rstrip()
        end = start + len(body)
        tokens = body.split()
    return start, end


def _find_school(text: str, schools: Sequence[str]) -> Iterator[_Cand]:
    lex = _lexicon().lists
    pats = _compiled()
    for school in schools:
        name = school.strip()
        if len(name) < 3:
            continue
        pattern = re.compile(
            r"(?<![\w])" + re.escape(name).replace(r"\ ", r"\s+") + r"(?![\w])", re.IGNORECASE
        )
        for m in pattern.finditer(text):
            yield _Cand(m.start(), m.end(), "school")
    for m in pats["school_prefix"].finditer(text):
        start, end = _trim_school(text, m.start(), m.end())
        if end > start and len(m.group("body").split()[-1]) > 1:
            yield _Cand(start, end, "school")
    for m in pats["school_strong"].finditer(text):
        if m.group("body").split()[-1].casefold() not in lex["stopwords"]:
            yield _Cand(m.start(), m.end(), "school")
    for m in pats["school_suffix"].finditer(text):
        pre = m.group("pre").split()
        start = m.start()
        lead = {"het", "de", "op", "ik", "mijn", "naar", "bij", "in", "een", "we", "wij"}
        while pre and pre[0].casefold() in lead:
            start = text.index(pre[1], start) if len(pre) > 1 else start
            pre.pop(0)
        if pre:
            yield _Cand(start, m.end(), "school")
    blacklist = (
        lex["school_cue_blacklist"]
        | lex["handle_platforms"]
        | {
            "voetbal",
            "hockey",
            "scouting",
            "judo",
            "dansles",
            "zwemles",
            "muziekles",
            "turnen",
        }
    )
    for m in pats["school_cue"].finditer(text):
        words = [w for w in m.group("body").split() if w.casefold() not in ("het", "de", "'t")]
        if words and words[0].casefold() not in blacklist:
            yield _Cand(m.start("body"), m.end("body"), "school")


@dataclass(frozen=True)
class _Tok:
    text: str
    start: int
    end: int
    sentence_start: bool


def _tokens(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    for m in _TOKEN.finditer(text):
        prev = text[: m.start()].rstrip(" \t\"'“”‘’*")
        sentence_start = not prev or prev[-1] in ".!?:;\n(-•" or not prev[-1].isascii()
        toks.append(_Tok(m.group(), m.start(), m.end(), sentence_start))
    return toks


def _is_cap(word: str) -> bool:
    return word[:1].isupper() and not word.isupper() or (len(word) > 1 and word.istitle())


def _find_name(text: str) -> Iterator[_Cand]:
    lex = _lexicon()
    lists = lex.lists
    stop = lists["stopwords"]
    toks = _tokens(text)
    folded = [t.text.casefold() for t in toks]
    titles = lists["person_titles"]
    relations = lists["person_relations"]
    particles = lists["surname_particles"]
    speech = lists["speech_verbs"]
    intros = lists["name_intros"]
    weak = lists["weak_name_intros"]
    roles = titles | relations | {"mama", "papa", "mam", "pap", "iedereen", "niemand"}

    def extend(k: int) -> int:
        """Extend a name at token k with surname particles and capitalised surnames."""
        end = k
        j = k + 1
        while j < len(toks):
            gap = text[toks[j - 1].end : toks[j].start]
            if gap.strip():
                break
            if _is_cap(toks[j].text) and folded[j] not in stop and folded[j] not in roles:
                end = j
                j += 1
                continue
            m = j
            while (
                m < len(toks)
                and folded[m] in particles
                and not text[toks[m - 1].end : toks[m].start].strip()
            ):
                m += 1
            if m > j and m < len(toks) and _is_cap(toks[m].text) and folded[m] not in stop:
                end = m
                j = m + 1
                continue
            break
        return end

    def preceded_by(k: int, phrases: frozenset[str]) -> bool:
        for n in (1, 2, 3, 4):
            if k - n < 0:
                break
            words = folded[k - n : k]
            if text[toks[k - n].start : toks[k].start].count("\n"):
                break
            if " ".join(words) in phrases:
                return True
        return False

    k = 0
    while k < len(toks):
        tok, low = toks[k], folded[k]
        cap = _is_cap(tok.text)
        is_name = False
        if low in lex.first_names and low not in stop:
            if low in lex.ambiguous_first:
                nxt = folded[k + 1] if k + 1 < len(toks) else ""
                cued = preceded_by(k, titles | relations | intros - weak)
                is_name = (cap and not tok.sentence_start) or cued or (cap and nxt in speech)
            else:
                is_name = cap or len(low) >= 3
        elif low in lex.surnames and low not in lex.ambiguous_surnames and cap:
            is_name = True
        elif cap and low not in stop and low not in roles:
            # Unknown capitalised word: a name only after a strong cue.
            strong = preceded_by(k, titles | relations | (intros - weak))
            nxt = folded[k + 1] if k + 1 < len(toks) else ""
            prev = folded[k - 1] if k > 0 else ""
            speech_cue = tok.sentence_start and nxt in speech - {"en"} and prev not in stop
            is_name = strong or speech_cue
        elif not cap and low not in stop and len(low) >= 3:
            is_name = preceded_by(k, intros - weak) and low in lex.first_names
        if is_name:
            end = extend(k)
            yield _Cand(tok.start, toks[end].end, "name")
            k = end + 1
            continue
        if cap and low in particles and k + 1 < len(toks) and preceded_by(k, titles):
            end = extend(k)
            if end > k:
                yield _Cand(tok.start, toks[end].end, "name")
                k = end + 1
                continue
        k += 1
    # Multi-word surnames from the list ("de Vries", "van Dijk") anywhere, capitalised core.
    for surname in lex.surnames:
        if " " not in surname:
            continue
        parts = surname.split()
        pattern = r"(?<![\w])" + r"\s+".join(
            re.escape(p) if i < len(parts) - 1 else re.escape(p.title())
            for i, p in enumerate(parts)
        )
        for m in re.finditer(pattern + r"(?![\w])", text):
            yield _Cand(m.start(), m.end(), "name")


# --------------------------------------------------------------------------- resolution


def _resolve(cands: list[_Cand]) -> list[_Cand]:
    chosen: list[_Cand] = []
    ordered = sorted(cands, key=lambda c: (_PRIORITY[c.type], -(c.end - c.start), c.start))
    for cand in ordered:
        if cand.end <= cand.start:
            continue
        if any(cand.start < c.end and c.start < cand.end for c in chosen):
            continue
        chosen.append(cand)
    return sorted(chosen, key=lambda c: c.start)


def _clean_segment(segment: str) -> str:
    """Drop invisible/format/control characters from text kept outside the spans."""
    return "".join(
        ch for ch in segment if ch in "\n\t" or unicodedata.category(ch) not in ("Cf", "Cs", "Cc")
    )


def scrub(text: str, *, schools: Sequence[str] = ()) -> ScrubResult:
    """Replace Dutch PII in ``text`` with typed placeholders.

    Args:
        text: A free-text answer (any length; callers cap inbound text at 2,000 characters).
        schools: Municipality-supplied school and association names to redact as ``[school]``.

    Returns:
        The scrubbed text and the replaced spans, with offsets into the original ``text``.
    """
    norm, origin = _normalise(text)
    cands: list[_Cand] = []
    for finder in (
        _find_email,
        _find_url,
        _find_iban,
        _find_phone,
        _find_digit_runs,
        _find_postcode,
        _find_date,
        _find_address,
        _find_handle,
        _find_name,
    ):
        cands.extend(finder(norm))
    cands.extend(_find_school(norm, schools))
    spans = tuple(Span(origin[c.start], origin[c.end - 1] + 1, c.type) for c in _resolve(cands))
    pieces: list[str] = []
    pos = 0
    for span in spans:
        pieces.append(_clean_segment(text[pos : span.start]))
        pieces.append(PLACEHOLDERS[span.type])
        pos = span.end
    pieces.append(_clean_segment(text[pos:]))
    return ScrubResult("".join(pieces), spans)
