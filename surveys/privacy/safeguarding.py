"""Crisis and disclosure detection for free text, plus help-line cards (SAFE-02..06).

Detection is a supplement, never the gate: help is always reachable through the ``hulp``
command. The classifier is deliberately recall-oriented (a spurious help card is cheap).

Approach:

1. Normalise: NFKD without diacritics, drop zero-width/format characters, casefold, join dotted or
   spaced single letters (``z.e.l.f`` -> ``zelf``), undo leetspeak inside words (``z3lf``), drop
   apostrophes, turn sentence punctuation into a `` , `` boundary marker, ``ij`` -> ``y``, and
   squeeze repeated letters (``zelfmoooord`` -> ``zelfmord``).
2. Blank out colloquial phrases (``doodmoe``, ``ik ga dood van het lachen``) span by span, so a
   real crisis phrase elsewhere in the same message still fires.
3. Match phrase patterns and a spaceless keyword tier, both loaded from
   ``data/safeguarding_patterns.yaml``; the most urgent matched subtype wins.

Help cards are built from ``data/helplines.yaml`` (versioned, with ``last_verified`` dates).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import yaml

Category = Literal["none", "crisis", "disclosure"]
Subtype = Literal[
    "suicide",
    "self_harm",
    "acute_danger",
    "abuse",
    "domestic_violence",
    "sexual_violence",
    "online_exploitation",
]

CRISIS_SUBTYPES: tuple[Subtype, ...] = ("acute_danger", "suicide", "self_harm")
DISCLOSURE_SUBTYPES: tuple[Subtype, ...] = (
    "sexual_violence",
    "online_exploitation",
    "domestic_violence",
    "abuse",
)
# Most urgent first; the first matched subtype decides the signal.
_URGENCY: tuple[Subtype, ...] = CRISIS_SUBTYPES + DISCLOSURE_SUBTYPES

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a"})
_LEET_TOKEN = re.compile(r"[\w@$]*[a-z][\w@$]*|[\w@$]+[a-z]")
_SPELLED_OUT = re.compile(r"(?<![^\W_])(?:[^\W_][.\-_*·•/ ]){2,}[^\W_](?![^\W_])")
_BOUNDARY = re.compile(r"[.!?;:,\n\r()\[\]{}|]+")
_NON_WORD = re.compile(r"[^a-z0-9 ,]+")
_REPEAT = re.compile(r"([a-z])\1+")
_SPACES = re.compile(r" +")
_MACRO = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Signal:
    """Result of :func:`classify`.

    Attributes:
        category: ``"none"``, ``"crisis"`` (suicide, self-harm, acute danger) or
            ``"disclosure"`` (abuse, violence, sexual violence, online exploitation).
        subtype: The most urgent matched subtype, or ``None`` when category is ``"none"``.
    """

    category: Category
    subtype: Subtype | None = None


NO_SIGNAL = Signal("none", None)


def _squeeze(text: str) -> str:
    return _REPEAT.sub(r"\1", text.replace("ij", "y"))


def normalise(text: str) -> str:
    """Return the matching form of ``text`` (see module docstring); used for patterns too.

    Args:
        text: Raw user text.

    Returns:
        Lower-case ASCII-ish text with single spaces and `` , `` sentence markers.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(
        ch
        for ch in decomposed
        if unicodedata.category(ch) not in ("Mn", "Cf", "Cs", "Cc") or ch in "\n\r"
    )
    lowered = unicodedata.normalize("NFKC", kept).casefold()
    lowered = re.sub(r"['’‘`´]", "", lowered)
    joined = _SPELLED_OUT.sub(lambda m: re.sub(r"[.\-_*·•/ ]", "", m.group()), lowered)
    unleet = _LEET_TOKEN.sub(lambda m: m.group().translate(_LEET).replace("$", "s"), joined)
    marked = _BOUNDARY.sub(" , ", unleet)
    cleaned = _NON_WORD.sub(" ", marked)
    return _SPACES.sub(" ", _squeeze(cleaned)).strip()


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class _Rules:
    exclusions: tuple[re.Pattern[str], ...]
    patterns: tuple[tuple[str, re.Pattern[str]], ...]
    any_pattern: re.Pattern[str]
    keywords: tuple[tuple[str, str], ...]
    home: re.Pattern[str]
    negation_after: re.Pattern[str]
    negation_before: re.Pattern[str]


def _read_yaml(name: str) -> dict[str, Any]:
    raw = resources.files("surveys.privacy").joinpath("data", name).read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(raw)
    return data


def _prepare(pattern: str, macros: dict[str, str]) -> str:
    """Expand macros and apply the text normalisation (ij -> y, squeeze) to literal letters."""
    for _ in range(3):
        pattern = _MACRO.sub(lambda m: macros.get(m.group(1), m.group(0)), pattern)
    # Keep regex escapes such as \w and \b intact while squeezing the literal letters.
    pieces = re.split(r"(\\[a-zA-Z]|\{\d*,?\d*\})", pattern)
    return "".join(p if i % 2 else _squeeze(p) for i, p in enumerate(pieces))


def _compile(pattern: str, macros: dict[str, str]) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])(?:" + _prepare(pattern, macros) + r")(?![a-z0-9])")


