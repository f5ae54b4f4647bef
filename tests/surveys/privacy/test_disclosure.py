import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.exceptions import PrivacyError
from surveys.privacy.disclosure import (
    CellValue,
    percentage,
    round_count,
    suppress_counts,
    suppress_table,
)

K = 10
counts_1d = st.dictionaries(
    st.text("abcdef", min_size=1, max_size=3), st.integers(0, 60), max_size=7
)
table_2d = st.integers(1, 5).flatmap(
    lambda ncols: st.dictionaries(
        st.text("pqrs", min_size=1, max_size=2),
        st.fixed_dictionaries({f"c{i}": st.integers(0, 40) for i in range(ncols)}),
        min_size=1,
        max_size=5,
    )
)


def check_shown(cell: CellValue, k_min: int = K) -> None:
    if cell.suppressed:
        assert cell.count is None
        assert cell.reason in ("primary", "secondary")
    else:
        assert cell.count is not None
        assert cell.count >= k_min
        assert cell.count % 5 == 0


def check_line(line: list[CellValue]) -> None:
    hidden = sum(c.suppressed for c in line)
    assert len(line) == 1 or hidden != 1, (
        "a single hidden entry in a line is derivable by subtraction"
    )


class TestRoundCount:
    @pytest.mark.parametrize(("n", "shown"), [(10, 10), (12, 10), (13, 15), (17, 15), (18, 20)])
    def test_rounds_to_five(self, n: int, shown: int) -> None:
        assert round_count(n) == shown

    def test_never_below_k(self) -> None:
        assert round_count(11, k_min=11) == 15


class TestSuppressCounts:
    def test_primary_and_secondary(self) -> None:
        out = suppress_counts({"a": 3, "b": 40, "c": 25})
        assert out["a"] == CellValue(None, True, "primary")
        assert out["c"] == CellValue(None, True, "secondary")
        assert out["b"].count == 40
        assert out["__total__"].count == 70

    def test_small_total_hides_everything(self) -> None:
        out = suppress_counts({"a": 3, "b": 4})
        assert all(v.suppressed for v in out.values())

    def test_explicit_total(self) -> None:
        out = suppress_counts({"a": 30, "b": 20}, total=52)
        assert out["__total__"].count == 50

    def test_rejects_low_k_and_negative(self) -> None:
        with pytest.raises(PrivacyError):
            suppress_counts({"a": 1}, k_min=2)
        with pytest.raises(PrivacyError):
            suppress_counts({"a": -1})

    @settings(max_examples=300, deadline=None)
    @given(counts_1d)
    def test_properties(self, counts: dict[str, int]) -> None:
        out = suppress_counts(counts, k_min=K)
        for cell in out.values():
            check_shown(cell)
        for key, cell in out.items():
            if key != "__total__" and not cell.suppressed:
                assert abs(cell.count - counts[key]) <= 2  # type: ignore[operator]
            if key != "__total__" and counts[key] < K:
                assert cell.suppressed
        check_line(list(out.values()))


class TestSuppressTable:
    def test_two_by_two_with_one_small_cell(self) -> None:
        out = suppress_table({"young": {"yes": 3, "no": 30}, "old": {"yes": 40, "no": 50}})
        assert out.cells["young"]["yes"].reason == "primary"
        hidden = {(r, c) for r, row in out.cells.items() for c, v in row.items() if v.suppressed}
        assert hidden == {("young", "yes"), ("young", "no"), ("old", "yes"), ("old", "no")}

    @settings(max_examples=300, deadline=None)
    @given(table_2d)
    def test_properties(self, table: dict[str, dict[str, int]]) -> None:
        out = suppress_table(table, k_min=K)
        rows = list(out.cells)
        cols = list(out.col_totals)
        every = [v for row in out.cells.values() for v in row.values()]
        every += list(out.row_totals.values()) + list(out.col_totals.values()) + [out.grand_total]
        for cell in every:
            check_shown(cell)
        for r in rows:
            for c in cols:
                if table[r][c] < K:
                    assert out.cells[r][c].suppressed
            check_line([out.cells[r][c] for c in cols] + [out.row_totals[r]])
        for c in cols:
            check_line([out.cells[r][c] for r in rows] + [out.col_totals[c]])
        check_line(list(out.row_totals.values()) + [out.grand_total])
        check_line(list(out.col_totals.values()) + [out.grand_total])


class TestPercentage:
    def test_only_with_large_denominator(self) -> None:
        assert percentage(CellValue(10), CellValue(40)) == 25.0
        assert percentage(CellValue(10), CellValue(None, True, "primary")) is None
        assert percentage(CellValue(None, True, "primary"), CellValue(40)) is None
        assert percentage(CellValue(5), CellValue(5), k_min=10) is None

    @settings(max_examples=200, deadline=None)
    @given(counts_1d)
    def test_properties(self, counts: dict[str, int]) -> None:
        out = suppress_counts(counts, k_min=K)
        total = out["__total__"]
        for key in counts:
            pct = percentage(out[key], total, k_min=K)
            if pct is not None:
                assert total.count is not None
                assert total.count >= K
                assert not out[key].suppressed
                assert 0 <= pct <= 100 * 2
            else:
                assert out[key].suppressed or total.suppressed
