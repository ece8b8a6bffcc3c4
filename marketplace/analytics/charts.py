"""Figures into chart rows for the `_charts.html` macros: (label, numeric value, text shown) per point,
labels and numbers in the viewer's language. Also the geometry of the line chart, so the macro only draws.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask_babel import format_date, format_decimal
from flask_babel import gettext as _

from marketplace.countries import country_name
from marketplace.i18n import format_money

MAX_DAILY_POINTS = 120  # longer daily series are shown per month


def number(value) -> str:
    return format_decimal(value) if value is not None else "–"


def percent(value: Decimal | None) -> str:
    return _("%(value)s %%", value=format_decimal(value)) if value is not None else "–"


def _label(key: str) -> str:
    """'2027-03-01' -> 'Mar 1, 2027'; '2027-03' -> 'Mar 2027'; '2027' stays."""
    parts = key.split("-")
    if len(parts) == 3:
        return format_date(date.fromisoformat(key), "medium")
    if len(parts) == 2:
        return format_date(date(int(parts[0]), int(parts[1]), 1), "MMM y")
    return key


def time_rows(series: list[tuple[str, int]], *, fill: bool = True) -> list[tuple[str, int, str]]:
    """A dated series as chart rows; daily gaps filled with zeros, long daily series folded into months."""
    if not series:
        return []
    if len(series[0][0]) == 10 and fill:
        first, last = date.fromisoformat(series[0][0]), date.fromisoformat(series[-1][0])
        if (last - first).days + 1 > MAX_DAILY_POINTS:
            months: dict[str, int] = {}
            for key, value in series:
                months[key[:7]] = months.get(key[:7], 0) + value
            series = sorted(months.items())
        else:
            values = dict(series)
            series = [((first + timedelta(days=n)).isoformat(), values.get((first + timedelta(days=n)).isoformat(), 0))
                      for n in range((last - first).days + 1)]
    return [(_label(key), value, number(value)) for key, value in series]


def cumulative_rows(series: list[tuple[str, int]]) -> list[tuple[str, int, str]]:
    running, rows = 0, []
    for label, value, _shown in time_rows(series):
        running += value
        rows.append((label, running, number(running)))
    return rows


def country_rows(countries: list[dict], limit: int = 15) -> list[tuple[str, int, str]]:
    rows = [(country_name(c["country"]), c["solvers"],
             _("%(solvers)s (early-career: %(early)s)", solvers=number(c["solvers"]), early=number(c["early_career"])))
            for c in countries[:limit]]
    rest = countries[limit:]
    if rest:
        total = sum(c["solvers"] for c in rest)
        rows.append((_("%(num)d other countries", num=len(rest)), total, number(total)))
    return rows


def money_rows(currency_figures: dict) -> list[tuple[str, int, str]]:
    rows = []
    for key, label in (("benchmark", _("Benchmark (going rate)")), ("advertised", _("Award advertised")),
                       ("awarded", _("Awarded")), ("paid", _("Paid out"))):
        value = currency_figures[key]
        rows.append((label, value.minor, format_money(value.amount, value.currency)))
    return rows


def share_rows(pairs: list[tuple[str, Decimal | None]]) -> list[tuple[str, float, str]]:
    # Chart geometry only: the value sets a bar length, the text shown is the exact Decimal.
    return [(label, float(value or 0), percent(value)) for label, value in pairs]


def reviewer_rows(by_reviewer: list[dict]) -> list[tuple[str, float, str]]:
    return [(r["name"], r["submitted"] / r["assigned"] if r["assigned"] else 0.0,
             _("%(done)d of %(assigned)d submitted", done=r["submitted"], assigned=r["assigned"]))
            for r in by_reviewer]


def line_geometry(rows, width: int = 640, height: int = 240) -> dict:
    """Coordinates for a line chart of rows [(label, value, shown)]: plot area, points, y ticks, x labels."""
    left, right, top, bottom = 56, 16, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [row[1] for row in rows]
    high = max(values, default=0) or 1
    step = plot_w / (len(rows) - 1) if len(rows) > 1 else 0
    points = [{"x": round(left + (i * step if len(rows) > 1 else plot_w / 2), 1),
               "y": round(top + plot_h - (value / high) * plot_h, 1), "label": label, "shown": shown}
              for i, (label, value, shown) in enumerate(rows)]
    ticks = [{"y": round(top + plot_h - f * plot_h, 1),
              "text": number(round(high * f, 1) if high * f % 1 else int(high * f))} for f in (0, 0.5, 1)]
    picks = sorted({0, len(rows) // 2, len(rows) - 1}) if rows else []
    x_labels = [{"x": points[i]["x"], "text": points[i]["label"]} for i in picks]
    highest = max(range(len(rows)), key=lambda i: rows[i][1]) if rows else None
    return {"width": width, "height": height, "left": left, "top": top, "plot_w": plot_w, "plot_h": plot_h,
            "bottom": top + plot_h, "points": points, "ticks": ticks, "x_labels": x_labels,
            "polyline": " ".join(f"{p['x']},{p['y']}" for p in points),
            "highest": rows[highest] if highest is not None else None}
