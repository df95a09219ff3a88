"""The dashboard's reads: every panel from the roll-ups (Figure) of the areas the viewer covers,
a handful of small GROUP BYs whatever the size of the tables behind them; stations counted live
(a few hundred thousand rows at most); needs from appeals' own monthly roll-up (rates.board).
Every figure resting on fewer than MIN_GROUP people or records is suppressed (None)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from warmstation.accounts.models import Brand, Role, WorkerProfile
from warmstation.appeals import rates
from warmstation.areas.models import Area
from warmstation.areas.scoping import scope_paths
from warmstation.core.suppression import MIN_GROUP, hidden, protect
from warmstation.core.time import LOCAL
from warmstation.dashboard.models import Figure, FigureRefresh
from warmstation.stations.models import Station

VIEWERS = (Role.DISTRICT_ADMIN, Role.AREA_ADMIN)
# A breakdown table lists this many rows, largest first (a country has hundreds of streets:
# the area selector narrows to one of them for its own breakdown).
BREAKDOWN_ROWS = 15
WEEKS = 26
MONTHS = 12
# Stocks (counted since the beginning): the rest are flows over the chosen window.
STOCKS = ("workers", "members")
FLOWS = (
    "visits",
    "reports",
    "resolved",
    "resolve_s",
    "points_in",
    "points_out",
    "vol_minutes",
    "bookings",
    "nights",
)


def scope_areas(user: Any) -> list[Area]:
    """The areas whose figures the viewer sees: those of their district or area admin grants
    (a grant covers everything below its area)."""
    paths = scope_paths(user, VIEWERS)
    return list(Area.objects.filter(path__in=paths).order_by("path"))


def periods(grain: str, today: date) -> list[date]:
    """The periods the charts show, oldest first: the last WEEKS weeks or MONTHS months."""
    if grain == Figure.Grain.WEEK:
        monday = today - timedelta(days=today.weekday())
        return [monday - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]
    out, y, m = [], today.year, today.month
    for _ in range(MONTHS):
        out.append(date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def _shown(value: int, n: int) -> int | None:
    return None if hidden(n) else value


@dataclass
class Scope:
    areas: list[Area]
    grain: str
    periods: list[date]
    ids: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.ids = [a.pk for a in self.areas]


def _children(areas: list[Area]) -> list[Area]:
    kids = list(Area.objects.filter(parent__in=areas).order_by("path"))
    have = {k.parent_id for k in kids}
    # A community (no areas below it) is its own breakdown.
    return sorted(kids + [a for a in areas if a.pk not in have], key=lambda a: a.path)


def _series_rows(scope: Scope) -> dict[tuple[str, str], dict[date, tuple[int, int]]]:
    """(metric, dim) → period → (value, n) over the chart's periods, summed over the viewer's
    areas: ONE query."""
    out: dict[tuple[str, str], dict[date, tuple[int, int]]] = defaultdict(dict)
    rows = (
        Figure.objects.filter(
            area_id__in=scope.ids,
            grain=scope.grain,
            period__gte=scope.periods[0],
            period__lte=scope.periods[-1],
        )
        .values("metric", "dim", "period")
        .annotate(v=Sum("value"), c=Sum("n"))
        .order_by()
    )
    for r in rows:
        out[(r["metric"], r["dim"])][r["period"]] = (r["v"] or 0, r["c"] or 0)
    return out


def _stock_rows(scope: Scope, *, until: date) -> dict[tuple[str, str], tuple[int, int]]:
    """(metric, dim) → (value, n) of the stocks since the beginning, up to `until`."""
    rows = (
        Figure.objects.filter(
            area_id__in=scope.ids, grain=Figure.Grain.MONTH, metric__in=STOCKS, period__lte=until
        )
        .values("metric", "dim")
        .annotate(v=Sum("value"), c=Sum("n"))
        .order_by()
    )
    return {(r["metric"], r["dim"]): (r["v"] or 0, r["c"] or 0) for r in rows}


def _stock_before(
    scope: Scope,
    stocks: dict[tuple[str, str], tuple[int, int]],
    series: dict[tuple[str, str], dict[date, tuple[int, int]]],
) -> dict[str, int]:
    """Each stock's value before the chart's first period (the base of its cumulative line):
    the total to date less what the chart's periods add (weeks are kept for a year only)."""
    return {
        m: stocks.get((m, ""), (0, 0))[0] - sum(v for v, _ in series.get((m, ""), {}).values())
        for m in STOCKS
    }


def _children_rows(children: list[Area], scope: Scope) -> dict[tuple[int, str], tuple[int, int]]:
    """(area id, metric) → (value, n) per child area: stocks since the beginning, flows over
    the chart's window."""
    ids = [c.pk for c in children]
    start = (
        scope.periods[0] if scope.grain == Figure.Grain.MONTH else scope.periods[0].replace(day=1)
    )
    q = Q(metric__in=STOCKS) | Q(metric__in=FLOWS, period__gte=start)
    rows = (
        Figure.objects.filter(q, area_id__in=ids, grain=Figure.Grain.MONTH, dim="")
        .values("area_id", "metric")
        .annotate(v=Sum("value"), c=Sum("n"))
        .order_by()
    )
    return {(r["area_id"], r["metric"]): (r["v"] or 0, r["c"] or 0) for r in rows}


