"""A bar chart drawn on the server, as SVG (the public statistics' and the matching statements'): no
script, so it shows with JavaScript off, and scales to any width (its viewBox). Horizontal bars, one a
row, so that a long list of months or of states still reads on a 390 px phone. The template gives it its
title and description, and the table of the same numbers follows it."""

from dataclasses import dataclass

WIDTH = 400
LABEL_WIDTH = 118  # the row's label, left of its bar
VALUE_WIDTH = 92  # the bar's number, right of it
ROW_HEIGHT = 22
BAR_HEIGHT = 15
LABEL_CHARACTERS = 17  # a longer label is cut (the table below says it whole)


@dataclass(frozen=True)
class Bar:
    label: str
    full_label: str
    value_text: str
    y: int
    text_y: int
    width: float
    value_x: float


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    label_width: int
    bar_x: int


def bar_chart(rows: list[tuple[str, int | float, str]], *, full: int | float | None = None) -> BarChart:
    """The chart of `rows`, each (label, value, value as text), in their order; the longest bar fills
    the space left by the labels and numbers, or a bar of `full` does (a share: 100%)."""
    room = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    largest = full or max((value for _, value, _ in rows), default=0) or 1
    bars = []
    for index, (label, value, value_text) in enumerate(rows):
        y = index * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) // 2
        short = label if len(label) <= LABEL_CHARACTERS else label[:LABEL_CHARACTERS - 1] + "…"
        width = round(max(float(value), 0) / float(largest) * room, 1)
        bars.append(Bar(label=short, full_label=label, value_text=value_text, y=y, text_y=y + BAR_HEIGHT - 3,
                        width=width, value_x=LABEL_WIDTH + width + 4))
    return BarChart(bars=bars, width=WIDTH, height=max(len(rows), 1) * ROW_HEIGHT, label_width=LABEL_WIDTH - 6,
                    bar_x=LABEL_WIDTH)
