"""Pages of the district view: the dashboard, the base map (底数图) with its layers, and the
coverage gaps with the ranked candidates for the next station (and their export). District
admins see everything, area admins their areas; a bad parameter is said in both languages and
the page falls back to its default, never a 500."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import h3
from django.conf import settings
from django.contrib import messages
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from warmstation.accounts.pages import staff_page
from warmstation.areas.models import Area
from warmstation.areas.scoping import area_in_scope, scope_paths
from warmstation.core import geo
from warmstation.core.errors import InvalidInput
from warmstation.core.exports import export_response
from warmstation.core.suppression import MIN_GROUP, hidden
from warmstation.core.time import LOCAL
from warmstation.dashboard import basemap, coverage, selectors
from warmstation.dashboard.models import Figure, FigureRefresh
from warmstation.dashboard.tasks import refresh_figures

VIEWERS = selectors.VIEWERS
GRAINS = {"week": Figure.Grain.WEEK, "month": Figure.Grain.MONTH}


def _refuse(request, error: InvalidInput) -> None:
    messages.error(request, error.message(request.LANGUAGE_CODE))


def _static(name: str) -> str | None:
    """The hashed URL of a static file, or None when it is missing (node_modules not installed
    on this machine): the page then shows its tables without charts instead of failing."""
    try:
        return staticfiles_storage.url(name)
    except ValueError:
        return None


def _map_context() -> dict[str, Any]:
    return {"tile_url": settings.MAP_TILE_URL, "tile_attribution": settings.MAP_TILE_ATTRIBUTION}


def _on_tiles(lat: float, lng: float) -> list[float]:
    """[lat, lng] in the tiles' system (MAP_TILE_CRS); WGS-84 without tiles."""
    crs = settings.MAP_TILE_CRS if settings.MAP_TILE_URL else "wgs84"
    tlat, tlng = geo.from_wgs84(lat, lng, crs)
    return [round(tlat, 6), round(tlng, 6)]


def _cell_polygon(cell: str) -> list[list[float]]:
    return [_on_tiles(lat, lng) for lat, lng in h3.cell_to_boundary(cell)]


def _chosen_area(request) -> Area | None:
    code = request.GET.get("area", "")
    if not code:
        return None
    area = Area.objects.filter(code=code[:32]).first() if "\x00" not in code else None
    if area is None or not area_in_scope(request.user, area, VIEWERS):
        _refuse(
            request,
            InvalidInput(
                _("没有这个区域，或不在您的管辖范围内；显示您管辖的全部区域。"),
                code="invalid_area",
                field="area",
            ),
        )
        return None
    return area


CHART_LABELS = {
    "workers": (_("小哥总数"), _("新注册")),
    "stations": (_("到站签到"), _("驿站服务")),
    "members": (_("工会会员总数"), _("新入会")),
    "reports": (_("随手拍上报"), _("已处置"), _("平均处置用时（小时）")),
    "points": (_("发放积分"), _("消费积分")),
    "volunteering": (_("志愿服务时长（小时）"),),
    "housing": (_("预订"), _("入住晚数")),
    "needs": (_("响应率"), _("解决率"), _("满意率"), _("按时答复率")),
}


