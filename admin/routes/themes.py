"""Themes of a round: suppressed sizes, splits, breakdowns, trends, quotes, edits, clustering."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.deps import (
    EditThemes,
    ReadThemes,
    ReviewQuotes,
    RunClustering,
    Session,
    k_min_for,
    load_round,
)
from aggregation import jobs
from aggregation.exceptions import AggregationError
from surveys import duiding, service
from surveys.accounts import Principal
from surveys.exceptions import Conflict, NotFound
from surveys.models import Answer, Round

router = APIRouter(prefix="/admin/api", tags=["themes"])
log = logging.getLogger(__name__)


class ThemeRead(BaseModel):
    """A theme as shown; every count is suppressed (``null``) below k_min and rounded."""

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
    quotes: list[str] = Field(default_factory=list)


class OverviewRead(BaseModel):
    """The themes of a round with method information."""

    round_id: str
    title: str
    bouwsteen: int
    audience: list[str]
    k_min: int
    respondents: int | None
    run_id: str | None
    run_week: str | None
    model_version: str | None
    running: bool
    dimensions: list[str]
    themes: list[ThemeRead]


class BreakdownRead(BaseModel):
    """Themes by wijk or age band, after complementary suppression."""

    dimension: str
    columns: list[str]
    rows: list[dict[str, Any]]
    column_totals: dict[str, int | None]
    respondents: dict[str, int | None]
    respondent_shares: dict[str, float | None]


class RunRequest(BaseModel):
    """How to cluster."""

    mode: Literal["guided", "discover"] = "guided"


class ThemeEditRequest(BaseModel):
    """A theme edit: rename, merge or split.

    Rename needs theme_id and label; merge needs into and theme_ids (label optional); split needs
    theme_id, label and answer_ids (from the quote-review queue).
    """

    operation: Literal["rename", "merge", "split"]
    theme_id: Annotated[str | None, Field(max_length=60)] = None
    label: Annotated[str | None, Field(min_length=2, max_length=120)] = None
    into: Annotated[str | None, Field(max_length=60)] = None
    theme_ids: Annotated[list[str], Field(max_length=50)] = Field(default_factory=list)
    answer_ids: Annotated[list[uuid.UUID], Field(max_length=500)] = Field(default_factory=list)


class QuoteRead(BaseModel):
    """A proposed quote (answer text) for review."""

    answer_id: str
    theme_id: str
    theme_label: str
    text: str
    approved: bool | None


class QuoteDecision(BaseModel):
    """Approve or reject a quote."""

    approved: bool


async def read_overview(
    request: Request, session: AsyncSession, who: Principal, ref: str
) -> tuple[Round, OverviewRead]:
    """A round's overview with approved quotes of shown themes."""
    round_ = await load_round(session, who, ref)
    k_min = await k_min_for(session, request, who.municipality_id)
    overview = await duiding.round_overview(session, round_, k_min=k_min)
    quotes = await duiding.approved_quotes(session, round_, k_min=k_min, overview=overview)
    return round_, OverviewRead(
        round_id=str(round_.id),
        title=overview.title,
        bouwsteen=overview.bouwsteen,
        audience=overview.audience,
        k_min=overview.k_min,
        respondents=overview.respondents,
        run_id=str(overview.run_id) if overview.run_id else None,
        run_week=overview.run_date,
        model_version=overview.model_version,
        running=round_.id in request.app.state.background_jobs,
        dimensions=list(overview.dimensions),
        themes=[
            ThemeRead(
                theme_id=t.theme_id,
                label=t.label,
                origin=t.origin,
                size=t.size,
                share=t.share,
                kinds=t.kinds,
                terms=t.terms,
                role=t.role,
                trend=t.trend,
                edited=t.edited,
                quotes=quotes.get(t.theme_id, []),
            )
            for t in overview.themes
        ],
    )


async def read_breakdown(
    request: Request, session: AsyncSession, who: Principal, ref: str, by: str
) -> BreakdownRead:
    """A declared breakdown of a round (422 for anything undeclared)."""
    round_ = await load_round(session, who, ref)
    if by not in duiding.DIMENSIONS:
        raise HTTPException(422, f"group by one of {', '.join(duiding.DIMENSIONS)}")
    k_min = await k_min_for(session, request, who.municipality_id)
    try:
        table = await duiding.breakdown(session, round_, by, k_min=k_min)
    except Conflict as exc:
        raise HTTPException(422, str(exc)) from exc
    return BreakdownRead(
        dimension=table.dimension,
        columns=table.columns,
        rows=table.rows,
        column_totals=table.column_totals,
        respondents=table.respondents,
        respondent_shares=table.respondent_shares,
    )


@router.get("/rounds/{ref}/themes", response_model=OverviewRead)
async def get_themes(request: Request, ref: str, session: Session, who: ReadThemes) -> OverviewRead:
    """Themes of a round: suppressed sizes, zorg/kans/signaal split, trend, approved quotes."""
    return (await read_overview(request, session, who, ref))[1]


@router.get("/rounds/{ref}/themes/breakdown", response_model=BreakdownRead)
async def get_breakdown(
    request: Request,
    ref: str,
    session: Session,
    who: ReadThemes,
    by: Annotated[str, Query(max_length=20)],
) -> BreakdownRead:
    """Themes by a declared dimension (wijk or age_band); anything else is refused (422)."""
    return await read_breakdown(request, session, who, ref, by)


