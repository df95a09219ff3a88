"""Worker and public pages of snap-and-report: the report page (photos uploaded ahead, the
place from the phone or the map, the same-problem prompt), my reports and their steps, a
problem's page, its photos (only for those in scope), and the public map/list of filed
problems without personal data. The command centre's pages are in views_triage.py."""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from warmstation.accounts.models import Role
from warmstation.accounts.pages import staff_page
from warmstation.core import geo
from warmstation.core.errors import ApplicationError, InvalidInput, NotFound, PermissionDenied
from warmstation.core.images import MAX_UPLOAD_BYTES
from warmstation.core.inputs import id_or_404, parse_id
from warmstation.core.pagination import page_list
from warmstation.core.refusals import refused, refused_message
from warmstation.reports import selectors, services, workflow
from warmstation.reports.api import category_by_code, photo_urls
from warmstation.reports.models import Problem
from warmstation.reports.permissions import (
    STAFF,
    access_photo_by_id,
    access_problem_by_id,
    access_public_problem_by_id,
    capacities,
)

# A problem's page admits every role; what each may see of it is access_problem_by_id's call.
EVERYONE = tuple(Role.values)
NEW_FIELDS = ("category", "lat", "lng", "crs", "description", "photos", "address")


def parse_point(data) -> tuple[float, float, str]:
    """lat/lng/crs from a form or a query: a number that is no coordinate is a 422 beside lat."""
    crs = data.get("crs") or "wgs84"
    if crs not in geo.CRS:
        raise InvalidInput(_("坐标系须为 wgs84、gcj02 或 bd09。"), field="crs")
    try:
        lat, lng = float(data.get("lat", "")), float(data.get("lng", ""))
    except (TypeError, ValueError):
        raise InvalidInput(_("请先定位或在地图上选择位置。"), code="place_required",
                           field="lat") from None
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90
            and -180 <= lng <= 180):
        raise InvalidInput(_("位置无效。"), field="lat")
    return lat, lng, crs


def _new_context(request) -> dict:
    return {"categories": selectors.category_list(), "form": request.POST or {},
            "photo_ids": [i for i in request.POST.getlist("photo_ids") if i.isdigit()],
            "radius": services.report_settings().same_radius_m,
            "tile_url": settings.MAP_TILE_URL, "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
            "tile_crs": getattr(settings, "MAP_TILE_CRS", "wgs84")}


@staff_page(Role.WORKER)
def mine(request):
    page = page_list(request, selectors.problem_list(user=request.user, mine=True), per_page=20)
    return render(request, "reports/mine.html", {"problems": page, "page": page})


@staff_page(Role.WORKER)
def new(request):
    ctx = _new_context(request)
    if request.method == "POST":
        p = request.POST
        try:
            category = category_by_code(p.get("category", ""))
            lat, lng, crs = parse_point(p)
            ids = [i for i in map(parse_id, p.getlist("photo_ids")) if i]
            files = request.FILES.getlist("photos")[:services.MAX_PHOTOS]
            for upload in files:  # without JavaScript the photos come with the form
                if (upload.size or 0) > MAX_UPLOAD_BYTES:
                    raise InvalidInput(_("请上传 JPEG、PNG、WebP 或 HEIC 图片（不超过 8 MB）。"),
                                       code="bad_image", field="photos")
            for upload in files:
                ids.append(services.photo_upload(actor=request.user, data=upload.read(),
                                                 request=request).pk)
            problem, created = services.report_create(
                actor=request.user, category=category, lat=lat, lng=lng, crs=crs,
                description=p.get("description", ""), address=p.get("address", ""),
                photo_ids=ids, client_key=p.get("client_key", "").strip(), request=request)
        except ApplicationError as exc:
            if request.headers.get("Accept", "").startswith("application/json"):
                return JsonResponse({"ok": False, "code": exc.code, "field": exc.field,
                                     "message": exc.message(request.LANGUAGE_CODE)},
                                    status=exc.status)
            return refused(request, "reports/new.html", ctx, exc, fields=NEW_FIELDS)
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"ok": True, "id": problem.pk, "number": problem.number,
                                 "url": f"/reports/{problem.pk}/", "created": created},
                                status=201 if created else 200)
        messages.success(request, _("已上报，感谢您！指挥中心受理后会通知您。"))
        return redirect("reports:detail", problem_id=problem.pk)
    return render(request, "reports/new.html", ctx)


