"""The authorization matrix, generated: every page of the URL configuration and every operation of
the OpenAPI documents is called as anonymous, as each of the seven roles, as the same role in the
other street, and with object ids that belong to someone else or to nobody, and the answer must
be the one written in EXPECT below (in the spirit of netbox's utilities/testing).

The rule (docs/security.md): success only for the owner or a role in scope; out of scope and
missing answer the same 404; a role that may not use the page or operation at all gets 403; the
API without credentials answers 401, a page without sign-in redirects to the sign-in. A refused
write changes nothing. Each call runs in a savepoint that is rolled back, so every caller meets
the same world; the world is built once for the module.

A URL name or an operation id with no entry in EXPECT fails `test_every_url_and_operation_has_
an_expected_outcome` — a new page or operation must say who may use it.
"""

from __future__ import annotations

import copy
import hashlib
import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from PIL import Image

from tests.factories import (
    PASSWORD,
    as_level,
    build_area_tree,
    make_merchant,
    make_offer,
    make_station,
    make_user,
    make_worker,
    once_per_module,
    signed_in,
)
from warmstation.accounts.models import ROLE_MIN_LEVEL, Role
from warmstation.accounts.services import api_token_issue

ANON = "anonymous"
# persona → the role it holds. "<role>" is the one in scope of the world's "own" objects (拱辰
# street, GC); "<role>_other" holds the same role in the other street (西潞, XL), or is another
# worker / another department — the "right role, wrong area" and "someone else's id" callers.
PERSONAS: dict[str, str | None] = {
    ANON: None,
    "worker": Role.WORKER, "worker_other": Role.WORKER,
    "steward": Role.STEWARD, "steward_other": Role.STEWARD,
    "merchant": Role.MERCHANT, "merchant_other": Role.MERCHANT,
    "department": Role.DEPARTMENT, "department_other": Role.DEPARTMENT,
    "area_admin": Role.AREA_ADMIN, "area_admin_other": Role.AREA_ADMIN,
    "district_admin": Role.DISTRICT_ADMIN,
    "resident": Role.RESIDENT,
    "organiser": Role.ORGANISER, "organiser_other": Role.ORGANISER,
    "housing_office": Role.HOUSING_OFFICE, "housing_office_other": Role.HOUSING_OFFICE,
    "union_staff": Role.UNION_STAFF, "union_staff_other": Role.UNION_STAFF,
    "command_centre": Role.COMMAND_CENTRE, "command_centre_other": Role.COMMAND_CENTRE,
}
SIGNED_IN = frozenset(p for p in PERSONAS if p != ANON)
ALL = frozenset(PERSONAS)
MISSING_ID = 987654321


def _jpeg(color: str = "orange") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), color).save(buf, "JPEG")
    return buf.getvalue()


class World(dict):
    """The objects of the matrix by name; attribute access for the table's lambdas."""

    __getattr__ = dict.__getitem__


def build_world(media_root) -> World:
    from warmstation.appeals import services as appeals
    from warmstation.appeals.models import (
        AppealAttachment,
        Category,
        Department,
        PolicyAnswer,
        RoutingRule,
    )
    from warmstation.appeals.policy import policy_answer_save
    from warmstation.benefits import services as benefits
    from warmstation.points.models import EarningRule
    from warmstation.points.services import points_award
    from warmstation.stations import services as stations
    from warmstation.stations.models import ServiceItem

    w = World(build_area_tree())
    gc, xl, ylj, sz, root = w["gc"], w["xl"], w["ylj"], w["sz"], w["district"]
    w["cgzx"] = Department.objects.create(code="gc-zx", name_zh="拱辰指挥中心",
                                          kind="command_centre", area=gc)
    w["xlzx"] = Department.objects.create(code="xl-zx", name_zh="西潞指挥中心",
                                          kind="command_centre", area=xl)
    cat = Category.objects.create(code="housing", name_zh="住宿难", answer_hours=16,
                                  resolve_days=10)
    w["category"] = cat
    RoutingRule.objects.create(category=cat, area=gc, department=w["cgzx"])
    RoutingRule.objects.create(category=cat, area=xl, department=w["xlzx"])
    RoutingRule.objects.create(category=cat, area=None, department=w["cgzx"])

    people = {
        "worker": make_worker([ylj], mobile="13600000001"),
        "worker_other": make_worker([sz], mobile="13600000002"),
        "steward": make_user(Role.STEWARD, ylj, mobile="13600000003"),
        "steward_other": make_user(Role.STEWARD, sz, mobile="13600000004"),
        "merchant": make_user(Role.MERCHANT, gc, mobile="13600000005"),
        "merchant_other": make_user(Role.MERCHANT, xl, mobile="13600000006"),
        "department": make_user(Role.DEPARTMENT, gc, department=w["cgzx"],
                                mobile="13600000007"),
        "department_other": make_user(Role.DEPARTMENT, xl, department=w["xlzx"],
                                      mobile="13600000008"),
        "area_admin": make_user(Role.AREA_ADMIN, gc, mobile="13600000009", totp=True),
        "area_admin_other": make_user(Role.AREA_ADMIN, xl, mobile="13600000010", totp=True),
        "district_admin": make_user(Role.DISTRICT_ADMIN, root, mobile="13600000011",
                                    totp=True),
        "resident": make_user(Role.RESIDENT, gc, mobile="13600000012"),
        "organiser": make_user(Role.ORGANISER, gc, mobile="13600000013"),
        "organiser_other": make_user(Role.ORGANISER, xl, mobile="13600000014"),
        "housing_office": make_user(Role.HOUSING_OFFICE, gc, mobile="13600000031"),
        "housing_office_other": make_user(Role.HOUSING_OFFICE, xl, mobile="13600000032"),
        "union_staff": make_user(Role.UNION_STAFF, gc, mobile="13600000033"),
        "union_staff_other": make_user(Role.UNION_STAFF, xl, mobile="13600000034"),
        "command_centre": make_user(Role.COMMAND_CENTRE, gc, mobile="13600000015"),
        "command_centre_other": make_user(Role.COMMAND_CENTRE, xl, mobile="13600000016"),
    }
    for persona, user in people.items():
        as_level(user, ROLE_MIN_LEVEL[PERSONAS[persona]])
    w["people"] = people
    people["worker"].real_name = "MARKWORKERA"
    people["worker"].save(update_fields=["real_name"])
    admin = people["district_admin"]

    # Stations, each with a steward, a shelf, a photo, a loan to its street's worker.
    with override_settings(MEDIA_ROOT=media_root):
        for side, area, lat in (("", ylj, 39.748), ("_other", sz, 39.72)):
            st = make_station(area, lat, 116.14, name=f"MARKSTATION{side or '_own'}",
                              steward=people[f"steward{side}"],
                              stock={"umbrella": 3, "water": 10}, amenities=("wifi",))
            w[f"station{side}"] = st
            w[f"photo{side}"] = stations.photo_add(actor=admin, station=st, data=_jpeg())
            w[f"loan{side}"] = stations.loan_create(actor=st.steward, station=st,
                                                    item_code="umbrella",
                                                    worker=people[f"worker{side}"])
            w[f"exception{side}"] = stations.station_set_exception(
                actor=admin, station=st, date=date(2030, 1, 1), closed=True)
    ServiceItem.objects.create(code="rest", name_zh="休息")

    # Merchants with their counter staff, an offer each, a live code each.
    EarningRule.objects.create(action="grant", source="other", name_zh="发放", points=100)
    for side, area in (("", gc), ("_other", xl)):
        m = make_merchant(area, name=f"MARKMERCHANT{side or '_own'}",
                          staff=people[f"merchant{side}"])
        w[f"merchant{side}"] = m
        w[f"offer{side}"] = make_offer(m, title=f"MARKOFFER{side or '_own'}")
        w[f"points_offer{side}"] = make_offer(m, kind="points", title="积分兑换", points=30)
        w[f"txn{side}"] = points_award(user=people[f"worker{side}"], action="grant",
                                       idempotency_key=f"matrix-fund{side}")["transaction_id"]
        code = benefits.redemption_code_issue(user=people[f"worker{side}"],
                                              offer=w[f"offer{side}"],
                                              idempotency_key=f"matrix-code{side}")
        w[f"redemption{side}"] = code["redemption_id"]

    # Contacts on each street's service card.
    from warmstation.areas.models import AreaContact

    w["contact"] = AreaContact.objects.create(area=gc, kind="hotline", name="MARKCONTACT",
                                              phone="010-69300101")
    w["contact_other"] = AreaContact.objects.create(area=xl, kind="hotline", name="西潞热线",
                                                    phone="010-69300102")

    # Needs: each street's worker raised one (with a photo), dispatched to its street's centre.
    from django.core.files.uploadedfile import SimpleUploadedFile

    with override_settings(MEDIA_ROOT=media_root):
        for side, area in (("", ylj), ("_other", sz)):
            case = appeals.appeal_create(
                actor=people[f"worker{side}"], category=cat, area=area,
                title=f"MARKCASE{side or '_own'}", body="找不到住处",
                files=[SimpleUploadedFile("p.jpg", _jpeg(), content_type="image/jpeg")])
            appeals.appeal_transition(actor=admin, appeal_id=case.pk, action="dispatch",
                                      department=w["cgzx" if not side else "xlzx"])
            w[f"case{side}"] = case
            w[f"attachment{side}"] = AppealAttachment.objects.get(event__appeal=case)
    for side, dept in (("", "cgzx"), ("_other", "xlzx")):
        w[f"answer{side}"] = policy_answer_save(
            actor=admin, entry=PolicyAnswer(department=w[dept]), topic="legal",
            question=f"拖欠工资怎么办{side}", answer="拨打 12333。", keywords="工资")

    # Contact groups (one per street's community) with a member, an SMS channel, a published
    # notice in the member's inbox, a scheduled one, and a dead letter staff may retry.
    from warmstation.outreach import services as outreach
    from warmstation.outreach.models import OutboxMessage

    for side, area, street_admin in (("", ylj, "area_admin"), ("_other", sz, "area_admin_other")):
        actor = people[street_admin]
        group = outreach.group_create(actor=actor, area=area, name=f"MARKGROUP{side or '_own'}")
        w[f"group{side}"] = group
        w[f"member{side}"] = outreach.member_add(actor=actor, group=group,
                                                 user=people[f"worker{side}"])
        w[f"channel{side}"] = outreach.channel_create(actor=actor, group=group, kind="sms",
                                                      name="短信")
        notice = outreach.notice_create(actor=actor, kind="tip", audience="group", group=group,
                                        title=f"MARKNOTICE{side or '_own'}", body="明天降温")
        w[f"notice{side}"] = notice
        w[f"scheduled{side}"] = outreach.notice_create(
            actor=actor, kind="tip", audience="group", group=group, title="定时通知",
            body="下周开放", publish_at=timezone.now() + timedelta(days=2))
        w[f"dead{side}"] = OutboxMessage.objects.create(
            channel="sms", recipient=people[f"worker{side}"].mobile, body="短信", purpose="notice",
            status=OutboxMessage.Status.DEAD, attempts=8, delivery_channel=w[f"channel{side}"],
            notice=notice, last_error="gateway answered 500")
    # Volunteering: a task in each street's community with a shift starting in half an hour,
    # its street's worker signed up for it.
    from warmstation.volunteering import errands as volunteer_errands
    from warmstation.volunteering import services as volunteering
    from warmstation.volunteering.models import Issuer, VolunteerTask
    from warmstation.volunteering.models import ServiceRecord as VolunteerRecord

    start = timezone.now() + timedelta(minutes=30)
    issuer = Issuer.objects.create(name="平台", responsible_person="甲", clerk="乙", contact="12345")
    for side, area, lat in (("", ylj, 39.748), ("_other", sz, 39.72)):
        t = volunteering.task_save(
            actor=people[f"organiser{side}"], task=VolunteerTask(), area=area,
            kind="checkpoint", title=f"MARKTASK{side or '_own'}", place_name="北门", lat=lat,
            lng=116.14)
        w[f"task{side}"] = t
        w[f"shift{side}"] = volunteering.shift_create(
            actor=None, task=t, starts_at=start, ends_at=start + timedelta(hours=3), capacity=5,
            cancel_deadline=start)
        w[f"signup{side}"] = volunteering.shift_signup(worker=people[f"worker{side}"],
                                                       shift_id=w[f"shift{side}"].pk)
        w[f"errand{side}"] = volunteer_errands.errand_post(
            actor=people[f"organiser{side}"], area=area, title=f"MARKERRAND{side or '_own'}",
            resident_name="王奶奶", resident_address="3号楼", resident_phone="13911112222",
            resident=people["resident"] if not side else None)
        w[f"record{side}"] = VolunteerRecord.objects.create(
            number=f"FSVRMATRIX{side.upper().strip('_') or 'OWN'}",
            worker=people[f"worker{side}"], issuer=issuer, masked_name="M*", minutes=90)
    # the own street's worker is verified for errands; the other street's is not
    volunteer_errands.errand_worker_verify(actor=people["organiser"], worker=people["worker"])
    _housing_world(w)
    _union_world(w)
    _data_world(w)
    # Street reports: each street's worker filed one (with its photo), filed (立案) and sent to
    # the street's centre; each worker also has a photo uploaded ahead and not yet used.
    from warmstation.reports import services as reports

    with override_settings(MEDIA_ROOT=media_root):
        from warmstation.reports.models import ReportCategory

        reports.report_categories_seed()  # a flushing (transactional) test may have emptied it
        garbage = ReportCategory.objects.get(code="exposed_garbage")
        for side, area, lat in (("", ylj, 39.733), ("_other", sz, 39.705)):
            worker = people[f"worker{side}"]
            photo = reports.photo_upload(actor=worker, data=_jpeg())
            problem, _ = reports.report_create(
                actor=worker, category=garbage, lat=lat, lng=116.14, area=area,
                photo_ids=[photo.pk], description=f"MARKREPORT{side or '_own'}")
            reports.problem_transition(actor=admin, problem_id=problem.pk, action="accept",
                                       department=w["cgzx" if not side else "xlzx"])
            w[f"report{side}"], w[f"report_photo{side}"] = problem, photo
            w[f"pending_photo{side}"] = reports.photo_upload(
                actor=worker, data=_jpeg(color="navy"))
        w["open311_client"], _key = reports.open311_client_issue(actor=admin, name="对接系统",
                                                                 areas=[gc])

    # Bearer tokens for the API, sessions for the pages.
    w["tokens"] = {p: api_token_issue(user=u, auth_level=ROLE_MIN_LEVEL[PERSONAS[p]])
                   for p, u in people.items()}
    return w


