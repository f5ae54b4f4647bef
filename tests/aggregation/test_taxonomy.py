from pathlib import Path

import pytest

from aggregation.exceptions import TaxonomyError
from aggregation.taxonomy import load_taxonomy, parse_taxonomy

EXPECTED = {
    "mentale_gezondheid",
    "school_prestatiedruk",
    "geld_armoede",
    "veiligheid_buurt",
    "online_social_media",
    "middelengebruik",
    "vrije_tijd_sport",
    "wonen_gezin",
    "pesten_discriminatie",
    "relaties_seksualiteit",
    "toekomst_werk",
    "openbare_ruimte_vervoer",
}


class TestLoadTaxonomy:
    def test_default_has_the_twelve_themes(self) -> None:
        taxonomy = load_taxonomy()
        assert set(taxonomy.theme_ids) == EXPECTED
        for theme in taxonomy.themes:
            assert len(theme.lexicon) >= 20
            assert len(theme.examples) >= 4

    def test_custom_path(self, tmp_path: Path) -> None:
        path = tmp_path / "t.yaml"
        path.write_text(
            "version: '1'\nthemes:\n"
            "  - {id: a, label: A, lexicon: [hond, kat]}\n"
            "  - {id: b, label: B, examples: [de bus is te laat]}\n",
            encoding="utf-8",
        )
        taxonomy = load_taxonomy(path)
        assert taxonomy.theme_ids == ["a", "b"]
        assert taxonomy.fingerprint() != load_taxonomy().fingerprint()

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(TaxonomyError):
            load_taxonomy(tmp_path / "nope.yaml")

    def test_bad_yaml(self, tmp_path: Path) -> None:
        path = tmp_path / "t.yaml"
        path.write_text("themes: [", encoding="utf-8")
        with pytest.raises(TaxonomyError):
            load_taxonomy(path)

    @pytest.mark.parametrize(
        "data",
        [
            None,
            {"themes": "x"},
            {"themes": [{"id": "a", "label": "A", "lexicon": ["x"]}]},
            {"themes": [{"id": "a", "label": "A", "lexicon": ["x"]}] * 2},
            {"themes": [{"id": "a", "label": "A"}, {"id": "b", "label": "B", "lexicon": ["y"]}]},
            {"language": "klingon", "themes": []},
        ],
    )
    def test_invalid(self, data: object) -> None:
        with pytest.raises(TaxonomyError):
            parse_taxonomy(data)
