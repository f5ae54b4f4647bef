"""Themes as the municipality sees them, and the duiding built on them.

Everything a page shows goes through :mod:`surveys.privacy.disclosure` here, so no caller ever
holds a raw small count: theme sizes, kind splits, breakdowns per wijk and age band, response
counts and trends. Answer text leaves this module only in the quote-review queue and as
approved quotes of themes that are shown (size at least ``k_min``).

Theme edits (rename, merge, split) are stored per round and replayed over the run's
memberships, so the stored clustering result is never rewritten. Services flush, never commit.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys import service
from surveys.definitions import QuestionType
from surveys.exceptions import Conflict, NotFound
from surveys.models import (
    Ambitie,
    Answer,
    AnswerTheme,
    Duiding,
    DuidingAction,
    DuidingVersion,
    MonitorFigure,
    QuoteReview,
    Round,
    SurveyDefinition,
    ThemeEdit,
    ThemeRun,
    utc_now,
)
from surveys.privacy.disclosure import CellValue, percentage, suppress_counts, suppress_table

Dimension = Literal["wijk", "age_band"]
DIMENSIONS: tuple[Dimension, ...] = ("wijk", "age_band")
KINDS = ("zorg", "kans", "signaal", "open")
ROLE_BY_AUDIENCE = {"jongeren": "jongere", "ouders": "ouder", "professionals": "professional"}
UNKNOWN = "onbekend"
MAX_AMBITIES = 3
ACTION_STATUSES = ("open", "bezig", "klaar", "vervallen")
QUESTIONS = ("herkennen", "verklaren", "waarderen", "verbeteren")
# Words that make an ambition a negation ("geen", "minder" ...); the seeds ask for positive
# phrasing ("positief te formuleren").
NEGATIVE_WORDS = re.compile(
    r"\b(geen|niet|nooit|minder|terugdringen|tegengaan|verminderen|voorkomen)\b", re.IGNORECASE
)


def cell(value: CellValue) -> int | None:
    """The shown count of a cell (``None`` when suppressed)."""
    return value.count


# --- theme overview ---------------------------------------------------------------------------


@dataclass
class _Theme:
    theme_id: str
    label: str
    origin: str
    terms: list[str]
    trend: dict[str, Any] | None
    edited: bool = False
    participants: set[uuid.UUID] = field(default_factory=set)
    by_kind: dict[str, set[uuid.UUID]] = field(default_factory=lambda: defaultdict(set))
    answers: set[uuid.UUID] = field(default_factory=set)


@dataclass(frozen=True)
class ThemeView:
    """One theme as shown: every count suppressed and rounded.

    Attributes:
        theme_id: Theme id (stable across rounds for seed themes).
        label: Label (the reviewer's, if renamed).
        origin: ``seed``, ``emergent``, ``cluster``, ``other`` or ``edited``.
        size: Distinct respondents, or ``None`` when suppressed.
        share: Percentage of the round's respondents, or ``None``.
        kinds: Respondents per answer kind (zorg/kans/signaal/open), suppressed.
        terms: Label terms from the clustering.
        role: The round's respondent role (jongere/ouder), if it has one.
        trend: Change against the previous round of the same survey, if known.
        edited: Whether a reviewer renamed, merged or split this theme.
    """

    theme_id: str
    label: str
    origin: str
    size: int | None
    share: float | None
    kinds: dict[str, int | None]
    terms: list[str]
    role: str | None
    trend: dict[str, Any] | None
    edited: bool


@dataclass(frozen=True)
class Overview:
    """The themes of one round at one run, after edits, ready to show."""

    round_id: uuid.UUID
    title: str
    bouwsteen: int
    audience: list[str]
    k_min: int
    respondents: int | None
    run_id: uuid.UUID | None
    run_date: str | None
    model_version: str | None
    themes: list[ThemeView]
    dimensions: list[Dimension]

    def theme(self, theme_id: str) -> ThemeView | None:
        """The theme with ``theme_id``, if any."""
        return next((t for t in self.themes if t.theme_id == theme_id), None)


@dataclass
class _Loaded:
    round: Round
    run: ThemeRun | None
    themes: dict[str, _Theme]
    membership: dict[uuid.UUID, str]
    respondents: set[uuid.UUID]


def role_of(round_: Round) -> str | None:
    """The single respondent role of a round (jongere, ouder, professional), if it has one."""
    roles = {ROLE_BY_AUDIENCE[a] for a in round_.audience if a in ROLE_BY_AUDIENCE}
    return roles.pop() if len(roles) == 1 else None


async def latest_run(session: AsyncSession, round_: Round) -> ThemeRun | None:
    """The newest theme run of a round (tenant-scoped)."""
    stmt = (
        service.scoped(select(ThemeRun), round_.municipality_id, ThemeRun)
        .where(ThemeRun.round_id == round_.id)
        .order_by(ThemeRun.created_at.desc())
        .limit(1)
    )
    run: ThemeRun | None = await session.scalar(stmt)
    return run


async def list_edits(session: AsyncSession, round_: Round, run_id: uuid.UUID) -> list[ThemeEdit]:
    """The stored theme edits of a round's run, oldest first."""
    stmt = (
        service.scoped(select(ThemeEdit), round_.municipality_id, ThemeEdit)
        .where(ThemeEdit.round_id == round_.id, ThemeEdit.run_id == run_id)
        .order_by(ThemeEdit.id)
    )
    return list((await session.scalars(stmt)).all())


def _apply_edits(
    themes: dict[str, _Theme], membership: dict[uuid.UUID, str], edits: Iterable[ThemeEdit]
) -> None:
    for edit in edits:
        p = edit.payload
        if edit.operation == "rename" and p["theme_id"] in themes:
            themes[p["theme_id"]].label = p["label"]
            themes[p["theme_id"]].edited = True
        elif edit.operation == "merge" and p["into"] in themes:
            target = themes[p["into"]]
            for source in p["theme_ids"]:
                if source == target.theme_id or source not in themes:
                    continue
                gone = themes.pop(source)
                target.terms = list(dict.fromkeys(target.terms + gone.terms))
                for answer_id, theme_id in membership.items():
                    if theme_id == source:
                        membership[answer_id] = target.theme_id
            if p.get("label"):
                target.label = p["label"]
            target.edited, target.trend = True, None
        elif edit.operation == "split" and p["theme_id"] in themes:
            themes[p["new_theme_id"]] = _Theme(
                p["new_theme_id"], p["label"], "edited", [], None, edited=True
            )
            themes[p["theme_id"]].edited, themes[p["theme_id"]].trend = True, None
            for raw in p["answer_ids"]:
                answer_id = uuid.UUID(raw)
                if membership.get(answer_id) == p["theme_id"]:
                    membership[answer_id] = p["new_theme_id"]


# Loaded theme data per round, reused while its fingerprint (answers, memberships and edits
# of the run) is unchanged. Loading turns thousands of rows into Python sets (~50 ms for a
# round of 2,500 respondents); the fingerprint costs two aggregate queries. Callers only
# read a _Loaded, never change it.
_LOAD_CACHE: dict[uuid.UUID, tuple[tuple[Any, ...], _Loaded]] = {}
_LOAD_CACHE_SIZE = 64


async def _fingerprint(
    session: AsyncSession, round_: Round, run: ThemeRun | None
) -> tuple[Any, ...]:
    answers = (
        await session.execute(
            select(func.count(), func.max(Answer.updated_at)).where(Answer.round_id == round_.id)
        )
    ).one()
    if run is None:
        return (tuple(answers), None)
    members = (
        await session.execute(
            select(func.count(), func.max(AnswerTheme.id)).where(AnswerTheme.run_id == run.id)
        )
    ).one()
    edits = tuple(
        (
            await session.scalars(
                select(ThemeEdit.id).where(
                    ThemeEdit.round_id == round_.id, ThemeEdit.run_id == run.id
                )
            )
        ).all()
    )
    return (tuple(answers), run.id, tuple(members), edits)


async def _load(session: AsyncSession, round_: Round, run: ThemeRun | None) -> _Loaded:
    key = await _fingerprint(session, round_, run)
    hit = _LOAD_CACHE.get(round_.id)
    if hit is not None and hit[0] == key:
        return replace(hit[1], round=round_, run=run)
    loaded = await _load_uncached(session, round_, run)
    if len(_LOAD_CACHE) >= _LOAD_CACHE_SIZE:
        _LOAD_CACHE.pop(next(iter(_LOAD_CACHE)))
    _LOAD_CACHE[round_.id] = (key, loaded)
    return loaded


async def _load_uncached(session: AsyncSession, round_: Round, run: ThemeRun | None) -> _Loaded:
    respondents = set(
        (
            await session.scalars(
                select(Answer.participant_id).where(Answer.round_id == round_.id).distinct()
            )
        ).all()
    )
    themes: dict[str, _Theme] = {}
    membership: dict[uuid.UUID, str] = {}
    if run is None:
        return _Loaded(round_, None, themes, membership, respondents)
    for item in run.summary.get("themes", []):
        themes[item["theme_id"]] = _Theme(
            item["theme_id"],
            str(item.get("label", item["theme_id"])),
            str(item.get("origin", "cluster")),
            [str(t) for t in item.get("terms", [])],
            item.get("trend"),
        )
    rows = await session.execute(
        select(AnswerTheme.answer_id, AnswerTheme.theme_id, Answer.participant_id, Answer.kind)
        .join(Answer, Answer.id == AnswerTheme.answer_id)
        .where(AnswerTheme.run_id == run.id, AnswerTheme.primary.is_(True))
        .where(Answer.round_id == round_.id)
    )
    people: dict[uuid.UUID, tuple[uuid.UUID, str | None]] = {}
    for answer_id, theme_id, participant_id, kind in rows.tuples():
        membership[answer_id] = theme_id
        people[answer_id] = (participant_id, kind)
        if theme_id not in themes:  # (not setdefault: that builds a _Theme per row)
            themes[theme_id] = _Theme(theme_id, theme_id, "cluster", [], None)
    _apply_edits(themes, membership, await list_edits(session, round_, run.id))
    for answer_id, theme_id in membership.items():
        participant_id, kind = people[answer_id]
        theme = themes[theme_id]
        theme.participants.add(participant_id)
        theme.answers.add(answer_id)
        theme.by_kind[kind if kind in KINDS else "open"].add(participant_id)
    return _Loaded(round_, run, themes, membership, respondents)


async def declared_dimensions(session: AsyncSession, round_: Round) -> list[Dimension]:
    """The breakdowns a round declares: a scope list and a matching question in its survey."""
    definition = await service.get_definition(session, round_.definition_id)
    found: list[Dimension] = []
    has_place = any(
        q.type == QuestionType.place and q.scope is not None and q.scope.value == "wijk"
        for q in definition.questions
    )
    if has_place and round_.scope.get("wijk"):
        found.append("wijk")
    if any(q.type == QuestionType.age_band for q in definition.questions):
        found.append("age_band")
    return found


def _trend(
    size: CellValue, total: CellValue, previous: ThemeView | None, k_min: int
) -> dict[str, Any]:
    share = percentage(size, total, k_min=k_min)
    if previous is None:
        return {"previous_size": None, "previous_share": None, "share": share, "direction": "new"}
    if share is None or previous.share is None:
        direction = "unknown"
        delta = None
    else:
        delta = round(share - previous.share, 1)
        direction = "stable" if abs(delta) < 3 else ("up" if delta > 0 else "down")
    return {
        "previous_size": previous.size,
        "previous_share": previous.share,
        "share": share,
        "delta_points": delta,
        "direction": direction,
    }


async def round_overview(
    session: AsyncSession, round_: Round, *, k_min: int, with_trend: bool = True
) -> Overview:
    """The round's themes after edits, with suppressed sizes, kind split, share and trend.

    Args:
        session: The request's session.
        round_: A round the caller may see (already tenant-checked).
        k_min: Smallest group shown (at least the run's own ``k_min``).
        with_trend: Compare with the previous round of the same survey.

    Returns:
        The overview; themes sorted by shown size, suppressed themes last.
    """
    run = await latest_run(session, round_)
    if run is not None:
        k_min = max(k_min, run.k_min)
    loaded = await _load(session, round_, run)
    total_raw = len(loaded.respondents)
    sizes = suppress_counts(
        {t: len(v.participants) for t, v in loaded.themes.items()}, k_min=k_min, total=total_raw
    )
    total = sizes.pop("__total__")
    previous: Overview | None = None
    if with_trend:
        prev_round = await service.previous_round(session, round_)
        if prev_round is not None:
            previous = await round_overview(session, prev_round, k_min=k_min, with_trend=False)
    role = role_of(round_)
    views: list[ThemeView] = []
    for theme_id, theme in loaded.themes.items():
        size = sizes[theme_id]
        if size.suppressed:
            kinds: dict[str, int | None] = dict.fromkeys(KINDS)
        else:
            split = suppress_counts(
                {k: len(theme.by_kind.get(k, ())) for k in KINDS},
                k_min=k_min,
                total=len(theme.participants),
            )
            kinds = {k: cell(split[k]) for k in KINDS}
        trend = None
        if previous is not None:
            trend = _trend(size, total, previous.theme(theme_id), k_min)
        views.append(
            ThemeView(
                theme_id=theme_id,
                label=theme.label,
                origin=theme.origin,
                size=cell(size),
                share=percentage(size, total, k_min=k_min),
                kinds=kinds,
                terms=theme.terms,
                role=role,
                trend=trend,
                edited=theme.edited,
            )
        )
    views.sort(key=lambda v: (v.size is None, -(v.size or 0), v.label))
    return Overview(
        round_id=round_.id,
        title=round_.title,
        bouwsteen=round_.bouwsteen,
        audience=list(round_.audience),
        k_min=k_min,
        respondents=cell(total),
        run_id=run.id if run else None,
        run_date=_week(run.created_at) if run else None,
        model_version=run.model_version if run else None,
        themes=views,
        dimensions=await declared_dimensions(session, round_),
    )


def _week(value: datetime) -> str:
    """A timestamp truncated to its ISO week (AGG-07)."""
    year, week, _ = value.isocalendar()
    return f"{year}-W{week:02d}"


async def _dimension_values(
    session: AsyncSession, round_: Round, dimension: Dimension
) -> dict[uuid.UUID, str]:
    definition = await service.get_definition(session, round_.definition_id)
    keys = [
        q.key
        for q in definition.questions
        if (dimension == "age_band" and q.type == QuestionType.age_band)
        or (
            dimension == "wijk"
            and q.type == QuestionType.place
            and q.scope is not None
            and q.scope.value == "wijk"
        )
    ]
    if not keys:
        return {}
    rows = await session.execute(
        select(Answer.participant_id, Answer.value).where(
            Answer.round_id == round_.id, Answer.question_key.in_(keys)
        )
    )
    return {p: str(v) for p, v in rows.tuples() if v is not None and not isinstance(v, list)}


@dataclass(frozen=True)
class Breakdown:
    """Themes by a declared dimension, after complementary suppression (AGG-03)."""

    dimension: Dimension
    columns: list[str]
    rows: list[dict[str, Any]]
    column_totals: dict[str, int | None]
    respondents: dict[str, int | None]
    respondent_shares: dict[str, float | None]


async def breakdown(
    session: AsyncSession, round_: Round, dimension: Dimension, *, k_min: int
) -> Breakdown:
    """Theme x dimension table of distinct respondents, suppressed, plus response per value.

    Raises:
        Conflict: The round does not declare this dimension (mapped to 422 by the caller).
    """
    if dimension not in await declared_dimensions(session, round_):
        raise Conflict(f"this round has no '{dimension}' breakdown")
    run = await latest_run(session, round_)
    if run is not None:
        k_min = max(k_min, run.k_min)
    loaded = await _load(session, round_, run)
    values = await _dimension_values(session, round_, dimension)
    table: dict[str, dict[str, int]] = {}
    columns = sorted({values.get(p, UNKNOWN) for p in loaded.respondents} | set())
    for theme_id, theme in loaded.themes.items():
        counts: dict[str, int] = dict.fromkeys(columns, 0)
        for participant in theme.participants:
            counts[values.get(participant, UNKNOWN)] += 1
        table[theme_id] = counts
    rows: list[dict[str, Any]] = []
    col_totals: dict[str, int | None] = {}
    if table and columns:
        shown = suppress_table(table, k_min=k_min)
        for theme_id, theme in loaded.themes.items():
            rows.append(
                {
                    "theme_id": theme_id,
                    "label": theme.label,
                    "cells": {c: cell(shown.cells[theme_id][c]) for c in columns},
                    "total": cell(shown.row_totals[theme_id]),
                }
            )
        col_totals = {c: cell(shown.col_totals[c]) for c in columns}
    per_value: dict[str, int] = dict.fromkeys(columns, 0)
    for participant in loaded.respondents:
        per_value[values.get(participant, UNKNOWN)] += 1
    response = suppress_counts(per_value, k_min=k_min)
    total = response.pop("__total__")
    return Breakdown(
        dimension=dimension,
        columns=columns,
        rows=rows,
        column_totals=col_totals,
        respondents={c: cell(v) for c, v in response.items()},
        respondent_shares={c: percentage(v, total, k_min=k_min) for c, v in response.items()},
    )


async def compare_rounds(
    session: AsyncSession, rounds: Sequence[Round], *, k_min: int
) -> dict[str, Any]:
    """Themes of several rounds side by side (e.g. jongeren next to ouders), each suppressed."""
    overviews = [await round_overview(session, r, k_min=k_min, with_trend=False) for r in rounds]
    labels: dict[str, str] = {}
    for o in overviews:
        for t in o.themes:
            labels.setdefault(t.theme_id, t.label)
    return {
        "rounds": [
            {
                "id": str(o.round_id),
                "title": o.title,
                "role": role_of(r),
                "respondents": o.respondents,
            }
            for o, r in zip(overviews, rounds, strict=True)
        ],
        "themes": [
            {
                "theme_id": theme_id,
                "label": label,
                "cells": [
                    {
                        "size": found.size if (found := o.theme(theme_id)) else 0,
                        "share": found.share if found else None,
                    }
                    for o in overviews
                ],
            }
            for theme_id, label in labels.items()
        ],
    }


async def survey_rounds(session: AsyncSession, round_: Round) -> list[Round]:
    """Every round of the same survey in the municipality, oldest first."""
    key = select(SurveyDefinition.key).where(SurveyDefinition.id == round_.definition_id)
    stmt = (
        service.scoped(select(Round), round_.municipality_id)
        .join(SurveyDefinition, SurveyDefinition.id == Round.definition_id)
        .where(SurveyDefinition.key == key.scalar_subquery())
        .order_by(Round.created_at)
    )
    return list((await session.scalars(stmt)).all())


# --- theme edits ------------------------------------------------------------------------------


async def edit_themes(
    session: AsyncSession,
    round_: Round,
    *,
    operation: Literal["rename", "merge", "split"],
    payload: Mapping[str, Any],
    actor: str,
) -> ThemeEdit:
    """Store a rename, merge or split of the round's latest run (replayed when shown).

    Raises:
        Conflict: No run yet, an unknown theme, or a split without answers of that theme.
    """
    run = await latest_run(session, round_)
    if run is None:
        raise Conflict("run the theme analysis first")
    loaded = await _load(session, round_, run)
    data = dict(payload)
    if operation == "rename":
        if data.get("theme_id") not in loaded.themes:
            raise NotFound("theme not found")
    elif operation == "merge":
        ids = [data.get("into"), *data.get("theme_ids", [])]
        if len(set(ids)) < 2 or any(i not in loaded.themes for i in ids):
            raise Conflict("merge needs a target and at least one other existing theme")
    else:
        theme_id = data.get("theme_id")
        if theme_id not in loaded.themes:
            raise NotFound("theme not found")
        members = {str(a) for a, t in loaded.membership.items() if t == theme_id}
        wanted = [str(a) for a in data.get("answer_ids", [])]
        if not wanted or not set(wanted) <= members or set(wanted) == members:
            raise Conflict("a split moves some, but not all, answers of the theme")
        data["answer_ids"] = wanted
        data["new_theme_id"] = f"edit-{uuid.uuid4().hex[:8]}"
    edit = ThemeEdit(
        municipality_id=round_.municipality_id,
        round_id=round_.id,
        run_id=run.id,
        operation=operation,
        payload=data,
        actor=actor,
    )
    session.add(edit)
    await session.flush()
    await service.record_audit(
        session,
        actor=actor,
        action=f"themes.{operation}",
        municipality_id=round_.municipality_id,
        object_type="round",
        object_id=str(round_.id),
    )
    return edit


# --- quotes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuoteCandidate:
    """An answer proposed as a quote, for the reviewer (contains answer text)."""

    answer_id: uuid.UUID
    theme_id: str
    theme_label: str
    text: str
    approved: bool | None


async def _reviews(session: AsyncSession, round_: Round) -> dict[uuid.UUID, QuoteReview]:
    stmt = service.scoped(select(QuoteReview), round_.municipality_id, QuoteReview).where(
        QuoteReview.round_id == round_.id
    )
    return {r.answer_id: r for r in (await session.scalars(stmt)).all()}


async def _candidates(
    session: AsyncSession, round_: Round, k_min: int, overview: Overview | None = None
) -> list[tuple[uuid.UUID, str, str]]:
    """(answer id, theme id, label) for proposed quotes of themes shown with size >= k_min.

    Pass the round's ``overview`` when the caller already has it, to skip rebuilding it.
    """
    run = await latest_run(session, round_)
    if run is None:
        return []
    if overview is None or overview.run_id != run.id:
        overview = await round_overview(session, round_, k_min=k_min, with_trend=False)
    shown = {t.theme_id: t.label for t in overview.themes if t.size is not None}
    proposed = list(
        dict.fromkeys(
            uuid.UUID(a)
            for item in run.summary.get("themes", [])
            for a in item.get("quote_answer_ids", [])
        )
    )
    if not proposed:
        return []
    membership = await _memberships(session, round_, run, proposed)
    result = []
    for answer_id in proposed:
        theme_id = membership.get(answer_id)
        if theme_id in shown and theme_id is not None:
            result.append((answer_id, theme_id, shown[theme_id]))
    return result


async def _memberships(
    session: AsyncSession, round_: Round, run: ThemeRun, answer_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The (edited) primary theme of a few answers, without loading the whole round."""
    rows = await session.execute(
        select(AnswerTheme.answer_id, AnswerTheme.theme_id).where(
            AnswerTheme.run_id == run.id,
            AnswerTheme.primary.is_(True),
            AnswerTheme.answer_id.in_(answer_ids),
        )
    )
    membership = dict(rows.tuples().all())
    ids = {item["theme_id"] for item in run.summary.get("themes", [])} | set(membership.values())
    themes = {t: _Theme(t, t, "cluster", [], None) for t in ids}
    edits = await list_edits(session, round_, run.id)
    _apply_edits(themes, membership, edits)
    return membership


async def _texts(
    session: AsyncSession, round_: Round, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Answer.id, Answer.text).where(Answer.round_id == round_.id, Answer.id.in_(ids))
    )
    return {a: t for a, t in rows.tuples() if t}


async def quote_queue(session: AsyncSession, round_: Round, *, k_min: int) -> list[QuoteCandidate]:
    """Proposed quotes of themes with at least ``k_min`` respondents, with review status."""
    candidates = await _candidates(session, round_, k_min)
    texts = await _texts(session, round_, [a for a, _, _ in candidates])
    reviews = await _reviews(session, round_)
    return [
        QuoteCandidate(a, t, label, texts[a], reviews[a].approved if a in reviews else None)
        for a, t, label in candidates
        if a in texts
    ]


async def review_quote(
    session: AsyncSession,
    round_: Round,
    answer_id: uuid.UUID,
    *,
    approved: bool,
    actor: str,
    k_min: int,
) -> QuoteReview:
    """Approve or reject a proposed quote.

    Raises:
        NotFound: The answer is not a proposed quote of a shown theme of this round.
    """
    match = [c for c in await _candidates(session, round_, k_min) if c[0] == answer_id]
    if not match:
        raise NotFound("quote not found")
    review = (await _reviews(session, round_)).get(answer_id)
    if review is None:
        review = QuoteReview(
            municipality_id=round_.municipality_id,
            round_id=round_.id,
            answer_id=answer_id,
            theme_id=match[0][1],
            reviewer=actor,
        )
        session.add(review)
    review.approved, review.reviewer, review.theme_id = approved, actor, match[0][1]
    await session.flush()
    await service.record_audit(
        session,
        actor=actor,
        action="quote.approved" if approved else "quote.rejected",
        municipality_id=round_.municipality_id,
        object_type="answer",
        object_id=str(answer_id),
    )
    return review


async def approved_quotes(
    session: AsyncSession, round_: Round, *, k_min: int, overview: Overview | None = None
) -> dict[str, list[str]]:
    """Approved quotes per shown theme (only themes with at least ``k_min`` respondents)."""
    reviews = await _reviews(session, round_)
    if not any(r.approved for r in reviews.values()):
        return {}
    candidates = [
        c
        for c in await _candidates(session, round_, k_min, overview)
        if c[0] in reviews and reviews[c[0]].approved
    ]
    texts = await _texts(session, round_, [a for a, _, _ in candidates])
    quotes: dict[str, list[str]] = defaultdict(list)
    for answer_id, theme_id, _label in candidates:
        if answer_id in texts:
            quotes[theme_id].append(texts[answer_id])
    return dict(quotes)


# --- monitor figures --------------------------------------------------------------------------

MONITOR_COLUMNS = (
    "source",
    "indicator",
    "wijk",
    "age_band",
    "value",
    "unit",
    "n",
    "period",
    "method_note",
)


def parse_monitor_csv(text: str, *, max_rows: int = 2000) -> list[dict[str, Any]]:
    """Parse monitor figures from CSV (comma or semicolon; decimal comma allowed).

    Required columns: ``source``, ``indicator``, ``value``; optional: ``wijk``, ``age_band``,
    ``unit``, ``n``, ``period``, ``method_note``.

    Raises:
        Conflict: A missing column, a bad number or too many rows (message names the line).
    """
    sample = text[:2000]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    fields = {(f or "").strip().lower() for f in reader.fieldnames or []}
    missing = {"source", "indicator", "value"} - fields
    if missing:
        raise Conflict(f"missing column(s): {', '.join(sorted(missing))}")
    rows: list[dict[str, Any]] = []
    for number, raw in enumerate(reader, start=2):
        if len(rows) >= max_rows:
            raise Conflict(f"more than {max_rows} rows")
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        try:
            value = float(row["value"].replace(",", "."))
            n = int(row["n"]) if row.get("n") else None
        except ValueError as exc:
            raise Conflict(f"line {number}: value and n must be numbers") from exc
        if not row["source"] or not row["indicator"]:
            raise Conflict(f"line {number}: source and indicator are required")
        rows.append(
            {
                "source": row["source"][:60],
                "indicator": row["indicator"][:200],
                "wijk": row.get("wijk", "")[:100],
                "age_band": row.get("age_band", "")[:40],
                "value": value,
                "unit": (row.get("unit") or "%")[:20],
                "n": n,
                "period": row.get("period", "")[:40],
                "method_note": row.get("method_note", "")[:1000],
            }
        )
    return rows


async def add_monitor_figures(
    session: AsyncSession,
    municipality_id: uuid.UUID,
    rows: Sequence[Mapping[str, Any]],
    *,
    actor: str,
) -> int:
    """Store parsed monitor figures for a municipality (beside, never instead of, survey data)."""
    for row in rows:
        session.add(MonitorFigure(municipality_id=municipality_id, uploaded_by=actor, **row))
    await session.flush()
    await service.record_audit(
        session,
        actor=actor,
        action="monitor.uploaded",
        municipality_id=municipality_id,
        object_type="monitor_figures",
        detail={"rows": len(rows)},
    )
    return len(rows)


async def list_monitor_figures(
    session: AsyncSession, municipality_id: uuid.UUID
) -> list[MonitorFigure]:
    """Monitor figures of a municipality."""
    stmt = service.scoped(select(MonitorFigure), municipality_id, MonitorFigure).order_by(
        MonitorFigure.source, MonitorFigure.indicator, MonitorFigure.wijk, MonitorFigure.age_band
    )
    return list((await session.scalars(stmt)).all())


async def delete_monitor_figure(
    session: AsyncSession, municipality_id: uuid.UUID, figure_id: uuid.UUID
) -> None:
    """Remove one monitor figure.

    Raises:
        NotFound: No such figure in the municipality.
    """
    row = await session.scalar(
        service.scoped(select(MonitorFigure), municipality_id, MonitorFigure).where(
            MonitorFigure.id == figure_id
        )
    )
    if row is None:
        raise NotFound("figure not found")
    await session.delete(row)


# --- duiding ----------------------------------------------------------------------------------


async def get_duiding(
    session: AsyncSession, municipality_id: uuid.UUID, duiding_id: uuid.UUID
) -> Duiding:
    """A duiding of the municipality.

    Raises:
        NotFound: No such duiding in the municipality.
    """
    row = await session.scalar(
        service.scoped(select(Duiding), municipality_id, Duiding).where(Duiding.id == duiding_id)
    )
    if row is None:
        raise NotFound("duiding not found")
    return row


async def list_duidingen(session: AsyncSession, municipality_id: uuid.UUID) -> list[Duiding]:
    """The municipality's duidingen, newest first."""
    stmt = service.scoped(select(Duiding), municipality_id, Duiding).order_by(
        Duiding.created_at.desc()
    )
    return list((await session.scalars(stmt)).all())


async def create_duiding(
    session: AsyncSession,
    municipality_id: uuid.UUID,
    *,
    title: str,
    rounds: Sequence[Round],
    actor: str,
) -> Duiding:
    """Start a duiding over rounds of the municipality."""
    if any(r.municipality_id != municipality_id for r in rounds):
        raise NotFound("round not found")
    row = Duiding(
        municipality_id=municipality_id,
        title=title.strip()[:200],
        round_ids=[str(r.id) for r in rounds],
        content={q: {"notes": {}, "sources": ""} for q in QUESTIONS},
        created_by=actor,
    )
    session.add(row)
    await session.flush()
    await service.record_audit(
        session,
        actor=actor,
        action="duiding.created",
        municipality_id=municipality_id,
        object_type="duiding",
        object_id=str(row.id),
    )
    return row


def _reopen(duiding: Duiding) -> None:
    """Editing a signed-off duiding starts the next version (the signed one stays frozen)."""
    if duiding.status == "signed_off":
        duiding.status = "draft"
        duiding.version += 1
        duiding.signed_off_by = None
        duiding.signed_off_at = None
    duiding.updated_at = utc_now()


async def update_content(
    session: AsyncSession,
    duiding: Duiding,
    *,
    question: str,
    notes: Mapping[str, str],
    sources: str | None,
    decisions: str | None = None,
) -> Duiding:
    """Save the team's interpretation for one of the four questions.

    Raises:
        Conflict: Unknown question.
    """
    if question not in QUESTIONS:
        raise Conflict(f"unknown question '{question}'")
    content = {q: dict(v) for q, v in (duiding.content or {}).items()}
    part = content.setdefault(question, {"notes": {}, "sources": ""})
    part["notes"] = {str(k)[:40]: str(v)[:10000] for k, v in notes.items()}
    if sources is not None:
        part["sources"] = sources[:10000]
    if decisions is not None:
        part["decisions"] = decisions[:10000]
    duiding.content = content
    _reopen(duiding)
    await session.flush()
    return duiding


async def list_ambities(session: AsyncSession, duiding: Duiding) -> list[Ambitie]:
    """The duiding's ambities."""
    stmt = (
        service.scoped(select(Ambitie), duiding.municipality_id, Ambitie)
        .where(Ambitie.duiding_id == duiding.id)
        .order_by(Ambitie.created_at)
    )
    return list((await session.scalars(stmt)).all())


async def add_ambitie(
    session: AsyncSession, duiding: Duiding, *, text: str, theme_ids: Sequence[str]
) -> Ambitie:
    """Add an ambition (at most three, phrased positively, linked to at least one theme).

    Raises:
        Conflict: A fourth ambition, a negative phrasing or no theme.
    """
    text = text.strip()
    if len(await list_ambities(session, duiding)) >= MAX_AMBITIES:
        raise Conflict("a duiding has at most three ambities")
    if NEGATIVE_WORDS.search(text):
        raise Conflict("phrase the ambitie positively (what you want to see more of)")
    if not theme_ids:
        raise Conflict("link the ambitie to at least one theme")
    row = Ambitie(
        municipality_id=duiding.municipality_id,
        duiding_id=duiding.id,
        text=text[:1000],
        theme_ids=[str(t)[:60] for t in theme_ids][:20],
    )
    session.add(row)
    _reopen(duiding)
    await session.flush()
    return row


async def delete_ambitie(session: AsyncSession, duiding: Duiding, ambitie_id: uuid.UUID) -> None:
    """Remove an ambition of the duiding.

    Raises:
        NotFound: No such ambition in this duiding.
    """
    row = next((a for a in await list_ambities(session, duiding) if a.id == ambitie_id), None)
    if row is None:
        raise NotFound("ambitie not found")
    await session.delete(row)
    _reopen(duiding)


async def list_actions(
    session: AsyncSession, municipality_id: uuid.UUID, duiding_id: uuid.UUID | None = None
) -> list[DuidingAction]:
    """Actions of one duiding, or of every duiding of the municipality."""
    stmt = service.scoped(select(DuidingAction), municipality_id, DuidingAction)
    if duiding_id is not None:
        stmt = stmt.where(DuidingAction.duiding_id == duiding_id)
    return list((await session.scalars(stmt.order_by(DuidingAction.created_at))).all())


async def add_action(
    session: AsyncSession, duiding: Duiding, *, description: str, owner: str, due: str | None
) -> DuidingAction:
    """Add an improvement action with an owner."""
    row = DuidingAction(
        municipality_id=duiding.municipality_id,
        duiding_id=duiding.id,
        description=description.strip()[:2000],
        owner=owner.strip()[:200],
        due=(due or "").strip()[:20] or None,
    )
    session.add(row)
    _reopen(duiding)
    await session.flush()
    return row


async def set_action_status(
    session: AsyncSession,
    municipality_id: uuid.UUID,
    action_id: uuid.UUID,
    status: str,
    *,
    actor: str,
) -> DuidingAction:
    """Change an action's status (also for actions of earlier duidingen).

    Raises:
        NotFound: No such action in the municipality.
        Conflict: Unknown status.
    """
    if status not in ACTION_STATUSES:
        raise Conflict(f"status must be one of {', '.join(ACTION_STATUSES)}")
    row = await session.scalar(
        service.scoped(select(DuidingAction), municipality_id, DuidingAction).where(
            DuidingAction.id == action_id
        )
    )
    if row is None:
        raise NotFound("action not found")
    row.status = status
    row.updated_at = utc_now()
    await service.record_audit(
        session,
        actor=actor,
        action="action.status",
        municipality_id=municipality_id,
        object_type="duiding_action",
        object_id=str(row.id),
        detail={"status": status},
    )
    await session.flush()
    return row


async def sign_off(
    session: AsyncSession,
    duiding: Duiding,
    *,
    signed_by: str,
    snapshot: Mapping[str, Any],
    actor: str,
) -> DuidingVersion:
    """Sign off the current version and freeze a copy (content, ambities, actions, evidence).

    Raises:
        Conflict: Already signed off, or no ambitie yet.
    """
    if duiding.status == "signed_off":
        raise Conflict("this version is already signed off")
    if not signed_by.strip():
        raise Conflict("say who signs off")
    now = utc_now()
    duiding.status = "signed_off"
    duiding.signed_off_by = signed_by.strip()[:200]
    duiding.signed_off_at = now
    version = DuidingVersion(
        municipality_id=duiding.municipality_id,
        duiding_id=duiding.id,
        version=duiding.version,
        snapshot=dict(snapshot),
        signed_off_by=duiding.signed_off_by,
        created_at=now,
    )
    session.add(version)
    await session.flush()
    await service.record_audit(
        session,
        actor=actor,
        action="duiding.signed_off",
        municipality_id=duiding.municipality_id,
        object_type="duiding",
        object_id=str(duiding.id),
        detail={"version": duiding.version},
    )
    return version


async def list_versions(session: AsyncSession, duiding: Duiding) -> list[DuidingVersion]:
    """Signed-off versions of a duiding, newest first."""
    stmt = (
        service.scoped(select(DuidingVersion), duiding.municipality_id, DuidingVersion)
        .where(DuidingVersion.duiding_id == duiding.id)
        .order_by(DuidingVersion.version.desc())
    )
    return list((await session.scalars(stmt)).all())
