"""Dashboard pages for themes, quotes, duiding and monitor figures."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from admin.charts import theme_chart
from admin.dashboard.render import describe, render
from admin.deps import (
    DuidingAccess,
    EditThemes,
    ReadThemes,
    ReviewQuotes,
    RunClustering,
    Session,
    k_min_for,
    visible_round_ids,
)
from admin.pack import PACK_TEMPLATES
from admin.routes import duiding, rounds, themes
from surveys import duiding as duiding_service
from surveys import service
from surveys.accounts import Principal
from surveys.duiding import ThemeView
from surveys.exceptions import SurveysError
from surveys.models import Round

router = APIRouter(include_in_schema=False)


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/admin/rounds/{ref}/themes", response_class=HTMLResponse)
async def themes_page(
    request: Request, ref: str, session: Session, who: ReadThemes
) -> HTMLResponse:
    """Themes of a round with chart, table, breakdowns and approved quotes."""
    _round, overview = await themes.read_overview(request, session, who, ref)
    breakdowns = []
    if overview.run_id:
        breakdowns = [
            await themes.read_breakdown(request, session, who, ref, d) for d in overview.dimensions
        ]
    views = [ThemeView(**t.model_dump(exclude={"quotes"})) for t in overview.themes]
    return render(
        request,
        "themes.html",
        who,
        o=overview,
        chart=theme_chart(views),
        breakdowns=breakdowns,
        comparison=await _youth_and_parents(request, session, who, _round),
    )


async def _youth_and_parents(
    request: Request, session: AsyncSession, who: Principal, round_: Round
) -> dict[str, Any] | None:
    """Jongeren next to ouders, each column suppressed on its own.

    Pairs this round with the latest visible bouwsteen 1 round of the other audience in the
    same municipality, if there is one with themes.
    """
    audience = set(round_.audience)
    if round_.bouwsteen != 1 or audience not in ({"jongeren"}, {"ouders"}):
        return None
    other = "ouders" if audience == {"jongeren"} else "jongeren"
    candidates = await service.list_rounds(session, who.municipality_id)
    visible = await visible_round_ids(session, who)
    partners = [
        rc.round
        for rc in candidates
        if rc.round.bouwsteen == 1
        and list(rc.round.audience) == [other]
        and (visible is None or rc.round.id in visible)
    ]
    if not partners:
        return None
    partner = max(partners, key=lambda r: r.created_at)
    pair = [round_, partner] if other == "ouders" else [partner, round_]
    k_min = await k_min_for(session, request, who.municipality_id)
    data = await duiding_service.compare_rounds(session, pair, k_min=k_min)
    return data if data["themes"] else None


@router.post("/admin/rounds/{ref}/themes/run")
async def themes_run_post(
    request: Request, ref: str, session: Session, who: RunClustering, background: BackgroundTasks
) -> Response:
    """Start clustering from the themes page."""
    try:
        await themes.start_clustering(request, session, who, ref, "guided", background)
    except SurveysError as exc:
        raise HTTPException(409, str(exc)) from exc
    return _see_other(f"/admin/rounds/{ref}/themes")


@router.post("/admin/rounds/{ref}/themes/edit")
async def themes_edit_post(
    request: Request, ref: str, session: Session, who: EditThemes
) -> Response:
    """Rename or merge from the themes page."""
    form = await request.form()
    data = themes.ThemeEditRequest.model_validate(
        {
            "operation": form.get("operation"),
            "theme_id": form.get("theme_id") or None,
            "label": form.get("label") or None,
            "into": form.get("into") or None,
            "theme_ids": form.getlist("theme_ids"),
        }
    )
    await themes.edit_themes(ref, data, session, who)
    return _see_other(f"/admin/rounds/{ref}/themes")


@router.get("/admin/rounds/{ref}/quotes", response_class=HTMLResponse)
async def quotes_page(
    request: Request, ref: str, session: Session, who: ReviewQuotes
) -> HTMLResponse:
    """The quote-review queue."""
    round_, overview = await themes.read_overview(request, session, who, ref)
    quotes = await themes.quote_queue(request, ref, session, who)
    return render(
        request, "quotes.html", who, quotes=quotes, title=overview.title, round_id=round_.id
    )


@router.post("/admin/rounds/{ref}/quotes/{answer_id}")
async def quote_post(
    request: Request, ref: str, answer_id: uuid.UUID, session: Session, who: ReviewQuotes
) -> Response:
    """Approve or reject a quote from the queue."""
    form = await request.form()
    decision = themes.QuoteDecision(approved=form.get("approved") == "1")
    await themes.review_quote(request, ref, answer_id, decision, session, who)
    return _see_other(f"/admin/rounds/{ref}/quotes")


@router.get("/admin/duidingen", response_class=HTMLResponse)
async def duidingen_page(request: Request, session: Session, who: DuidingAccess) -> HTMLResponse:
    """Duidingen and a form to start one."""
    return render(
        request,
        "duidingen.html",
        who,
        duidingen=await duiding.list_duidingen(session, who),
        rounds=await rounds.read_rounds(session, who, request),
    )


@router.post("/admin/duidingen")
async def duiding_create_post(request: Request, session: Session, who: DuidingAccess) -> Response:
    """Start a duiding from the form."""
    form = await request.form()
    data = duiding.DuidingCreate.model_validate(
        {"title": form.get("title"), "round_ids": form.getlist("round_ids")}
    )
    d = await duiding.create(session, who, data)
    return _see_other(f"/admin/duidingen/{d.id}")


@router.get("/admin/duidingen/{duiding_id}", response_class=HTMLResponse)
async def duiding_page(
    request: Request, duiding_id: uuid.UUID, session: Session, who: DuidingAccess
) -> HTMLResponse:
    """The duiding workspace: four questions with evidence and the team's answers."""
    ws = await duiding.workspace(request, session, who, duiding_id)
    return render(request, "duiding.html", who, d=ws)