@functools.cache
def _rules() -> _Rules:
    data = _read_yaml("safeguarding_patterns.yaml")
    macros: dict[str, str] = dict(data["macros"])
    exclusions = tuple(_compile(p, macros) for p in data["exclusions"])
    patterns = tuple(
        (subtype, _compile(p, macros)) for subtype, plist in data["patterns"].items() for p in plist
    )
    keywords = tuple(
        (subtype, _squeeze(word)) for subtype, words in data["keywords"].items() for word in words
    )
    return _Rules(
        exclusions=exclusions,
        patterns=patterns,
        # One search over the alternation of every pattern: most texts match none, and a
        # single scan is cheaper than ~200 separate ones. It cannot miss: if any pattern
        # matches somewhere, the alternation matches there too.
        any_pattern=re.compile("|".join(p.pattern for _, p in patterns)),
        keywords=keywords,
        home=re.compile(_prepare(data["home_context"], macros)),
        negation_after=re.compile(_prepare(data["negation_after"], macros)),
        negation_before=re.compile(_prepare(data["negation_before"], macros)),
    )


def _blank_exclusions(norm: str, rules: _Rules) -> str:
    for pattern in rules.exclusions:
        norm = pattern.sub(lambda m: " , " + "#" * max(0, len(m.group()) - 3), norm)
    return norm


def _matched_subtypes(text: str) -> set[str]:
    rules = _rules()
    norm = _blank_exclusions(normalise(text), rules)
    found: set[str] = set()
    candidates = rules.patterns if rules.any_pattern.search(norm) else ()
    for subtype, pattern in candidates:
        for m in pattern.finditer(norm):
            if subtype not in CRISIS_SUBTYPES and (
                rules.negation_after.match(norm, m.end())
                or rules.negation_before.search(norm[: m.start()].rstrip())
            ):
                continue
            if subtype == "violence":
                found.add("domestic_violence" if rules.home.search(norm) else "abuse")
            else:
                found.add(subtype)
            break
    compact = re.sub(r"[^a-z]", "", norm.replace("#", " "))
    for subtype, word in rules.keywords:
        if word in compact:
            found.add(subtype)
    return found


def classify(text: str) -> Signal:
    """Classify a message as crisis, disclosure or nothing.

    Args:
        text: Raw user text (any language; Dutch and basic English slang are understood).

    Returns:
        The most urgent matched :class:`Signal`, or ``Signal("none", None)``.
    """
    found = _matched_subtypes(text)
    for subtype in _URGENCY:
        if subtype in found:
            category: Category = "crisis" if subtype in CRISIS_SUBTYPES else "disclosure"
            return Signal(category, subtype)
    return NO_SIGNAL


# --------------------------------------------------------------------------- help lines


@dataclass(frozen=True)
class Helpline:
    """One entry of ``data/helplines.yaml``."""

    key: str
    name: str
    number: str | None
    url: str | None
    ages: str
    hours: str
    last_verified: dt.date
    categories: tuple[str, ...]
    description: dict[str, str]


@functools.cache
def _helpline_config() -> dict[str, Any]:
    return _read_yaml("helplines.yaml")


def load_helplines() -> tuple[Helpline, ...]:
    """Return all configured help lines, in display order.

    Returns:
        The help lines from the versioned config file.
    """
    out: list[Helpline] = []
    for key, entry in _helpline_config()["helplines"].items():
        verified = entry["last_verified"]
        if not isinstance(verified, dt.date):
            verified = dt.date.fromisoformat(str(verified))
        out.append(
            Helpline(
                key=key,
                name=entry["name"],
                number=entry.get("number"),
                url=entry.get("url"),
                ages=str(entry["ages"]),
                hours=str(entry["hours"]),
                last_verified=verified,
                categories=tuple(entry["categories"]),
                description=dict(entry["description"]),
            )
        )
    return tuple(out)


def helplines_for(signal: Signal) -> tuple[Helpline, ...]:
    """Return the help lines that serve ``signal`` (all of them for the general card).

    Args:
        signal: A classification result.

    Returns:
        Matching help lines; for ``none`` the full list (the general ``hulp`` card).
    """
    lines = load_helplines()
    if signal.subtype is None:
        return lines
    return tuple(line for line in lines if signal.subtype in line.categories)


def help_card(signal: Signal, *, lang: str = "nl") -> str:
    """Render the help card for a signal.

    Args:
        signal: The classification result; ``Signal("none")`` gives the general card that the
            ``hulp`` command shows.
        lang: ``"nl"`` (default, B1 Dutch) or ``"en"``.

    Returns:
        Plain text with the bot disclaimer, an intro and one line per help line.
    """
    config = _helpline_config()
    cards: dict[str, Any] = config["cards"]
    lang = lang if lang in cards["header"] else "nl"
    key = signal.subtype or "general"
    parts = [cards["header"][lang], cards["intro"].get(key, cards["intro"]["general"])[lang], ""]
    for line in helplines_for(signal):
        parts.append(f"• {line.name}: {line.description[lang]}")
    parts.append("")
    parts.append(cards["footer"][lang])
    return "\n".join(parts).strip()
