"""The dashboard's charts as inline SVG, drawn on the server: readable without JavaScript, no library, no CDN.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>``; the page puts a table of the same numbers
next to it for screen readers and for readers who want the figures. Words come from the active language; numbers are
formatted by Babel. Bars (funnel, countries) mirror in right-to-left pages; the time axis runs left to right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from social_campaign.i18n import _, catalogs, formatting, ngettext
from social_campaign.workspace.dashboard import DELIVERY_STATES, Series
from social_campaign.workspace.deliveries import state_label

WIDTH, HEIGHT = 640, 280
BARS_WIDTH = 400  # narrower: the bars' words stay readable on a phone
X0, X1, Y0, Y1 = 60, 620, 20, 240  # the plot area: x from X0 to X1, y from Y0 (top) to Y1 (the zero line)
#: Fill of each delivery state, and the pattern that tells it apart without colour (legend: pattern and label).
STATE_STYLE = {
    "sent": ("#1d6b3a", "solid"), "scheduled": ("#0a6ebd", "dots"), "sending": ("#5a3fa0", "vertical"),
    "failed": ("#a4262c", "cross"), "needs_reconnect": ("#9a5b00", "diagonal"), "unconfirmed": ("#6b4f7a", "grid"),
    "cancelled": ("#5f6673", "horizontal"), "missed": ("#7a2e12", "backslash"),
}


def nice_ceiling(value: float) -> int:
    """The smallest 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times 10^k at or above ``value`` (at least 10): the top of a
    y axis, divided in four by the grid."""
    if value <= 10:
        return 10
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * power >= value:
            return int(step * power)
    return int(10 * power)  # pragma: no cover - the loop always returns


@dataclass(frozen=True)
class Frame:
    """Maps days and counts to the plot area: ``x(day)`` between X0 and X1, ``y(count)`` between Y1 and Y0."""

    start: date
    end: date
    top: int

    def x(self, day: date) -> float:
        span = max(1, (self.end - self.start).days)
        return round(X0 + (X1 - X0) * (day - self.start).days / span, 1)

    def y(self, count: float) -> float:
        return round(Y1 - (Y1 - Y0) * count / self.top, 1)


def frame_for(s: Series) -> Frame:
    """Days from the first confirmation (or today) to the deadline; y up to a round number above goal and projection."""
    today = s.now.astimezone(s.zone).date()
    start = s.days[0][0] if s.days else today
    end = max(s.deadline.astimezone(s.zone).date(), today, start)
    return Frame(start, end, nice_ceiling(1.1 * max(s.goal, s.projected or 0, s.confirmed)))


def _svg(chart_id: str, title: str, desc: str, body: str, height: int = HEIGHT, width: int = WIDTH,
         kind: str = "plot") -> Markup:
    return Markup(
        f'<svg class="chart {kind}" id="{chart_id}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" direction="ltr">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(desc)}</desc>'
        f"{body}</svg>"
    )


def _text(x: float, y: float, words: str, cls: str = "", anchor: str = "start") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{x}" y="{y}" text-anchor="{anchor}"{klass}>{escape(words)}</text>'


# Babel parses the locale on every call (about 0.1 ms a number): a page of charts and tables formats hundreds of
# numbers and days, mostly the same ones on every refresh, so they are remembered per language.
@lru_cache(maxsize=8192)
def _number(value: int, lang: str) -> str:
    return formatting.number(value, lang)


def number(value: int) -> str:
    """``12,345`` in the active language (Babel, remembered)."""
    return _number(int(value), catalogs.current())


@lru_cache(maxsize=2048)
def _percent(value: float, lang: str) -> str:
    return formatting.percent(value, lang)


def percent(fraction: float) -> str:
    """``42%`` in the active language, to the whole percent (Babel, remembered)."""
    return _percent(round(fraction, 2), catalogs.current())


@lru_cache(maxsize=4096)
def _when(moment: datetime, zone: ZoneInfo, lang: str) -> str:
    return formatting.when(moment, zone, lang)


def when(moment: datetime, zone: ZoneInfo) -> str:
    """``formatting.when`` (the one time format), remembered: the same deliveries are shown on every refresh."""
    return _when(moment, zone, catalogs.current())


@lru_cache(maxsize=4096)
def _day_label(day: date, lang: str) -> str:
    from babel.dates import format_skeleton

    return str(format_skeleton("MMMd", day, locale=lang.replace("-", "_")))


def _short_day(day: date) -> str:
    return _day_label(day, catalogs.current())


def pledges_chart(s: Series) -> Markup:
    """Cumulative confirmed pledges by day, the goal line and the projection to the deadline."""
    f = frame_for(s)
    parts = ['<g class="grid">']
    for i in range(5):
        value = f.top * i / 4
        parts.append(f'<line x1="{X0}" x2="{X1}" y1="{f.y(value)}" y2="{f.y(value)}"/>')
        parts.append(_text(X0 - 6, f.y(value) + 4, number(int(value)), "tick", "end"))
    parts.append("</g>")
    parts.append(_text(X0, Y1 + 22, _short_day(f.start), "tick", "start"))
    parts.append(_text(X1, Y1 + 22, _short_day(f.end), "tick", "end"))
    total, points = s.confirmed - sum(n for _d, n in s.days), []
    for day, n in s.days:
        total += n
        points.append(f"{f.x(day)},{f.y(total)}")
    goal_y = f.y(s.goal)
    parts.append(f'<line class="goal" x1="{X0}" x2="{X1}" y1="{goal_y}" y2="{goal_y}"/>')
    parts.append(_text(X1, goal_y - 6, _("Goal: %(goal)s") % {"goal": number(s.goal)}, "label", "end"))
    if points:
        parts.append(f'<polyline class="confirmed" points="{" ".join(points)}"/>')
    today = s.now.astimezone(s.zone).date()
    if s.projected is not None:
        x_end = f.x(s.deadline.astimezone(s.zone).date())
        parts.append(f'<line class="projection" x1="{f.x(today)}" y1="{f.y(s.confirmed)}" x2="{x_end}" '
                     f'y2="{f.y(s.projected)}"/>')
    parts.append(f'<circle class="now" cx="{f.x(today)}" cy="{f.y(s.confirmed)}" r="4"/>')
    desc = ngettext("%(num)s confirmed pledge of a goal of %(goal)s.", "%(num)s confirmed pledges of a goal of %(goal)s.",
                    s.confirmed) % {"num": number(s.confirmed), "goal": number(s.goal)}
    if s.projected is not None:
        desc += " " + _("At the rate of the last 7 days, about %(projected)s by the deadline.") % {
            "projected": number(s.projected)}
    return _svg("chart-pledges", _("Confirmed pledges over time"), desc, "".join(parts))


def bars(chart_id: str, title: str, desc: str, rows: list[tuple[str, int]], whole: int) -> Markup:
    """Horizontal bars, one per row: its label above, its number and share of ``whole`` after the bar."""
    rtl = catalogs.is_rtl()
    row_h, width = 50, BARS_WIDTH - 130  # room for "12,345 (100%)" after the longest bar
    top = max([n for _label, n in rows] + [1])
    parts = []
    for i, (label, n) in enumerate(rows):
        y = 8 + i * row_h
        length = round(width * n / top, 1)
        share = f" ({percent(n / whole)})" if whole else ""
        bar_x, text_x = (BARS_WIDTH - 8 - length, BARS_WIDTH - 8) if rtl else (8, 8)
        figure_x = (BARS_WIDTH - 16 - length) if rtl else (16 + length)
        anchor, after = ("end", "end") if rtl else ("start", "start")
        parts.append(f'<g class="bar" data-step="{escape(label)}">')
        parts.append(_text(text_x, y + 14, label, "label", anchor))
        parts.append(f'<rect x="{bar_x}" y="{y + 21}" width="{length}" height="20"/>')
        parts.append(_text(figure_x, y + 36, number(n) + share, "figure", after))
        parts.append("</g>")
    return _svg(chart_id, title, desc, "".join(parts), height=max(60, 8 + row_h * len(rows)), width=BARS_WIDTH,
                kind="bars")


PATTERNS = {
    "solid": "",
    "dots": '<circle cx="3" cy="3" r="1.6" fill="#fff"/>',
    "vertical": '<path d="M3 0V6" stroke="#fff" stroke-width="1.5"/>',
    "horizontal": '<path d="M0 3H6" stroke="#fff" stroke-width="1.5"/>',
    "diagonal": '<path d="M0 6L6 0" stroke="#fff" stroke-width="1.5"/>',
    "backslash": '<path d="M0 0L6 6" stroke="#fff" stroke-width="1.5"/>',
    "cross": '<path d="M0 0L6 6M0 6L6 0" stroke="#fff" stroke-width="1.2"/>',
    "grid": '<path d="M3 0V6M0 3H6" stroke="#fff" stroke-width="1"/>',
}


def pattern_defs() -> str:
    out = ["<defs>"]
    for state, (colour, kind) in STATE_STYLE.items():
        out.append(f'<pattern id="pattern-{state}" width="6" height="6" patternUnits="userSpaceOnUse">'
                   f'<rect width="6" height="6" fill="{colour}"/>{PATTERNS[kind]}</pattern>')
    out.append("</defs>")
    return "".join(out)


def swatch(state: str) -> Markup:
    """The legend's sample of a state's fill (the pattern is defined once, in the timeline chart)."""
    return Markup(f'<svg class="swatch" width="18" height="18" viewBox="0 0 18 18" aria-hidden="true" focusable="false">'
                  f'<rect width="18" height="18" fill="url(#pattern-{state})" stroke="#1d2330"/></svg>')


def timeline_chart(days: list[tuple[date, dict[str, int]]], desc: str, today: date | None = None) -> Markup:
    """Deliveries per day (campaign's zone), one stacked column per day, each state with its colour and pattern."""
    parts = [pattern_defs()]
    if days:
        start, end = days[0][0], days[-1][0]
        span = (end - start).days + 1
        top = nice_ceiling(max(sum(by.values()) for _d, by in days))
        step = (X1 - X0) / span
        frame = Frame(start, end, top)
        for i in range(3):
            value = top * i / 2
            parts.append(f'<line class="gridline" x1="{X0}" x2="{X1}" y1="{frame.y(value)}" y2="{frame.y(value)}"/>')
            parts.append(_text(X0 - 6, frame.y(value) + 4, number(int(value)), "tick", "end"))
        for day, by in days:
            x = round(X0 + step * (day - start).days + step * 0.1, 1)
            base = 0
            tip = ", ".join(f"{number(by[s])} {state_label(s)}" for s in DELIVERY_STATES if by.get(s))
            parts.append(f"<g><title>{escape(_short_day(day))}: {escape(tip)}</title>")
            for state in DELIVERY_STATES:
                n = by.get(state, 0)
                if not n:
                    continue
                y_top, y_bottom = frame.y(base + n), frame.y(base)
                parts.append(f'<rect class="state-{state}" x="{x}" y="{y_top}" width="{round(step * 0.8, 1)}" '
                             f'height="{round(y_bottom - y_top, 1)}" fill="url(#pattern-{state})"/>')
                base += n
            parts.append("</g>")
        if today is not None and start <= today <= end:
            x_today = round(X0 + step * ((today - start).days + 0.5), 1)
            parts.append(f'<line class="today" x1="{x_today}" x2="{x_today}" y1="{Y0}" y2="{Y1}"/>')
            parts.append(_text(x_today + 4, Y0 + 16, _("Today"), "label", "start"))
        parts.append(_text(X0, Y1 + 22, _short_day(start), "tick", "start"))
        parts.append(_text(X1, Y1 + 22, _short_day(end), "tick", "end"))
    return _svg("chart-deliveries", _("Posts by day and state"), desc, "".join(parts))
