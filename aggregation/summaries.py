"""Theme summaries for policy officers: sizes, splits, quotes and trends, with suppression.

Everything a summary publishes is counted in distinct respondents, and every count below
``k_min`` (default 10) is suppressed (``None``). Quotes only come from themes with at least
``k_min`` distinct respondents. Pure functions over plain data.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from aggregation.clustering import OTHER_THEME_ID, AnswerText, ThemeAssignment, ThemeModel
from aggregation.exceptions import InvalidInputError
from aggregation.text import PLACEHOLDER_RE

TrendDirection = Literal["up", "down", "stable", "new", "unknown"]
KINDS: tuple[str, ...] = ("zorg", "kans", "signaal", "open")
ROLES: tuple[str, ...] = ("jongere", "ouder", "professional")
SUPPRESSED = "suppressed"


def suppress_count(count: int, k_min: int) -> int | None:
    """Return ``count``, or None when it is a small cell (``0 < count < k_min``).

    Zero is published: an empty cell identifies nobody.

    Args:
        count: Number of distinct respondents.
        k_min: Smallest publishable group.

    Returns:
        The count, or None if suppressed.
    """
    if 0 < count < k_min:
        return None
    return count


@dataclass(frozen=True)
class Trend:
    """Change of a theme against an earlier round.

    Attributes:
        previous_size: Earlier respondent count (None if suppressed or absent).
        previous_share: Earlier share of respondents, in percent.
        share: Current share of respondents, in percent.
        delta_points: ``share - previous_share`` in percentage points.
        direction: ``"up"``, ``"down"``, ``"stable"`` (within ``stable_points``), ``"new"``
            (not in the earlier round) or ``"unknown"`` (suppressed on either side).
    """

    previous_size: int | None
    previous_share: float | None
    share: float | None
    delta_points: float | None
    direction: TrendDirection


@dataclass(frozen=True)
class ThemeSummary:
    """Aggregate view of one theme.

    Attributes:
        theme_id: Theme id.
        label: Theme label.
        origin: ``"seed"``, ``"emergent"``, ``"cluster"`` or ``"other"``.
        size: Distinct respondents with this primary theme, or None when suppressed.
        mentions: Distinct respondents with this theme as primary or secondary (suppressed).
        kinds: Respondents per answer kind (zorg/kans/signaal/open), small cells suppressed.
        roles: Respondents per role (jongere/ouder/professional), small cells suppressed.
        quotes: Representative answers (only when ``size >= k_min``).
        terms: Label terms (each used by at least ``k_min`` respondents).
        trend: Change against an earlier round, if one was given.
    """

    theme_id: str
    label: str
    origin: str
    size: int | None
    mentions: int | None
    kinds: dict[str, int | None]
    roles: dict[str, int | None]
    quotes: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    trend: Trend | None = None

    @property
    def suppressed(self) -> bool:
        """True when the theme is too small to publish its size."""
        return self.size is None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data; suppressed sizes become the string ``"suppressed"``."""
        data = asdict(self)
        data["size"] = SUPPRESSED if self.size is None else self.size
        data["quotes"] = list(self.quotes)
        data["terms"] = list(self.terms)
        return data