@staff_page(*VIEWERS)
def dashboard(request):
    grain_key = request.GET.get("grain", "month")
    if grain_key not in GRAINS:
        _refuse(
            request,
            InvalidInput(
                _("时间粒度只能是按周或按月；已按月显示。"), code="invalid_grain", field="grain"
            ),
        )
        grain_key = "month"
    area = _chosen_area(request)
    # A fresh installation whose periodic job has not run yet: ask for the first build once (the
    # task worker runs it; the figures show as soon as it is done), never build it inline in a
    # request — at a city's scale that takes minutes.
    if not FigureRefresh.objects.filter(pk=1).exists() and cache.add(
        "dashboard:first-build", 1, timeout=600
    ):
        refresh_figures.enqueue(full=True)
    data = selectors.dashboard(user=request.user, grain=GRAINS[grain_key], area=area)
    charts = {
        key: {
            **panel["chart"],
            "labels": [str(label) for label in CHART_LABELS[key]],
            "percent": key == "needs",
        }
        for key, panel in data["panels"].items()
        if "chart" in panel
    }
    for key, chart in charts.items():
        fmt = "%Y-%m" if key == "needs" or grain_key == "month" else "%m-%d"
        chart["rows"] = [
            (datetime.fromtimestamp(t, LOCAL).strftime(fmt), [line[i] for line in chart["series"]])
            for i, t in enumerate(chart["x"])
        ]
    ctx = {
        "d": data,
        "p": data["panels"],
        "grain": grain_key,
        "area": area,
        "scope_areas": selectors.scope_areas(request.user),
        "charts": charts,
        "uplot_js": _static("uplot/uPlot.iife.min.js"),
        "uplot_css": _static("uplot/uPlot.min.css"),
        "min_group": MIN_GROUP,
    }
    return render(request, "dashboard/dashboard.html", ctx)


@staff_page(*VIEWERS)
def base_map(request):
    wanted = request.GET.getlist("layer") or list(basemap.DEFAULT_LAYERS)
    unknown = [w for w in wanted if w not in basemap.LAYERS]
    if unknown:
        _refuse(
            request,
            InvalidInput(
                _("未知的图层已忽略；可选：驿站、爱心餐、爱心公寓、群组、小哥密度、区域边界。"),
                code="invalid_layer",
                field="layer",
            ),
        )
        wanted = [w for w in wanted if w in basemap.LAYERS] or list(basemap.DEFAULT_LAYERS)
    paths = scope_paths(request.user, VIEWERS)
    layers = basemap.layers(paths=paths, wanted=wanted, point=_on_tiles, polygon=_cell_polygon)
    return render(
        request,
        "dashboard/map.html",
        {
            **_map_context(),
            "layers": layers,
            "wanted": wanted,
            "choices": [(k, basemap.LAYERS[k]) for k in basemap.LAYERS],
            "map_data": {"layers": layers, "tiles": bool(settings.MAP_TILE_URL)},
            "min_group": MIN_GROUP,
        },
    )


def _coverage_params(request) -> dict[str, Any]:
    g = request.GET
    out: dict[str, Any] = {
        "distance_m": coverage.DISTANCE_DEFAULT,
        "mode": "open_now",
        "signals": coverage.SIGNALS,
        "candidates": coverage.CANDIDATES_DEFAULT,
    }
    raw = g.get("distance", "")
    if raw:
        try:
            value = int(raw)
            if not coverage.DISTANCE_MIN <= value <= coverage.DISTANCE_MAX:
                raise ValueError
            out["distance_m"] = value
        except ValueError:
            _refuse(
                request,
                InvalidInput(
                    _("距离须是 200 至 5000 之间的整数（米）；已按 1000 米计算。"),
                    code="invalid_distance",
                    field="distance",
                ),
            )
    mode = g.get("mode", "open_now")
    if mode in coverage.MODES:
        out["mode"] = mode
    else:
        _refuse(
            request,
            InvalidInput(
                _("驿站条件只能是现在开放、24小时开放或全部驿站；已按现在开放计算。"),
                code="invalid_mode",
                field="mode",
            ),
        )
    signals = g.getlist("signal")
    if signals:
        good = tuple(s for s in coverage.SIGNALS if s in signals)
        if len(good) != len(set(signals)):
            _refuse(
                request,
                InvalidInput(
                    _("未知的数据来源已忽略；可选：注册、签到、随手拍。"),
                    code="invalid_signal",
                    field="signal",
                ),
            )
        out["signals"] = good or coverage.SIGNALS
    raw = g.get("n", "")
    if raw:
        try:
            n = int(raw)
            if not 1 <= n <= coverage.CANDIDATES_MAX:
                raise ValueError
            out["candidates"] = n
        except ValueError:
            _refuse(
                request,
                InvalidInput(
                    _("候选点数须是 1 至 50 之间的整数；已显示 10 个。"),
                    code="invalid_count",
                    field="n",
                ),
            )
    return out


