"""Geometry for the dashboard's SVG charts: plain numbers and labels, never markup.

Templates draw the shapes (``templates/admin/_charts.html``); this module only decides where
they go, so the pages stay free of arithmetic and no HTML is built in Python. Colours come
from CSS classes (``series-N``), so the charts follow the light and dark themes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app import i18n
from app.i18n import N_

SERIES_COLOURS = 8
LABEL_CHARS = 16


@dataclass(frozen=True)
class Frame:
    """The drawing (``width × height``, in viewBox units) and the plot area inside it."""

    width: int = 720
    height: int = 240
    left: int = 56
    right: int = 16
    top: int = 12
    bottom: int = 30

    @property
    def x1(self) -> int:
        return self.width - self.right

    @property
    def y1(self) -> int:
        return self.height - self.bottom

    @property
    def inner_width(self) -> int:
        return self.x1 - self.left

    @property
    def inner_height(self) -> int:
        return self.y1 - self.top


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


def nice_ceiling(value: float) -> int:
    """The smallest 1, 2 or 5 × 10^k at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(int(m * power) for m in (1, 2, 5, 10) if m * power >= value)


def _steps(top: int) -> int:
    """How many gridlines divide ``top`` (from ``nice_ceiling``) into round numbers."""
    if top <= 5:
        return top
    leading = top // 10 ** math.floor(math.log10(top))
    return 4 if leading == 2 else 5


