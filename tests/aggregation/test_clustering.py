import dataclasses
import pickle
import re
import time
from pathlib import Path

import pytest

from aggregation.clustering import (
    OTHER_THEME_ID,
    AnswerText,
    ClusterConfig,
    ThemeModel,
    cluster_texts,
    fit_themes,
    load_model,
    save_model,
)
from aggregation.exceptions import EmptyCorpusError, InvalidInputError, ModelStateError
from aggregation.text import normalise_text

from .conftest import CANARY, MONEY, SCHOOL, make_answers


def _all_label_text(model: ThemeModel) -> str:
    return " ".join([t.label for t in model.themes] + [" ".join(t.terms) for t in model.themes])


@pytest.mark.parametrize("mode", ["guided", "discover"])
class TestFitThemes:
    def test_every_answer_assigned_exactly_once(self, corpus: list[AnswerText], mode: str) -> None:
        model, assignments = fit_themes(corpus, mode=mode, k=3, k_min=5)  # type: ignore[arg-type]
        assert [a.answer_id for a in assignments] == [a.id for a in corpus]
        known = set(model.theme_ids)
        for a in assignments:
            assert a.theme_id in known
            assert a.theme_id not in a.secondary
            assert set(a.secondary) <= known
            assert 0.0 <= a.score <= 1.0

    def test_deterministic_given_seed(self, corpus: list[AnswerText], mode: str) -> None:
        m1, a1 = fit_themes(corpus, mode=mode, k=3, k_min=5, random_state=7)  # type: ignore[arg-type]
        m2, a2 = fit_themes(corpus, mode=mode, k=3, k_min=5, random_state=7)  # type: ignore[arg-type]
        assert a1 == a2
        assert m1.version == m2.version
        assert [t.label for t in m1.themes] == [t.label for t in m2.themes]

    def test_incremental_assignment_matches_fit(
        self, corpus: list[AnswerText], mode: str, tmp_path: Path
    ) -> None:
        model, assignments = fit_themes(corpus, mode=mode, k=3, k_min=5)  # type: ignore[arg-type]
        assert model.assign_answers(corpus) == assignments
        restored = pickle.loads(pickle.dumps(model))
        assert restored.assign_answers(corpus) == assignments
        save_model(model, tmp_path / "m.pkl")
        loaded = load_model(tmp_path / "m.pkl")
        assert loaded.version == model.version
        assert loaded.assign_answers(corpus) == assignments

    def test_quarantine_canary_never_processed(self, corpus: list[AnswerText], mode: str) -> None:
        canaries = [
            AnswerText(id=f"q{i}", text=f"{CANARY} {CANARY}", respondent_id=f"q{i}")
            for i in range(12)
        ]
        model, assignments = fit_themes(
            corpus + canaries,
            mode=mode,  # type: ignore[arg-type]
            k=3,
            k_min=5,
            exclude_ids={c.id for c in canaries},
        )
        assert not {a.answer_id for a in assignments} & {c.id for c in canaries}
        assert "xylofoon" not in _all_label_text(model).lower()
        assert "kanarie" not in _all_label_text(model).lower()

    def test_labels_only_from_terms_of_k_min_respondents(
        self, corpus: list[AnswerText], mode: str
    ) -> None:
        # A name used by three respondents and placeholders used by many must never be labels.
        extra = [
            AnswerText(
                id=f"n{i}", text=f"Pietje zegt dat school saai is {i}", respondent_id=f"n{i}"
            )
            for i in range(3)
        ] + [
            AnswerText(
                id=f"p{i}", text="bel [telefoon] of [naam] over de toetsen", respondent_id=f"p{i}"
            )
            for i in range(12)
        ]
        answers = corpus + extra
        k_min = 5
        model, _ = fit_themes(answers, mode=mode, k=3, k_min=k_min)  # type: ignore[arg-type]
        labels = _all_label_text(model).lower()
        assert "pietje" not in labels
        assert "telefoon" not in labels
        assert "naam" not in labels
        assert "[" not in labels
        normalised = [set(normalise_text(a.text).split()) for a in answers]
        for theme in model.themes:
            for term in theme.terms:
                for word in term.split():
                    users = {
                        a.respondent_id
                        for a, ws in zip(answers, normalised, strict=True)
                        if word in ws
                    }
                    assert len(users) >= k_min, (theme.id, term)