def _timestamp(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), tzinfo=LOCAL).timestamp())


def _line(
    rows: dict[date, tuple[int, int]],
    scope: Scope,
    *,
    scale: float = 1.0,
    mean_of: dict[date, tuple[int, int]] | None = None,
) -> list[float | None]:
    """One chart line over the periods, a suppressed point as None (a gap). With `mean_of`,
    the value is rows' value ÷ mean_of's value (e.g. seconds to resolve ÷ reports resolved)."""
    out: list[float | None] = []
    for p in scope.periods:
        v, n = rows.get(p, (0, 0))
        if mean_of is not None:
            d, dn = mean_of.get(p, (0, 0))
            out.append(None if not d or hidden(dn) else round(v / d * scale, 1))
        else:
            out.append(None if hidden(n) else round(v * scale, 1))
    return out


def _breakdown(
    keys: list[tuple[str, str]], counts: dict[str, tuple[int, int]], total_n: int | None
) -> list[dict[str, Any]]:
    """Rows (key, label, value) with small groups hidden, complemented so that no hidden group
    can be had by subtracting the shown ones from a shown total."""
    ns = {k: counts.get(k, (0, 0))[1] for k, _ in keys}
    shown = protect(ns, total=total_n)
    rows: list[dict[str, Any]] = [
        {
            "key": k,
            "label": label,
            "value": counts.get(k, (0, 0))[0] if shown[k] is not None else None,
            "n": shown[k],
        }
        for k, label in keys
    ]
    # Largest first (the page lists the first BREAKDOWN_ROWS; hidden ones after the shown).
    rows.sort(key=lambda r: -1 if r["value"] is None else -r["value"] - 1)
    return rows


