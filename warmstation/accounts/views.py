"""Sign-in pages (workers by SMS code, staff by password + TOTP), home pages, registration,
my data, and the area admin's list of workers."""

import json

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from warmstation.accounts import services
from warmstation.accounts.launcher import worker_tasks
from warmstation.accounts.middleware import SESSION_TERMS_DUE
from warmstation.accounts.models import STAFF_ROLES, AuthLevel, Brand, Role, WorkerProfile
from warmstation.accounts.pages import staff_page
from warmstation.accounts.selectors import access_worker_by_id, worker_list
from warmstation.accounts.sessions import session_sign_in
from warmstation.areas.models import Area
from warmstation.areas.scoping import managed_area_list
from warmstation.areas.selectors import area_card
from warmstation.core.audit import audit_record
from warmstation.core.errors import ApplicationError
from warmstation.core.inputs import normalise_mobile, parse_id
from warmstation.core.masking import mask_id_number
from warmstation.core.pagination import page_list
from warmstation.core.refusals import refused


def _next(request, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return default


def worker_login(request):
    """Step 1: mobile → code sent. Step 2: code → signed in."""
    ctx = {"next": _next(request), "step": "mobile", "mobile": ""}
    if request.method == "POST":
        mobile = request.POST.get("mobile", "")
        ctx["mobile"] = mobile
        try:
            if request.POST.get("action") == "verify":
                ctx["step"] = "code"
                user = services.sms_code_verify(mobile=mobile, code=request.POST.get("code", ""),
                                                request=request)
                session_sign_in(request, user, AuthLevel.CODE)
                profile = getattr(user, "worker_profile", None)
                if profile is not None and profile.terms_due:
                    # Imported, never agreed: the consent comes first (TermsDueMiddleware).
                    request.session[SESSION_TERMS_DUE] = True
                    return redirect(f"/register/?next={ctx['next']}")
                if profile is None and not user.has_role(Role.RESIDENT):
                    return redirect(f"/register/?next={ctx['next']}")
                return redirect(ctx["next"])
            # A resend from the code step that is refused (within 60 s, the day's cap) stays on
            # the code step: the code already sent is still good and can still be typed.
            if request.POST.get("from") == "code":
                ctx["step"] = "code"
                ctx["mobile"] = normalise_mobile(mobile)
            services.sms_code_request(mobile=mobile, request=request)
            ctx["step"] = "code"
            ctx["mobile"] = normalise_mobile(mobile)
            ctx["sent"] = True
            ctx["demo_console"] = settings.SMS_BACKEND == "console"
        except ApplicationError as exc:
            if exc.code in ("code_void", "code_invalid"):
                ctx["step"] = "mobile"
            return refused(request, "accounts/worker_login.html", ctx, exc,
                           fields=("code",) if ctx["step"] == "code" else ("mobile",))
    return render(request, "accounts/worker_login.html", ctx)


def staff_login(request):
    """Password; then, for admin roles, TOTP (with enrolment the first time)."""
    ctx = {"next": _next(request)}
    user = request.user
    if user.is_authenticated and user.auth_level >= AuthLevel.PASSWORD and \
            services.needs_mfa(user) and user.auth_level < AuthLevel.MFA:
        return redirect(f"/staff/mfa/?next={ctx['next']}")
    if request.method == "POST":
        ctx["mobile"] = request.POST.get("mobile", "")
        try:
            user = services.staff_password_check(mobile=ctx["mobile"],
                                                 password=request.POST.get("password", ""),
                                                 request=request)
        except ApplicationError as exc:
            return refused(request, "accounts/staff_login.html", ctx, exc,
                           fields=("mobile", "password"))
        session_sign_in(request, user, AuthLevel.PASSWORD)
        if services.needs_mfa(user):
            return redirect(f"/staff/mfa/?next={ctx['next']}")
        return redirect(ctx["next"])
    return render(request, "accounts/staff_login.html", ctx)


def staff_mfa(request):
    user = request.user
    if not user.is_authenticated or user.auth_level < AuthLevel.PASSWORD:
        return redirect("/staff/login/")
    ctx = {"next": _next(request)}
    if not user.totp_confirmed_at:
        uri = services.totp_enrolment_start(user=user)
        ctx["enrol"] = True
        ctx["secret"] = user.totp_secret
        ctx["qr_svg"] = segno.make(uri, error="m").svg_inline(scale=4)
    if request.method == "POST":
        try:
            services.totp_verify(user=user, code=request.POST.get("code", ""), request=request)
        except ApplicationError as exc:
            if exc.code == "account_locked":
                logout(request)
            return refused(request, "accounts/staff_mfa.html", ctx, exc, fields=("totp",))
        session_sign_in(request, user, AuthLevel.MFA)
        return redirect(ctx["next"])
    return render(request, "accounts/staff_mfa.html", ctx)


@require_POST
def sign_out(request):
    if request.user.is_authenticated:
        audit_record("auth.logout", actor=request.user, request=request)
    logout(request)
    return redirect("/")


def home(request):
    user = request.user
    if not user.is_authenticated:
        return render(request, "accounts/landing.html")
    profile = WorkerProfile.objects.filter(user=user).prefetch_related("areas").first()
    if profile is None and user.auth_level == AuthLevel.CODE and not user.has_role(Role.RESIDENT):
        return redirect("/register/")
    grants = user.active_grants()
    staff_grants = [g for g in grants if g.role in STAFF_ROLES]
    card_areas = list(profile.areas.all()) if profile else []
    card_areas += [g.area for g in grants if g.role == Role.RESIDENT and g.area not in card_areas]
    cards = [(a, area_card(a)) for a in card_areas]
    managed = managed_area_list(user).count() if user.has_role(Role.AREA_ADMIN,
                                                               Role.DISTRICT_ADMIN) else 0
    inactive = [g for g in user.grants.select_related("area", "department")
                if g.pk not in {x.pk for x in grants}]
    return render(request, "accounts/home.html", {
        "profile": profile, "cards": cards, "staff_grants": staff_grants, "grants": grants,
        "managed": managed, "inactive_grants": inactive,
        "worker_count": worker_list(user=user).count() if managed else None,
        "is_district": user.has_role(Role.DISTRICT_ADMIN),
        "tasks": worker_tasks(user) if profile else
        worker_tasks(user, settings.RESIDENT_TASKS) if user.has_role(Role.RESIDENT) else [],
    })


def register(request):
    """Worker registration (or profile update): real name, job, brand, areas, consents."""
    user = request.user
    if not user.is_authenticated:
        return redirect("/login/?next=/register/")
    profile = getattr(user, "worker_profile", None)
    streets = Area.objects.filter(depth=1).order_by("path")
    ctx = {
        "profile": profile, "job_types": WorkerProfile.JobType.choices,
        "brands": Brand.objects.all(), "next": _next(request),
        "areas": Area.objects.filter(depth__gte=1).select_related("parent").order_by("path"),
        "streets": streets, "max_areas": services.MAX_WORK_AREAS,
        # A resident is not a worker: the page says so instead of asking them to register.
        "resident": profile is None and user.has_role(Role.RESIDENT),
        # Registered by an import: the person confirms what was entered and agrees themselves.
        "terms_due": profile is None or profile.terms_due,
        "selected": {a.pk for a in profile.areas.all()} if profile else set(),
        "real_name": user.real_name,
        "job_type": profile.job_type if profile else "",
        "brand_id": profile.brand_id if profile else None,
    }
    if request.method == "POST":
        area_ids = [i for i in map(parse_id, request.POST.getlist("areas")) if i]
        brand_id = parse_id(request.POST.get("brand"))
        brand = Brand.objects.filter(pk=brand_id).first() if brand_id else None
        ctx.update(real_name=request.POST.get("real_name", ""), selected=set(area_ids),
                   job_type=request.POST.get("job_type", ""), brand_id=brand and brand.pk)
        try:
            services.worker_register(
                user=user, real_name=ctx["real_name"], job_type=ctx["job_type"], brand=brand,
                areas=list(Area.objects.filter(pk__in=area_ids, depth__gte=1)),
                accept_terms=request.POST.get("accept_terms") == "on",
                allow_location=request.POST.get("allow_location") == "on", request=request,
            )
        except ApplicationError as exc:
            return refused(request, "accounts/register.html", ctx, exc)
        request.session.pop(SESSION_TERMS_DUE, None)
        messages.success(request, _("资料已保存。"))
        return redirect(ctx["next"] if ctx["next"] != "/register/" else "/")
    return render(request, "accounts/register.html", ctx)


def my_data(request):
    user = request.user
    if not user.is_authenticated:
        return redirect("/login/?next=/me/")
    profile = WorkerProfile.objects.filter(user=user).select_related("brand").first()
    return render(request, "accounts/my_data.html", {
        "profile": profile, "consents": user.consents.all()[:20],
        "id_masked": mask_id_number(profile.id_number) if profile else "",
    })


def my_data_export(request):
    if not request.user.is_authenticated:
        return redirect("/login/?next=/me/")
    data = services.worker_data_export(user=request.user, request=request)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
    )
    stamp = timezone.localtime().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="my-data-{stamp}.json"'
    return response