class TestGuided:
    def test_on_topic_answers_get_their_seed_theme(self, corpus: list[AnswerText]) -> None:
        _, assignments = fit_themes(corpus, mode="guided", k_min=5)
        by_id = {a.answer_id: a.theme_id for a in assignments}
        school = [by_id[f"a{i}"] for i in range(len(SCHOOL))]
        money = [by_id[f"a{len(SCHOOL) + i}"] for i in range(len(MONEY))]
        assert school.count("school_prestatiedruk") >= len(SCHOOL) * 0.7
        assert money.count("geld_armoede") >= len(MONEY) * 0.7

    def test_off_taxonomy_answers_become_emergent_or_other(
        self, corpus_with_pets: list[AnswerText]
    ) -> None:
        model, assignments = fit_themes(corpus_with_pets, mode="guided", k_min=5)
        pets = [a for a in assignments if int(a.answer_id[1:]) >= 36]
        origins = {t.id: t.origin for t in model.themes}
        not_seed = [a for a in pets if origins[a.theme_id] in ("emergent", "other")]
        assert len(not_seed) >= len(pets) * 0.6
        assert model.themes[-1].id == OTHER_THEME_ID

    def test_custom_taxonomy(self, corpus: list[AnswerText], tmp_path: Path) -> None:
        from aggregation.taxonomy import load_taxonomy

        path = tmp_path / "t.yaml"
        path.write_text(
            "version: x\nthemes:\n"
            "  - {id: leren, label: Leren, lexicon: [school, toets, huiswerk, cijfers]}\n"
            "  - {id: centen, label: Centen, lexicon: [geld, duur, schulden, armoede]}\n",
            encoding="utf-8",
        )
        model, assignments = fit_themes(corpus, taxonomy=load_taxonomy(path), k_min=5)
        assert {"leren", "centen"} <= set(model.theme_ids)
        assert "guided" in model.version
        assert {a.theme_id for a in assignments} <= set(model.theme_ids)

    def test_fast_incremental_assignment(self, corpus: list[AnswerText]) -> None:
        model, _ = fit_themes(corpus, mode="guided", k_min=5)
        texts = [a.text + f" nummer {i}" for i, a in enumerate(corpus * 30)][:1000]
        model.assign(texts)
        start = time.perf_counter()
        assert len(model.assign(texts)) == 1000
        assert time.perf_counter() - start < 1.0  # budget 0.25 s; slack for busy CI


class TestDiscover:
    def test_automatic_k(self, corpus: list[AnswerText]) -> None:
        model, assignments = fit_themes(corpus, mode="discover", k_min=5)
        assert 2 <= len(model.themes) <= 12
        assert all(re.fullmatch(r"cluster_\d+", a.theme_id) for a in assignments)

    def test_cluster_texts_wrapper(self, corpus: list[AnswerText]) -> None:
        assert len(cluster_texts(corpus, mode="discover", k=3)) == len(corpus)


class TestLargeRoundPath:
    @pytest.mark.parametrize("mode", ["guided", "discover"])
    def test_sampled_fit_and_parallel_assign(self, corpus: list[AnswerText], mode: str) -> None:
        # Tiny thresholds force the big-round path: fit on a sample, no char block, and
        # assignment in forked worker processes.
        config = ClusterConfig(fit_sample_size=40, chunk_size=25, n_jobs=2, char_ngrams_max_docs=40)
        answers = [
            AnswerText(id=f"{a.id}-{i}", text=a.text, respondent_id=f"{a.respondent_id}-{i}")
            for i in range(3)
            for a in corpus
        ]
        model, assignments = fit_themes(
            answers,
            mode=mode,  # type: ignore[arg-type]
            k=3,
            k_min=5,
            config=config,
        )
        assert [a.answer_id for a in assignments] == [a.id for a in answers]
        assert model.config.char_ngrams is None
        assert model.assign_answers(answers) == assignments
        model.config = dataclasses.replace(model.config, chunk_size=1000, n_jobs=1)  # serial
        assert model.assign_answers(answers) == assignments


class TestErrors:
    def test_empty(self) -> None:
        with pytest.raises(EmptyCorpusError):
            fit_themes([])

    def test_everything_excluded(self, corpus: list[AnswerText]) -> None:
        with pytest.raises(EmptyCorpusError):
            fit_themes(corpus, exclude_ids={a.id for a in corpus})

    def test_no_words(self) -> None:
        answers = make_answers({"x": ["[naam]", "123", "!!"]})
        with pytest.raises(EmptyCorpusError):
            fit_themes(answers, mode="discover")

    def test_duplicate_ids(self, corpus: list[AnswerText]) -> None:
        with pytest.raises(InvalidInputError):
            fit_themes(corpus + corpus[:1])

    def test_invalid_record(self) -> None:
        with pytest.raises(InvalidInputError):
            AnswerText(id="a", text="x", respondent_id="r", role="leraar")  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError):
            AnswerText(id="", text="x", respondent_id="r")

    def test_load_model_rejects_other_pickles(self, tmp_path: Path) -> None:
        path = tmp_path / "x.pkl"
        path.write_bytes(pickle.dumps({"format": "other"}))
        with pytest.raises(ModelStateError):
            load_model(path)
