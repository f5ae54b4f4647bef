"""The engine's participant-facing copy, loaded from ``locales/<lang>.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

LANGUAGES = ("nl", "en")


@dataclass(frozen=True)
class Catalogue:
    """Message texts per language; Dutch is the fallback."""

    texts: dict[str, dict[str, str]]

    def get(self, key: str, lang: str = "nl", **values: object) -> str:
        """Return the text ``key`` in ``lang`` with ``{placeholders}`` filled in."""
        table = self.texts.get(lang) or self.texts["nl"]
        template = table.get(key) or self.texts["nl"][key]
        return template.format(**values) if values else template


@lru_cache
def default_catalogue() -> Catalogue:
    """Load the shipped catalogue once per process."""
    folder = resources.files("bot.engine") / "locales"
    texts: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        data = yaml.safe_load((folder / f"{lang}.yaml").read_text(encoding="utf-8"))
        texts[lang] = {str(k): str(v).strip() for k, v in data.items()}
    missing = set(texts["nl"]) ^ set(texts["en"])
    if missing:
        raise ValueError(f"catalogue keys differ between languages: {sorted(missing)}")
    return Catalogue(texts)