@dataclass(frozen=True)
class RoundSummary:
    """All theme summaries of one round.

    Attributes:
        model_version: Version of the model that produced the assignments.
        total_respondents: Distinct respondents in the round (after exclusions).
        k_min: Suppression threshold used.
        themes: Theme summaries, largest first.
    """

    model_version: str
    total_respondents: int
    k_min: int
    themes: list[ThemeSummary] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (the format :func:`summarise_themes` accepts as ``previous``)."""
        return {
            "model_version": self.model_version,
            "total_respondents": self.total_respondents,
            "k_min": self.k_min,
            "themes": [t.to_dict() for t in self.themes],
        }


def _quote_ok(text: str) -> bool:
    stripped = text.strip()
    return 15 <= len(stripped) <= 240 and PLACEHOLDER_RE.search(stripped) is None


def _previous_sizes(previous: Mapping[str, Any]) -> tuple[dict[str, int | None], int | None]:
    themes = previous.get("themes")
    if not isinstance(themes, list):
        raise InvalidInputError("previous summary needs a 'themes' list")
    sizes: dict[str, int | None] = {}
    for item in themes:
        if not isinstance(item, Mapping) or "theme_id" not in item:
            raise InvalidInputError("previous summary themes need a 'theme_id'")
        size = item.get("size")
        sizes[str(item["theme_id"])] = size if isinstance(size, int) else None
    total = previous.get("total_respondents")
    return sizes, total if isinstance(total, int) and total > 0 else None


def _trend(
    theme_id: str,
    size: int | None,
    total: int,
    prev_sizes: Mapping[str, int | None],
    prev_total: int | None,
    stable_points: float,
) -> Trend:
    share = round(100.0 * size / total, 1) if size is not None and total else None
    if theme_id not in prev_sizes:
        return Trend(None, None, share, None, "new")
    prev = prev_sizes[theme_id]
    prev_share = round(100.0 * prev / prev_total, 1) if prev is not None and prev_total else None
    if share is None or prev_share is None:
        return Trend(prev, prev_share, share, None, "unknown")
    delta = round(share - prev_share, 1)
    direction: TrendDirection = "stable"
    if delta > stable_points:
        direction = "up"
    elif delta < -stable_points:
        direction = "down"
    return Trend(prev, prev_share, share, delta, direction)


def summarise_themes(
    answers: Sequence[AnswerText],
    assignments: Sequence[ThemeAssignment],
    model: ThemeModel,
    *,
    k_min: int = 10,
    max_quotes: int = 3,
    previous: Mapping[str, Any] | None = None,
    exclude_ids: Collection[str] = (),
    stable_points: float = 2.0,
) -> RoundSummary:
    """Summarise assigned answers per theme, suppressing small groups.

    Args:
        answers: The answers that were assigned (same ids as ``assignments``).
        assignments: Output of :func:`aggregation.clustering.fit_themes` or ``model.assign``.
        model: The model that produced the assignments (labels, origins, version).
        k_min: Smallest publishable group of distinct respondents.
        max_quotes: Quotes per theme (only for themes with ``size >= k_min``).
        previous: An earlier round's ``RoundSummary.to_dict()`` for trends.
        exclude_ids: Answer ids that must never appear (quarantine guard).
        stable_points: Changes within this many percentage points count as stable.

    Returns:
        The round summary, themes sorted by size (suppressed last).

    Raises:
        InvalidInputError: If an assignment refers to an unknown answer id.
    """
    excluded = set(exclude_ids)
    by_id = {a.id: a for a in answers if a.id not in excluded}
    total = len({a.respondent_id for a in by_id.values()})
    primary: dict[str, set[str]] = {}
    mentioned: dict[str, set[str]] = {}
    kinds: dict[str, dict[str, set[str]]] = {}
    roles: dict[str, dict[str, set[str]]] = {}
    candidates: dict[str, list[tuple[float, AnswerText]]] = {}
    for asg in assignments:
        if asg.answer_id in excluded:
            continue
        answer = by_id.get(asg.answer_id)
        if answer is None:
            raise InvalidInputError(f"assignment for unknown answer id {asg.answer_id!r}")
        rid = answer.respondent_id
        primary.setdefault(asg.theme_id, set()).add(rid)
        for theme_id in (asg.theme_id, *asg.secondary):
            mentioned.setdefault(theme_id, set()).add(rid)
        if answer.kind is not None:
            kinds.setdefault(asg.theme_id, {}).setdefault(answer.kind, set()).add(rid)
        if answer.role is not None:
            roles.setdefault(asg.theme_id, {}).setdefault(answer.role, set()).add(rid)
        candidates.setdefault(asg.theme_id, []).append((asg.score, answer))

    prev_sizes: dict[str, int | None] = {}
    prev_total: int | None = None
    if previous is not None:
        prev_sizes, prev_total = _previous_sizes(previous)

    summaries: list[ThemeSummary] = []
    for theme in model.themes:
        respondents = primary.get(theme.id, set())
        size = suppress_count(len(respondents), k_min)
        if not respondents and (theme.id == OTHER_THEME_ID or theme.origin == "emergent"):
            continue
        quotes: list[str] = []
        if size is not None and len(respondents) >= k_min and max_quotes > 0:
            seen_resp: set[str] = set()
            seen_text: set[str] = set()
            ranked = sorted(candidates.get(theme.id, []), key=lambda sa: (-sa[0], sa[1].id))
            for _, answer in ranked:
                key = answer.text.strip().lower()
                if answer.respondent_id in seen_resp or key in seen_text:
                    continue
                if not _quote_ok(answer.text):
                    continue
                quotes.append(answer.text.strip())
                seen_resp.add(answer.respondent_id)
                seen_text.add(key)
                if len(quotes) == max_quotes:
                    break
        theme_kinds = kinds.get(theme.id, {})
        theme_roles = roles.get(theme.id, {})
        summaries.append(
            ThemeSummary(
                theme_id=theme.id,
                label=theme.label,
                origin=theme.origin,
                size=size,
                mentions=suppress_count(len(mentioned.get(theme.id, set())), k_min),
                kinds={k: suppress_count(len(theme_kinds.get(k, set())), k_min) for k in KINDS},
                roles={r: suppress_count(len(theme_roles.get(r, set())), k_min) for r in ROLES},
                quotes=tuple(quotes),
                terms=theme.terms,
                trend=(
                    _trend(theme.id, size, total, prev_sizes, prev_total, stable_points)
                    if previous is not None
                    else None
                ),
            )
        )
    summaries.sort(key=lambda s: (s.size is None, -(s.size or 0), s.theme_id))
    return RoundSummary(
        model_version=model.version, total_respondents=total, k_min=k_min, themes=summaries
    )


def iter_summary_lines(summary: RoundSummary) -> Iterable[str]:
    """Human-readable lines (for a terminal), one per theme."""
    yield (
        f"model {summary.model_version}, {summary.total_respondents} respondents, "
        f"k_min {summary.k_min}"
    )
    for theme in summary.themes:
        size = SUPPRESSED if theme.size is None else str(theme.size)
        yield f"{theme.theme_id:<26} {size:>10}  {theme.label}"
