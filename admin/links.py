"""Chat links and QR codes for rounds and activities."""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import quote

import segno


@dataclass(frozen=True)
class Links:
    """Where a participant starts a round or activity."""

    code: str
    chat: str
    telegram: str | None


def links_for(code: str, *, base_url: str, bot_username: str | None) -> Links:
    """The web chat link and, when a bot is configured, the Telegram deep link."""
    chat = f"{base_url.rstrip('/')}/chat/{quote(code, safe='')}"
    telegram = f"https://t.me/{bot_username}?start={quote(code, safe='')}" if bot_username else None
    return Links(code, chat, telegram)


def qr_svg(url: str, *, title: str, scale: int = 4) -> str:
    """An inline SVG QR code with a title (its text alternative)."""
    svg: str = segno.make(url, error="m").svg_inline(scale=scale, title=title, dark="#000")
    return svg.replace("<svg ", '<svg role="img" ', 1)


def qr_png(url: str, *, scale: int = 8) -> bytes:
    """A PNG QR code."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