def _housing_world(w: World) -> None:
    """Each street's family flat at its station (kept by that station's steward), a booking
    by the street's worker starting today, and a family already in (for the check-out)."""
    from datetime import timedelta

    from django.utils import timezone

    from warmstation.housing import services as housing
    from warmstation.housing.models import Booking, Flat, Resource

    today = timezone.localdate()
    for side in ("", "_other"):
        station = w[f"station{side}"]
        flat = housing.flat_save(actor=None, flat=Flat(), name=f"MARKFLAT{side or '_own'}",
                                 area=station.area, station=station, address="长阳镇",
                                 max_bookings_per_season=5)
        w[f"flat{side}"] = flat
        worker = w["people"][f"worker{side}"]
        w[f"booking{side}"] = housing.booking_create(
            worker=worker, flat=flat, check_in=today, check_out=today + timedelta(days=2),
            visitors=[{"name": f"MARKVISITOR{side or '_own'}", "relation": "spouse"}])
        staying = housing.booking_create(
            worker=worker, flat=flat, check_in=today + timedelta(days=5),
            check_out=today + timedelta(days=7), visitors=[{"name": "家属", "relation": "child"}])
        Booking.objects.filter(pk=staying.pk).update(status=Booking.Status.CHECKED_IN)
        w[f"booking_in{side}"] = staying
        # The survey: the street's worker answered. A resource of the street, applied for.
        w[f"survey{side}"] = housing.survey_save(worker=worker, area=station.area,
                                                 housing="rent_shared", rent=1200,
                                                 commute_minutes=30, household=2, needs=set())
        resource = housing.resource_save(actor=None, resource=Resource(), kind="dormitory",
                                         name=f"MARKRESOURCE{side or '_own'}",
                                         area=station.area, address="宿舍", beds=20,
                                         available=5)
        w[f"resource{side}"] = resource
        w[f"rental{side}"] = housing.rental_apply(worker=worker, resource=resource)


def _union_world(w: World) -> None:
    """The street's worker is a member (approved); another worker of 伊林郡 waits for review;
    the station's steward ran a batch enrolment there."""
    from datetime import date

    from warmstation.union import services as union

    people = w["people"]
    mine = union.membership_apply(user=people["worker"], area=w["ylj"],
                                  employer="MARKMEMBER_own", job_type="courier", consent=True)
    union.membership_decide(actor=people["union_staff"], application=mine, approve=True)
    w["application_mine"] = mine
    applicant = make_worker([w["ylj"]], mobile="13600000035")
    w["application"] = union.membership_apply(user=applicant, area=w["ylj"],
                                              employer="MARKEMPLOYER_own", job_type="courier",
                                              consent=True)
    w["batch"] = union.batch_enrol(actor=people["steward"], title="集中入会",
                                   held_on=date(2026, 11, 20), area=w["ylj"],
                                   station=w["station"],
                                   rows=[union.BatchRow(1, "张三", "13600000036")],
                                   consent_confirmed=True)


