"""The adapter's participant-facing copy (``copy.yaml``): bot commands and button labels."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

LANGUAGES = ("nl", "en")


@dataclass(frozen=True)
class TelegramCopy:
    """Texts per language, Dutch as the fallback.

    Attributes:
        texts: ``{lang: {key: text}}`` for the plain keys.
        commands: ``{lang: {command: description}}`` for setMyCommands.
    """

    texts: dict[str, dict[str, str]]
    commands: dict[str, dict[str, str]]

    def get(self, key: str, lang: str = "nl") -> str:
        """Return the text ``key`` in ``lang`` (Dutch if that language lacks it)."""
        return self.texts.get(lang, {}).get(key) or self.texts["nl"][key]


@lru_cache
def default_copy() -> TelegramCopy:
    """Load ``copy.yaml`` once per process and check both languages have the same keys."""
    source = (resources.files("bot.channels.telegram") / "copy.yaml").read_text("utf-8")
    data = yaml.safe_load(source)
    texts: dict[str, dict[str, str]] = {}
    commands: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        table = dict(data[lang])
        commands[lang] = {str(k): str(v).strip() for k, v in dict(table.pop("commands")).items()}
        texts[lang] = {str(k): str(v).strip() for k, v in table.items()}
    if set(texts["nl"]) != set(texts["en"]):
        raise ValueError("copy.yaml: nl and en have different keys")
    return TelegramCopy(texts=texts, commands=commands)
