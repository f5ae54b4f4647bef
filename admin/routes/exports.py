"""Exports of aggregated, suppressed tables only (CSV and XLSX); every export is audited."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter, Request, Response
from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncSession

from admin.deps import ExportAccess, Session
from admin.routes import themes
from surveys import service
from surveys.accounts import Principal

router = APIRouter(prefix="/admin/api", tags=["exports"])
SUPPRESSED = "<k"


def _cell(value: Any) -> Any:
    return SUPPRESSED if value is None else value


def _safe(value: Any) -> Any:
    """Neutralise spreadsheet formulas in text cells (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


async def _tables(
    request: Request, session: AsyncSession, who: Principal, ref: str
) -> tuple[str, dict[str, list[list[Any]]]]:
    _round, o = await themes.read_overview(request, session, who, ref)
    sheets: dict[str, list[list[Any]]] = {
        "themes": [
            ["theme_id", "label", "respondents", "share_pct", "zorg", "kans", "signaal", "open"]
        ]
        + [
            [t.theme_id, t.label, _cell(t.size), _cell(t.share)]
            + [_cell(t.kinds.get(k)) for k in ("zorg", "kans", "signaal", "open")]
            for t in o.themes
        ],
        "method": [
            ["round", o.title],
            ["audience", ", ".join(o.audience)],
            ["respondents", _cell(o.respondents)],
            ["k_min", o.k_min],
            ["rounding", 5],
            ["analysis_week", o.run_week or ""],
            ["note", f"counts below k_min are shown as {SUPPRESSED}; counts rounded to 5"],
        ],
    }
    if o.run_id:
        for dim in o.dimensions:
            b = await themes.read_breakdown(request, session, who, ref, dim)
            rows: list[list[Any]] = [["theme", *b.columns]]
            rows += [[r["label"], *[_cell(r["cells"][c]) for c in b.columns]] for r in b.rows]
            rows.append(["respondents", *[_cell(b.respondents[c]) for c in b.columns]])
            sheets[f"by_{dim}"] = rows
    await service.record_audit(
        session,
        actor=who.actor,
        action="export.themes",
        municipality_id=who.municipality_id,
        object_type="round",
        object_id=str(o.round_id),
    )
    return o.round_id, sheets


@router.get("/rounds/{ref}/export.csv")
async def export_csv(request: Request, ref: str, session: Session, who: ExportAccess) -> Response:
    """The round's theme tables as CSV (suppressed aggregates only)."""
    round_id, sheets = await _tables(request, session, who, ref)
    out = io.StringIO()
    writer = csv.writer(out)
    for name, rows in sheets.items():
        writer.writerow([f"# {name}"])
        writer.writerows([[_safe(v) for v in row] for row in rows])
        writer.writerow([])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="themes-{round_id}.csv"'},
    )


@router.get("/rounds/{ref}/export.xlsx")
async def export_xlsx(request: Request, ref: str, session: Session, who: ExportAccess) -> Response:
    """The round's theme tables as XLSX, one sheet per table (suppressed aggregates only)."""
    round_id, sheets = await _tables(request, session, who, ref)
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name[:31])
        for row in rows:
            sheet.append([_safe(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(
        buffer.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="themes-{round_id}.xlsx"'},
    )