def _data_world(w: World) -> None:
    """The own street's area admin uploaded a spreadsheet of one worker (checked, not imported)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from warmstation.dashboard.importing_services import import_batch_check, import_batch_create

    data = "\ufeff手机号,姓名,工作类型,工作区域\n13600000041,MARKIMPORT,courier,YLJ\n".encode()
    w["import_batch"] = import_batch_create(actor=w["people"]["area_admin"], kind="workers",
                                            upload=SimpleUploadedFile("w.csv", data),
                                            filename="w.csv")
    import_batch_check(batch_id=w["import_batch"].pk)  # its task (enqueued on a commit)


# --- the table --------------------------------------------------------------------------------

@dataclass(frozen=True)
class E:
    """What a page or an operation answers, and to whom.

    roles: the roles the page/operation admits at all (others: 403); None = anyone signed in.
    ok: the personas for whom it succeeds (`status`); every other persona holding an admitted
        role gets 404 (out of scope looks missing), unless `special` says otherwise.
    public: anonymous callers are served too (documented public pages and operations only).
    body / query / headers: what is sent (a callable of the world for ids); kwargs: the path
        parameters (callables of the world), overriding PARAMS.
    missing: the path parameters that, swapped for an id nobody holds, must give 404 to `ok`.
    marker: a text that only `sees` (default: ok) may find in the answer — for lists, whose
        status is 200 for everyone admitted but whose rows are scoped.
    """

    roles: frozenset | None = None
    ok: frozenset = frozenset()
    status: int = 200
    public: bool = False
    body: Any = None
    query: Any = None
    headers: Any = None
    kwargs: dict = field(default_factory=dict)
    missing: tuple = ()
    marker: str | None = None
    sees: frozenset | None = None
    special: dict = field(default_factory=dict)
    unchanged: frozenset = frozenset()
    foreign: dict = field(default_factory=dict)
    foreign_ok: frozenset = frozenset()
    method: str = "GET"
    form: bool = False  # page POST bodies are form-encoded

    @property
    def writes(self) -> bool:
        return self.method not in ("GET", "HEAD")


def _s(*personas: str) -> frozenset:
    return frozenset(personas)


def _roles(*roles: str) -> frozenset:
    return frozenset(roles)


R = Role
WORKERS = _s("worker", "worker_other")
ADMINS = _s("area_admin", "area_admin_other", "district_admin")
ADMINS_IN_SCOPE = _s("area_admin", "district_admin")
CONSOLE = _roles(R.STEWARD, R.AREA_ADMIN, R.DISTRICT_ADMIN)
CONSOLE_OK = _s("steward", "area_admin", "district_admin")
MANAGE_MERCHANT = _roles(R.MERCHANT, R.AREA_ADMIN, R.DISTRICT_ADMIN)
MERCHANT_OK = _s("merchant", "area_admin", "district_admin")
STAFF = _roles(R.DEPARTMENT, R.AREA_ADMIN, R.DISTRICT_ADMIN)
STAFF_PERSONAS = _s("department", "department_other", *ADMINS)
DISPATCHERS = _roles(R.AREA_ADMIN, R.DISTRICT_ADMIN)
RAISERS = _roles(R.WORKER, R.STEWARD, R.AREA_ADMIN, R.DISTRICT_ADMIN)
CASE_SEERS = _s("worker", "department", "area_admin", "district_admin")  # of the own case
CENTRES = _s("command_centre", "command_centre_other")
REPORT_STAFF = _roles(R.COMMAND_CENTRE, R.DEPARTMENT, R.AREA_ADMIN, R.DISTRICT_ADMIN)
REPORT_STAFF_PERSONAS = _s("department", "department_other", *ADMINS, *CENTRES)
REPORT_UPLOADERS = REPORT_STAFF | _roles(R.WORKER)
REPORT_SEERS = _s("worker", "department", "area_admin", "district_admin", "command_centre")
REPORT_SEERS_OTHER = _s("worker_other", "department_other", "area_admin_other", "district_admin",
                        "command_centre_other")
REPORT_TRIAGE = _s("area_admin", "district_admin", "command_centre")
REPORT_PLACE = {"lat": "39.733", "lng": "116.14"}
ADMIN_ROLES = _roles(R.AREA_ADMIN, R.DISTRICT_ADMIN)
WORKER_ROLE = _roles(R.WORKER)
DISTRICT = _roles(R.DISTRICT_ADMIN)
# The roles the needs pages admit (appeals/views.py EVERYONE): the roles added for the
# capability apps (organiser …) are not among them.
APPEALS_ROLES = _roles(R.WORKER, R.STEWARD, R.DEPARTMENT, R.AREA_ADMIN, R.DISTRICT_ADMIN,
                       R.RESIDENT, R.MERCHANT)
FLAT_MANAGERS = _roles(R.STEWARD, R.AREA_ADMIN, R.DISTRICT_ADMIN, R.HOUSING_OFFICE)
FLAT_MANAGERS_OK = _s("steward", "area_admin", "district_admin", "housing_office")
BOOKING_SEERS = _s("worker", *FLAT_MANAGERS_OK)
FIGURES = _roles(R.HOUSING_OFFICE, R.AREA_ADMIN, R.DISTRICT_ADMIN)
FIGURE_PERSONAS = _s("housing_office", "housing_office_other", *ADMINS)
OFFICE = _roles(R.HOUSING_OFFICE)
OFFICE_PERSONAS = _s("housing_office", "housing_office_other")
RENTAL_SEERS = _s("worker", "housing_office", *ADMINS_IN_SCOPE)
SURVEY_FORM = {"area": "YLJ", "housing": "own", "commute_minutes": "10", "household": "1"}
UNION = _roles(R.UNION_STAFF)
ROLL = _roles(R.UNION_STAFF, R.AREA_ADMIN, R.DISTRICT_ADMIN)
ROLL_PERSONAS = _s("union_staff", "union_staff_other", *ADMINS)
ROLL_IN_SCOPE = _s("union_staff", *ADMINS_IN_SCOPE)
ENROLLERS = _roles(R.STEWARD, R.UNION_STAFF)
ENROLLER_PERSONAS = _s("steward", "steward_other", "union_staff", "union_staff_other")
BATCH_SEERS = _s("steward", *ROLL_IN_SCOPE)
# A page form refused for what was typed in it (not for what the URL names) re-renders the form
# with the message: these are the statuses such a refusal may take.
FORM_REFUSAL = (400, 404, 409, 422)
# An API body refused for what was typed in it (an unknown code), not for the URL's object.
BODY_REFUSAL = (404, 409, 422)
LOGIN = "login"  # a redirect to a sign-in page

# Path parameters by name → the world's "own" object (拱辰 side, the worker's, …).
PARAMS: dict[str, Callable[[World], Any]] = {
    "station_id": lambda w: w.station.pk,
    "loan_id": lambda w: w.loan.pk,
    "exception_id": lambda w: w.exception.pk,
    "photo_id": lambda w: w.photo.pk,
    "token": lambda w: w.station.checkin_token,
    "offer_id": lambda w: w.offer.pk,
    "redemption_id": lambda w: w.redemption,
    "merchant_id": lambda w: w.merchant.pk,
    "appeal_id": lambda w: w.case.pk,
    "attachment_id": lambda w: w.attachment.pk,
    "answer_id": lambda w: w.answer.pk,
    "contact_id": lambda w: w.contact.pk,
    "worker_id": lambda w: w.people["worker"].worker_profile.pk,
    "transaction_id": lambda w: w.txn,
    "code": lambda w: "GC",
    "service_id": lambda w: str(w.station.public_id),
    # HSDS records derived from the station (stations/directory.py: stable uuid5 ids)
    "organization_id": lambda w: _hsds().service(w.station, full=False, base="")[
        "organization_id"],
    "service_at_location_id": lambda w: _hsds().service_at_location(
        w.station, full=False, base="")["id"],
    "taxonomy_id": lambda w: _hsds().tax_id("station_kinds"),
    "taxonomy_term_id": lambda w: _hsds().term_id("station_kind", w.station.kind),
    "path": lambda w: w.photo.image.name,
    "notice_id": lambda w: w.notice.pk,
    "group_id": lambda w: w.group.pk,
    "channel_id": lambda w: w.channel.pk,
    "member_id": lambda w: w.member.pk,
    "message_id": lambda w: w.dead.pk,
    "join_token": lambda w: w.group.join_token,
    "task_id": lambda w: w.task.pk,
    "shift_id": lambda w: w.shift.pk,
    "signup_id": lambda w: w.signup.pk,
    "errand_id": lambda w: w.errand.pk,
    "record_id": lambda w: w.record.pk,
    "number": lambda w: w.record.number,
    "flat_id": lambda w: w.flat.pk,
    "application_id": lambda w: w.application.pk,
    "batch_id": lambda w: w.batch.pk,
    "survey_id": lambda w: w.survey.pk,
    "resource_id": lambda w: w.resource.pk,
    "rental_id": lambda w: w.rental.pk,
    "booking_id": lambda w: w.booking.pk,
    "problem_id": lambda w: w.report.pk,
    "client_id": lambda w: w.open311_client.pk,
    "fmt": lambda w: "json",
    "request_id": lambda w: w.report.pk,
    "rest": lambda w: "nothing-here.json",
}
MISSING = {"code": "NOPE", "number": "NOPE1", "token": "nope", "join_token": "nope",
           "service_id": str(uuid.UUID(int=1)),
           **dict.fromkeys(("organization_id", "service_at_location_id", "taxonomy_id",
                            "taxonomy_term_id"), str(uuid.UUID(int=1))),
           "path": "stations/nothing.jpg"}


def _hsds():
    from warmstation.stations import directory

    return directory


def _mobile(persona):
    return lambda w: w.people[persona].mobile


def _stay(days: int = 20, nights: int = 2) -> dict:
    from datetime import timedelta

    from django.utils import timezone

    first = timezone.localdate() + timedelta(days=days)
    return {"check_in": first.isoformat(),
            "check_out": (first + timedelta(days=nights)).isoformat()}


def _key():
    return {"Idempotency-Key": uuid.uuid4().hex}


STATION_FORM = {"temporarily_closed": "on", "closed_note": "维修"}
NEED = {"category": "housing", "area_code": "YLJ", "title": "新的诉求", "body": "说明"}
MERCHANT_IN = {"name": "新商户", "kind": "restaurant", "area_code": "GC", "address": "地址",
               "lat": 39.74, "lng": 116.14, "opens": "08:00", "closes": "20:00"}
ORGANISERS = _roles(R.ORGANISER, R.AREA_ADMIN, R.DISTRICT_ADMIN)
ORG_OK = _s("organiser", "area_admin", "district_admin")
ORG_ALL = _s("organiser", "organiser_other", *ADMINS)
ERRAND_ROLES = _roles(R.WORKER, R.RESIDENT, *ORGANISERS)
ERRAND_SEERS = _s("worker", "resident", *ORG_OK)  # of the own (open) errand
ERRAND_IN = {"area_code": "YLJ", "title": "买菜", "resident_name": "李大爷",
             "resident_address": "2号楼"}
VOLUNTEER_READERS = _roles(R.WORKER, *ORGANISERS)
TASK_TOKEN = {"token": lambda w: w.task.checkin_token}
TASK_IN = {"area_code": "YLJ", "kind": "patrol", "title": "行走的哨兵", "place_name": "指挥中心",
           "lat": 39.74, "lng": 116.14}


def _shift_in(w):
    start = timezone.now() + timedelta(days=3)
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=4)).isoformat(),
            "capacity": 4}


POLICY_IN = {"topic": "legal", "question": "新问题", "answer": "新答案"}

EXPECT: dict[str, list[E]] = {
    # --- public pages (docs/security.md lists them) ---
    "favicon": [E(public=True, ok=ALL, status=301)],
    "healthz": [E(public=True, ok=ALL)],
    # public like /healthz; no task worker runs beside the tests, so it answers "waiting"
    "readyz": [E(public=True, ok=ALL, status=503)],
    # For the monitor: the test client's address is loopback, in METRICS_ALLOWED (elsewhere 404,
    # core/tests/test_production.py).
    "metrics": [E(public=True, ok=ALL)],
    "set_language": [E(method="POST", public=True, ok=ALL, status=302, form=True,
                       body={"language": "en", "next": "/"})],
    "media": [E(public=True, ok=ALL, missing=("path",),
                # a case's photo is personal: never under the public /media/
                foreign={"path": lambda w: w.attachment.file.name})],
    "accounts:home": [E(public=True, ok=ALL)],
    "accounts:worker_login": [E(public=True, ok=ALL)],
    "accounts:staff_login": [E(public=True, ok=ALL)],
    "accounts:logout": [E(method="POST", public=True, ok=ALL, status=302)],
    "stations:list": [E(public=True, ok=ALL)],
    "stations:detail": [E(public=True, ok=ALL, missing=("station_id",))],
    # --- signed in, any role ---
    "accounts:staff_mfa": [E(ok=_s("steward", "steward_other", "merchant", "merchant_other",
                                   "department", "department_other", *ADMINS, "organiser",
                                   "organiser_other", "housing_office",
                                   "housing_office_other", "union_staff",
                                   "union_staff_other", *CENTRES),
                             special={"worker": LOGIN, "worker_other": LOGIN,
                                      "resident": LOGIN})],
    "accounts:register": [E(ok=SIGNED_IN)],
    "accounts:my_data": [E(ok=SIGNED_IN)],
    "accounts:my_data_export": [E(ok=SIGNED_IN)],
    "accounts:my_account_close": [E(method="POST", ok=SIGNED_IN, status=302, form=True,
                                    body={"confirm": "注销"})],
    # --- area and district admins ---
    "accounts:workers": [E(roles=ADMIN_ROLES, ok=ADMINS, marker="MARKWORKERA",
                           sees=ADMINS_IN_SCOPE)],
    "accounts:worker_reveal": [E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE,
                                 missing=("worker_id",))],
    "areas:list": [E(roles=ADMIN_ROLES, ok=ADMINS)],
    "areas:detail": [
        E(roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, missing=("code",)),
        E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, status=302, form=True,
          body={"kind": "hotline", "name": "新热线", "phone": "010-89350003"}, missing=("code",)),
    ],
    "areas:contact_delete": [E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE,
                               status=302, missing=("contact_id",))],
    "audit:audit": [E(roles=DISTRICT, ok=_s("district_admin"))],
    # --- the district view (#17): district admins everything, area admins their areas ---
    "dashboard:home": [E(roles=ADMIN_ROLES, ok=ADMINS)],
    "dashboard:map": [E(roles=ADMIN_ROLES, ok=ADMINS, marker="MARKSTATION_own",
                        sees=ADMINS_IN_SCOPE)],
    "dashboard:coverage": [E(roles=ADMIN_ROLES, ok=ADMINS)],
    "dashboard:coverage_export": [E(roles=ADMIN_ROLES, ok=ADMINS)],
    "stations:manage": [E(roles=ADMIN_ROLES, ok=ADMINS, marker="MARKSTATION_own",
                          sees=ADMINS_IN_SCOPE)],
    "benefits:partners": [E(roles=ADMIN_ROLES, ok=ADMINS, marker="MARKMERCHANT_own",
                            sees=ADMINS_IN_SCOPE)],
    # --- base data import and export: a batch is its uploader's and the district's ---
    "dashboard_data:index": [E(roles=ADMIN_ROLES, ok=ADMINS)],
    "dashboard_data:template": [E(roles=ADMIN_ROLES, ok=ADMINS, query={"kind": "stations"})],
    "dashboard_data:export": [E(roles=ADMIN_ROLES, ok=ADMINS, marker="MARKSTATION_own",
                                sees=ADMINS_IN_SCOPE,
                                query={"kind": "stations", "format": "csv"})],
    "dashboard_data:batch": [E(roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, missing=("batch_id",),
                               kwargs={"batch_id": lambda w: w.import_batch.pk})],
    "dashboard_data:batch_apply": [E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE,
                                     status=302, form=True, body={"mode": "all"},
                                     missing=("batch_id",),
                                     kwargs={"batch_id": lambda w: w.import_batch.pk})],
    "dashboard_data:batch_discard": [E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE,
                                       status=302, missing=("batch_id",),
                                       kwargs={"batch_id": lambda w: w.import_batch.pk})],
    # --- workers ---
    "benefits:wallet": [E(roles=WORKER_ROLE, ok=WORKERS)],
    "benefits:code_issue": [E(method="POST", roles=WORKER_ROLE, ok=WORKERS, status=302,
                              form=True, body={"key": "k1"}, missing=("offer_id",))],
    "benefits:code": [E(roles=WORKER_ROLE, ok=_s("worker"), missing=("redemption_id",))],
    "stations:check_in": [
        E(roles=WORKER_ROLE, ok=WORKERS, missing=("station_id", "token")),
        E(method="POST", roles=WORKER_ROLE, ok=WORKERS, missing=("station_id", "token")),
    ],
    "appeals:mine": [E(roles=WORKER_ROLE, ok=WORKERS, marker="MARKCASE_own",
                       sees=_s("worker"))],
    # --- merchants' counters ---
    "benefits:counter": [E(roles=_roles(R.MERCHANT), ok=_s("merchant", "merchant_other"),
                           status=302)],
    "benefits:counter_of": [
        E(roles=_roles(R.MERCHANT), ok=_s("merchant"), missing=("merchant_id",)),
        # a code nobody was given, typed at the merchant's own counter: the form says so
        E(method="POST", roles=_roles(R.MERCHANT), form=True, special={"merchant": FORM_REFUSAL},
          body={"code": "000000", "key": "k2"}, missing=("merchant_id",)),
    ],
    "benefits:offer_edit": [
        E(roles=MANAGE_MERCHANT, ok=MERCHANT_OK, missing=("offer_id",)),
        E(method="POST", roles=MANAGE_MERCHANT, ok=MERCHANT_OK, status=302, form=True,
          body={"title": "改名套餐", "price": "10", "normal_price": "20", "is_active": "on"},
          missing=("offer_id",)),
    ],
    # --- the steward's console ---
    "steward:list": [E(roles=CONSOLE, ok=_s("steward", "steward_other", *ADMINS),
                       special={"steward": 302, "steward_other": 302})],
    "steward:console": [E(roles=CONSOLE, ok=CONSOLE_OK, missing=("station_id",))],
    "steward:status": [E(method="POST", roles=CONSOLE, ok=CONSOLE_OK, status=302, form=True,
                         body=STATION_FORM, missing=("station_id",))],
    "steward:hours": [E(method="POST", roles=CONSOLE, ok=CONSOLE_OK, status=302, form=True,
                        body={"o0_0": "08:00", "c0_0": "20:00"}, missing=("station_id",))],
    "steward:exception": [E(method="POST", roles=CONSOLE, ok=CONSOLE_OK, status=302,
                            form=True, body={"date": "2030-01-01", "closed": "on"},
                            missing=("station_id",))],
    "steward:exception_delete": [E(method="POST", roles=CONSOLE, ok=CONSOLE_OK, status=302,
                                   missing=("station_id", "exception_id"),
                                   # another station's special date, by its guessable id
                                   foreign={"exception_id": lambda w: w.exception_other.pk})],
    "steward:amenities": [E(method="POST", roles=CONSOLE, ok=CONSOLE_OK, status=302,
                            form=True, body={}, missing=("station_id",))],
    "steward:stock": [E(method="POST", roles=CONSOLE, ok=CONSOLE_OK, status=302, form=True,
                        body={"item": "water", "quantity": "2", "reason": "in"},
                        missing=("station_id",))],
    "steward:lend": [E(method="POST", roles=CONSOLE, ok=CONSOLE_OK, status=302, form=True,
                       body=lambda w: {"item": "umbrella", "mobile": w.people["worker"].mobile},
                       missing=("station_id",))],
    "steward:return": [E(method="POST", roles=CONSOLE, ok=CONSOLE_OK, status=302,
                         missing=("station_id", "loan_id"),
                         # another station's loan, by its (guessable) id
                         foreign={"loan_id": lambda w: w.loan_other.pk})],
    "steward:return_any": [E(method="POST", roles=CONSOLE, ok=CONSOLE_OK, status=302,
                             form=True, missing=("station_id",),
                             body=lambda w: {"item": "umbrella",
                                             "mobile": w.people["worker"].mobile})],
    "steward:record": [E(method="POST", roles=CONSOLE, ok=CONSOLE_OK, status=302, form=True,
                         body={"service": "rest"}, missing=("station_id",))],
    # --- needs ---
    "appeals:new": [
        E(roles=RAISERS, ok=_s("worker", "worker_other", "steward", "steward_other",
                               *ADMINS)),
        E(method="POST", roles=RAISERS, status=302, form=True,
          ok=_s("worker", "worker_other", "steward", "steward_other", *ADMINS_IN_SCOPE),
          special={"area_admin_other": FORM_REFUSAL},
          body=lambda w: {"category": "housing", "area": "YLJ", "title": "新的诉求",
                          "body": "说明", "worker_mobile": w.people["worker"].mobile}),
    ],
    "appeals:suggest": [E(roles=APPEALS_ROLES, ok=SIGNED_IN, query={"title": "工资"})],
    "appeals:policy": [E(roles=APPEALS_ROLES, ok=SIGNED_IN)],
    "appeals:export": [E(roles=APPEALS_ROLES, ok=SIGNED_IN)],
    "appeals:export_csv": [E(roles=APPEALS_ROLES, ok=SIGNED_IN, marker="MARKCASE_own", sees=CASE_SEERS)],
    "appeals:inbox": [
        E(roles=STAFF, ok=STAFF_PERSONAS, marker="MARKCASE_own",
          sees=_s("department", *ADMINS_IN_SCOPE)),
        # Bulk accept: answers the list for everyone admitted; only the case's department
        # changes anything.
        E(method="POST", roles=STAFF, ok=_s("department"), status=302, form=True,
          body=lambda w: {"ids": [w.case.pk], "action": "accept"},
          special={p: 302 for p in ("department_other", *ADMINS)},
          unchanged=_s("department_other", *ADMINS)),
    ],
    "appeals:board": [E(roles=STAFF, ok=STAFF_PERSONAS)],
    "appeals:meeting": [
        E(roles=DISPATCHERS, ok=ADMINS),
        E(method="POST", roles=DISPATCHERS, ok=ADMINS_IN_SCOPE, status=302, form=True,
          special={"area_admin_other": FORM_REFUSAL},
          body={"title": "座谈会", "area": "GC", "held_on": "2026-10-20",
                "title_0": "网点用房难", "body_0": "找不到", "category_0": "housing"}),
    ],
    "appeals:detail": [E(roles=APPEALS_ROLES, ok=CASE_SEERS, missing=("appeal_id",))],
    "appeals:act": [E(method="POST", roles=APPEALS_ROLES, ok=_s("department", *ADMINS_IN_SCOPE), status=302,
                      form=True, body={"action": "note", "note": "已电话联系"},
                      # the submitter may not add notes: told so on the case page
                      special={"worker": 302}, unchanged=_s("worker"),
                      missing=("appeal_id",))],
    "appeals:attachment": [E(roles=APPEALS_ROLES, ok=CASE_SEERS, missing=("attachment_id",),
                             foreign={"attachment_id": lambda w: w.attachment_other.pk},
                             foreign_ok=_s("worker_other", "department_other",
                                           "area_admin_other", "district_admin"))],
    # --- service cards and handbooks: public, like the printed ones their QR codes lead from ---
    "cards:mine": [E(roles=WORKER_ROLE, ok=WORKERS, status=302)],
    "cards:page": [E(public=True, ok=ALL, missing=("code",))],
    "cards:pdf": [E(public=True, ok=ALL, missing=("code",))],
    "cards:sheet": [E(public=True, ok=ALL, missing=("code",))],
    "cards:png": [E(public=True, ok=ALL, missing=("code",))],
    "cards:handbook": [E(public=True, ok=ALL, missing=("code",))],
    "cards:handbook_a5": [E(public=True, ok=ALL, missing=("code",))],
    "cards:handbook_booklet": [E(public=True, ok=ALL, missing=("code",))],
    # --- notices and contact groups: everyone's inbox, the admins' desk ---
    "notices:inbox": [E(ok=SIGNED_IN, marker="MARKNOTICE_own", sees=_s("worker")),
                      E(method="POST", ok=SIGNED_IN, status=302)],
    "notices:read": [E(ok=_s("worker", *ADMINS_IN_SCOPE), missing=("notice_id",))],
    "notices:my_groups": [E(ok=SIGNED_IN, marker="MARKGROUP_own", sees=_s("worker"))],
    "notices:join": [E(ok=SIGNED_IN, missing=("join_token",)),
                     E(method="POST", ok=SIGNED_IN, status=302, missing=("join_token",))],
    "notices:desk": [E(roles=ADMIN_ROLES, ok=ADMINS, marker="MARKNOTICE_own",
                       sees=ADMINS_IN_SCOPE)],
    "notices:compose": [
        E(roles=ADMIN_ROLES, ok=ADMINS),
        E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, status=302, form=True,
          special={"area_admin_other": FORM_REFUSAL},
          body=lambda w: {"kind": "tip", "audience": "group", "group": w.group.pk,
                          "title": "新通知", "body": "内容"}),
    ],
    "notices:dead": [E(roles=ADMIN_ROLES, ok=ADMINS, marker="MARKNOTICE_own",
                       sees=ADMINS_IN_SCOPE)],
    "notices:status": [E(roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, missing=("notice_id",))],
    "notices:cancel": [E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, status=302,
                         kwargs={"notice_id": lambda w: w.scheduled.pk},
                         missing=("notice_id",))],
    "notices:groups": [
        E(roles=ADMIN_ROLES, ok=ADMINS, marker="MARKGROUP_own", sees=ADMINS_IN_SCOPE),
        E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, status=302, form=True,
          special={"area_admin_other": FORM_REFUSAL}, body={"area": "YLJ", "name": "新群组"}),
    ],
    "notices:group": [
        E(roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, missing=("group_id",)),
        E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, status=302, form=True,
          body=lambda w: {"mobile": w.people["worker_other"].mobile}, missing=("group_id",)),
    ],
    "notices:group_qr": [E(roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, missing=("group_id",))],
    "notices:channel_add": [E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, status=302,
                              form=True, missing=("group_id",),
                              body={"kind": "wecom", "name": "企业微信群",
                                    "webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/"
                                                   "webhook/send?key=abcdefgh"})],
    "notices:channel_edit": [E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE,
                               status=302, form=True, body={"active": "off"},
                               missing=("channel_id",),
                               foreign={"channel_id": lambda w: w.channel_other.pk},
                               foreign_ok=_s("area_admin_other", "district_admin"))],
    "notices:member_remove": [E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE,
                                status=302, missing=("member_id",))],
    "notices:retry": [E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, status=302,
                        missing=("message_id",),
                        foreign={"message_id": lambda w: w.dead_other.pk},
                        foreign_ok=_s("area_admin_other", "district_admin"))],
    # --- volunteering: workers ---
    "volunteering:list": [E(roles=WORKER_ROLE, ok=WORKERS, marker="MARKTASK_own", sees=_s("worker"))],
    "volunteering:task": [E(roles=VOLUNTEER_READERS, ok=WORKERS | ORG_OK, missing=("task_id",))],
    "volunteering:signup": [E(method="POST", roles=WORKER_ROLE, ok=WORKERS, status=302,
                              missing=("shift_id",))],
    "volunteering:cancel": [E(method="POST", roles=WORKER_ROLE, ok=_s("worker"), status=302,
                              missing=("signup_id",))],
    "volunteering:mine": [E(roles=WORKER_ROLE, ok=WORKERS, marker="MARKTASK_own",
                            sees=_s("worker"))],
    "volunteering:check": [
        E(roles=WORKER_ROLE, ok=WORKERS, kwargs=TASK_TOKEN, missing=("token",)),
        # the own worker is checked in; the other street's has no shift there (409)
        E(method="POST", roles=WORKER_ROLE, ok=_s("worker"), form=True, body={},
          kwargs=TASK_TOKEN, special={"worker_other": 409}, missing=("token",)),
    ],
    # --- volunteering: organisers ---
    "volunteering:organise": [
        E(roles=ORGANISERS, ok=ORG_ALL, marker="MARKTASK_own", sees=ORG_OK),
        E(method="POST", roles=ORGANISERS, ok=ORG_OK, status=302, form=True,
          body={"area": "YLJ", "kind": "patrol", "title": "行走的哨兵", "place_name": "指挥中心",
                "lat": "39.74", "lng": "116.14"},
          special={"organiser_other": FORM_REFUSAL, "area_admin_other": FORM_REFUSAL}),
    ],
    "volunteering:manage": [
        E(roles=ORGANISERS, ok=ORG_OK, missing=("task_id",)),
        E(method="POST", roles=ORGANISERS, ok=ORG_OK, status=302, form=True,
          body={"date": "2099-01-01", "starts": "22:00", "ends": "06:00", "capacity": "5"},
          missing=("task_id",)),
    ],
    "volunteering:roster": [E(roles=ORGANISERS, ok=ORG_OK, missing=("shift_id",),
                              foreign={"shift_id": lambda w: w.shift_other.pk},
                              foreign_ok=_s("organiser_other", "area_admin_other",
                                            "district_admin"))],
    "volunteering:desk": [E(method="POST", roles=ORGANISERS, ok=ORG_OK, status=302, form=True,
                            body={"action": "check_in"}, missing=("signup_id",),
                            foreign={"signup_id": lambda w: w.signup_other.pk},
                            foreign_ok=_s("organiser_other", "area_admin_other",
                                          "district_admin"))],
    # --- errands ---
    "volunteering:errands": [E(roles=WORKER_ROLE, ok=WORKERS, marker="MARKERRAND_own",
                               sees=_s("worker"))],
    "volunteering:errand": [
        E(roles=ERRAND_ROLES, ok=ERRAND_SEERS, missing=("errand_id",)),
        E(method="POST", roles=ERRAND_ROLES, ok=ORG_OK, status=302, form=True,
          body={"action": "cancel"}, missing=("errand_id",)),
    ],
    "volunteering:errand_desk": [
        E(roles=ORGANISERS, ok=ORG_ALL, marker="MARKERRAND_own", sees=ORG_OK),
        E(method="POST", roles=ORGANISERS, ok=ORG_OK, status=302, form=True,
          body={"area": "YLJ", "title": "买菜", "resident_name": "李大爷",
                "resident_address": "2号楼"},
          special={"organiser_other": FORM_REFUSAL, "area_admin_other": FORM_REFUSAL}),
    ],
    "volunteering:errand_verify": [E(method="POST", roles=ORGANISERS, ok=ORG_OK, status=302,
                                     form=True, body=lambda w: {"mobile": w.people["worker"].mobile},
                                     special={"organiser_other": FORM_REFUSAL,
                                              "area_admin_other": FORM_REFUSAL})],
    "volunteering:errand_export": [E(roles=ORGANISERS, ok=ORG_ALL, marker="MARKERRAND_own",
                                     sees=ORG_OK)],
    "volunteering:errand_ask": [
        E(roles=_roles(R.RESIDENT), ok=_s("resident")),
        E(method="POST", roles=_roles(R.RESIDENT), ok=_s("resident"), status=302, form=True,
          body={"title": "取药", "address": "5号楼"}),
    ],
    "volunteering:errand_thanks": [
        E(roles=_roles(R.RESIDENT), ok=_s("resident"), missing=("errand_id",)),
        # not done yet: told so on the page it redirects to
        E(method="POST", roles=_roles(R.RESIDENT), ok=_s("resident"), status=302,
          missing=("errand_id",)),
    ],
    # --- 四个一 and the volunteer-service records ---
    "volunteering:activities": [
        E(roles=ORGANISERS, ok=ORG_ALL),
        E(method="POST", roles=ORGANISERS, ok=ORG_OK, status=302, form=True,
          body={"area": "YLJ", "kind": "visit", "title": "走访慰问", "held_on": "2026-01-05",
                "people_reached": "12"},
          special={"organiser_other": FORM_REFUSAL, "area_admin_other": FORM_REFUSAL}),
    ],
    # nothing confirmed yet: the page says so (409)
    "volunteering:records": [E(roles=WORKER_ROLE, ok=WORKERS),
                             E(method="POST", roles=WORKER_ROLE, ok=WORKERS, status=409,
                               form=True, body={})],
    "volunteering:record_pdf": [E(roles=WORKER_ROLE, ok=_s("worker"), missing=("record_id",),
                                  foreign={"record_id": lambda w: w.record_other.pk},
                                  foreign_ok=_s("worker_other"))],
    "volunteering:record_revoke": [E(method="POST", roles=_roles(R.WORKER, R.DISTRICT_ADMIN),
                                     ok=_s("worker", "district_admin"), status=302, form=True,
                                     body={"reason": "有误"}, missing=("record_id",))],
    # public: whoever holds the paper checks it
    "volunteering:verify": [E(public=True, ok=ALL, missing=("number",))],
    # --- the family short-stay flat ---
    "housing:home": [E(roles=WORKER_ROLE, ok=WORKERS, marker="MARKVISITOR_own",
                       sees=_s("worker"))],
    "housing:flat": [
        E(roles=WORKER_ROLE, ok=WORKERS, missing=("flat_id",)),
        E(method="POST", roles=WORKER_ROLE, ok=WORKERS, status=302, form=True,
          body=lambda w: {**_stay(), "name_0": "王芳", "relation_0": "spouse"},
          missing=("flat_id",)),
    ],
    "housing:booking_cancel": [E(method="POST", roles=_roles(R.WORKER, *FLAT_MANAGERS),
                                 ok=BOOKING_SEERS, status=302, missing=("booking_id",),
                                 foreign={"booking_id": lambda w: w.booking_other.pk},
                                 foreign_ok=_s("worker_other", "steward_other",
                                               "area_admin_other", "district_admin",
                                               "housing_office_other"))],
    "housing:desk": [E(roles=FLAT_MANAGERS,
                       ok=_s("steward", "steward_other", *ADMINS, "housing_office",
                             "housing_office_other"),
                       marker="MARKVISITOR_own", sees=FLAT_MANAGERS_OK)],
    "housing:booking_check_in": [E(method="POST", roles=FLAT_MANAGERS, ok=FLAT_MANAGERS_OK,
                                   status=302, missing=("booking_id",))],
    "housing:booking_check_out": [E(method="POST", roles=FLAT_MANAGERS, ok=FLAT_MANAGERS_OK,
                                    status=302, missing=("booking_id",),
                                    kwargs={"booking_id": lambda w: w.booking_in.pk})],
    "housing:survey": [
        E(roles=WORKER_ROLE, ok=WORKERS),
        E(method="POST", roles=WORKER_ROLE, ok=WORKERS, status=302, form=True, body=SURVEY_FORM),
    ],
    "housing:survey_figures": [E(roles=FIGURES, ok=FIGURE_PERSONAS)],
    "housing:survey_answers": [E(roles=OFFICE, ok=OFFICE_PERSONAS)],
    # one worker's answers: the worker, the housing office of their area; admins get figures
    "housing:survey_answer": [E(roles=_roles(R.WORKER, R.HOUSING_OFFICE),
                                ok=_s("worker", "housing_office"), missing=("survey_id",))],
    "housing:resources": [E(roles=WORKER_ROLE, ok=WORKERS)],
    "housing:resource_apply": [E(method="POST", roles=WORKER_ROLE, ok=WORKERS, status=302,
                                 form=True, body={"people": "1"}, missing=("resource_id",))],
    "housing:office": [E(roles=FIGURES, ok=FIGURE_PERSONAS, marker="MARKRESOURCE_own",
                         sees=_s("housing_office", *ADMINS_IN_SCOPE))],
    "housing:rental_step": [E(method="POST", roles=_roles(R.WORKER, R.HOUSING_OFFICE),
                              ok=_s("housing_office"), status=302, form=True,
                              body={"action": "review"}, missing=("rental_id",))],
    # --- union membership ---
    "union:home": [
        E(roles=WORKER_ROLE, ok=WORKERS),
        # the member is sent to their card; the other worker's application is sent
        E(method="POST", roles=WORKER_ROLE, ok=WORKERS, status=302, form=True,
          body={"area": "YLJ", "employer": "顺丰速运", "job_type": "courier", "consent": "on"}),
    ],
    "union:withdraw": [E(method="POST", roles=WORKER_ROLE, ok=_s("worker"), status=302,
                         missing=("application_id",),
                         kwargs={"application_id": lambda w: w.application_mine.pk})],
    "union:card": [E(roles=WORKER_ROLE, ok=_s("worker"))],
    "union:desk": [E(roles=ROLL, ok=ROLL_PERSONAS, marker="MARKEMPLOYER_own",
                     sees=_s("union_staff"))],
    "union:decide": [E(method="POST", roles=UNION, ok=_s("union_staff"), status=302,
                       form=True, body={"action": "approve"}, missing=("application_id",))],
    "union:batch_new": [
        E(roles=ENROLLERS, ok=ENROLLER_PERSONAS),
        # at the steward's own station; another street's steward or union: the place is refused
        E(method="POST", roles=ENROLLERS, ok=_s("steward", "union_staff"), status=302,
          form=True, special={"steward_other": FORM_REFUSAL, "union_staff_other": FORM_REFUSAL},
          body=lambda w: {"title": "集中入会", "held_on": "2026-11-20",
                          "place": f"s{w.station.pk}", "roster": "李四,13600000037",
                          "consent": "on"}),
    ],
    "union:batch_template": [E(roles=ENROLLERS, ok=ENROLLER_PERSONAS)],
    "union:batch": [E(roles=_roles(R.STEWARD, *ROLL), ok=BATCH_SEERS, missing=("batch_id",))],
    # --- the Django admin: district admins (signed in with TOTP) only ---
    "admin:*": [E(ok=_s("district_admin"),
                  special={p: LOGIN for p in SIGNED_IN - {"district_admin"}})],
    # --- street reports (随手拍) ---
    "reports:mine": [E(roles=WORKER_ROLE, ok=WORKERS, marker="MARKREPORT_own", sees=_s("worker"))],
    "reports:new": [
        E(roles=WORKER_ROLE, ok=WORKERS),
        # a photo uploaded ahead by somebody else is refused beside the photos field
        E(method="POST", roles=WORKER_ROLE, ok=_s("worker"), status=302, form=True,
          body=lambda w: {"category": "exposed_garbage", **REPORT_PLACE,
                          "photo_ids": w.pending_photo.pk},
          special={"worker_other": FORM_REFUSAL}),
    ],
    "reports:nearby": [E(roles=WORKER_ROLE, ok=WORKERS,
                         query={"category": "exposed_garbage", **REPORT_PLACE})],
    "reports:photo_upload": [E(method="POST", roles=REPORT_UPLOADERS, status=201, form=True,
                               ok=WORKERS | REPORT_STAFF_PERSONAS,
                               body=lambda w: {"image": io.BytesIO(_jpeg())})],
    # a report's photo: personal; only those who see the problem (never the public /media/)
    "reports:photo": [E(ok=REPORT_SEERS, public=True, special={ANON: 404}, missing=("photo_id",),
                        kwargs={"photo_id": lambda w: w.report_photo.pk},
                        foreign={"photo_id": lambda w: w.report_photo_other.pk},
                        foreign_ok=REPORT_SEERS_OTHER)],
    "reports:photo_thumb": [E(ok=REPORT_SEERS, public=True, special={ANON: 404}, missing=("photo_id",),
                              kwargs={"photo_id": lambda w: w.report_photo.pk},
                              foreign={"photo_id": lambda w: w.report_photo_other.pk},
                              foreign_ok=REPORT_SEERS_OTHER)],
    "reports:photo_publish": [E(method="POST", roles=REPORT_STAFF, ok=REPORT_TRIAGE, status=302,
                                form=True, body={"public": "1"}, missing=("photo_id",),
                                kwargs={"photo_id": lambda w: w.report_photo.pk},
                                foreign={"photo_id": lambda w: w.report_photo_other.pk},
                                foreign_ok=_s("area_admin_other", "district_admin",
                                              "command_centre_other"))],
    "reports:queue": [
        E(roles=REPORT_STAFF, ok=REPORT_STAFF_PERSONAS, query={"status": ""},
          marker="MARKREPORT_own", sees=REPORT_SEERS - {"worker"}),
        E(method="POST", roles=REPORT_STAFF, ok=REPORT_STAFF_PERSONAS, status=302, form=True,
          body=lambda w: {"ids": [w.report.pk], "action": "dispatch", "department": "xl-zx"},
          unchanged=_s("department", "department_other", "area_admin_other",
                       "command_centre_other")),
    ],
    "reports:public": [E(public=True, ok=ALL)],
    "reports:clients": [
        E(roles=DISTRICT, ok=_s("district_admin")),
        E(method="POST", roles=DISTRICT, ok=_s("district_admin"), status=201, form=True,
          body={"name": "新对接系统", "areas": "GC"}),
    ],
    "reports:client_revoke": [E(method="POST", roles=DISTRICT, ok=_s("district_admin"),
                                status=302, missing=("client_id",))],
    # --- Open311 GeoReport v2: reading is public (what the public map shows); writing needs an
    # api_key, which no persona sends here: 403 for everyone, in the specification's format ---
    "open311:discovery": [E(public=True, ok=ALL)],
    "open311:services": [E(public=True, ok=ALL)],
    "open311:service": [E(public=True, ok=ALL, missing=("code",),
                          kwargs={"code": lambda w: "exposed_garbage"})],
    "open311:requests": [
        E(public=True, ok=ALL),
        E(method="POST", public=True, form=True, body={"service_code": "exposed_garbage"},
          special={p: 403 for p in ALL}),
    ],
    "open311:request": [E(public=True, ok=ALL, missing=("request_id",))],
    # the world has no request filed through Open311, so no token answers
    "open311:token": [E(public=True, ok=ALL, status=404,
                        kwargs={"token": lambda w: "0123456789abcdef"})],
    "open311:updates": [
        E(public=True, ok=ALL),
        E(method="POST", public=True, form=True, special={p: 403 for p in ALL},
          body=lambda w: {"service_request_id": w.report.pk, "description": "x"}),
    ],
    "open311:not_found": [E(public=True, ok=ALL, status=404)],
    "reports:public_detail": [E(public=True, ok=ALL, missing=("problem_id",))],
    "reports:detail": [E(ok=REPORT_SEERS, missing=("problem_id",),
                         foreign={"problem_id": lambda w: w.report_other.pk},
                         foreign_ok=REPORT_SEERS_OTHER)],
    "reports:act": [E(method="POST", ok=_s("department", *REPORT_TRIAGE), status=302,
                      form=True, body={"action": "note", "note": "已联系"},
                      missing=("problem_id",), special={"worker": 302})],
    "reports:follow": [E(method="POST", roles=WORKER_ROLE, ok=WORKERS, status=302, form=True,
                         body=REPORT_PLACE, missing=("problem_id",))],
    # --- API and HSDS documents ---
    "api:openapi-json": [E(public=True, ok=ALL)],
    "api:openapi-view": [E(public=True, ok=ALL)],
    "api:api-root": [E(public=True, ok=ALL, status=404)],
    "hsds:openapi-json": [E(public=True, ok=ALL)],
    "hsds:openapi-view": [E(public=True, ok=ALL)],
    "hsds:api-root": [E(public=True, ok=ALL)],
}

# API operations by operationId (/api/v1/openapi.json and /hsds/openapi.json).
API: dict[str, E] = {
    # sign-in: public by nature
    "request_sms_code": E(method="POST", public=True, ok=ALL,
                          body={"mobile": "13900000099"}),
    "sms_token": E(method="POST", public=True, ok=ALL, status=422,  # a wrong code
                   body={"mobile": "13900000099", "code": "000000"}),
    "staff_token": E(method="POST", public=True, ok=ALL,
                     body=lambda w: {"mobile": w.people["steward"].mobile,
                                     "password": PASSWORD}),
    "revoke_token": E(method="POST", ok=SIGNED_IN, status=204),
    "get_me": E(ok=SIGNED_IN),
    "export_my_data": E(ok=SIGNED_IN),
    "close_my_account": E(method="POST", ok=SIGNED_IN, status=204),
    "list_workers": E(roles=ADMIN_ROLES, ok=ADMINS, marker="MARKWORKERA",
                      sees=ADMINS_IN_SCOPE),
    "reveal_worker_mobile": E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE,
                              missing=("worker_id",)),
    # areas: read by anyone signed in, changed by the admins covering them
    "list_areas": E(ok=SIGNED_IN),
    "list_managed_areas": E(roles=ADMIN_ROLES, ok=ADMINS),
    "get_area": E(ok=SIGNED_IN, missing=("code",)),
    "create_area_contact": E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, status=201,
                             body={"kind": "hotline", "name": "新热线",
                                   "phone": "010-89350004"}, missing=("code",)),
    "update_area_contact": E(method="PATCH", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE,
                             body={"name": "改名热线"}, missing=("contact_id",),
                             foreign={"contact_id": lambda w: w.contact_other.pk},
                             foreign_ok=_s("area_admin_other", "district_admin")),
    "delete_area_contact": E(method="DELETE", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE,
                             status=204, missing=("contact_id",)),
    # stations: the public card and search; the console's operations
    "places_nearby": E(public=True, ok=ALL, query={"lat": 39.748, "lng": 116.14}),
    "get_station": E(public=True, ok=ALL, missing=("station_id",)),
    "check_in": E(method="POST", roles=WORKER_ROLE, ok=WORKERS, status=201,
                  body=lambda w: {"token": w.station.checkin_token}),
    "list_managed_stations": E(roles=CONSOLE, ok=_s("steward", "steward_other", *ADMINS),
                               marker="MARKSTATION_own", sees=CONSOLE_OK),
    "set_station_hours": E(method="PUT", roles=CONSOLE, ok=CONSOLE_OK, missing=("station_id",),
                           body={"spans": [{"weekday": 0, "opens": "08:00",
                                            "closes": "20:00"}]}),
    "set_station_status": E(method="POST", roles=CONSOLE, ok=CONSOLE_OK,
                            missing=("station_id",), body={"temporarily_closed": True}),
    "set_station_exception": E(method="POST", roles=CONSOLE, ok=CONSOLE_OK,
                               missing=("station_id",),
                               body={"date": "2030-01-01", "closed": True}),
    "set_station_amenities": E(method="PUT", roles=CONSOLE, ok=CONSOLE_OK,
                               missing=("station_id",), body={"codes": []}),
    "change_stock": E(method="POST", roles=CONSOLE, ok=CONSOLE_OK, missing=("station_id",),
                      body={"item": "water", "delta": 2, "reason": "in"}),
    "lend_item": E(method="POST", roles=CONSOLE, ok=CONSOLE_OK, status=201,
                   missing=("station_id",),
                   body=lambda w: {"item": "umbrella",
                                   "worker_mobile": w.people["worker"].mobile}),
    "list_loans": E(roles=CONSOLE, ok=CONSOLE_OK, missing=("station_id",)),
    "return_item": E(method="POST", roles=CONSOLE, ok=CONSOLE_OK,
                     missing=("station_id", "loan_id"),
                     # another station's loan by its guessable id: the hole of issue 8
                     foreign={"loan_id": lambda w: w.loan_other.pk}),
    "return_item_by_borrower": E(method="POST", roles=CONSOLE, ok=CONSOLE_OK,
                                 missing=("station_id",),
                                 body=lambda w: {"item": "umbrella",
                                                 "worker_mobile": w.people["worker"].mobile}),
    "record_service": E(method="POST", roles=CONSOLE, ok=CONSOLE_OK, status=201,
                        missing=("station_id",), body={"service": "rest"}),
    "add_station_photo": E(method="POST", roles=CONSOLE, ok=CONSOLE_OK, status=201,
                           missing=("station_id",), form=True,
                           body=lambda w: {"image": io.BytesIO(_jpeg())}),
    "delete_station_photo": E(method="DELETE", roles=CONSOLE, ok=CONSOLE_OK, status=204,
                              missing=("station_id", "photo_id"),
                              foreign={"photo_id": lambda w: w.photo_other.pk}),
    # points
    "get_my_wallet": E(roles=WORKER_ROLE, ok=WORKERS),
    "list_my_entries": E(roles=WORKER_ROLE, ok=WORKERS),
    "list_earning_rules": E(ok=SIGNED_IN),
    "create_award": E(method="POST", roles=DISTRICT, ok=_s("district_admin"), headers=_key,
                      body=lambda w: {"worker_id": w.people["worker"].worker_profile.pk,
                                      "action": "grant"}),
    "reverse_transaction": E(method="POST", roles=DISTRICT, ok=_s("district_admin"),
                             headers=_key, body={"reason": "误发"},
                             missing=("transaction_id",)),
    "get_points_figures": E(roles=DISTRICT, ok=_s("district_admin")),
    # benefits
    "list_merchants": E(ok=SIGNED_IN),
    "get_merchant": E(ok=SIGNED_IN, missing=("merchant_id",)),
    "create_merchant": E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, status=201,
                         body=MERCHANT_IN),
    "create_offer": E(method="POST", roles=MANAGE_MERCHANT, ok=MERCHANT_OK, status=201,
                      missing=("merchant_id",),
                      body={"kind": "meal", "title": "新套餐", "price": 10,
                            "normal_price": 20}),
    "update_offer": E(method="PATCH", roles=MANAGE_MERCHANT, ok=MERCHANT_OK,
                      missing=("offer_id",), body={"title": "改名套餐"},
                      foreign={"offer_id": lambda w: w.offer_other.pk},
                      foreign_ok=_s("merchant_other", "area_admin_other", "district_admin")),
    "create_code": E(method="POST", roles=WORKER_ROLE, ok=WORKERS, status=201, headers=_key,
                     missing=("offer_id",)),
    # A code nobody was given, typed at the merchant's own counter: refused for what was typed
    # (the merchant is in scope); at another merchant's counter: that counter looks missing.
    "redeem_code": E(method="POST", roles=_roles(R.MERCHANT), headers=_key,
                     special={"merchant": BODY_REFUSAL},
                     body=lambda w: {"merchant_id": w.merchant.pk, "code": "000000"}),
    "list_redemptions": E(ok=SIGNED_IN, marker="MARKOFFER_own",
                          sees=_s("worker", "merchant", *ADMINS_IN_SCOPE)),
    "get_settlement": E(roles=MANAGE_MERCHANT, ok=MERCHANT_OK, missing=("merchant_id",)),
    # needs
    "list_appeal_categories": E(ok=SIGNED_IN),
    "update_appeal_category": E(method="PATCH", roles=DISTRICT, ok=_s("district_admin"),
                                kwargs={"code": lambda w: "housing"}, missing=("code",),
                                body={"answer_hours": 20}),
    "list_routing_rules": E(roles=STAFF, ok=STAFF_PERSONAS),
    "set_routing_rule": E(method="PUT", roles=DISTRICT, ok=_s("district_admin"),
                          body={"category": "housing", "area_code": "YLJ",
                                "department": "gc-zx"}),
    "update_appeal_settings": E(method="PATCH", roles=DISTRICT, ok=_s("district_admin"),
                                body={"respond_hours": 5}),
    "create_appeal": E(method="POST", roles=RAISERS, status=201,
                       ok=_s("worker", "worker_other", "steward", "steward_other",
                             *ADMINS_IN_SCOPE),
                       body=lambda w: {**NEED, "worker_mobile": w.people["worker"].mobile},
                       # a worker raises their own needs, never one for somebody else
                       special={"worker_other": 403}),
    "record_meeting": E(method="POST", roles=DISPATCHERS, ok=ADMINS_IN_SCOPE, status=201,
                        body={"title": "座谈会", "held_on": "2026-10-20", "area_code": "GC",
                              "needs": [{"category": "housing", "title": "用房难",
                                         "body": "找不到"}]}),
    "list_appeals": E(ok=SIGNED_IN, marker="MARKCASE_own", sees=CASE_SEERS),
    "get_appeal_board": E(roles=STAFF, ok=STAFF_PERSONAS),
    "bulk_appeals": E(method="POST", roles=STAFF, ok=STAFF_PERSONAS,
                      body=lambda w: {"ids": [w.case.pk], "action": "accept"},
                      unchanged=_s("department_other", *ADMINS)),
    "search_policy": E(ok=SIGNED_IN),
    "create_policy_answer": E(method="POST", roles=_roles(R.DEPARTMENT, R.DISTRICT_ADMIN),
                              ok=_s("department", "department_other", "district_admin"),
                              status=201, body=POLICY_IN),
    "update_policy_answer": E(method="PUT", roles=_roles(R.DEPARTMENT, R.DISTRICT_ADMIN),
                              ok=_s("department", "district_admin"), missing=("answer_id",),
                              body=POLICY_IN),
    "get_appeal": E(ok=CASE_SEERS, missing=("appeal_id",),
                    foreign={"appeal_id": lambda w: w.case_other.pk},
                    foreign_ok=_s("worker_other", "department_other", "area_admin_other",
                                  "district_admin")),
    "act_on_appeal": E(method="POST", ok=_s("department", *ADMINS_IN_SCOPE),
                       body={"action": "note", "note": "已电话联系"}, missing=("appeal_id",),
                       # the submitter sees the case but may not add notes to it
                       special={"worker": 403}),
    # notices: the worker's inbox and groups
    "list_my_notices": E(ok=SIGNED_IN, marker="MARKNOTICE_own", sees=_s("worker")),
    "get_my_unread_count": E(ok=SIGNED_IN),
    "mark_notice_read": E(method="POST", ok=_s("worker"), missing=("notice_id",)),
    "list_my_groups": E(ok=SIGNED_IN, marker="MARKGROUP_own", sees=_s("worker")),
    "join_group": E(method="POST", ok=SIGNED_IN, body=lambda w: {"token": w.group.join_token}),
    # notices: the admins' side (the desk's pages in the API)
    "list_notice_groups": E(roles=ADMIN_ROLES, ok=ADMINS, marker="MARKGROUP_own",
                            sees=ADMINS_IN_SCOPE),
    "create_notice_group": E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, status=201,
                             special={"area_admin_other": 422},
                             body={"area_code": "YLJ", "name": "新群组"}),
    "get_notice_group": E(roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, missing=("group_id",),
                          foreign={"group_id": lambda w: w.group_other.pk},
                          foreign_ok=_s("area_admin_other", "district_admin")),
    "update_notice_group": E(method="PATCH", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE,
                             missing=("group_id",), body={"patch": "一片区"}),
    "list_group_members": E(roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, missing=("group_id",)),
    "add_group_member": E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, status=201,
                          missing=("group_id",),
                          body=lambda w: {"mobile": w.people["worker_other"].mobile}),
    "remove_group_member": E(method="DELETE", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE,
                             status=204, missing=("member_id",),
                             foreign={"member_id": lambda w: w.member_other.pk},
                             foreign_ok=_s("area_admin_other", "district_admin")),
    "create_group_channel": E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE,
                              status=201, missing=("group_id",),
                              body={"kind": "wecom", "name": "企业微信群",
                                    "webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/"
                                                   "webhook/send?key=abcdefgh"}),
    "update_group_channel": E(method="PATCH", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE,
                              body={"is_active": False}, missing=("channel_id",),
                              foreign={"channel_id": lambda w: w.channel_other.pk},
                              foreign_ok=_s("area_admin_other", "district_admin")),
    "list_managed_notices": E(roles=ADMIN_ROLES, ok=ADMINS, marker="MARKNOTICE_own",
                              sees=ADMINS_IN_SCOPE),
    "create_notice": E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, status=201,
                       special={"area_admin_other": 422},
                       body=lambda w: {"kind": "tip", "audience": "group",
                                       "group_id": w.group.pk, "title": "新通知",
                                       "body": "内容"}),
    "get_managed_notice": E(roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, missing=("notice_id",),
                            foreign={"notice_id": lambda w: w.notice_other.pk},
                            foreign_ok=_s("area_admin_other", "district_admin")),
    "cancel_notice": E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE,
                       kwargs={"notice_id": lambda w: w.scheduled.pk}, missing=("notice_id",)),
    "list_notice_deliveries": E(roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, missing=("notice_id",)),
    "list_notice_receipts": E(roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, missing=("notice_id",)),
    "list_dead_letters": E(roles=ADMIN_ROLES, ok=ADMINS),
    "retry_dead_letter": E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE,
                           missing=("message_id",),
                           foreign={"message_id": lambda w: w.dead_other.pk},
                           foreign_ok=_s("area_admin_other", "district_admin")),
    # volunteering
    "list_volunteer_tasks": E(roles=VOLUNTEER_READERS, ok=WORKERS | ORG_ALL,
                              marker="MARKTASK_own", sees=WORKERS | ORG_OK),
    "volunteer_tasks_nearby": E(roles=VOLUNTEER_READERS, ok=WORKERS | ORG_ALL,
                                query={"lat": 39.748, "lng": 116.14}),
    "get_volunteer_task": E(roles=VOLUNTEER_READERS, ok=WORKERS | ORG_OK, missing=("task_id",)),
    "create_volunteer_task": E(method="POST", roles=ORGANISERS, ok=ORG_OK, status=201,
                               body=TASK_IN, special={"organiser_other": 422,
                                                      "area_admin_other": 422}),
    "create_volunteer_shift": E(method="POST", roles=ORGANISERS, ok=ORG_OK, status=201,
                                body=_shift_in, missing=("task_id",)),
    # the own worker is already signed up (409); the other street's may sign up too
    "signup_volunteer_shift": E(method="POST", roles=WORKER_ROLE, ok=_s("worker_other"),
                                status=201, special={"worker": 409}, missing=("shift_id",)),
    "cancel_volunteer_signup": E(method="POST", roles=WORKER_ROLE, ok=_s("worker"),
                                 missing=("signup_id",)),
    "list_my_volunteer_signups": E(roles=WORKER_ROLE, ok=WORKERS, marker="MARKTASK_own",
                                   sees=_s("worker")),
    "my_volunteer_hours": E(roles=WORKER_ROLE, ok=WORKERS),
    "volunteer_check": E(method="POST", roles=WORKER_ROLE, ok=_s("worker"),
                         body=lambda w: {"token": w.task.checkin_token},
                         special={"worker_other": 409}),
    "list_volunteer_roster": E(roles=ORGANISERS, ok=ORG_OK, missing=("shift_id",)),
    "mark_volunteer_attendance": E(method="POST", roles=ORGANISERS, ok=ORG_OK,
                                   body={"action": "check_in"}, missing=("signup_id",)),
    # not checked out yet: refused as a state, for those who may confirm at all
    "confirm_volunteer_attendance": E(method="POST", roles=ORGANISERS, ok=ORG_OK, status=409,
                                      missing=("signup_id",)),
    "list_errands": E(roles=ERRAND_ROLES, ok=WORKERS | _s("resident") | ORG_ALL,
                      marker="MARKERRAND_own", sees=ERRAND_SEERS),
    "get_errand": E(roles=ERRAND_ROLES, ok=ERRAND_SEERS, missing=("errand_id",)),
    "create_errand": E(method="POST", roles=ORGANISERS, ok=ORG_OK, status=201, body=ERRAND_IN,
                       special={"organiser_other": 422, "area_admin_other": 422}),
    "take_errand": E(method="POST", roles=WORKER_ROLE, ok=_s("worker"), missing=("errand_id",)),
    # not taken by them: a state refusal for the one who sees it
    "finish_errand": E(method="POST", roles=WORKER_ROLE, ok=_s("worker"), status=409,
                       body={"minutes": 30}, missing=("errand_id",)),
    "confirm_errand": E(method="POST", roles=_roles(R.RESIDENT, *ORGANISERS),
                        ok=_s("resident", *ORG_OK), status=409, missing=("errand_id",)),
    "list_activities": E(roles=ORGANISERS, ok=ORG_ALL),
    "create_activity": E(method="POST", roles=ORGANISERS, ok=ORG_OK, status=201,
                         body={"area_code": "YLJ", "kind": "visit", "title": "走访慰问",
                               "held_on": "2026-01-05", "people_reached": 12},
                         special={"organiser_other": 422, "area_admin_other": 422}),
    # the family short-stay flat: flats and calendars for anyone signed in, bookings for
    # their worker and the flat's keepers (steward, area admins, housing office)
    "list_flats": E(ok=SIGNED_IN),
    "get_flat": E(ok=SIGNED_IN, missing=("flat_id",)),
    "get_flat_calendar": E(ok=SIGNED_IN, missing=("flat_id",)),
    "create_booking": E(method="POST", roles=WORKER_ROLE, ok=WORKERS, status=201,
                        missing=("flat_id",),
                        body=lambda w: {**_stay(), "visitors": [{"name": "王芳",
                                                                "relation": "spouse"}]}),
    "list_bookings": E(ok=SIGNED_IN, marker="MARKVISITOR_own", sees=BOOKING_SEERS),
    "get_booking": E(ok=BOOKING_SEERS, missing=("booking_id",),
                     foreign={"booking_id": lambda w: w.booking_other.pk},
                     foreign_ok=_s("worker_other", "steward_other", "area_admin_other",
                                   "district_admin", "housing_office_other")),
    "cancel_booking": E(method="POST", ok=BOOKING_SEERS, missing=("booking_id",)),
    "check_in_guests": E(method="POST", roles=FLAT_MANAGERS, ok=FLAT_MANAGERS_OK,
                         missing=("booking_id",)),
    "check_out_guests": E(method="POST", roles=FLAT_MANAGERS, ok=FLAT_MANAGERS_OK,
                          missing=("booking_id",),
                          kwargs={"booking_id": lambda w: w.booking_in.pk}),
    # the housing survey, resources and rental intentions
    "get_my_survey": E(roles=WORKER_ROLE, ok=WORKERS),
    "save_my_survey": E(method="PUT", roles=WORKER_ROLE, ok=WORKERS,
                        body={"area_code": "YLJ", "housing": "own", "commute_minutes": 10}),
    "get_survey_figures": E(roles=FIGURES, ok=FIGURE_PERSONAS),
    "list_surveys": E(roles=OFFICE, ok=OFFICE_PERSONAS),
    "get_survey": E(ok=_s("worker", "housing_office"), missing=("survey_id",)),
    "list_housing_resources": E(ok=SIGNED_IN),
    "create_housing_resource": E(method="POST", roles=OFFICE, ok=_s("housing_office"),
                                 status=201, body={"kind": "factory", "name": "闲置厂房",
                                                   "area_code": "GC", "address": "拱辰"}),
    "get_housing_resource": E(ok=SIGNED_IN, missing=("resource_id",)),
    "apply_for_rental": E(method="POST", roles=WORKER_ROLE, ok=_s("worker_other"), status=201,
                          special={"worker": 409},  # already applied for it
                          missing=("resource_id",), body={"people": 1}),
    "list_rental_applications": E(ok=SIGNED_IN, marker="MARKRESOURCE_own", sees=RENTAL_SEERS),
    "move_rental_application": E(method="POST", roles=_roles(R.WORKER, R.HOUSING_OFFICE),
                                 ok=_s("housing_office"), body={"action": "review"},
                                 missing=("rental_id",)),
    "get_housing_figures": E(roles=FIGURES, ok=FIGURE_PERSONAS),
    # union membership
    "get_my_membership": E(roles=WORKER_ROLE, ok=WORKERS),
    "apply_for_membership": E(method="POST", roles=WORKER_ROLE, ok=_s("worker_other"),
                              status=201, special={"worker": 409},  # already a member
                              body={"area_code": "SZ", "employer": "美团",
                                    "job_type": "food_delivery", "consent": True}),
    "list_membership_applications": E(ok=SIGNED_IN, marker="MARKEMPLOYER_own",
                                      sees=_s("union_staff")),
    "decide_membership_application": E(method="POST", roles=UNION, ok=_s("union_staff"),
                                       body={"approve": True}, missing=("application_id",)),
    "list_union_members": E(roles=ROLL, ok=ROLL_PERSONAS, marker="MARKMEMBER_own",
                            sees=ROLL_IN_SCOPE),
    "get_union_figures": E(roles=ROLL, ok=ROLL_PERSONAS),
    "create_enrolment_batch": E(method="POST", roles=ENROLLERS, ok=_s("steward", "union_staff"),
                                status=201,
                                body=lambda w: {"title": "集中入会", "held_on": "2026-11-20",
                                                "station_id": w.station.pk,
                                                "consent_confirmed": True,
                                                "rows": [{"name": "李四",
                                                          "mobile": "13600000037"}]}),
    "get_enrolment_batch": E(roles=_roles(R.STEWARD, *ROLL), ok=BATCH_SEERS,
                             missing=("batch_id",)),
    # base data import: a batch is its uploader's and the district's
    "list_import_batches": E(roles=ADMIN_ROLES, ok=ADMINS, marker="w.csv",
                             sees=ADMINS_IN_SCOPE),
    "create_import_batch": E(method="POST", roles=ADMIN_ROLES, ok=ADMINS, status=202, form=True,
                             body=lambda w: {"kind": "workers", "file": io.BytesIO(
                                 "手机号,姓名,工作类型,工作区域\n13600000042,周,courier,YLJ\n"
                                 .encode())}),
    "get_import_batch": E(roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, missing=("batch_id",),
                          kwargs={"batch_id": lambda w: w.import_batch.pk}),
    "apply_import_batch": E(method="POST", roles=ADMIN_ROLES, ok=ADMINS_IN_SCOPE, status=202,
                            body={"only_valid": False}, missing=("batch_id",),
                            kwargs={"batch_id": lambda w: w.import_batch.pk}),
    # street reports (随手拍)
    "list_report_categories": E(ok=SIGNED_IN),
    "upload_report_photo": E(method="POST", roles=REPORT_UPLOADERS, status=201, form=True,
                             ok=WORKERS | REPORT_STAFF_PERSONAS,
                             body=lambda w: {"image": io.BytesIO(_jpeg())}),
    "same_problem_candidates": E(roles=WORKER_ROLE, ok=WORKERS,
                                 query={"category": "exposed_garbage", **REPORT_PLACE}),
    "create_report": E(method="POST", roles=WORKER_ROLE, ok=_s("worker"), status=201,
                       body=lambda w: {"category": "exposed_garbage", "lat": 39.733,
                                       "lng": 116.14, "photo_ids": [w.pending_photo.pk]},
                       special={"worker_other": 422}),
    "list_my_reports": E(roles=WORKER_ROLE, ok=WORKERS, marker="MARKREPORT_own",
                         sees=_s("worker")),
    "list_reports": E(roles=REPORT_STAFF, ok=REPORT_STAFF_PERSONAS, marker="MARKREPORT_own",
                      sees=REPORT_SEERS - {"worker"}),
    "bulk_reports": E(method="POST", roles=REPORT_STAFF, ok=REPORT_STAFF_PERSONAS,
                      body=lambda w: {"ids": [w.report.pk], "action": "dispatch",
                                      "department": "xl-zx"},
                      unchanged=_s("department", "department_other", "area_admin_other",
                                   "command_centre_other")),
    "get_report": E(ok=REPORT_SEERS, missing=("problem_id",),
                    foreign={"problem_id": lambda w: w.report_other.pk},
                    foreign_ok=REPORT_SEERS_OTHER),
    "follow_report": E(method="POST", roles=WORKER_ROLE, ok=WORKERS,
                       body={"lat": 39.733, "lng": 116.14}, missing=("problem_id",)),
    "act_on_report": E(method="POST", ok=_s("department", *REPORT_TRIAGE),
                       body={"action": "note", "note": "已联系"}, missing=("problem_id",),
                       special={"worker": 403}),
    # HSDS 3.0: the public service directory
    "getAPIMetaInformation": E(public=True, ok=ALL),
    "getPaginatedListOfServices": E(public=True, ok=ALL),
    "getFullyNestedServiceById": E(public=True, ok=ALL, missing=("service_id",)),
    "getPaginatedListOfOrganizations": E(public=True, ok=ALL),
    "getPaginatedListOfServiceAtLocation": E(public=True, ok=ALL),
    "getOrganizationById": E(public=True, ok=ALL, missing=("organization_id",)),
    "getServiceAtLocationWithNestedDataById": E(public=True, ok=ALL,
                                                missing=("service_at_location_id",)),
    "getPaginatedListOfTaxonomies": E(public=True, ok=ALL),
    "getTaxonomyById": E(public=True, ok=ALL, missing=("taxonomy_id",)),
    "getPaginatedListOfTaxonomyTerms": E(public=True, ok=ALL),
    "getTaxonomyTermById": E(public=True, ok=ALL, missing=("taxonomy_term_id",)),
}


# --- the machinery ------------------------------------------------------------------------------

def _openapi_operations() -> list[tuple[str, str, str]]:
    """(operationId, method, path template) of every operation of our two OpenAPI documents."""
    from warmstation.config.api import api
    from warmstation.config.hsds import hsds

    ops = []
    for target in (api, hsds):
        for path, item in target.get_openapi_schema()["paths"].items():
            for method, operation in item.items():
                ops.append((operation["operationId"], method.upper(), path))
    return sorted(ops)


def _url_patterns(patterns=None, prefix: str = "", namespace: str = ""):
    """(name with namespace, route, path parameter names) of every URL pattern."""
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            ns = ":".join(x for x in (namespace, p.namespace or "") if x)
            yield from _url_patterns(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace else (p.name or "")
            yield name, prefix + str(p.pattern), list(p.pattern.regex.groupindex)


OPERATIONS = _openapi_operations()
PAGES = [(name, route, params) for name, route, params in _url_patterns()
         if not name.startswith(("api:", "hsds:", "admin:"))]
DOCUMENT_PAGES = ("api:openapi-json", "api:openapi-view", "api:api-root", "hsds:openapi-json",
                  "hsds:openapi-view", "hsds:api-root")
# Models whose rows a refused call may still touch: the audit trail records refusals, and a
# bearer token notes when it was last used.
UNTRACKED = {"core.AuditEvent", "accounts.ApiToken"}


def _tracked_models() -> list:
    return [m for m in apps.get_models() if m.__module__.startswith("warmstation.")
            and m._meta.label not in UNTRACKED and not m._meta.proxy]


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for model in _tracked_models():
        digest.update(model._meta.label.encode())
        for row in model.objects.order_by("pk").values_list():
            digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world, built once for the module inside a transaction that is rolled back at the
    end; each test's own transaction (pytest-django's `db`) and each call's savepoint nest
    inside it."""
    media = tmp_path_factory.mktemp("matrix-media")
    with once_per_module(django_db_blocker):
        w = build_world(media)
        w["media"] = media
        w["files"] = {p.relative_to(media): p.read_bytes()
                      for p in media.rglob("*") if p.is_file()}
        w["pages"] = {ANON: Client()}
        w["api"] = {ANON: Client(enforce_csrf_checks=True)}
        for persona, user in w["people"].items():
            w["pages"][persona] = signed_in(user, ROLE_MIN_LEVEL[PERSONAS[persona]])
            w["api"][persona] = Client(
                headers={"Authorization": f"Bearer {w['tokens'][persona]}"})
        yield w


_WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.I)


class _WriteWatch:
    """The tables a call wrote to (INSERT/UPDATE/DELETE statements seen on the connection). A
    call that wrote none of the tracked tables changed nothing there; only one that did is
    compared row by row with the world before it (the fingerprint)."""

    def __init__(self) -> None:
        self.tables: set[str] = set()

    def __call__(self, execute, sql, params, many, context):
        if match := _WRITE.match(sql):
            self.tables.add(match.group(1))
        return execute(sql, params, many, context)


def _value(v, w):
    return v(w) if callable(v) else v


def _expected(e: E, persona: str, variant: str, *, api: bool):
    if variant == "own" and persona in e.special:
        return e.special[persona]
    if persona == ANON:
        if e.public:
            return e.status if variant == "own" else 404
        return 401 if api else LOGIN
    if e.roles is not None and PERSONAS[persona] not in e.roles:
        return 403
    if variant == "missing":
        return 404
    if variant == "foreign":
        return e.status if persona in e.foreign_ok else 404
    return e.status if persona in e.ok else 404


def _succeeds(e: E, persona: str, variant: str) -> bool:
    if persona in e.unchanged:
        return False
    if variant == "foreign":
        return persona in e.foreign_ok
    return variant == "own" and (persona in e.ok or persona in e.special)


