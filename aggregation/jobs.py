"""Database jobs: summarise a round into stored themes; assign new answers incrementally.

The only aggregation module that touches the database. Each job reads plain data in one
session, closes it, runs the CPU-bound clustering in a thread, and writes the results in a
second short transaction: sessions never cross into threads.
"""

from __future__ import annotations

import asyncio
import pickle
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aggregation.clustering import MODEL_FORMAT, AnswerText, ThemeAssignment, ThemeModel, fit_themes
from aggregation.exceptions import EmptyCorpusError, ModelStateError
from aggregation.summaries import RoundSummary, summarise_themes
from aggregation.taxonomy import Taxonomy
from surveys import service
from surveys.models import Answer, AnswerTheme, Round, ThemeRun

Mode = Literal["guided", "discover"]
ROLE_BY_AUDIENCE = {"jongeren": "jongere", "ouders": "ouder", "professionals": "professional"}


@dataclass(frozen=True)
class RoundTexts:
    """The plain data a clustering job needs from the database."""

    round_id: uuid.UUID
    municipality_id: uuid.UUID
    answers: list[AnswerText]
    previous: dict[str, Any] | None


def _role(audience: Sequence[str]) -> str | None:
    roles = {ROLE_BY_AUDIENCE[a] for a in audience if a in ROLE_BY_AUDIENCE}
    return roles.pop() if len(roles) == 1 else None


async def load_round_texts(session: AsyncSession, round_id: uuid.UUID) -> RoundTexts:
    """Load the scrubbed free-text answers of a round and the previous round's summary.

    Quarantined safeguarding texts live in another table and can never appear here.
    """
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise ModelStateError(f"round {round_id} not found")
    role = _role(round_.audience)
    rows = await session.execute(
        select(Answer.id, Answer.text, Answer.participant_id, Answer.kind)
        .where(Answer.round_id == round_id, Answer.text.is_not(None))
        .order_by(Answer.created_at, Answer.id)
    )
    answers = [
        AnswerText(
            id=str(answer_id),
            text=text,
            respondent_id=str(participant_id),
            role=cast(Any, role),
            kind=cast(Any, kind),
        )
        for answer_id, text, participant_id, kind in rows.tuples()
        if text and text.strip()
    ]
    return RoundTexts(round_.id, round_.municipality_id, answers, await _previous(session, round_))


async def _previous(session: AsyncSession, round_: Round) -> dict[str, Any] | None:
    """The latest stored summary of the previous round of the same survey (for trends)."""
    previous = await service.previous_round(session, round_)
    if previous is None:
        return None
    run = await latest_run(session, previous.id)
    return run.summary if run is not None else None


def _store_quotes_as_ids(summary: RoundSummary, answers: Sequence[AnswerText]) -> dict[str, Any]:
    """Replace quote texts by answer ids, so erased answers vanish from stored summaries."""
    by_text: dict[str, str] = {}
    for answer in answers:
        by_text.setdefault(answer.text, answer.id)
    data = summary.to_dict()
    for theme in data["themes"]:
        theme["quote_answer_ids"] = [by_text[q] for q in theme.pop("quotes") if q in by_text]
    return data


def dump_model(model: ThemeModel) -> bytes:
    """Serialise a fitted model for the ``theme_runs.model`` column."""
    return pickle.dumps({"format": MODEL_FORMAT, "model": model}, protocol=pickle.HIGHEST_PROTOCOL)


def read_model(blob: bytes) -> ThemeModel:
    """Load a model written by :func:`dump_model` (our own rows only, never uploads)."""
    payload = pickle.loads(blob)  # noqa: S301 - written by dump_model in this database
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise ModelStateError("stored theme model has an unknown format")
    model = payload["model"]
    if not isinstance(model, ThemeModel):
        raise ModelStateError("stored theme model is not a ThemeModel")
    return model


def _fit_and_summarise(
    texts: RoundTexts,
    mode: Mode,
    k: int | None,
    k_min: int,
    random_state: int,
    taxonomy: Taxonomy | None,
) -> tuple[ThemeModel, list[ThemeAssignment], RoundSummary]:
    model, assignments = fit_themes(
        texts.answers, mode=mode, k=k, taxonomy=taxonomy, k_min=k_min, random_state=random_state
    )
    summary = summarise_themes(
        texts.answers, assignments, model, k_min=k_min, previous=texts.previous
    )
    return model, assignments, summary


