"""The duiding workspace: four questions with evidence, ambities, actions, sign-off, packs."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from admin.deps import DuidingAccess, Session, k_min_for, load_round
from admin.pack import pack_markdown, pack_pdf
from admin.routes import themes
from surveys import duiding as dd
from surveys import service
from surveys.accounts import Principal
from surveys.exceptions import Conflict
from surveys.models import Duiding

router = APIRouter(prefix="/admin/api", tags=["duiding"])
Text = Annotated[str, Field(max_length=10000)]


@lru_cache
def questions() -> dict[str, Any]:
    """The four questions, their sub-questions and evidence kinds (staff-facing Dutch)."""
    path = Path(__file__).parent.parent / "dashboard" / "duiding_questions.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


class DuidingCreate(BaseModel):
    """A new duiding over rounds of the municipality."""

    title: Annotated[str, Field(min_length=3, max_length=200)]
    round_ids: Annotated[list[str], Field(min_length=1, max_length=6)]


class ContentUpdate(BaseModel):
    """The team's interpretation for one question."""

    question: Literal["herkennen", "verklaren", "waarderen", "verbeteren"]
    notes: dict[Annotated[str, Field(max_length=40)], Text] = Field(default_factory=dict)
    sources: Text | None = None
    decisions: Text | None = None


class AmbitieCreate(BaseModel):
    """A positively phrased ambition linked to themes."""

    text: Annotated[str, Field(min_length=5, max_length=1000)]
    theme_ids: Annotated[list[str], Field(min_length=1, max_length=20)]


class ActionCreate(BaseModel):
    """An improvement action with an owner."""

    description: Annotated[str, Field(min_length=3, max_length=2000)]
    owner: Annotated[str, Field(min_length=2, max_length=200)]
    due: Annotated[str | None, Field(max_length=20)] = None


class ActionUpdate(BaseModel):
    """A new status for an action."""

    status: Literal["open", "bezig", "klaar", "vervallen"]


class SignOff(BaseModel):
    """Who signs off (name and function)."""

    signed_by: Annotated[str, Field(min_length=2, max_length=200)]


class MonitorUpload(BaseModel):
    """Monitor figures as CSV text (no file upload: the admin accepts no multipart)."""

    csv: Annotated[str, Field(min_length=10, max_length=900_000)]


def _iso(value: datetime | None) -> str | None:
    return value.date().isoformat() if value else None


async def workspace(
    request: Request, session: AsyncSession, who: Principal, duiding_id: uuid.UUID
) -> dict[str, Any]:
    """Everything the duiding page, the API and the meeting pack show (aggregates only)."""
    d = await dd.get_duiding(session, who.municipality_id, duiding_id)
    k_min = await k_min_for(session, request, who.municipality_id)
    rounds = [await load_round(session, who, ref) for ref in d.round_ids]
    overviews = [(await themes.read_overview(request, session, who, str(r.id)))[1] for r in rounds]
    breakdowns = {
        str(r.id): [
            (await themes.read_breakdown(request, session, who, str(r.id), dim)).model_dump()
            for dim in o.dimensions
        ]
        for r, o in zip(rounds, overviews, strict=True)
        if o.run_id
    }
    survey = [r for r in rounds if r.bouwsteen == 1]
    compare = await dd.compare_rounds(session, survey, k_min=k_min) if len(survey) > 1 else None
    actions = await dd.list_actions(session, who.municipality_id)
    figures = await dd.list_monitor_figures(session, who.municipality_id)
    ambities = await dd.list_ambities(session, d)
    versions = await dd.list_versions(session, d)
    labels = {t.theme_id: t.label for o in overviews for t in o.themes}
    return {
        "id": str(d.id),
        "title": d.title,
        "status": d.status,
        "version": d.version,
        "signed_off_by": d.signed_off_by,
        "signed_off_at": _iso(d.signed_off_at),
        "content": d.content,
        "questions": questions(),
        "k_min": k_min,
        "rounds": [o.model_dump() for o in overviews if o.bouwsteen == 1],
        "outcomes": [o.model_dump() for o in overviews if o.bouwsteen == 5],
        "breakdowns": breakdowns,
        "compare": compare,
        "monitor": [
            {
                "source": f.source,
                "indicator": f.indicator,
                "wijk": f.wijk,
                "age_band": f.age_band,
                "value": f.value,
                "unit": f.unit,
                "n": f.n,
                "period": f.period,
                "method_note": f.method_note,
            }
            for f in figures
        ],
        "ambities": [
            {
                "id": str(a.id),
                "text": a.text,
                "theme_ids": a.theme_ids,
                "themes": [labels.get(t, t) for t in a.theme_ids],
            }
            for a in ambities
        ],
        "actions": [
            {
                "id": str(a.id),
                "description": a.description,
                "owner": a.owner,
                "due": a.due,
                "status": a.status,
            }
            for a in actions
            if a.duiding_id == d.id
        ],
        "earlier_actions": [
            {
                "id": str(a.id),
                "description": a.description,
                "owner": a.owner,
                "due": a.due,
                "status": a.status,
            }
            for a in actions
            if a.duiding_id != d.id
        ],
        "versions": [
            {"version": v.version, "signed_off_by": v.signed_off_by, "date": _iso(v.created_at)}
            for v in versions
        ],
    }


