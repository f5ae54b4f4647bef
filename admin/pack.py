"""The duiding meeting pack as Markdown and PDF (fpdf2, pure Python; text in templates)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpdf import FPDF
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).parent / "dashboard" / "templates"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def _md_text(value: object) -> str:
    """User text made inert in Markdown: no raw HTML, no headings or links by accident."""
    text = "" if value is None else str(value)
    for char, replacement in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(char, replacement)
    for char in "\\`*_[]#|":
        text = text.replace(char, "\\" + char)
    return text


_MD = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=False, trim_blocks=True, lstrip_blocks=True
)
_MD.filters["md"] = _md_text
PACK_TEMPLATES = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"])
)


def pack_markdown(workspace: dict[str, Any]) -> str:
    """The meeting pack as Markdown."""
    return _MD.get_template("pack.md.j2").render(d=workspace)


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def pack_pdf(workspace: dict[str, Any]) -> bytes:
    """The meeting pack as PDF (DejaVu when installed, else a core font limited to Latin-1)."""
    html = PACK_TEMPLATES.get_template("pack_pdf.html").render(d=workspace)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if regular.exists() and bold.exists():
        pdf.add_font("DejaVu", "", str(regular))
        pdf.add_font("DejaVu", "B", str(bold))
        pdf.add_font("DejaVu", "I", str(regular))
        pdf.set_font("DejaVu", size=10)
    else:
        pdf.set_font("helvetica", size=10)
        html = _latin1(html)
    pdf.set_title(_latin1(str(workspace.get("title", "Duiding"))))
    pdf.add_page()
    pdf.write_html(html)
    return bytes(pdf.output())
