"""Charts drawn on the server: the geometry of simple SVG bar charts.

The reports page draws them as inline SVG (templates/reports/_charts.html):
no script, no style attribute, colours from the stylesheet's classes. Each
chart sits beside a table with the same numbers, for screen readers and for
copying.
"""
import math
from dataclasses import dataclass

WIDTH = 720  # the daily chart, drawn across the page
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 36
BAR_CHART_WIDTH = 480  # the horizontal charts, drawn in half the page
ROW = 34  # the height of one bar of a horizontal chart


@dataclass(frozen=True)
class Bar:
    """One rectangle: where, how big, its value and its series."""

    x: float
    y: float
    width: float
    height: float
    value: float
    series: str


@dataclass(frozen=True)
class Label:
    """A piece of text on a chart."""

    x: float
    y: float
    text: str


def nice_ceiling(value):
    """A round number at or above `value` for an axis: 1, 2, 5, 10, 20, 50..."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def daily_bars(days):
    """Opened and resolved per day as grouped columns: {"bars", "x_labels", "y_labels", ...}.

    `days` is a list of (date, opened, resolved).
    """
    top = nice_ceiling(max([max(opened, resolved) for _, opened, resolved in days] + [1]))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(days), 1)
    bar = max(slot * 0.4, 0.5)
    bars, x_labels = [], []
    label_every = max(1, math.ceil(len(days) / 8))
    for index, (day, opened, resolved) in enumerate(days):
        left = LEFT + index * slot + (slot - 2 * bar) / 2
        for offset, (value, series) in enumerate(((opened, "opened"), (resolved, "resolved"))):
            height = plot_height * value / top
            bars.append(Bar(round(left + offset * bar, 2), round(TOP + plot_height - height, 2),
                            round(bar, 2), round(height, 2), value, series))
        if index % label_every == 0:
            x_labels.append(Label(round(LEFT + index * slot + slot / 2, 2), HEIGHT - BOTTOM + 18,
                                  day.strftime("%d %b")))
    y_labels = [Label(LEFT - 6, round(TOP + plot_height * (1 - share), 2), f"{round(top * share):g}")
                for share in (0, 0.25, 0.5, 0.75, 1)]
    return {"width": WIDTH, "height": HEIGHT, "bars": bars, "x_labels": x_labels,
            "y_labels": y_labels, "baseline": TOP + plot_height, "left": LEFT,
            "right": WIDTH - RIGHT}


def horizontal_bars(rows, maximum=None, unit=""):
    """Labelled horizontal bars for (label, value) rows; a None value draws no bar."""
    values = [value for _, value in rows if value is not None]
    top = maximum or nice_ceiling(max(values + [1]))
    label_width, value_width = 150, 80
    plot_width = BAR_CHART_WIDTH - label_width - value_width
    bars, labels, values_shown = [], [], []
    for index, (label, value) in enumerate(rows):
        y = TOP + index * ROW
        length = plot_width * (value or 0) / top
        bars.append(Bar(label_width, y + 7, round(length, 2), ROW - 14, value, "value"))
        labels.append(Label(label_width - 8, y + ROW / 2 + 5, label))
        shown = "no data" if value is None else f"{value:g}{unit}"
        values_shown.append(Label(round(label_width + length + 6, 2), y + ROW / 2 + 5, shown))
    return {"width": BAR_CHART_WIDTH, "height": TOP * 2 + ROW * max(len(rows), 1), "bars": bars,
            "labels": labels, "value_labels": values_shown}