def _is_login(response) -> bool:
    location = response.get("Location", "")
    return response.status_code == 302 and \
        location.startswith(("/login/", "/staff/login/", "/admin/login/"))


def _matches(response, expected) -> bool:
    if expected == LOGIN:
        return _is_login(response)
    allowed = expected if isinstance(expected, tuple) else (expected,)
    if response.status_code not in allowed:
        return False
    return not (response.status_code == 302 and _is_login(response))


def _send(client, e: E, url: str, w: World, *, api: bool):
    body = _value(e.body, w)
    headers = _value(e.headers, w) if not callable(e.headers) else e.headers()
    kwargs = {"headers": headers or {}}
    if e.method == "GET":
        return client.get(url, _value(e.query, w) or {}, **kwargs)
    if not api or e.form:
        if isinstance(body, dict) and any(isinstance(v, io.BytesIO) for v in body.values()):
            for v in body.values():
                if isinstance(v, io.BytesIO):
                    v.name = "photo.jpg"
        return client.generic(e.method, url, **kwargs) if body is None and e.method != "POST" \
            else client.post(url, body or {}, **kwargs)
    import json

    if body is None:
        return client.generic(e.method, url, **kwargs)
    return client.generic(e.method, url, json.dumps(body), content_type="application/json",
                          **kwargs)


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _restore_files(w: World) -> None:
    """A deleted photo's file goes after the (here rolled-back) transaction: put it back."""
    for rel, data in w["files"].items():
        target = w["media"] / rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def _run(w: World, key: str, e: E, make_url: Callable[[dict], str], params: list[str], *,
         api: bool) -> list[str]:
    """Call `e` as every persona, own / missing / foreign; the mismatches, as sentences."""
    own = {p: _value(e.kwargs.get(p, PARAMS.get(p)), w) for p in params}
    variants = [("own", own, PERSONAS)]
    if e.missing:
        missing = {**own, **{p: MISSING.get(p, MISSING_ID) for p in e.missing}}
        callers = e.ok | {p for p, v in e.special.items() if v != LOGIN and p != ANON}
        variants.append(("missing", missing, sorted(callers)))
    if e.foreign:
        variants.append(("foreign", {**own, **{p: _value(v, w) for p, v in e.foreign.items()}},
                         PERSONAS))
    tracked = {m._meta.db_table for m in _tracked_models()}
    baseline: list[str] = []  # computed once, the first time a refused call wrote something
    problems = []
    for variant, kwargs, personas in variants:
        url = make_url(kwargs)
        for persona in personas:
            client = w["api" if api else "pages"][persona]
            expected = _expected(e, persona, variant, api=api)
            cache.clear()  # rate limits (SMS sends, sign-in attempts) start fresh for each call
            cookies = copy.deepcopy(client.cookies)  # a sign-out or sign-in swaps the session
            watch = _WriteWatch()
            with transaction.atomic():
                if not baseline and e.writes:
                    baseline.append(_fingerprint())
                with connection.execute_wrapper(watch):
                    response = _send(client, e, url, w, api=api)
                changed = e.writes and not _succeeds(e, persona, variant) and \
                    bool(watch.tables & tracked) and _fingerprint() != baseline[0]
                transaction.set_rollback(True)
            client.cookies = cookies
            _restore_files(w)
            label = f"{key} {e.method} {url} as {persona} ({variant})"
            if not _matches(response, expected):
                where = response.get("Location", "")
                problems.append(f"{label}: expected {expected}, got {response.status_code}"
                                f"{' → ' + where if where else ''} {_body(response)[:160]!r}")
            elif api and response.status_code >= 400 and \
                    response["Content-Type"] != "application/problem+json":
                problems.append(f"{label}: {response.status_code} is not problem+json")
            elif response.status_code == 401 and "WWW-Authenticate" not in response:
                problems.append(f"{label}: 401 without a WWW-Authenticate challenge")
            elif changed:
                problems.append(f"{label}: refused ({response.status_code}) but the database "
                                "changed")
            elif e.marker and variant == "own" and response.status_code == 200:
                seen = e.marker.encode() in _body(response)
                if seen != (persona in (e.sees if e.sees is not None else e.ok)):
                    problems.append(f"{label}: {e.marker} {'leaked' if seen else 'missing'}")
    return problems


