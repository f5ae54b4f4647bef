"""Rounds and activities: create from a template, open/close, live counts, links and QR codes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.deps import ManageRounds, ReadRounds, Session, load_round, visible_round_ids
from admin.links import Links, links_for, qr_png, qr_svg
from surveys import accounts, service
from surveys.accounts import Principal
from surveys.definitions import load_templates
from surveys.exceptions import Conflict, NotFound
from surveys.models import Activity, Conversation, Round, RoundStatus, StaffRole, utc_now

router = APIRouter(prefix="/admin/api", tags=["rounds"])

Name = Annotated[str, Field(min_length=1, max_length=80)]


class LinksRead(BaseModel):
    """Start links of a round or activity."""

    code: str
    chat: str
    telegram: str | None


class ActivityRead(BaseModel):
    """An activity (exit tickets) of a bouwsteen 5 round."""

    id: str
    name: str
    description: str
    start_code: str
    started: int
    links: LinksRead


class RoundRead(BaseModel):
    """A round with its live counts."""

    id: str
    municipality: str
    title: str
    bouwsteen: int
    audience: list[str]
    scope: dict[str, Any]
    status: str
    start_code: str
    opens_at: datetime | None
    closes_at: datetime | None
    started: int
    completed: int
    answers: int
    links: LinksRead


class RoundDetail(RoundRead):
    """A round with its activities."""

    template: str
    activities: list[ActivityRead]


class TemplateRead(BaseModel):
    """A survey template a round can be created from."""

    key: str
    title: str
    bouwsteen: int
    audience: list[str]
    sensitive: bool


class RoundScope(BaseModel):
    """Where and for whom a round is (stored in ``round.scope``)."""

    wijk: list[Name] = Field(default_factory=list, max_length=100)
    school: list[Name] = Field(default_factory=list, max_length=200)
    age_bands: list[Name] = Field(default_factory=list, max_length=20)
    under16: Literal["allowed", "anonymous", "parent_consent"] = "anonymous"

    @field_validator("wijk", "school", "age_bands", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value


class RoundCreate(BaseModel):
    """A new round from a template."""

    template: str
    title: Annotated[str, Field(min_length=3, max_length=200)]
    audience: Annotated[
        list[Literal["jongeren", "ouders", "professionals"]], Field(min_length=1, max_length=3)
    ]
    scope: RoundScope = Field(default_factory=RoundScope)
    opens_at: datetime | None = None
    closes_at: datetime | None = None


class ActivityCreate(BaseModel):
    """A new activity of a bouwsteen 5 round."""

    name: Annotated[str, Field(min_length=2, max_length=200)]
    description: Annotated[str, Field(max_length=2000)] = ""


def _links(request: Request, code: str) -> Links:
    settings = request.app.state.settings
    return links_for(
        code, base_url=settings.public_base_url, bot_username=settings.telegram_bot_username
    )


def _links_read(links: Links) -> LinksRead:
    return LinksRead(code=links.code, chat=links.chat, telegram=links.telegram)


def _round_read(request: Request, rc: service.RoundCount) -> RoundRead:
    r = rc.round
    return RoundRead(
        id=str(r.id),
        municipality=rc.municipality,
        title=r.title,
        bouwsteen=r.bouwsteen,
        audience=list(r.audience),
        scope=dict(r.scope),
        status=service.round_status(r, utc_now()),
        start_code=r.start_code,
        opens_at=r.opens_at,
        closes_at=r.closes_at,
        started=rc.started,
        completed=rc.completed,
        answers=rc.answers,
        links=_links_read(_links(request, r.start_code)),
    )


async def read_rounds(
    session: AsyncSession, principal: Principal, request: Request
) -> list[RoundRead]:
    """The rounds a principal may see, with live counts."""
    visible = await visible_round_ids(session, principal)
    return [
        _round_read(request, rc)
        for rc in await service.list_rounds(session, principal.municipality_id)
        if visible is None or rc.round.id in visible
    ]


async def read_round(
    session: AsyncSession, principal: Principal, request: Request, ref: str
) -> RoundDetail:
    """One round with counts and activities."""
    round_ = await load_round(session, principal, ref)
    rc = next(
        rc
        for rc in await service.list_rounds(session, principal.municipality_id)
        if rc.round.id == round_.id
    )
    activities = (
        await session.scalars(
            service.scoped(select(Activity), principal.municipality_id, Activity)
            .where(Activity.round_id == round_.id)
            .order_by(Activity.created_at)
        )
    ).all()
    started: dict[uuid.UUID | None, int] = {}
    if activities:
        rows = await session.execute(
            select(Conversation.activity_id, func.count())
            .where(Conversation.round_id == round_.id)
            .group_by(Conversation.activity_id)
        )
        started = {k: int(v) for k, v in rows.tuples()}
    definition = await service.get_definition(session, round_.definition_id)
    return RoundDetail(
        **_round_read(request, rc).model_dump(),
        template=definition.key,
        activities=[
            ActivityRead(
                id=str(a.id),
                name=a.name,
                description=a.description,
                start_code=a.start_code,
                started=started.get(a.id, 0),
                links=_links_read(_links(request, a.start_code)),
            )
            for a in activities
        ],
    )


async def create_round(session: AsyncSession, principal: Principal, data: RoundCreate) -> Round:
    """Create a round from a template; a jongerenwerker becomes its owner."""
    templates = load_templates()
    if data.template not in templates:
        raise NotFound(f"template '{data.template}' not found")
    definition = templates[data.template]
    allowed = {a.value for a in definition.audience}
    if not set(data.audience) <= allowed:
        raise Conflict(f"this template is for {', '.join(sorted(allowed))}")
    if data.opens_at and data.closes_at and data.closes_at <= data.opens_at:
        raise Conflict("the round must close after it opens")
    for value in (data.opens_at, data.closes_at):
        if value is not None and value.tzinfo is None:
            raise Conflict("give times with a time zone")
    stored = await service.register_definition(session, definition)
    round_ = await service.create_round(
        session,
        municipality_id=principal.municipality_id,
        definition=stored,
        title=data.title.strip(),
        audience=data.audience,
        scope=data.scope.model_dump(),
        opens_at=data.opens_at,
        closes_at=data.closes_at,
    )
    if principal.role == StaffRole.jongerenwerker:
        await accounts.add_round_owner(
            session,
            municipality_id=principal.municipality_id,
            round_id=round_.id,
            user_id=principal.user_id,
        )
    await service.record_audit(
        session,
        actor=principal.actor,
        action="round.created",
        municipality_id=principal.municipality_id,
        object_type="round",
        object_id=str(round_.id),
    )
    return round_


async def add_activity(
    session: AsyncSession, principal: Principal, ref: str, data: ActivityCreate
) -> Activity:
    """Add an activity to a bouwsteen 5 round."""
    round_ = await load_round(session, principal, ref)
    return await service.create_activity(
        session, round_=round_, name=data.name.strip(), description=data.description.strip()
    )


async def change_status(
    session: AsyncSession, principal: Principal, ref: str, status: RoundStatus
) -> Round:
    """Open or close a round."""
    round_ = await load_round(session, principal, ref)
    return await service.set_round_status(session, round_, status, actor=principal.actor)


@router.get("/rounds", response_model=list[RoundRead])
async def list_rounds(request: Request, session: Session, who: ReadRounds) -> list[RoundRead]:
    """List rounds with started and completed conversations and stored answers."""
    return await read_rounds(session, who, request)


@router.get("/templates", response_model=list[TemplateRead])
async def list_templates(who: ManageRounds) -> list[TemplateRead]:
    """List the survey templates rounds can be created from."""
    return [
        TemplateRead(
            key=d.key,
            title=d.title.nl,
            bouwsteen=d.bouwsteen,
            audience=[a.value for a in d.audience],
            sensitive=d.sensitive,
        )
        for d in load_templates().values()
    ]


@router.post("/rounds", response_model=RoundDetail, status_code=201)
async def post_round(
    request: Request, data: RoundCreate, session: Session, who: ManageRounds
) -> RoundDetail:
    """Create a round (draft) from a template."""
    round_ = await create_round(session, who, data)
    return await read_round(session, who, request, str(round_.id))


@router.get("/rounds/{ref}", response_model=RoundDetail)
async def get_round(request: Request, ref: str, session: Session, who: ReadRounds) -> RoundDetail:
    """One round with live counts, links and activities."""
    return await read_round(session, who, request, ref)


@router.post("/rounds/{ref}/open", response_model=RoundDetail)
async def open_round(
    request: Request, ref: str, session: Session, who: ManageRounds
) -> RoundDetail:
    """Open a round now."""
    await change_status(session, who, ref, RoundStatus.open)
    return await read_round(session, who, request, ref)


@router.post("/rounds/{ref}/close", response_model=RoundDetail)
async def close_round(
    request: Request, ref: str, session: Session, who: ManageRounds
) -> RoundDetail:
    """Close a round now."""
    await change_status(session, who, ref, RoundStatus.closed)
    return await read_round(session, who, request, ref)


@router.post("/rounds/{ref}/activities", response_model=ActivityRead, status_code=201)
async def post_activity(
    request: Request, ref: str, data: ActivityCreate, session: Session, who: ManageRounds
) -> ActivityRead:
    """Add an activity (exit tickets) to a bouwsteen 5 round."""
    a = await add_activity(session, who, ref, data)
    return ActivityRead(
        id=str(a.id),
        name=a.name,
        description=a.description,
        start_code=a.start_code,
        started=0,
        links=_links_read(_links(request, a.start_code)),
    )


async def _code_for(session: AsyncSession, who: Principal, ref: str, activity: str | None) -> str:
    round_ = await load_round(session, who, ref)
    if activity is None:
        return round_.start_code
    try:
        activity_id = uuid.UUID(activity)
    except ValueError as exc:
        raise NotFound("activity not found") from exc
    code = await session.scalar(
        service.scoped(select(Activity.start_code), who.municipality_id, Activity).where(
            Activity.id == activity_id, Activity.round_id == round_.id
        )
    )
    if code is None:
        raise NotFound("activity not found")
    return code


@router.get("/rounds/{ref}/qr.svg", response_class=Response)
async def round_qr_svg(
    request: Request, ref: str, session: Session, who: ReadRounds, activity: str | None = None
) -> Response:
    """QR code (SVG) of the web chat link of a round or one of its activities."""
    url = _links(request, await _code_for(session, who, ref, activity)).chat
    return Response(qr_svg(url, title=url), media_type="image/svg+xml")


@router.get("/rounds/{ref}/qr.png", response_class=Response)
async def round_qr_png(
    request: Request, ref: str, session: Session, who: ReadRounds, activity: str | None = None
) -> Response:
    """QR code (PNG) of the web chat link of a round or one of its activities."""
    url = _links(request, await _code_for(session, who, ref, activity)).chat
    return Response(qr_png(url), media_type="image/png")