def dashboard(
    *,
    user: Any,
    grain: str = Figure.Grain.MONTH,
    area: Area | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Every panel of the dashboard for `user` (or for `area`, one of the areas they cover)."""
    today = today or timezone.localdate()
    areas = [area] if area is not None else scope_areas(user)
    scope = Scope(areas=areas, grain=grain, periods=periods(grain, today))
    series = _series_rows(scope)
    stocks = _stock_rows(scope, until=today)
    base = _stock_before(scope, stocks, series)
    children = _children(areas) if areas else []
    per_child = _children_rows(children, scope)
    child_keys = [(str(c.pk), c.name_zh) for c in children]

    def child_counts(metric: str) -> dict[str, tuple[int, int]]:
        return {str(c.pk): per_child.get((c.pk, metric), (0, 0)) for c in children}

    def s(metric: str, dim: str = "") -> dict[date, tuple[int, int]]:
        return series.get((metric, dim), {})

    def window_total(metric: str, dim: str = "") -> tuple[int, int]:
        rows = s(metric, dim).values()
        return sum(v for v, _ in rows), sum(n for _, n in rows)

    def cumulative(metric: str) -> list[int | None]:
        run, out = base.get(metric, 0), []
        for p in scope.periods:
            run += s(metric).get(p, (0, 0))[0]
            out.append(None if hidden(run) else run)
        return out

    def stock(metric: str, dim: str = "") -> int | None:
        v, n = stocks.get((metric, dim), (0, 0))
        return _shown(v, n)

    brands = dict(Brand.objects.values_list("code", "name_zh"))
    brand_keys = sorted({d for (m, d) in stocks if m == "workers" and d.startswith("brand_code:")})
    job_labels = dict(WorkerProfile.JobType.choices)
    job_keys = sorted({d for (m, d) in stocks if m == "workers" and d.startswith("job:")})
    workers_n = stocks.get(("workers", ""), (0, 0))[1]
    members_n = stocks.get(("members", ""), (0, 0))[1]
    stock_counts = {d: v for (m, d), v in stocks.items() if m == "workers"}

    x = [_timestamp(p) for p in scope.periods]
    visits_total = window_total("visits")
    reports_total, resolved_total = window_total("reports"), window_total("resolved")
    resolve_s = window_total("resolve_s")
    pin, pout = window_total("points_in"), window_total("points_out")
    vol = window_total("vol_minutes")
    bookings, nights = window_total("bookings"), window_total("nights")

    panels: dict[str, Any] = {
        "workers": {
            "total": stock("workers"),
            "by_area": _breakdown(
                child_keys, child_counts("workers"), _shown(workers_n, workers_n)
            ),
            "by_brand": _breakdown(
                [(k, brands.get(k.split(":", 1)[1], k.split(":", 1)[1])) for k in brand_keys],
                stock_counts,
                _shown(workers_n, workers_n),
            ),
            "by_job": _breakdown(
                [(k, str(job_labels.get(k.split(":", 1)[1], k))) for k in job_keys],
                stock_counts,
                _shown(workers_n, workers_n),
            ),
            "chart": {"x": x, "series": [cumulative("workers"), _line(s("workers"), scope)]},
        },
        "stations": {
            **station_figures(areas),
            "visits": _shown(*visits_total),
            "checkins": _shown(*window_total("visits", "kind:check_in")),
            "services": _shown(*window_total("visits", "kind:service")),
            "by_area": _breakdown(
                child_keys, child_counts("visits"), _shown(visits_total[1], visits_total[1])
            ),
            "chart": {
                "x": x,
                "series": [
                    _line(s("visits", "kind:check_in"), scope),
                    _line(s("visits", "kind:service"), scope),
                ],
            },
        },
        "members": {
            "total": stock("members"),
            "by_area": _breakdown(
                child_keys, child_counts("members"), _shown(members_n, members_n)
            ),
            "chart": {"x": x, "series": [cumulative("members"), _line(s("members"), scope)]},
        },
        "reports": {
            "count": _shown(*reports_total),
            "resolved": _shown(*resolved_total),
            "mean_hours": None
            if not resolved_total[0] or hidden(resolved_total[1])
            else round(resolve_s[0] / resolved_total[0] / 3600, 1),
            "by_area": _breakdown(
                child_keys, child_counts("reports"), _shown(reports_total[1], reports_total[1])
            ),
            "chart": {
                "x": x,
                "series": [
                    _line(s("reports"), scope),
                    _line(s("resolved"), scope),
                    _line(s("resolve_s"), scope, scale=1 / 3600, mean_of=s("resolved")),
                ],
            },
        },
        "points": {
            "issued": _shown(*pin),
            "spent": _shown(*pout),
            "by_area": _breakdown(child_keys, child_counts("points_in"), _shown(pin[1], pin[1])),
            "chart": {
                "x": x,
                "series": [_line(s("points_in"), scope), _line(s("points_out"), scope)],
            },
        },
        "volunteering": {
            "hours": None if hidden(vol[1]) else round(vol[0] / 60, 1),
            "by_area": [
                {**r, "value": None if r["value"] is None else round(r["value"] / 60, 1)}
                for r in _breakdown(child_keys, child_counts("vol_minutes"), _shown(vol[1], vol[1]))
            ],
            "chart": {"x": x, "series": [_line(s("vol_minutes"), scope, scale=1 / 60)]},
        },
        "housing": {
            "bookings": _shown(*bookings),
            "nights": _shown(*nights),
            "by_area": _breakdown(child_keys, child_counts("nights"), _shown(nights[1], nights[1])),
            "chart": {"x": x, "series": [_line(s("bookings"), scope), _line(s("nights"), scope)]},
        },
    }
    panels["needs"] = needs_figures(user=user, month=today.replace(day=1))
    state = FigureRefresh.objects.filter(pk=1).first()
    return {
        "grain": grain,
        "periods": scope.periods,
        "areas": areas,
        "panels": panels,
        "min_group": MIN_GROUP,
        "refreshed_at": state.refreshed_at if state else None,
    }


def station_figures(areas: list[Area]) -> dict[str, Any]:
    """Stations counted live (one aggregate): active, open 24 hours, closed for now."""
    q = Q(pk__in=[])
    for a in areas:
        q |= Q(area__path__startswith=a.path)
    agg = Station.objects.filter(q, is_active=True).aggregate(
        total=Count("id"),
        h24=Count("id", filter=Q(is_24h=True, temporarily_closed=False)),
        closed=Count("id", filter=Q(temporarily_closed=True)),
    )
    return {"count": agg["total"], "h24": agg["h24"], "closed": agg["closed"]}


def _rate_shown(row: dict[str, Any]) -> dict[str, Any]:
    """A rates row with each rate hidden when its denominator rests on too few cases."""
    out = dict(row)
    for rate, denominator in (
        ("response", "dispatched"),
        ("resolution", "rated"),
        ("satisfaction", "rated"),
        ("on_time", "answered"),
    ):
        if hidden(row.get(denominator) or 0):
            out[rate] = None
    if hidden(row.get("cases") or 0):
        out["cases"] = None
        out["score"] = None
    return out


def needs_figures(*, user: Any, month: date) -> dict[str, Any]:
    """The three rates and the on-time rate, in total, per department and per street, this
    month, and their monthly trend — appeals' own board (its MonthlyStat roll-up), suppressed."""
    b = rates.board(user=user, month=month)
    trend = b["trend"]
    return {
        "month": month,
        "totals": _rate_shown(b["totals"]),
        "departments": [_rate_shown(r) for r in b["departments"]],
        "streets": [_rate_shown(r) for r in b["streets"]],
        "chart": {
            "x": [_timestamp(t["month"]) for t in trend],
            "series": [
                [None if (r := _rate_shown(t))[k] is None else round(r[k] * 100, 1) for t in trend]
                for k in ("response", "resolution", "satisfaction", "on_time")
            ],
        },
    }
