"""Inline SVG charts of the inspection report (pure: strings in, SVG text out, no script).

`daily` draws a control's daily value (a run's `series`, e.g. the cold share) against its
threshold: a line broken where a day has no value, the threshold dashed, the days outside
it marked in red. `stacked` draws one horizontal bar per row (controls per status). Both
are deterministic: the same input gives the same text, so the HTML report is too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from html import escape

STATUS_COLOURS: Mapping[str, str] = {
    "pass": "#2e7d32",
    "fail": "#c62828",
    "insufficient_evidence": "#ef6c00",
    "manual": "#1565c0",
    "not_applicable": "#9e9e9e",
}


@dataclass(frozen=True, slots=True)
class Threshold:
    value: Decimal
    upper: bool
    """True: a value above it fails (a maximum); False: below it fails (a minimum)."""

    def breached(self, value: Decimal) -> bool:
        return value > self.value if self.upper else value < self.value


def _num(value: Decimal | float) -> str:
    return f"{float(value):.1f}"


def _percent(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}%"


def daily(
    points: Sequence[tuple[date, Decimal | None]],
    threshold: Threshold,
    *,
    label: str,
    width: int = 720,
    height: int = 220,
) -> str:
    """The daily values (None: no value that day) against `threshold`, days in order."""
    left, right, top, bottom = 56, 12, 12, 28
    inner_w, inner_h = width - left - right, height - top - bottom
    known = [v for _, v in points if v is not None]
    lowest = min([*known, threshold.value])
    highest = max([*known, threshold.value])
    pad = max((highest - lowest) * Decimal("0.15"), Decimal("0.005"))
    y_min, y_max = max(lowest - pad, Decimal(0)), highest + pad
    span = y_max - y_min
    count = max(len(points) - 1, 1)

    def x(i: int) -> float:
        return left + inner_w * i / count

    def y(v: Decimal) -> float:
        return float(top + inner_h * (1 - (v - y_min) / span))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">',
        f"<title>{escape(label)}</title>",
        f'<rect x="{left}" y="{top}" width="{inner_w}" height="{inner_h}" fill="#fafafa" '
        'stroke="#bdbdbd"/>',
    ]
    for tick in (y_min, (y_min + y_max) / 2, y_max):
        parts.append(
            f'<text x="{left - 4}" y="{_num(y(tick) + 4)}" text-anchor="end" '
            f'font-size="10">{escape(_percent(tick.quantize(Decimal("0.0001"))))}</text>'
        )
    runs: list[list[str]] = [[]]
    for i, (_, v) in enumerate(points):
        if v is None:
            runs.append([])
        else:
            runs[-1].append(f"{_num(x(i))},{_num(y(v))}")
    for run in runs:
        if len(run) == 1:
            cx, cy = run[0].split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="1.5" fill="#1565c0"/>')
        elif run:
            parts.append(
                f'<polyline points="{" ".join(run)}" fill="none" stroke="#1565c0" '
                'stroke-width="1.5"/>'
            )
    ty = _num(y(threshold.value))
    parts.append(
        f'<line x1="{left}" y1="{ty}" x2="{left + inner_w}" y2="{ty}" stroke="#c62828" '
        'stroke-dasharray="6 4" stroke-width="1.2"/>'
    )
    sign = "≤" if threshold.upper else "≥"
    parts.append(
        f'<text x="{left + inner_w - 4}" y="{_num(float(ty) - 4)}" text-anchor="end" '
        f'font-size="10" fill="#c62828">{sign} {escape(_percent(threshold.value))}</text>'
    )
    for i, (day, v) in enumerate(points):
        if v is not None and threshold.breached(v):
            parts.append(
                f'<circle cx="{_num(x(i))}" cy="{_num(y(v))}" r="3.5" fill="#c62828">'
                f"<title>{day.isoformat()}: {escape(_percent(v))}</title></circle>"
            )
    if points:
        first, last = points[0][0].isoformat(), points[-1][0].isoformat()
        base = height - 8
        parts.append(f'<text x="{left}" y="{base}" font-size="10">{first}</text>')
        parts.append(
            f'<text x="{left + inner_w}" y="{base}" text-anchor="end" font-size="10">{last}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked(
    rows: Sequence[tuple[str, Mapping[str, int]]],
    labels: Mapping[str, str],
    *,
    title: str,
    width: int = 720,
) -> str:
    """One bar per row (its label, its count per status), statuses in `STATUS_COLOURS`
    order, with a legend naming each status by `labels`."""
    left, bar, gap, legend = 150, 18, 8, 24
    inner_w = width - left - 40
    height = legend + len(rows) * (bar + gap) + gap
    most = max([sum(c.values()) for _, c in rows] + [1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">',
        f"<title>{escape(title)}</title>",
    ]
    lx = left
    for status, colour in STATUS_COLOURS.items():
        name = escape(labels.get(status, status))
        parts.append(f'<rect x="{lx}" y="4" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 14}" y="13" font-size="10">{name}</text>')
        lx += 14 + 7 * len(labels.get(status, status)) + 16
    for r, (name, counts) in enumerate(rows):
        top = legend + gap + r * (bar + gap)
        parts.append(
            f'<text x="{left - 6}" y="{top + 13}" text-anchor="end" font-size="11">'
            f"{escape(name)}</text>"
        )
        at = float(left)
        for status, colour in STATUS_COLOURS.items():
            n = counts.get(status, 0)
            if not n:
                continue
            w = inner_w * n / most
            parts.append(
                f'<rect x="{_num(at)}" y="{top}" width="{_num(w)}" height="{bar}" '
                f'fill="{colour}"><title>{escape(labels.get(status, status))}: {n}</title></rect>'
            )
            if w >= 14:
                parts.append(
                    f'<text x="{_num(at + w / 2)}" y="{top + 13}" text-anchor="middle" '
                    f'font-size="10" fill="#fff">{n}</text>'
                )
            at += w
        parts.append(
            f'<text x="{_num(at + 4)}" y="{top + 13}" font-size="10">{sum(counts.values())}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def ratios(
    measures: Sequence[tuple[str, Decimal | None, Decimal]],
    *,
    title: str,
    width: int = 720,
) -> str:
    """One horizontal bar per ratio (its name, its value or None, its minimum): the
    minimum a dashed mark on the bar's track, a bar under it red, one at or over it green."""
    left, bar, gap, right = 260, 16, 10, 60
    inner_w = width - left - right
    height = gap + len(measures) * (bar + gap)
    scale = max([v for _, v, _ in measures if v is not None] + [m for _, _, m in measures])
    scale = scale * Decimal("1.25") if scale > 0 else Decimal(1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">',
        f"<title>{escape(title)}</title>",
    ]
    for r, (name, value, minimum) in enumerate(measures):
        top = gap + r * (bar + gap)
        parts.append(
            f'<text x="{left - 6}" y="{top + 12}" text-anchor="end" font-size="10">'
            f"{escape(name)}</text>"
            f'<rect x="{left}" y="{top}" width="{inner_w}" height="{bar}" fill="#eeeeee"/>'
        )
        if value is not None:
            colour = STATUS_COLOURS["fail" if value < minimum else "pass"]
            w = inner_w * min(value / scale, Decimal(1))
            parts.append(
                f'<rect x="{left}" y="{top}" width="{_num(w)}" height="{bar}" fill="{colour}">'
                f"<title>{escape(name)}: {_percent(value)}</title></rect>"
            )
        x = left + inner_w * minimum / scale
        parts.append(
            f'<line x1="{_num(x)}" y1="{top - 3}" x2="{_num(x)}" y2="{top + bar + 3}" '
            f'stroke="#212121" stroke-dasharray="3,2"/>'
            f'<text x="{left + inner_w + 4}" y="{top + 12}" font-size="10">'
            f"{'n/a' if value is None else _percent(value.quantize(Decimal('0.0001')))} "
            f"/ {_percent(minimum)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