def _shown(n: int) -> int | None:
    return None if hidden(n) else n


@staff_page(*VIEWERS)
def coverage_gaps(request):
    params = _coverage_params(request)
    result = coverage.analyse(paths=scope_paths(request.user, VIEWERS), **params)
    gaps = result.gaps
    names = coverage.area_of_cells([c.cell for c in result.candidates])
    candidates = [
        {
            "rank": c.rank,
            "lat": c.lat,
            "lng": c.lng,
            "cell": c.cell,
            "new": _shown(c.new_workers),
            "cumulative": _shown(c.cumulative),
            "near": names.get(c.cell, ""),
        }
        for c in result.candidates
    ]
    map_data = {
        "tiles": bool(settings.MAP_TILE_URL),
        "distance": result.distance_m,
        "stations": [
            {"name": s["name"], "at": _on_tiles(s["lat"], s["lng"])} for s in result.stations[:5000]
        ],
        "gaps": [{"n": _shown(n), "shape": _cell_polygon(c)} for c, n in gaps[:2000]],
        "covered": [{"shape": _cell_polygon(c)} for c in list(result.covered)[:2000]],
        "candidates": [
            {"rank": c["rank"], "n": c["new"], "at": _on_tiles(c["lat"], c["lng"])}
            for c in candidates
        ],
    }
    total, covered = result.total, result.covered_workers
    query = request.GET.copy()
    query.pop("format", None)
    return render(
        request,
        "dashboard/coverage.html",
        {
            **_map_context(),
            "params": params,
            "candidates": candidates,
            "map_data": map_data,
            "gap_cells": len(gaps),
            "total": _shown(total),
            "covered": _shown(covered),
            "uncovered": _shown(total - covered),
            "share": round(covered / total * 100, 1) if total and not hidden(total) else None,
            "station_count": len(result.stations),
            "signal_choices": SIGNAL_LABELS,
            "mode_choices": MODE_LABELS,
            "query": query.urlencode(),
            "min_group": MIN_GROUP,
        },
    )


SIGNAL_LABELS = [
    ("registrations", _("注册地")),
    ("checkins", _("到站签到")),
    ("reports", _("随手拍")),
]
MODE_LABELS = [("open_now", _("现在开放")), ("h24", _("24小时开放")), ("any", _("全部驿站"))]


@staff_page(*VIEWERS)
def coverage_export(request):
    params = _coverage_params(request)
    result = coverage.analyse(paths=scope_paths(request.user, VIEWERS), **params)
    names = coverage.area_of_cells([c.cell for c in result.candidates])
    header = [
        str(_("排名")),
        str(_("纬度（WGS-84）")),
        str(_("经度（WGS-84）")),
        str(_("h3 网格")),
        str(_("附近社区/村")),
        str(_("新覆盖小哥数")),
        str(_("累计新覆盖")),
        str(_("覆盖距离（米）")),
    ]
    rows = [
        [
            c.rank,
            c.lat,
            c.lng,
            c.cell,
            names.get(c.cell, ""),
            f"<{MIN_GROUP}" if hidden(c.new_workers) else c.new_workers,
            f"<{MIN_GROUP}" if hidden(c.cumulative) else c.cumulative,
            result.distance_m,
        ]
        for c in result.candidates
    ]
    return export_response(
        request,
        fmt=request.GET.get("format", "xlsx"),
        filename="station-candidates",
        header=header,
        rows=rows,
        object_type="dashboard.coverage",
        sheet_title=str(_("驿站选址候选")),
        audit_detail={"distance_m": result.distance_m, "mode": result.mode},
    )
