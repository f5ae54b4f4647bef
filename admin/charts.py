"""Geometry for server-rendered SVG charts (the markup and its text live in the templates).

Colours are the Okabe-Ito palette, distinguishable with common colour-vision deficiencies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from surveys.duiding import KINDS, ThemeView

KIND_COLOURS = {"zorg": "#D55E00", "kans": "#009E73", "signaal": "#0072B2", "open": "#999999"}
ROW, LABEL_W, BAR_W = 28, 260, 420


@dataclass(frozen=True)
class Segment:
    """One coloured part of a bar."""

    kind: str
    value: int
    x: float
    width: float
    colour: str


@dataclass(frozen=True)
class Bar:
    """One theme's bar; ``segments`` is empty when the size is suppressed."""

    label: str
    size: int | None
    y: int
    end: float
    segments: list[Segment]


@dataclass(frozen=True)
class Chart:
    """A horizontal stacked bar chart."""

    width: int
    height: int
    label_width: int
    bars: list[Bar]


def theme_chart(themes: Sequence[ThemeView]) -> Chart:
    """Bars per theme, stacked by answer kind, scaled to the biggest shown theme."""
    biggest = max((t.size or 0 for t in themes), default=0) or 1
    bars: list[Bar] = []
    for i, t in enumerate(themes):
        y = 10 + i * ROW
        label = t.label if len(t.label) <= 38 else t.label[:37] + "…"
        if t.size is None:
            bars.append(Bar(label, None, y, LABEL_W, []))
            continue
        scale = BAR_W * t.size / biggest
        known = sum(v or 0 for v in t.kinds.values())
        segments: list[Segment] = []
        x = float(LABEL_W)
        if known == 0:
            segments.append(Segment("", t.size, x, scale, "#1e3a8a"))
        else:
            for kind in KINDS:
                value = t.kinds.get(kind) or 0
                width = scale * value / known
                if width > 0:
                    segments.append(Segment(kind, value, x, width, KIND_COLOURS[kind]))
                    x += width
        bars.append(Bar(label, t.size, y, LABEL_W + scale, segments))
    return Chart(LABEL_W + BAR_W + 60, ROW * max(len(themes), 1) + 20, LABEL_W, bars)