async def _audit_export(session: AsyncSession, who: Principal, d: uuid.UUID, kind: str) -> None:
    await service.record_audit(
        session,
        actor=who.actor,
        action="export.duiding",
        municipality_id=who.municipality_id,
        object_type="duiding",
        object_id=str(d),
        detail={"format": kind},
    )


@router.get("/duidingen")
async def list_duidingen(session: Session, who: DuidingAccess) -> list[dict[str, Any]]:
    """Duidingen of the municipality."""
    return [
        {"id": str(d.id), "title": d.title, "status": d.status, "version": d.version}
        for d in await dd.list_duidingen(session, who.municipality_id)
    ]


async def create(session: AsyncSession, who: Principal, data: DuidingCreate) -> Duiding:
    """Start a duiding over rounds the principal may see."""
    rounds = [await load_round(session, who, ref) for ref in data.round_ids]
    return await dd.create_duiding(
        session, who.municipality_id, title=data.title, rounds=rounds, actor=who.actor
    )


@router.post("/duidingen", status_code=201)
async def create_duiding(
    data: DuidingCreate, session: Session, who: DuidingAccess
) -> dict[str, str]:
    """Start a duiding over one or more rounds."""
    d = await create(session, who, data)
    return {"id": str(d.id)}


@router.get("/duidingen/{duiding_id}")
async def get_duiding(
    request: Request, duiding_id: uuid.UUID, session: Session, who: DuidingAccess
) -> dict[str, Any]:
    """The duiding with its evidence, interpretation, ambities, actions and versions."""
    return await workspace(request, session, who, duiding_id)


@router.put("/duidingen/{duiding_id}/content")
async def put_content(
    duiding_id: uuid.UUID, data: ContentUpdate, session: Session, who: DuidingAccess
) -> dict[str, Any]:
    """Save the interpretation of one question (editing a signed version starts a new one)."""
    d = await dd.get_duiding(session, who.municipality_id, duiding_id)
    await dd.update_content(
        session,
        d,
        question=data.question,
        notes=data.notes,
        sources=data.sources,
        decisions=data.decisions,
    )
    return {"status": d.status, "version": d.version}


@router.post("/duidingen/{duiding_id}/ambities", status_code=201)
async def post_ambitie(
    request: Request,
    duiding_id: uuid.UUID,
    data: AmbitieCreate,
    session: Session,
    who: DuidingAccess,
) -> dict[str, str]:
    """Add an ambitie (at most three, positive, linked to themes of the duiding's rounds)."""
    d = await dd.get_duiding(session, who.municipality_id, duiding_id)
    ws = await workspace(request, session, who, duiding_id)
    known = {t["theme_id"] for o in ws["rounds"] + ws["outcomes"] for t in o["themes"]}
    if not set(data.theme_ids) <= known:
        raise Conflict("link the ambitie to themes of this duiding's rounds")
    a = await dd.add_ambitie(session, d, text=data.text, theme_ids=data.theme_ids)
    return {"id": str(a.id)}


@router.delete("/duidingen/{duiding_id}/ambities/{ambitie_id}", status_code=204)
async def delete_ambitie(
    duiding_id: uuid.UUID, ambitie_id: uuid.UUID, session: Session, who: DuidingAccess
) -> None:
    """Remove an ambitie."""
    d = await dd.get_duiding(session, who.municipality_id, duiding_id)
    await dd.delete_ambitie(session, d, ambitie_id)


