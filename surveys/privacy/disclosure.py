"""Statistical disclosure control for counts shown on the dashboard and in admin (AGG-01..03).

Rules (CBS-style, see privacy-safety.md §2.3):

* a count of distinct respondents below ``k_min`` (default 10) is suppressed (primary);
* shown counts are rounded to a multiple of ``rounding`` (default 5), never below ``k_min``;
* a percentage is shown only when its denominator is at least ``k_min`` and its numerator is
  shown; it is computed from the *rounded* counts, so it cannot undo the rounding;
* complementary (secondary) suppression: in every line of a table (a row or column together with
  its margin total) either no entry or at least two entries are suppressed, so no hidden cell is
  "total minus the visible cells". When a line has exactly one, the smallest other entry in that
  line is suppressed too, and this repeats until nothing changes.

Suppressed values are never returned: a suppressed :class:`CellValue` has ``count=None``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from surveys.exceptions import PrivacyError

DEFAULT_K_MIN = 10
DEFAULT_ROUNDING = 5
MIN_ALLOWED_K = 5

Reason = Literal["primary", "secondary"]


@dataclass(frozen=True)
class CellValue:
    """A cell as it may be shown.

    Attributes:
        count: The rounded count, or ``None`` when suppressed.
        suppressed: ``True`` when the cell must be shown as suppressed (e.g. ``"<10"`` or ``"-"``).
        reason: ``"primary"`` (too small) or ``"secondary"`` (hidden to protect another cell).
    """

    count: int | None
    suppressed: bool = False
    reason: Reason | None = None

    @classmethod
    def hidden(cls, reason: Reason) -> CellValue:
        """Return a suppressed cell."""
        return cls(None, True, reason)


@dataclass(frozen=True)
class SuppressedTable:
    """A 2-D table after disclosure control, with margins.

    Attributes:
        cells: ``cells[row][col]``.
        row_totals: Total per row.
        col_totals: Total per column.
        grand_total: Total of the whole table.
    """

    cells: dict[str, dict[str, CellValue]]
    row_totals: dict[str, CellValue]
    col_totals: dict[str, CellValue]
    grand_total: CellValue


def _check_params(k_min: int, rounding: int) -> None:
    if k_min < MIN_ALLOWED_K:
        raise PrivacyError(f"k_min must be at least {MIN_ALLOWED_K}, got {k_min}")
    if rounding < 1:
        raise PrivacyError(f"rounding must be a positive integer, got {rounding}")


def round_count(count: int, *, k_min: int = DEFAULT_K_MIN, rounding: int = DEFAULT_ROUNDING) -> int:
    """Round a count that passed the threshold for display.

    Args:
        count: A true count, at least ``k_min``.
        k_min: Threshold; the result is never below it (rounded up to a multiple if needed).
        rounding: Base to round to (half up).

    Returns:
        The displayed count: a multiple of ``rounding`` and at least ``k_min``.
    """
    shown = int(math.floor(count / rounding + 0.5)) * rounding
    floor = int(math.ceil(k_min / rounding)) * rounding
    return max(shown, floor)


def percentage(
    numerator: CellValue, denominator: CellValue, *, k_min: int = DEFAULT_K_MIN, digits: int = 0
) -> float | None:
    """Percentage of two *shown* cells, or ``None`` when it may not be shown.

    Args:
        numerator: The shown numerator cell.
        denominator: The shown denominator cell.
        k_min: Minimum denominator.
        digits: Decimal places.

    Returns:
        ``100 * numerator / denominator`` from the rounded counts, or ``None`` if either is
        suppressed or the denominator is below ``k_min``.
    """
    if numerator.count is None or denominator.count is None or denominator.count < k_min:
        return None
    return round(100.0 * numerator.count / denominator.count, digits)


def _protect_lines(
    values: dict[tuple[str, str], int],
    hidden: dict[tuple[str, str], Reason],
    lines: Sequence[Sequence[tuple[str, str]]],
) -> None:
    """Secondary suppression: until stable, no line may have exactly one hidden entry."""
    changed = True
    while changed:
        changed = False
        for line in lines:
            in_line = [key for key in line if key in hidden]
            if len(in_line) != 1:
                continue
            # Prefer inner cells over margins ("T" keys) and the smallest value (least loss).
            candidates = sorted(
                (key for key in line if key not in hidden),
                key=lambda key: (key[0] == "T" or key[1] == "T", values[key], key),
            )
            if candidates:
                hidden[candidates[0]] = "secondary"
                changed = True


def _primary(values: Mapping[tuple[str, str], int], k_min: int) -> dict[tuple[str, str], Reason]:
    return {key: "primary" for key, value in values.items() if value < k_min}


def _show(
    key: tuple[str, str],
    values: Mapping[tuple[str, str], int],
    hidden: Mapping[tuple[str, str], Reason],
    k_min: int,
    rounding: int,
) -> CellValue:
    if key in hidden:
        return CellValue.hidden(hidden[key])
    return CellValue(round_count(values[key], k_min=k_min, rounding=rounding))


def suppress_counts(
    counts: Mapping[str, int],
    *,
    k_min: int = DEFAULT_K_MIN,
    total: int | None = None,
    rounding: int = DEFAULT_ROUNDING,
) -> dict[str, CellValue]:
    """Apply disclosure control to a 1-D table of distinct-respondent counts.

    Args:
        counts: Category -> number of distinct respondents.
        k_min: Minimum count that may be shown.
        total: The total shown next to the table, if any (defaults to ``sum(counts)``). It is
            part of the line, so a single hidden cell can never be ``total - visible``.
        rounding: Base for rounding shown counts.

    Returns:
        Category -> shown cell, plus the key ``"__total__"`` for the total.

    Raises:
        PrivacyError: On a negative count or a ``k_min`` below the allowed minimum.
    """
    _check_params(k_min, rounding)
    if any(v < 0 for v in counts.values()):
        raise PrivacyError("counts must not be negative")
    row = "R"
    values: dict[tuple[str, str], int] = {(row, str(k)): int(v) for k, v in counts.items()}
    total_key = (row, "T")
    values[total_key] = int(sum(counts.values()) if total is None else total)
    hidden = _primary(values, k_min)
    _protect_lines(values, hidden, [list(values)])
    result = {k: _show((row, str(k)), values, hidden, k_min, rounding) for k in counts}
    result["__total__"] = _show(total_key, values, hidden, k_min, rounding)
    return result


def suppress_table(
    table: Mapping[str, Mapping[str, int]],
    *,
    k_min: int = DEFAULT_K_MIN,
    rounding: int = DEFAULT_ROUNDING,
) -> SuppressedTable:
    """Apply disclosure control to a 2-D table (rows x columns) with row, column and grand totals.

    Args:
        table: ``table[row][col]`` = number of distinct respondents. Missing cells count as 0.
        k_min: Minimum count that may be shown.
        rounding: Base for rounding shown counts.

    Returns:
        The shown table; suppressed cells carry no value.

    Raises:
        PrivacyError: On a negative count or a ``k_min`` below the allowed minimum.
    """
    _check_params(k_min, rounding)
    rows = [str(r) for r in table]
    cols: list[str] = []
    for r in table:
        for c in table[r]:
            if str(c) not in cols:
                cols.append(str(c))
    # Internal keys: ("r", row) / ("c", col) prefixes avoid clashes with the "T" margin marker.
    values: dict[tuple[str, str], int] = {}
    for r in table:
        for c in cols:
            value = int(table[r].get(c, 0))
            if value < 0:
                raise PrivacyError("counts must not be negative")
            values[("r" + str(r), "c" + c)] = value
    for r in rows:
        values[("r" + r, "T")] = sum(values[("r" + r, "c" + c)] for c in cols)
    for c in cols:
        values[("T", "c" + c)] = sum(values[("r" + r, "c" + c)] for r in rows)
    values[("T", "T")] = sum(values[("r" + r, "T")] for r in rows)

    lines: list[list[tuple[str, str]]] = []
    for r in rows:
        lines.append([("r" + r, "c" + c) for c in cols] + [("r" + r, "T")])
    for c in cols:
        lines.append([("r" + r, "c" + c) for r in rows] + [("T", "c" + c)])
    lines.append([("r" + r, "T") for r in rows] + [("T", "T")])
    lines.append([("T", "c" + c) for c in cols] + [("T", "T")])

    hidden = _primary(values, k_min)
    _protect_lines(values, hidden, lines)

    def show(key: tuple[str, str]) -> CellValue:
        return _show(key, values, hidden, k_min, rounding)

    return SuppressedTable(
        cells={r: {c: show(("r" + r, "c" + c)) for c in cols} for r in rows},
        row_totals={r: show(("r" + r, "T")) for r in rows},
        col_totals={c: show(("T", "c" + c)) for c in cols},
        grand_total=show(("T", "T")),
    )
