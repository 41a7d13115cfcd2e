"""Server-rendered bar charts: geometry computed here, drawn as SVG by the templates."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    """One bar: its label, value (None when there is no figure), position and size in the SVG."""

    label: str
    value: float | None
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    """A bar chart's size, scale and bars."""

    width: int
    height: int
    top: float
    bars: list[Bar]


def bar_chart(items: list[tuple[str, float | None]], *, width: int = 560, height: int = 180,
              top: float | None = None) -> Chart:
    """Bars for (label, value) pairs scaled to `top` (default: the largest value)."""
    values = [v for _, v in items if v is not None]
    scale_top = top if top is not None else max(values, default=0.0) or 1.0
    plot_h, gap = height - 40, 8
    slot = (width - 20) / max(len(items), 1)
    bars = []
    for i, (name, value) in enumerate(items):
        h = plot_h * (value or 0.0) / scale_top if scale_top else 0.0
        bars.append(Bar(name, value, 10 + i * slot + gap / 2, 20 + plot_h - h, max(slot - gap, 2), h))
    return Chart(width, height, scale_top, bars)