@router.post("/duidingen/{duiding_id}/actions", status_code=201)
async def post_action(
    duiding_id: uuid.UUID, data: ActionCreate, session: Session, who: DuidingAccess
) -> dict[str, str]:
    """Add an improvement action with an owner."""
    d = await dd.get_duiding(session, who.municipality_id, duiding_id)
    a = await dd.add_action(
        session, d, description=data.description, owner=data.owner, due=data.due
    )
    return {"id": str(a.id)}


@router.patch("/actions/{action_id}")
async def patch_action(
    action_id: uuid.UUID, data: ActionUpdate, session: Session, who: DuidingAccess
) -> dict[str, str]:
    """Change the status of an action (of this or an earlier duiding)."""
    a = await dd.set_action_status(
        session, who.municipality_id, action_id, data.status, actor=who.actor
    )
    return {"id": str(a.id), "status": a.status}


@router.post("/duidingen/{duiding_id}/sign-off")
async def sign_off(
    request: Request, duiding_id: uuid.UUID, data: SignOff, session: Session, who: DuidingAccess
) -> dict[str, Any]:
    """Sign off the current version; a frozen copy with its evidence is kept."""
    d = await dd.get_duiding(session, who.municipality_id, duiding_id)
    snapshot = await workspace(request, session, who, duiding_id)
    snapshot.pop("questions", None)
    version = await dd.sign_off(
        session, d, signed_by=data.signed_by, snapshot=snapshot, actor=who.actor
    )
    return {"status": d.status, "version": version.version}


@router.get("/duidingen/{duiding_id}/pack.md")
async def pack_md(
    request: Request, duiding_id: uuid.UUID, session: Session, who: DuidingAccess
) -> Response:
    """The meeting pack as Markdown."""
    ws = await workspace(request, session, who, duiding_id)
    return await _pack_download(
        session, who, duiding_id, "md", pack_markdown(ws), "text/markdown; charset=utf-8"
    )


@router.get("/duidingen/{duiding_id}/pack.pdf")
async def pack_pdf_route(
    request: Request, duiding_id: uuid.UUID, session: Session, who: DuidingAccess
) -> Response:
    """The meeting pack as PDF."""
    ws = await workspace(request, session, who, duiding_id)
    return await _pack_download(session, who, duiding_id, "pdf", pack_pdf(ws), "application/pdf")


async def _pack_download(
    session: AsyncSession,
    who: Principal,
    duiding_id: uuid.UUID,
    fmt: str,
    body: str | bytes,
    media_type: str,
) -> Response:
    """Audit the export, then send the pack as an attachment ``duiding-<id>.<fmt>``."""
    await _audit_export(session, who, duiding_id, fmt)
    disposition = f'attachment; filename="duiding-{duiding_id}.{fmt}"'
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get("/monitor-figures")
async def list_figures(session: Session, who: DuidingAccess) -> list[dict[str, Any]]:
    """Monitor figures (GGD, CBS, school scan) of the municipality."""
    return [
        {
            "id": str(f.id),
            "source": f.source,
            "indicator": f.indicator,
            "wijk": f.wijk,
            "age_band": f.age_band,
            "value": f.value,
            "unit": f.unit,
            "n": f.n,
            "period": f.period,
            "method_note": f.method_note,
        }
        for f in await dd.list_monitor_figures(session, who.municipality_id)
    ]


@router.post("/monitor-figures", status_code=201)
async def upload_figures(
    data: MonitorUpload, session: Session, who: DuidingAccess
) -> dict[str, int]:
    """Add monitor figures from CSV text.

    Columns: source, indicator, value, wijk, age_band, unit, n, period, method_note.
    """
    rows = dd.parse_monitor_csv(data.csv)
    return {
        "added": await dd.add_monitor_figures(session, who.municipality_id, rows, actor=who.actor)
    }


@router.delete("/monitor-figures/{figure_id}", status_code=204)
async def delete_figure(figure_id: uuid.UUID, session: Session, who: DuidingAccess) -> None:
    """Remove a monitor figure."""
    await dd.delete_monitor_figure(session, who.municipality_id, figure_id)