@require_POST
def my_account_close(request):
    if not request.user.is_authenticated:
        return redirect("/login/")
    if request.POST.get("confirm", "").strip() not in ("注销", "CLOSE"):
        messages.error(request, _("请输入“注销”以确认。"))
        return redirect("/me/")
    services.account_close(user=request.user, request=request)
    logout(request)
    messages.success(request, _("账户已注销，个人信息已删除。"))
    return redirect("/")


@staff_page(Role.AREA_ADMIN, Role.DISTRICT_ADMIN)
def workers(request):
    area_code = request.GET.get("area") or None
    qs = worker_list(user=request.user, area_code=area_code)
    page = page_list(request, qs)
    return render(request, "accounts/workers.html", {
        "page": page, "area_code": area_code or "",
        "areas": managed_area_list(request.user),
    })


@require_POST
@staff_page(Role.AREA_ADMIN, Role.DISTRICT_ADMIN)
def worker_reveal(request, worker_id: int):
    profile = access_worker_by_id(request.user, worker_id)
    audit_record("privacy.reveal", actor=request.user, obj=profile.user, request=request,
                 detail={"field": "mobile"})
    ctx = {"w": profile, "mobile": profile.user.mobile, "back": _next(request, "/workers/")}
    if request.htmx:
        return render(request, "accounts/workers.html#mobile", ctx)
    # Without JavaScript the form posts here as a page: answer a page, not a bare fragment.
    return render(request, "accounts/worker_reveal.html", ctx)