@require_POST
@staff_page(Role.WORKER, *STAFF)
def photo_upload(request):
    """The photo uploaded ahead of the form (the page's script): its id and thumbnail."""
    upload = request.FILES.get("image")
    try:
        if upload is None or (upload.size or 0) > MAX_UPLOAD_BYTES:
            raise InvalidInput(_("请上传 JPEG、PNG、WebP 或 HEIC 图片（不超过 8 MB）。"),
                               code="bad_image", field="image")
        photo = services.photo_upload(actor=request.user, data=upload.read(), request=request)
    except ApplicationError as exc:
        return JsonResponse({"ok": False, "code": exc.code,
                             "message": exc.message(request.LANGUAGE_CODE)}, status=exc.status)
    return JsonResponse({"ok": True, "id": photo.pk, "state": photo.state,
                         **photo_urls(photo.pk)}, status=201)


@staff_page(Role.WORKER)
def nearby(request):
    """The same-problem prompt (an htmx partial): open problems of the category near the
    place, each with its photo large enough to judge."""
    try:
        category = category_by_code(request.GET.get("category", ""))
        lat, lng, crs = parse_point(request.GET)
        wlat, wlng = services.point_to_wgs84(lat, lng, crs)
    except ApplicationError:
        return render(request, "reports/partials/_candidates.html", {"candidates": []})
    conf = services.report_settings()
    found = selectors.same_problem_candidates(viewer=request.user, category=category,
                                              lat=wlat, lng=wlng, conf=conf)
    rows = [{"c": c, **(photo_urls(c.photo_id, c.grant) if c.photo_id else {})}
            for c in found]
    return render(request, "reports/partials/_candidates.html",
                  {"candidates": rows, "lat": lat, "lng": lng, "crs": crs,
                   "radius": conf.same_radius_m})


@require_POST
@staff_page(Role.WORKER)
def follow(request, problem_id: int):
    try:
        lat, lng, crs = parse_point(request.POST)
        services.report_follow(actor=request.user, problem_id=problem_id, lat=lat, lng=lng,
                               crs=crs, request=request)
    except (InvalidInput, PermissionDenied) as exc:
        refused_message(request, exc)
        return redirect("reports:new")
    messages.success(request, _("已记录“我也遇到”，您会收到这个问题的处理进展。"))
    return redirect("reports:detail", problem_id=problem_id)


def _detail_context(request, problem: Problem) -> dict:
    from warmstation.appeals.models import Department

    caps = capacities(request.user, problem)
    actions = selectors.available_actions(problem, request.user)
    return {"p": problem, "caps": caps, "actions": actions,
            "timeline": selectors.problem_timeline(problem,
                                                   public_only=not caps & {"triager",
                                                                           "department"}),
            "photos": selectors.problem_photos(problem), "labels": workflow.ACTION_LABELS,
            "reasons": Problem.RejectReason.choices,
            "departments": Department.objects.filter(is_active=True) if "dispatch" in actions
            else [], "now": timezone.now(), "is_staff_view": bool(caps & {"triager",
                                                                        "department"})}


@staff_page(*EVERYONE)
def detail(request, problem_id: int):
    problem = access_problem_by_id(request.user, problem_id)
    return render(request, "reports/detail.html", _detail_context(request, problem))


ACT_FIELDS = ("note", "reason", "department", "into", "photos")