def _membership_rows(
    run_id: uuid.UUID, assignments: Sequence[ThemeAssignment]
) -> list[dict[str, Any]]:
    rows = []
    for a in assignments:
        answer_id = uuid.UUID(a.answer_id)
        rows.append(
            {
                "run_id": run_id,
                "answer_id": answer_id,
                "theme_id": a.theme_id,
                "score": float(a.score),
                "primary": True,
            }
        )
        rows.extend(
            {
                "run_id": run_id,
                "answer_id": answer_id,
                "theme_id": t,
                "score": 0.0,
                "primary": False,
            }
            for t in a.secondary
            if t != a.theme_id
        )
    return rows


async def summarise_round(
    sessionmaker: async_sessionmaker[AsyncSession],
    round_id: uuid.UUID,
    *,
    mode: Mode = "guided",
    k: int | None = None,
    k_min: int = 10,
    random_state: int = 0,
    taxonomy: Taxonomy | None = None,
) -> uuid.UUID:
    """Cluster a round's answers and store the theme summary and memberships.

    Args:
        sessionmaker: The process's session factory (the job owns its transactions).
        round_id: The round to summarise.
        mode: ``guided`` (seed taxonomy + emergent themes) or ``discover``.
        k: Number of clusters (discover) or bound on emergent themes (guided).
        k_min: Smallest group shown; labels and quotes obey it too.
        random_state: Seed; the same data and seed give the same themes.
        taxonomy: Municipality taxonomy; the packaged default when None.

    Returns:
        The id of the stored :class:`~surveys.models.ThemeRun`.

    Raises:
        EmptyCorpusError: The round has no free-text answers yet.
    """
    async with sessionmaker() as session:
        texts = await load_round_texts(session, round_id)
    if not texts.answers:
        raise EmptyCorpusError("this round has no free-text answers yet")
    model, assignments, summary = await asyncio.to_thread(
        _fit_and_summarise, texts, mode, k, k_min, random_state, taxonomy
    )
    run_id = uuid.uuid4()
    async with sessionmaker.begin() as session:
        session.add(
            ThemeRun(
                id=run_id,
                round_id=texts.round_id,
                municipality_id=texts.municipality_id,
                mode=mode,
                model_version=summary.model_version,
                k_min=k_min,
                total_respondents=summary.total_respondents,
                summary=_store_quotes_as_ids(summary, texts.answers),
                model=dump_model(model),
            )
        )
        await session.flush()
        rows = _membership_rows(run_id, assignments)
        if rows:
            await session.execute(insert(AnswerTheme), rows)
    return run_id


async def latest_run(session: AsyncSession, round_id: uuid.UUID) -> ThemeRun | None:
    """The newest stored theme run of a round."""
    return cast(
        ThemeRun | None,
        await session.scalar(
            select(ThemeRun)
            .where(ThemeRun.round_id == round_id)
            .order_by(ThemeRun.created_at.desc())
            .limit(1)
        ),
    )


async def assign_new_answers(
    sessionmaker: async_sessionmaker[AsyncSession], round_id: uuid.UUID
) -> int:
    """Assign answers that arrived after the latest run to its themes, without a refit.

    The stored summary is recomputed from all memberships of the run. Returns how many
    answers were newly assigned (0 if there is no run yet or nothing new).
    """
    async with sessionmaker() as session:
        run = await latest_run(session, round_id)
        if run is None or run.model is None:
            return 0
        texts = await load_round_texts(session, round_id)
        known = set(
            (
                await session.scalars(
                    select(AnswerTheme.answer_id).where(AnswerTheme.run_id == run.id)
                )
            ).all()
        )
        primary = (
            (
                await session.execute(
                    select(AnswerTheme.answer_id, AnswerTheme.theme_id, AnswerTheme.score).where(
                        AnswerTheme.run_id == run.id, AnswerTheme.primary.is_(True)
                    )
                )
            )
            .tuples()
            .all()
        )
        run_id, blob, k_min = run.id, run.model, run.k_min
    new = [a for a in texts.answers if uuid.UUID(a.id) not in known]
    if not new:
        return 0

    def work() -> tuple[list[ThemeAssignment], RoundSummary]:
        model = read_model(blob)
        fresh = model.assign_answers(new)
        old = [
            ThemeAssignment(str(aid), tid, model.theme_label(tid), float(score))
            for aid, tid, score in primary
        ]
        ids = {a.id for a in texts.answers}
        every = [a for a in old if a.answer_id in ids] + fresh
        summary = summarise_themes(
            texts.answers, every, model, k_min=k_min, previous=texts.previous
        )
        return fresh, summary

    fresh, summary = await asyncio.to_thread(work)
    async with sessionmaker.begin() as session:
        await session.execute(insert(AnswerTheme), _membership_rows(run_id, fresh))
        run = await session.get(ThemeRun, run_id)
        assert run is not None
        run.summary = _store_quotes_as_ids(summary, texts.answers)
        run.total_respondents = summary.total_respondents
    return len(fresh)
