import json

import pytest

from aggregation.clustering import AnswerText, ThemeAssignment, fit_themes
from aggregation.exceptions import InvalidInputError
from aggregation.summaries import summarise_themes, suppress_count

from .conftest import CANARY, make_answers


class TestSuppressCount:
    @pytest.mark.parametrize(
        ("count", "expected"), [(0, 0), (1, None), (9, None), (10, 10), (250, 250)]
    )
    def test_threshold(self, count: int, expected: int | None) -> None:
        assert suppress_count(count, 10) == expected


class TestSummariseThemes:
    def test_small_themes_are_suppressed(self, corpus: list[AnswerText]) -> None:
        model, assignments = fit_themes(corpus, mode="guided", k_min=5)
        summary = summarise_themes(corpus, assignments, model, k_min=10)
        data = summary.to_dict()
        json.dumps(data)  # plain data
        for theme in summary.themes:
            if theme.size is None:
                assert theme.quotes == ()
                assert theme.to_dict()["size"] == "suppressed"
            else:
                assert theme.size == 0 or theme.size >= 10
            for cell in [*theme.kinds.values(), *theme.roles.values(), theme.mentions]:
                assert cell is None or cell == 0 or cell >= 10

    def test_quotes_only_from_big_themes_and_distinct_respondents(
        self, corpus: list[AnswerText]
    ) -> None:
        model, assignments = fit_themes(corpus, mode="guided", k_min=5)
        summary = summarise_themes(corpus, assignments, model, k_min=5, max_quotes=3)
        texts = {a.text for a in corpus}
        assert any(t.quotes for t in summary.themes)
        for theme in summary.themes:
            if theme.quotes:
                assert theme.size is not None
                assert theme.size >= 5
                assert len(theme.quotes) <= 3
                assert set(theme.quotes) <= texts

    def test_sizes_count_distinct_respondents(self) -> None:
        answers = [
            AnswerText(id=f"a{i}", text="te veel toetsen op school", respondent_id=f"r{i % 4}")
            for i in range(20)
        ]
        model, assignments = fit_themes(answers, mode="discover", k=1, k_min=2)
        summary = summarise_themes(answers, assignments, model, k_min=2)
        assert summary.total_respondents == 4
        assert [t.size for t in summary.themes] == [4]

    def test_no_pii_or_canary_in_output(self, corpus: list[AnswerText]) -> None:
        leaky = [
            AnswerText(
                id=f"l{i}",
                text=f"bel [telefoon] of mail jan{i}@x.nl over school",
                respondent_id=f"l{i}",
            )
            for i in range(12)
        ]
        canary = AnswerText(id="q1", text=CANARY, respondent_id="q1")
        answers = corpus + leaky + [canary]
        model, assignments = fit_themes(answers, mode="guided", k_min=5, exclude_ids={"q1"})
        summary = summarise_themes(
            answers, assignments, model, k_min=5, max_quotes=20, exclude_ids={"q1"}
        )
        dumped = json.dumps(summary.to_dict())
        assert "@" not in dumped
        assert "[telefoon]" not in dumped
        assert "KANARIE" not in dumped
        assert "xylofoon" not in dumped

    def test_unknown_assignment(self, corpus: list[AnswerText]) -> None:
        model, _ = fit_themes(corpus, mode="discover", k=2)
        bad = [ThemeAssignment(answer_id="nope", theme_id="cluster_1", theme_label="x", score=1.0)]
        with pytest.raises(InvalidInputError):
            summarise_themes(corpus, bad, model)


class TestTrend:
    def test_trend_against_previous_round(self, corpus: list[AnswerText]) -> None:
        model, assignments = fit_themes(corpus, mode="guided", k_min=5)
        current = summarise_themes(corpus, assignments, model, k_min=5)
        big = next(t for t in current.themes if t.size)
        previous = {
            "total_respondents": 100,
            "themes": [
                {"theme_id": big.theme_id, "size": 1},
                {"theme_id": "gone", "size": "suppressed"},
            ],
        }
        summary = summarise_themes(corpus, assignments, model, k_min=5, previous=previous)
        trends = {t.theme_id: t.trend for t in summary.themes}
        assert trends[big.theme_id] is not None
        assert trends[big.theme_id].direction == "up"
        assert trends[big.theme_id].delta_points is not None
        others = [t for tid, t in trends.items() if tid != big.theme_id]
        assert all(t is not None and t.direction in ("new", "unknown") for t in others)

    def test_previous_must_be_well_formed(self, corpus: list[AnswerText]) -> None:
        model, assignments = fit_themes(corpus, mode="discover", k=2)
        with pytest.raises(InvalidInputError):
            summarise_themes(corpus, assignments, model, previous={"themes": "x"})

    def test_round_trip_of_own_output(self) -> None:
        answers = make_answers({"a": ["te veel toetsen op school"] * 12})
        model, assignments = fit_themes(answers, mode="discover", k=1, k_min=5)
        first = summarise_themes(answers, assignments, model, k_min=5)
        second = summarise_themes(answers, assignments, model, k_min=5, previous=first.to_dict())
        assert all(t.trend is not None and t.trend.direction == "stable" for t in second.themes)