@require_POST
@staff_page(*EVERYONE)
def act(request, problem_id: int):
    from warmstation.appeals.models import Department

    p = request.POST
    dept = Department.objects.filter(code=p.get("department", ""), is_active=True).first() \
        if p.get("department") and "\x00" not in p.get("department", "") else None
    into = p.get("into", "").strip().upper().removeprefix("SP")[-6:]
    try:
        ids = [i for i in map(parse_id, p.getlist("photo_ids")) if i]
        for upload in request.FILES.getlist("photos")[:services.MAX_PHOTOS]:
            if (upload.size or 0) > MAX_UPLOAD_BYTES:
                raise InvalidInput(_("请上传 JPEG、PNG、WebP 或 HEIC 图片（不超过 8 MB）。"),
                                   code="bad_image", field="photos")
            ids.append(services.photo_upload(actor=request.user, data=upload.read(),
                                             kind="after", request=request).pk)
        services.problem_transition(
            actor=request.user, problem_id=problem_id, action=p.get("action", ""),
            note=p.get("note", ""), reason=p.get("reason", ""), department=dept,
            photo_ids=ids, into_id=parse_id(into), request=request)
    except PermissionDenied as exc:
        refused_message(request, exc)
        return redirect("reports:detail", problem_id=problem_id)
    except ApplicationError as exc:
        problem = access_problem_by_id(request.user, problem_id)
        return refused(request, "reports/detail.html",
                       {**_detail_context(request, problem), "form": p.get("action", "")},
                       exc, fields=ACT_FIELDS)
    messages.success(request, _("已提交。"))
    try:
        access_problem_by_id(request.user, problem_id)
    except NotFound:
        return redirect("reports:queue")
    return redirect("reports:detail", problem_id=problem_id)


def _serve(request, photo_id: int, *, thumb: bool):
    photo = services.photo_ready(
        access_photo_by_id(request.user, photo_id, grant=request.GET.get("g", "")[:200]))
    field = photo.thumb if thumb else photo.file
    if not field:  # failed: the upload passed the header check but could not be decoded
        raise NotFound()
    try:
        handle = field.open("rb")
    except OSError:
        raise NotFound() from None
    response = FileResponse(handle, content_type="image/jpeg")
    public = photo.is_public and photo.problem is not None and \
        photo.problem.status in workflow.PUBLIC
    response["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def photo(request, photo_id: int):
    """A photo: to its uploader, to whoever sees its problem, to the holder of a grant (the
    same-problem prompt); a photo staff made public of a public problem to anyone."""
    return _serve(request, photo_id, thumb=False)


def photo_thumb(request, photo_id: int):
    return _serve(request, photo_id, thumb=True)


def public_list(request):
    """Filed problems on a map and a list, for anyone: category, place, status, steps —
    never who reported them."""
    category = request.GET.get("category", "")[:32] or None
    page = page_list(request, selectors.public_problem_list(category=category), per_page=30)
    return render(request, "reports/public.html", {
        "problems": page, "page": page, "categories": selectors.category_list(),
        "category": category or "", "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION})


def public_detail(request, problem_id: int):
    problem = access_public_problem_by_id(id_or_404(problem_id))
    return render(request, "reports/public_detail.html", {
        "p": problem, "timeline": selectors.problem_timeline(problem, public_only=True),
        "photos": selectors.problem_photos(problem, public_only=True),
        "labels": workflow.ACTION_LABELS})


def parse_boxes(raw: str) -> list[tuple[float, float, float, float]]:
    """"x,y,w,h;x,y,w,h" (fractions of the picture, from the blur tool) → boxes."""
    boxes = []
    for part in (raw or "").split(";"):
        if not part.strip():
            continue
        try:
            x, y, bw, bh = (float(v) for v in part.split(","))
        except ValueError:
            raise InvalidInput(_("模糊区域格式有误。"), field="boxes") from None
        if not all(math.isfinite(v) and 0 <= v <= 1 for v in (x, y, bw, bh)):
            raise InvalidInput(_("模糊区域格式有误。"), field="boxes")
        boxes.append((x, y, bw, bh))
    return boxes


@require_POST
@staff_page(*STAFF)
def photo_publish(request, photo_id: int):
    """The staff blur tool: blur the marked boxes (faces, plates) and make the photo public, or
    take it back."""
    item = access_photo_by_id(request.user, photo_id)  # NotFound: the 404 page
    try:
        services.photo_publish(actor=request.user, photo_id=item.pk,
                               boxes=parse_boxes(request.POST.get("boxes", "")[:2000]),
                               public=request.POST.get("public") == "1", request=request)
    except ApplicationError as exc:
        refused_message(request, exc)
    else:
        messages.success(request, _("照片已更新。"))
    if item.problem_id is None:
        return redirect("reports:queue")
    return redirect("reports:detail", problem_id=item.problem_id)