# --- the tests ----------------------------------------------------------------------------------

def test_every_url_and_operation_has_an_expected_outcome():
    """A new page or operation must say who may use it: no entry, no green suite."""
    missing = [f"page {name} ({route})" for name, route, _ in PAGES if name not in EXPECT]
    missing += [f"operation {op} ({method} {path})" for op, method, path in OPERATIONS
                if op not in API]
    api_paths = {path for _, _, path in OPERATIONS}
    for name, route, _params in _url_patterns():
        if name.startswith(("api:", "hsds:")) and name not in DOCUMENT_PAGES:
            templated = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
            if templated not in api_paths:
                missing.append(f"API route {name} ({route}) not in the OpenAPI document")
    stale = [k for k in EXPECT if k != "admin:*" and k not in {n for n, _, _ in PAGES}
             and k not in DOCUMENT_PAGES]
    stale += [k for k in API if k not in {op for op, _, _ in OPERATIONS}]
    assert not missing, "new URL without an expected outcome:\n" + "\n".join(missing)
    assert not stale, "expected outcome for a URL that no longer exists:\n" + "\n".join(stale)


PAGE_CASES = [(name, params) for name, _route, params in PAGES if name in EXPECT] + \
    [(name, []) for name in DOCUMENT_PAGES]


@pytest.mark.parametrize("name, params", PAGE_CASES, ids=[n for n, _ in PAGE_CASES])
def test_page(world, db, settings, name, params):
    from django.urls import reverse

    settings.MEDIA_ROOT = world["media"]
    problems = []
    for e in EXPECT[name]:
        problems += _run(world, name, e, lambda kw: reverse(name, kwargs=kw or None), params,
                         api=False)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("operation, method, path", OPERATIONS,
                         ids=[op for op, _, _ in OPERATIONS])
