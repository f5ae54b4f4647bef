"""Seed theme taxonomy: themes with a lexicon and example answers, loaded from YAML.

The packaged default lives in ``aggregation/data/taxonomy.yaml``; a municipality can replace it
by passing its own file to :func:`load_taxonomy`.
"""

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from aggregation.exceptions import TaxonomyError
from aggregation.text import Language

DEFAULT_TAXONOMY_RESOURCE = "taxonomy.yaml"


@dataclass(frozen=True)
class SeedTheme:
    """One theme of a taxonomy.

    Attributes:
        id: Stable identifier (``snake_case``), used in outputs and trends.
        label: Human-readable Dutch label shown to policy officers.
        description: One-line scope note.
        lexicon: Words and phrases (stems, synonyms, slang, misspellings) that signal the theme.
        examples: A few example answers we wrote; used as labelled seeds.
    """

    id: str
    label: str
    description: str
    lexicon: tuple[str, ...]
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    """A versioned set of seed themes.

    Attributes:
        version: Version string of the taxonomy file (part of the model version).
        language: Language of lexicon and examples.
        themes: The seed themes, in file order.
    """

    version: str
    language: Language
    themes: tuple[SeedTheme, ...]

    @property
    def theme_ids(self) -> list[str]:
        """Theme ids in file order."""
        return [t.id for t in self.themes]

    def fingerprint(self) -> str:
        """Short content hash, so a changed lexicon yields a new model version."""
        digest = hashlib.sha256()
        for theme in self.themes:
            digest.update(repr((theme.id, theme.label, theme.lexicon, theme.examples)).encode())
        return f"{self.version}-{digest.hexdigest()[:8]}"


def _as_str_tuple(value: Any, *, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise TaxonomyError(f"{where} must be a list of strings")
    return tuple(str(v).strip() for v in value if str(v).strip())


def parse_taxonomy(data: Any) -> Taxonomy:
    """Validate parsed YAML (plain data) and build a :class:`Taxonomy`.

    Args:
        data: The mapping read from a taxonomy file.

    Returns:
        The validated taxonomy.

    Raises:
        TaxonomyError: If required fields are missing, ids repeat, or a theme has no lexicon
            and no examples.
    """
    if not isinstance(data, dict) or not isinstance(data.get("themes"), list):
        raise TaxonomyError("taxonomy must be a mapping with a 'themes' list")
    language = data.get("language", "dutch")
    if language not in ("dutch", "english"):
        raise TaxonomyError(f"unsupported taxonomy language: {language!r}")
    themes: list[SeedTheme] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["themes"], start=1):
        if not isinstance(raw, dict):
            raise TaxonomyError(f"theme #{i} must be a mapping")
        theme_id = str(raw.get("id", "")).strip()
        label = str(raw.get("label", "")).strip()
        if not theme_id or not label:
            raise TaxonomyError(f"theme #{i} needs an 'id' and a 'label'")
        if theme_id in seen:
            raise TaxonomyError(f"duplicate theme id {theme_id!r}")
        seen.add(theme_id)
        lexicon = _as_str_tuple(raw.get("lexicon"), where=f"theme {theme_id!r} lexicon")
        examples = _as_str_tuple(raw.get("examples"), where=f"theme {theme_id!r} examples")
        if not lexicon and not examples:
            raise TaxonomyError(f"theme {theme_id!r} has no lexicon and no examples")
        themes.append(
            SeedTheme(
                id=theme_id,
                label=label,
                description=str(raw.get("description", "")).strip(),
                lexicon=lexicon,
                examples=examples,
            )
        )
    if len(themes) < 2:
        raise TaxonomyError("a taxonomy needs at least two themes")
    return Taxonomy(version=str(data.get("version", "0")), language=language, themes=tuple(themes))


def load_taxonomy(path: Path | str | None = None) -> Taxonomy:
    """Load a taxonomy from ``path``, or the packaged default when ``path`` is None.

    Args:
        path: A YAML file in the format of ``aggregation/data/taxonomy.yaml``.

    Returns:
        The validated taxonomy.

    Raises:
        TaxonomyError: If the file cannot be read or parsed, or fails validation.
    """
    try:
        if path is None:
            text = (
                resources.files("aggregation")
                .joinpath("data", DEFAULT_TAXONOMY_RESOURCE)
                .read_text(encoding="utf-8")
            )
        else:
            text = Path(path).read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise TaxonomyError(f"cannot load taxonomy from {path or 'package data'}: {exc}") from exc
    return parse_taxonomy(data)
