"""A line chart as plain geometry for an inline SVG (the dashboard's list sizes).

Drawn on the server: no script, no third-party library, nothing that leaves the page.
The template turns a ``LineChart`` into ``<svg>`` elements; colours come from the
stylesheet (``.chart .series-N``), so the chart follows the light and dark scheme.
The numbers are in a table beside it too: the chart is for the eye, the table for
everyone (screen readers read the table).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 260
LEFT = 56  # room for the y-axis labels
RIGHT = 16
TOP = 12
BOTTOM = 36  # room for the month labels


@dataclass(frozen=True)
class Series:
    label: str
    points: str  # "x,y x,y …" for <polyline points>
    last_x: float
    last_y: float
    css: str  # "series-0" …


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class XLabel:
    text: str
    x: float


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    right_edge: int
    top: int
    baseline: float
    series: tuple[Series, ...]
    ticks: tuple[Tick, ...]
    x_labels: tuple[XLabel, ...]


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^k at or above ``value`` (at least 5: a chart of
    three people still has a scale)."""
    if value <= 5:
        return 5
    power = int(10 ** math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def line_chart(
    series: Sequence[tuple[str, Sequence[int]]], x_labels: Sequence[str], *, ticks: int = 4
) -> LineChart:
    """``series``: (label, one value per x label), all of the same length."""
    count = len(x_labels)
    top_value = nice_ceiling(max((max(values, default=0) for _, values in series), default=0))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_h

    def x_at(i: int) -> float:
        return LEFT + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y_at(value: int) -> float:
        return round(baseline - plot_h * value / top_value, 1)

    drawn = []
    for n, (label, values) in enumerate(series):
        coords = [(round(x_at(i), 1), y_at(v)) for i, v in enumerate(values)]
        drawn.append(
            Series(
                label=label,
                points=" ".join(f"{x},{y}" for x, y in coords),
                last_x=coords[-1][0] if coords else LEFT,
                last_y=coords[-1][1] if coords else baseline,
                css=f"series-{n % 4}",
            )
        )
    return LineChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right_edge=WIDTH - RIGHT,
        top=TOP,
        baseline=baseline,
        series=tuple(drawn),
        ticks=tuple(
            Tick(value=top_value * k // ticks, y=y_at(top_value * k // ticks))
            for k in range(ticks + 1)
        ),
        x_labels=tuple(XLabel(text=t, x=round(x_at(i), 1)) for i, t in enumerate(x_labels)),
    )