def test_operation(world, db, settings, operation, method, path):
    settings.MEDIA_ROOT = world["media"]
    e = API[operation]
    assert e.method == method, f"{operation} is {method} in the OpenAPI document"
    params = re.findall(r"{(\w+)}", path)
    problems = _run(world, operation, e, lambda kw: path.format(**kw), params, api=True)
    assert not problems, "\n".join(problems)


def test_django_admin(world, db):
    """Every page of the Django admin is for district admins signed in with TOTP; its index
    and every model's list are called (the same gate guards them all)."""
    from django.urls import reverse

    names = ["admin:index"] + sorted(n for n, _, params in _url_patterns()
                                     if n.startswith("admin:") and n.endswith("_changelist"))
    e = EXPECT["admin:*"][0]
    problems = []
    for name in names:
        for persona in (ANON, "area_admin", "resident", "district_admin"):
            response = world["pages"][persona].get(reverse(name))
            expected = _expected(e, persona, "own", api=False)
            if not _matches(response, expected):
                problems.append(f"{name} as {persona}: expected {expected}, got "
                                f"{response.status_code} {response.get('Location', '')}")
    assert not problems, "\n".join(problems)


def test_the_matrix_notices_what_it_must(world, db, settings):
    """The machinery can fail: a write that changes the database where the table says it must
    not, an answer other than the expected one, and a marked row shown outside its scope are
    each reported."""
    from django.urls import reverse

    settings.MEDIA_ROOT = world["media"]
    url = lambda kw: reverse("steward:status", kwargs=kw)  # noqa: E731
    wrote = E(method="POST", roles=CONSOLE, ok=_s("area_admin"), status=302, form=True,
              body=STATION_FORM, special={"steward": 302}, unchanged=_s("steward"))
    problems = _run(world, "probe", wrote, url, ["station_id"], api=False)
    assert any("as steward (own): refused (302) but the database changed" in p
               for p in problems), problems
    assert any("as district_admin (own): expected 404, got 302" in p for p in problems)
    leaky = E(roles=ADMIN_ROLES, ok=ADMINS, marker="MARKSTATION_own",
              sees=_s("district_admin"))
    problems = _run(world, "probe", leaky, lambda kw: reverse("stations:manage"), [],
                    api=False)
    assert any("as area_admin (own): MARKSTATION_own leaked" in p for p in problems), problems
