"""PRIV-08: the first message says it is a bot, what is kept, how long, who sees what."""

from __future__ import annotations

import re

from bot.engine.catalogue import default_catalogue
from bot.engine.flow import Progress, RoundContext, step
from bot.engine.messages import Inbound
from surveys.definitions import load_templates

CAT = default_catalogue()


def consent_text(lang: str = "nl") -> str:
    progress = Progress(lang=lang)
    s = step(
        load_templates()["bouwsteen1-jongeren"],
        progress,
        Inbound("t", "a", "1", text="/start"),
        context=RoundContext(retention_days=180),
        catalogue=CAT,
    )
    return s.outbound[0].text


def sentences(text: str) -> list[list[str]]:
    parts = [p for p in re.split(r"[.!?\n•:]+", text) if p.strip()]
    return [re.findall(r"[\wÀ-ÿ'-]+", p) for p in parts]


class TestConsentText:
    def test_snapshot_covers_every_promise(self) -> None:
        text = consent_text()
        for promise in [
            "computerprogramma, niet met een mens",  # automated bot
            "zonder je naam of telefoonnummer",  # what is kept
            "180 dagen",  # how long (from the round)
            "groepen van 10 mensen of meer",  # who sees what
            "typ stop",  # how to stop
            "typ verwijder",  # how to erase
            "english",  # English option
        ]:
            assert promise in text, promise
        assert text.endswith("Doe je mee?")

    def test_english_version(self) -> None:
        text = consent_text("en")
        assert "computer program, not a person" in text and "180 days" in text

    def test_b1_readability_proxy(self) -> None:
        # B1 proxy measured on the Dutch consent text: short sentences, few long words.
        words = [w for s in sentences(consent_text()) for w in s]
        lengths = [len(s) for s in sentences(consent_text()) if s]
        assert max(lengths) <= 18
        assert sum(lengths) / len(lengths) <= 10
        long_words = [w for w in words if len(w) >= 13]
        assert len(long_words) / len(words) <= 0.03, long_words