@router.get("/rounds/{ref}/themes/history")
async def get_history(
    request: Request, ref: str, session: Session, who: ReadThemes
) -> dict[str, Any]:
    """The same survey's rounds side by side (suppressed per round)."""
    round_ = await load_round(session, who, ref)
    k_min = await k_min_for(session, request, who.municipality_id)
    rounds = await duiding.survey_rounds(session, round_)
    visible = []
    for r in rounds:
        try:
            visible.append(await load_round(session, who, str(r.id)))
        except NotFound:  # rounds the principal may not see are left out
            continue
    return await duiding.compare_rounds(session, visible, k_min=k_min)


@router.get("/themes/compare")
async def compare(
    request: Request,
    session: Session,
    who: ReadThemes,
    rounds: Annotated[list[str], Query(min_length=1, max_length=6)],
) -> dict[str, Any]:
    """Themes of several rounds side by side, e.g. jongeren next to ouders."""
    loaded = [await load_round(session, who, ref) for ref in rounds]
    k_min = await k_min_for(session, request, who.municipality_id)
    return await duiding.compare_rounds(session, loaded, k_min=k_min)


async def _cluster(
    maker: async_sessionmaker[AsyncSession],
    jobs_running: set[uuid.UUID],
    round_id: uuid.UUID,
    mode: Literal["guided", "discover"],
    k_min: int,
) -> None:
    try:
        await jobs.summarise_round(maker, round_id, mode=mode, k_min=k_min)
    except AggregationError as exc:
        log.warning("clustering round %s failed: %s", round_id, type(exc).__name__)
    except Exception:
        log.exception("clustering round %s failed", round_id)
    finally:
        jobs_running.discard(round_id)


async def start_clustering(
    request: Request,
    session: AsyncSession,
    who: Principal,
    ref: str,
    mode: Literal["guided", "discover"],
    background: BackgroundTasks,
) -> Round:
    """Queue a clustering job for the round (its own sessions; runs after the response)."""
    round_ = await load_round(session, who, ref)
    running: set[uuid.UUID] = request.app.state.background_jobs
    if round_.id in running:
        raise Conflict("the theme analysis is already running")
    texts = await session.scalar(
        select(func.count())
        .select_from(Answer)
        .where(Answer.round_id == round_.id, Answer.text.is_not(None))
    )
    if not texts:
        raise Conflict("this round has no free-text answers yet")
    k_min = await k_min_for(session, request, who.municipality_id)
    await service.record_audit(
        session,
        actor=who.actor,
        action="themes.run",
        municipality_id=who.municipality_id,
        object_type="round",
        object_id=str(round_.id),
    )
    # The job writes with its own sessions; release this request's transaction (and SQLite's
    # write lock) first.
    await session.commit()
    running.add(round_.id)
    background.add_task(_cluster, request.app.state.sessionmaker, running, round_.id, mode, k_min)
    return round_


@router.post("/rounds/{ref}/themes/run", status_code=202)
async def run_clustering(
    request: Request,
    ref: str,
    data: RunRequest,
    session: Session,
    who: RunClustering,
    background: BackgroundTasks,
) -> dict[str, str]:
    """Start the theme analysis as a background job; poll the themes endpoint for the result."""
    round_ = await start_clustering(request, session, who, ref, data.mode, background)
    return {"status": "started", "round_id": str(round_.id)}


@router.post("/rounds/{ref}/themes/edits", status_code=201)
async def edit_themes(
    ref: str, data: ThemeEditRequest, session: Session, who: EditThemes
) -> dict[str, Any]:
    """Rename, merge or split themes; edits are kept with the round and replayed."""
    round_ = await load_round(session, who, ref)
    payload: dict[str, Any]
    if data.operation == "rename":
        if not data.theme_id or not data.label:
            raise HTTPException(422, "rename needs theme_id and label")
        payload = {"theme_id": data.theme_id, "label": data.label.strip()}
    elif data.operation == "merge":
        if not data.into or not data.theme_ids:
            raise HTTPException(422, "merge needs into and theme_ids")
        payload = {"into": data.into, "theme_ids": data.theme_ids, "label": data.label}
    else:
        if not data.theme_id or not data.label or not data.answer_ids:
            raise HTTPException(422, "split needs theme_id, label and answer_ids")
        payload = {
            "theme_id": data.theme_id,
            "label": data.label.strip(),
            "answer_ids": [str(a) for a in data.answer_ids],
        }
    edit = await duiding.edit_themes(
        session, round_, operation=data.operation, payload=payload, actor=who.actor
    )
    return {"id": edit.id, "operation": edit.operation}


@router.get("/rounds/{ref}/quotes", response_model=list[QuoteRead])
async def quote_queue(
    request: Request, ref: str, session: Session, who: ReviewQuotes
) -> list[QuoteRead]:
    """Proposed quotes of themes with at least k_min respondents, for review (answer text)."""
    round_ = await load_round(session, who, ref)
    k_min = await k_min_for(session, request, who.municipality_id)
    return [
        QuoteRead(
            answer_id=str(q.answer_id),
            theme_id=q.theme_id,
            theme_label=q.theme_label,
            text=q.text,
            approved=q.approved,
        )
        for q in await duiding.quote_queue(session, round_, k_min=k_min)
    ]


@router.post("/rounds/{ref}/quotes/{answer_id}")
async def review_quote(
    request: Request,
    ref: str,
    answer_id: uuid.UUID,
    data: QuoteDecision,
    session: Session,
    who: ReviewQuotes,
) -> dict[str, Any]:
    """Approve or reject a proposed quote."""
    round_ = await load_round(session, who, ref)
    k_min = await k_min_for(session, request, who.municipality_id)
    review = await duiding.review_quote(
        session, round_, answer_id, approved=data.approved, actor=who.actor, k_min=k_min
    )
    return {"answer_id": str(review.answer_id), "approved": review.approved}