@router.get("/admin/duidingen/{duiding_id}/pack", response_class=HTMLResponse)
async def duiding_pack_page(
    request: Request, duiding_id: uuid.UUID, session: Session, who: DuidingAccess
) -> HTMLResponse:
    """The meeting pack as a printable page."""
    ws = await duiding.workspace(request, session, who, duiding_id)
    body = Markup(PACK_TEMPLATES.get_template("pack_pdf.html").render(d=ws))  # noqa: S704 - autoescaped
    return render(request, "pack.html", who, d=ws, body=body)


@router.post("/admin/duidingen/{duiding_id}/{action}")
async def duiding_post(
    request: Request, duiding_id: uuid.UUID, action: str, session: Session, who: DuidingAccess
) -> Response:
    """Save answers, add an ambitie or action, or sign off, from the workspace forms."""
    form = await request.form()
    anchor = ""
    try:
        if action == "content":
            notes = {
                k[5:]: str(v)
                for k, v in form.items()
                if k.startswith("note_") and isinstance(v, str)
            }
            data = duiding.ContentUpdate.model_validate(
                {"question": form.get("question"), "notes": notes, "sources": form.get("sources")}
            )
            await duiding.put_content(duiding_id, data, session, who)
            anchor = f"#q-{data.question}"
        elif action == "ambities":
            ambitie = duiding.AmbitieCreate.model_validate(
                {"text": form.get("text"), "theme_ids": form.getlist("theme_ids")}
            )
            await duiding.post_ambitie(request, duiding_id, ambitie, session, who)
            anchor = "#q-verbeteren"
        elif action == "actions":
            act = duiding.ActionCreate.model_validate(
                {k: form.get(k) or None for k in ("description", "owner", "due")}
            )
            await duiding.post_action(duiding_id, act, session, who)
            anchor = "#q-verbeteren"
        elif action == "sign-off":
            sign = duiding.SignOff.model_validate({"signed_by": form.get("signed_by")})
            await duiding.sign_off(request, duiding_id, sign, session, who)
        else:
            raise HTTPException(404)
    except (ValidationError, SurveysError) as exc:
        await session.rollback()
        ws = await duiding.workspace(request, session, who, duiding_id)
        return render(request, "duiding.html", who, 422, d=ws, error=describe(exc))
    return _see_other(f"/admin/duidingen/{duiding_id}{anchor}")


@router.get("/admin/monitor", response_class=HTMLResponse)
async def monitor_page(request: Request, session: Session, who: DuidingAccess) -> HTMLResponse:
    """Monitor figures and the CSV form."""
    return render(request, "monitor.html", who, figures=await duiding.list_figures(session, who))


@router.post("/admin/monitor")
async def monitor_post(request: Request, session: Session, who: DuidingAccess) -> Response:
    """Add monitor figures from pasted CSV."""
    form = await request.form()
    try:
        data = duiding.MonitorUpload(csv=str(form.get("csv", "")))
        await duiding.upload_figures(data, session, who)
    except (ValidationError, SurveysError) as exc:
        await session.rollback()
        figures = await duiding.list_figures(session, who)
        return render(request, "monitor.html", who, 422, figures=figures, error=describe(exc))
    return _see_other("/admin/monitor")