def _y_ticks(frame: Frame, top: int, locale: str) -> list[Tick]:
    steps = _steps(top)
    values = [top * i // steps for i in range(steps + 1)]
    return [Tick(frame.y1 - frame.inner_height * v / top, i18n.number(v, locale)) for v in values]


def _day_ticks(days: Sequence[date], xs: Sequence[float], locale: str) -> list[Tick]:
    picks = sorted({0, len(days) // 2, len(days) - 1}) if days else []
    return [Tick(xs[i], i18n.day(days[i], locale)) for i in picks]


def _on_day(count: int, day: date, locale: str) -> str:
    return i18n.translate(i18n.Text(N_("%(count)s on %(day)s"), count=count,
                                    day=i18n.day(day, locale)), locale)  # fmt: skip


def short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


@dataclass(frozen=True)
class LineChart:
    frame: Frame
    points: str
    area: str
    target_y: float
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    last: Tick | None = None  # the latest point, marked: one day of data has no line to draw
    last_x: float = 0.0


def line_chart(
    days: Sequence[date],
    values: Sequence[int],
    target: int,
    width: int = 720,
    locale: str = i18n.DEFAULT,
) -> LineChart:
    """A cumulative line against a horizontal target line."""
    frame = Frame(width=width)
    top = nice_ceiling(max([target, *values]))
    if len(days) > 1:
        xs = [frame.left + i * frame.inner_width / (len(days) - 1) for i in range(len(days))]
    else:
        xs = [frame.left + frame.inner_width / 2] * len(days)
    ys = [frame.y1 - frame.inner_height * v / top for v in values]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    area = f"{xs[0]:.1f},{frame.y1} {line} {xs[-1]:.1f},{frame.y1}" if xs else ""
    target_y = frame.y1 - frame.inner_height * target / top
    last = Tick(ys[-1], _on_day(values[-1], days[-1], locale)) if values else None
    x_last = xs[-1] if xs else 0.0
    return LineChart(frame, line, area, target_y, _y_ticks(frame, top, locale),
                     _day_ticks(days, xs, locale), last, x_last)  # fmt: skip


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    series: int
    title: str


@dataclass(frozen=True)
class BarChart:
    frame: Frame
    rects: list[Rect]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    legend: list[tuple[int, str]] = field(default_factory=list)


def stacked_bars(
    days: Sequence[date],
    names: Sequence[str],
    counts: Sequence[Sequence[int]],
    width: int = 720,
    locale: str = i18n.DEFAULT,
) -> BarChart:
    """One bar per day, stacked by series (``counts[day][series]``)."""
    frame = Frame(width=width)
    top = nice_ceiling(max((sum(c) for c in counts), default=0))
    slot = frame.inner_width / max(len(days), 1)
    rects, centres = [], []
    for i, (day, row) in enumerate(zip(days, counts, strict=True)):
        x = frame.left + i * slot + slot * 0.15
        centres.append(x + slot * 0.35)
        base = float(frame.y1)
        for s, n in enumerate(row):
            if n:
                h = frame.inner_height * n / top
                base -= h
                title = f"{names[s]}: {_on_day(n, day, locale)}"
                rects.append(Rect(x, base, slot * 0.7, h, s % SERIES_COLOURS, title))
    legend = [(s % SERIES_COLOURS, name) for s, name in enumerate(names)]
    y_ticks = _y_ticks(frame, top, locale)
    return BarChart(frame, rects, y_ticks, _day_ticks(days, centres, locale), legend)


@dataclass(frozen=True)
class ShareBar:
    label: str
    y: float
    width: float
    value: str
    flagged: bool


@dataclass(frozen=True)
class ShareChart:
    frame: Frame
    bars: list[ShareBar]
    reference_x: float | None
    x_ticks: list[Tick]
    bar_height: int = 18


ROW = 28


def share_chart(
    items: Sequence[tuple[str, float | None, bool]],
    reference: float | None = None,
    width: int = 720,
    locale: str = i18n.DEFAULT,
) -> ShareChart:
    """Horizontal bars of shares (0–1), one per ``(label, share, flagged)``; None is skipped."""
    shown = [(label, share, flag) for label, share, flag in items if share is not None]
    left = 140 if width >= 600 else 110
    frame = Frame(width=width, height=12 + ROW * max(len(shown), 1) + 30, left=left, right=56)
    bars = [
        ShareBar(short(label), frame.top + i * ROW + 5, frame.inner_width * share,
                 i18n.percent(share, locale), flagged)
        for i, (label, share, flagged) in enumerate(shown)
    ]  # fmt: skip
    ticks = [Tick(frame.left + frame.inner_width * q, i18n.percent(q, locale))
             for q in (0, 0.25, 0.5, 0.75, 1)]  # fmt: skip
    ref = None if reference is None else frame.left + frame.inner_width * reference
    return ShareChart(frame, bars, ref, ticks)


WIDTHS = {"xs": 340, "s": 480, "m": 720, "l": 1100}
"""Drawn at each width, shown by screen width (app.css): text stays 10–16 px on any screen
(on a 390 px phone the card is about 330 px wide: 12 px text at 340 shows at 11.6 px)."""


@dataclass(frozen=True)
class Responsive:
    """One chart drawn at each of ``WIDTHS``; reads like its widest drawing."""

    variants: list[tuple[str, Any]]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.variants[-1][1], name)


def responsive(draw: Callable[[int], Any]) -> Responsive:
    """``draw(width)`` at every width of ``WIDTHS``."""
    return Responsive([(size, draw(width)) for size, width in WIDTHS.items()])


# --- the leaderboard's ratings with their intervals -----------------------------------------
# Drawn without a viewBox, in percentages across and pixels down: the text keeps its size on
# a phone and the intervals stretch with the page, so the chart is readable at any width.

PLOT_FROM, PLOT_TO = 34.0, 97.0  # the plot area, in percent of the width (labels before it)
INTERVAL_ROW = 30


@dataclass(frozen=True)
class Interval:
    label: str
    title: str
    y: float
    low: float  # positions across, in percent
    high: float
    mid: float


@dataclass(frozen=True)
class IntervalChart:
    rows: list[Interval]
    ticks: list[Tick]  # positions in percent
    height: int
    label_x: float = PLOT_FROM - 2
    plot_from: float = PLOT_FROM
    plot_to: float = PLOT_TO
    axis_y: float = 0.0


def interval_chart(
    items: Sequence[tuple[str, float, float, float]], locale: str = i18n.DEFAULT
) -> IntervalChart:
    """One row per ``(label, value, low, high)``: a dot at the value, a bar low–high, on an
    axis of round numbers that spans every interval."""
    lows = [min(v, lo) for _, v, lo, _ in items] or [0.0]
    highs = [max(v, hi) for _, v, _, hi in items] or [1.0]
    step = _round_step(max(highs) - min(lows))
    start = math.floor(min(lows) / step) * step
    stop = max(math.ceil(max(highs) / step) * step, start + step)

    def across(value: float) -> float:
        return PLOT_FROM + (PLOT_TO - PLOT_FROM) * (value - start) / (stop - start)

    def rounded(value: float) -> str:
        return i18n.decimal(value, locale, 0)

    rows = [
        Interval(short(label), f"{label}: {rounded(value)} ({rounded(low)}–{rounded(high)})",
                 12 + i * INTERVAL_ROW + INTERVAL_ROW / 2, across(low), across(high),
                 across(value))
        for i, (label, value, low, high) in enumerate(items)
    ]  # fmt: skip
    count = round((stop - start) / step)
    ticks = [Tick(across(start + k * step), rounded(start + k * step)) for k in range(count + 1)]
    axis = 12 + INTERVAL_ROW * max(len(items), 1)
    return IntervalChart(rows, ticks, axis + 30, axis_y=axis)


def _round_step(span: float) -> float:
    """A round gridline step giving about four intervals over ``span`` (at least 10)."""
    return float(max(nice_ceiling(span / 4), 10))
