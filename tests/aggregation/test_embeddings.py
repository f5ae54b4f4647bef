import pickle
from typing import NoReturn

import numpy as np
import pytest

import aggregation.clustering as clustering
import aggregation.embeddings as embeddings
from aggregation.clustering import AnswerText, ClusterConfig, fit_themes
from aggregation.embeddings import EMBEDDING_DIM, ENCODER_PACKAGE, embed_texts

# Two topics without a content word in common, even within a topic: only meaning links them.
ANIMALS = [
    "mijn hond blaft de hele dag",
    "de kat slaapt op de bank",
    "we hebben een konijn gekocht",
    "het paard staat in de wei",
    "mijn cavia eet graag wortels",
    "de papegaai praat veel",
    "onze goudvis zwemt rondjes",
    "de hamster rent in zijn wiel",
    "een schildpad leeft heel lang",
    "de pup van de buren is schattig",
]
TRANSPORT = [
    "de bus was weer te laat",
    "mijn fiets heeft een lekke band",
    "de trein reed niet vandaag",
    "met de auto naar oma",
    "de tram zat helemaal vol",
    "ik neem de metro naar school",
    "mijn scooter start niet",
    "het vliegtuig vertrok met vertraging",
    "de veerboot vaart elk uur",
    "een taxi is erg duur",
]


def _answers(texts: list[str]) -> list[AnswerText]:
    return [AnswerText(id=f"e{i}", text=t, respondent_id=f"re{i}") for i, t in enumerate(texts)]


def _no_encoder(*_: object) -> NoReturn:
    raise AssertionError("the sentence encoder must not be used here")


@pytest.fixture
def forbid_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clustering, "embed_texts", _no_encoder)
    monkeypatch.setattr(embeddings, "_get_encoder", _no_encoder)


class TestEmbedTexts:
    def test_shape_norm_and_duplicates(self) -> None:
        texts = ["ik word gepest op school", "", "[naam] is aardig", "ik word gepest op school"]
        vecs = embed_texts(texts)
        assert vecs.shape == (4, EMBEDDING_DIM)
        assert vecs.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
        assert np.array_equal(vecs[0], vecs[3])
        assert embed_texts([]).shape == (0, EMBEDDING_DIM)

    def test_deterministic(self) -> None:
        texts = ANIMALS + TRANSPORT
        assert np.array_equal(embed_texts(texts), embed_texts(texts))

    def test_meaning_without_shared_words(self) -> None:
        vecs = embed_texts(ANIMALS + TRANSPORT)
        sims = vecs @ vecs.T
        n = len(ANIMALS)
        within = (sims[:n, :n].sum() - n + sims[n:, n:].sum() - n) / (2 * n * (n - 1))
        across = sims[:n, n:].mean()
        assert within > across + 0.05


class TestDiscoverUsesEmbeddings:
    def test_discover_fit_records_embeddings(self, corpus: list[AnswerText]) -> None:
        model, _ = fit_themes(corpus, mode="discover", k=3, k_min=5)
        assert model.embeddings == ENCODER_PACKAGE
        assert ":discover+use-m3:" in model.version

    def test_at_the_cap_embeds(self, corpus: list[AnswerText]) -> None:
        config = ClusterConfig(embed_max_docs=len(corpus))
        model, _ = fit_themes(corpus, mode="discover", k=3, k_min=5, config=config)
        assert model.embeddings == ENCODER_PACKAGE

    def test_embeddings_group_by_meaning(self) -> None:
        _, assigned = fit_themes(
            _answers(ANIMALS + TRANSPORT), mode="discover", k=2, k_min=3, random_state=0
        )
        labels = [a.theme_id for a in assigned]
        first, second = labels[: len(ANIMALS)], labels[len(ANIMALS) :]
        top1 = max(set(first), key=first.count)
        top2 = max(set(second), key=second.count)
        assert top1 != top2
        assert first.count(top1) + second.count(top2) >= 0.75 * len(labels)

    def test_deterministic_with_embeddings(self, corpus: list[AnswerText]) -> None:
        m1, a1 = fit_themes(corpus, mode="discover", k=3, k_min=5, random_state=3)
        m2, a2 = fit_themes(corpus, mode="discover", k=3, k_min=5, random_state=3)
        assert m1.embeddings is not None
        assert a1 == a2
        assert m1.version == m2.version
        assert m1.themes == m2.themes

    def test_assign_needs_no_encoder(
        self, corpus: list[AnswerText], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        model, assignments = fit_themes(corpus, mode="discover", k=3, k_min=5)
        assert model.embeddings is not None
        monkeypatch.setattr(clustering, "embed_texts", _no_encoder)
        monkeypatch.setattr(embeddings, "_get_encoder", _no_encoder)
        assert model.assign_answers(corpus) == assignments
        restored = pickle.loads(pickle.dumps(model))
        assert restored.assign_answers(corpus) == assignments
        assert len(model.assign([a.text + " en verder" for a in corpus])) == len(corpus)


@pytest.mark.usefixtures("forbid_encoder")
class TestWithoutEmbeddings:
    def test_guided_mode_never_embeds(self, corpus: list[AnswerText]) -> None:
        model, assignments = fit_themes(corpus, mode="guided", k_min=5)
        assert model.embeddings is None
        assert "use-m3" not in model.version
        assert len(assignments) == len(corpus)

    def test_above_the_cap_stays_sparse(self, corpus: list[AnswerText]) -> None:
        config = ClusterConfig(embed_max_docs=len(corpus) - 1)
        model, assignments = fit_themes(corpus, mode="discover", k=3, k_min=5, config=config)
        assert model.embeddings is None
        assert ":discover:" in model.version
        assert model.assign_answers(corpus) == assignments

    def test_weight_zero_disables(self, corpus: list[AnswerText]) -> None:
        config = ClusterConfig(embed_weight=0.0)
        model, _ = fit_themes(corpus, mode="discover", k=3, k_min=5, config=config)
        assert model.embeddings is None
        assert "use-m3" not in model.version
