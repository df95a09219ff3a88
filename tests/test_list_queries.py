"""The list model, held: every list operation of the API (found in the OpenAPI document, so a
new one is covered or fails here) answers a bounded page `{items, count}` with the true total,
and costs the same number of queries with N rows as with 3N; so do the hot pages.

Query counts are measured with Django's CaptureQueriesContext around one request, after a
first request has warmed the caches (content types, the signed-in person's grants)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    as_level,
    make_appeal_setup,
    make_merchant,
    make_offer,
    make_station,
    make_user,
    make_worker,
    signed_in,
)
from warmstation.accounts.models import AuthLevel, Role
from warmstation.config.api import api

N = 2
_seq = itertools.count(1)


def _schema() -> dict:
    return api.get_openapi_schema(path_prefix="/api/v1/")


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _ok_schema(schema: dict, operation: dict) -> dict:
    responses = {str(k): v for k, v in operation["responses"].items()}
    content = responses.get("200", {}).get("content", {})
    return _resolve(schema, content.get("application/json", {}).get("schema", {}))


def _operations() -> list[tuple[str, str, dict]]:
    schema = _schema()
    return [(path, method, op) for path, item in schema["paths"].items()
            for method, op in item.items()]


def _list_operations() -> dict[str, str]:
    """operation_id → path of every GET whose answer is a page ({items, count})."""
    schema = _schema()
    return {op["operationId"]: path for path, method, op in _operations()
            if method == "get" and {"items", "count"} <= set(_ok_schema(schema, op)
                                                             .get("properties", {}))}


LIST_OPERATIONS = _list_operations()


def test_no_operation_answers_a_bare_array():
    """A list is a page: an operation answering a JSON array has no bound and no total."""
    schema = _schema()
    bare = [op["operationId"] for _p, method, op in _operations()
            if method == "get" and _ok_schema(schema, op).get("type") == "array"]
    assert bare == []


def test_every_page_is_bounded():
    schema = _schema()
    for operation_id, path in LIST_OPERATIONS.items():
        params = {p["name"]: p["schema"] for p in schema["paths"][path]["get"]["parameters"]}
        assert params["limit"]["maximum"] == 200 and params["limit"]["minimum"] == 1, operation_id
        assert params["offset"]["maximum"] == 1_000_000, operation_id


# ---------------------------------------------------------------------------------------------
# The world every measurement starts from, and how to add rows to each list.


@pytest.fixture
def w(tree):
    from warmstation.points.tests.factories import fund

    world = {**tree, **make_appeal_setup(tree)}
    world["owner"] = as_level(make_user(Role.MERCHANT, tree["xl"]), AuthLevel.PASSWORD)
    world["merchant"] = make_merchant(tree["xl"], staff=world["owner"])
    world["station"] = make_station(tree["ylj"], 39.7207, 116.1101, steward=world["steward"],
                                    is_24h=True, stock={"umbrella": 500, "water": 50})
    fund(world["worker"], 1000)
    return _volunteer_world(world)


def _client(w, who: str) -> Client:
    if who == "anonymous":
        return Client()
    user = _union_staff(w) if who == "union" else _office(w) if who == "office" else w[who]
    return signed_in(user, user.auth_level)


def _near(i: int) -> tuple[float, float]:
    return 39.7207 + (i % 7) * 0.0005, 116.1101 + (i // 7) * 0.0005


def seed_workers(w, n):
    for _ in range(n):
        make_worker([w["ylj"]])


def seed_areas(w, n):
    from warmstation.areas.services import area_upsert

    for _ in range(n):
        i = next(_seq)
        area_upsert(code=f"C{i}", name_zh=f"社区{i}", level="community", parent=w["gc"])


def seed_stations(w, n):
    for _ in range(n):
        lat, lng = _near(next(_seq))
        make_station(w["ylj"], lat, lng, hours=[(d, time(8), time(20)) for d in range(7)],
                     amenities=("wifi", "water"), stock={"umbrella": 3, "water": 5})


def seed_loans(w, n):
    from warmstation.stations.services import loan_create

    for _ in range(n):
        loan_create(actor=w["steward"], station=w["station"], item_code="umbrella",
                    worker=make_worker([w["ylj"]]), hours=4)


def seed_entries(w, n):
    from warmstation.points.tests.factories import fund

    for _ in range(n):
        fund(w["worker"], 5)


def seed_rules(w, n):
    from warmstation.points.tests.factories import make_rule

    for _ in range(n):
        make_rule(f"act{next(_seq)}", 3)


def seed_merchants(w, n):
    for _ in range(n):
        lat, lng = _near(next(_seq))
        make_offer(make_merchant(w["xl"], lat, lng))
        make_offer(make_merchant(w["xl"], lat, lng), kind="points", points=5)


def _codes(w, n) -> list[dict]:
    from warmstation.benefits.services import redemption_code_issue

    return [redemption_code_issue(
        user=w["worker"], offer=make_offer(w["merchant"], title=f"套餐{next(_seq)}"),
        idempotency_key=f"code-{next(_seq)}") for _ in range(n)]


def seed_codes(w, n):
    _codes(w, n)


def seed_redeemed(w, n):
    from warmstation.benefits.services import redemption_redeem

    for code in _codes(w, n):
        redemption_redeem(actor=w["owner"], merchant=w["merchant"], code=code["digits"],
                          idempotency_key=f"redeem-{next(_seq)}")


def seed_categories(w, n):
    from warmstation.appeals.models import Category

    for _ in range(n):
        i = next(_seq)
        Category.objects.create(code=f"cat{i}", name_zh=f"类别{i}")


def seed_routing_rules(w, n):
    from warmstation.appeals.models import Category, RoutingRule

    for _ in range(n):
        i = next(_seq)
        category = Category.objects.create(code=f"cat{i}", name_zh=f"类别{i}")
        RoutingRule.objects.create(category=category, area=w["gc"], department=w["cgzx"])


def seed_appeals(w, n):
    from warmstation.appeals import services

    for _ in range(n):
        appeal = services.appeal_create(
            actor=w["worker"], category=w["cats"]["social_insurance"], area=w["ylj"],
            title=f"社保断缴{next(_seq)}", body="换站点后断缴三个月")
        services.appeal_transition(actor=w["district"], appeal_id=appeal.pk, action="dispatch")


def seed_policy(w, n):
    from warmstation.appeals.models import PolicyAnswer
    from warmstation.appeals.policy import policy_answer_save

    for _ in range(n):
        policy_answer_save(actor=None, entry=PolicyAnswer(), topic="social_insurance",
                           question=f"社保断缴怎么补{next(_seq)}", answer="可以补缴。")


def seed_audit(w, n):
    from warmstation.core.audit import audit_record

    for _ in range(n):
        audit_record("test.event", actor=w["worker"], detail={"i": next(_seq)})


def seed_console(w, n):
    from warmstation.stations.models import ServiceItem
    from warmstation.stations.services import service_record_create, stock_change

    ServiceItem.objects.get_or_create(code="rest", defaults={"name_zh": "休息"})
    seed_loans(w, n)
    for _ in range(n):
        service_record_create(actor=w["steward"], station=w["station"], service_code="rest",
                              worker=w["worker"])
        stock_change(actor=w["steward"], station=w["station"], item_code="water", delta=1,
                     reason="in")


def _notice_group(w):
    from warmstation.outreach.models import Group
    from warmstation.outreach.services import group_create, member_add

    group = Group.objects.filter(name="列表测试群").first()
    if group is None:
        group = group_create(actor=w["district"], area=w["ylj"], name="列表测试群")
        member_add(actor=w["district"], group=group, user=w["worker"])
        from warmstation.outreach.services import channel_create

        channel_create(actor=w["district"], group=group, kind="sms", name="短信")
    return group


def seed_notices(w, n):
    from warmstation.outreach.services import notice_create

    group = _notice_group(w)
    for _ in range(n):
        notice_create(actor=w["district"], kind="tip", audience="group", group=group,
                      title=f"降温提示{next(_seq)}", body="驿站有热水。")


def seed_groups(w, n):
    from warmstation.outreach.services import group_create, member_add

    for _ in range(n):
        group = group_create(actor=w["district"], area=w["ylj"], name=f"小哥群{next(_seq)}")
        member_add(actor=w["district"], group=group, user=w["worker"])


def seed_members(w, n):
    from warmstation.outreach.services import member_add

    group = _notice_group(w)
    for _ in range(n):
        member_add(actor=w["district"], group=group, user=make_worker([w["ylj"]]))


def _status_notice(w):
    """One published notice whose status page lists its recipients and its messages."""
    from warmstation.outreach.models import Notice

    notice = Notice.objects.filter(title="状态页测试").first()
    if notice is None:
        from warmstation.outreach.services import notice_create

        notice = notice_create(actor=w["district"], kind="tip", audience="group",
                               group=_notice_group(w), title="状态页测试", body="内容")
    return notice


def seed_status_rows(w, n):
    from warmstation.outreach.models import NoticeReceipt, OutboxMessage

    notice = _status_notice(w)
    for _ in range(n):
        user = make_worker([w["ylj"]])
        NoticeReceipt.objects.create(notice=notice, user=user)
        OutboxMessage.objects.create(channel="sms", recipient=user.mobile, body="x",
                                     purpose="notice", notice=notice,
                                     delivery_channel=notice.group.channels.first())


def seed_dead(w, n):
    from warmstation.outreach.models import OutboxMessage

    notice = _status_notice(w)
    for _ in range(n):
        OutboxMessage.objects.create(channel="sms", recipient=make_worker([w["ylj"]]).mobile,
                                     body="x", purpose="notice", status="dead",
                                     delivery_channel=notice.group.channels.first(),
                                     notice=notice)
def _volunteer_world(w):
    from warmstation.volunteering.tests.factories import make_organiser, make_shift, make_task

    if "task" not in w:
        w["organiser"] = make_organiser(w["gc"])
        w["task"] = make_task(w["ylj"], organiser=w["organiser"])
        w["shift"] = make_shift(w["task"], capacity=500)
    return w


def seed_tasks(w, n):
    from warmstation.volunteering.tests.factories import make_shift, make_task

    _volunteer_world(w)
    for _ in range(n):
        make_shift(make_task(w["ylj"], organiser=w["organiser"]), capacity=2)


def seed_signups(w, n):
    from warmstation.volunteering.services import shift_signup
    from warmstation.volunteering.tests.factories import make_shift

    _volunteer_world(w)
    for _ in range(n):
        shift_signup(worker=w["worker"], shift_id=make_shift(w["task"]).pk)


def seed_shifts(w, n):
    from warmstation.volunteering.tests.factories import make_shift

    for _ in range(n):
        make_shift(_volunteer_world(w)["task"])


def seed_roster(w, n):
    from warmstation.volunteering.services import shift_signup

    _volunteer_world(w)
    for _ in range(n):
        shift_signup(worker=make_worker([w["ylj"]]), shift_id=w["shift"].pk)


def seed_errands(w, n):
    from warmstation.volunteering.errands import errand_post, errand_worker_verify

    _volunteer_world(w)
    errand_worker_verify(actor=w["organiser"], worker=w["worker"])
    for i in range(n):
        errand_post(actor=w["organiser"], area=w["ylj"], title=f"买菜{i}",
                    resident_name="王奶奶", resident_address="3号楼")


def seed_activities(w, n):
    from django.utils import timezone

    from warmstation.volunteering.activities import activity_record

    _volunteer_world(w)
    for i in range(n):
        activity_record(actor=w["organiser"], area=w["ylj"], kind="visit", title=f"走访{i}",
                        held_on=timezone.localdate(), people_reached=5, participants=[w["worker"]])


def seed_records(w, n):
    from warmstation.volunteering.models import Issuer, ServiceRecord

    issuer = Issuer.objects.get_or_create(name="平台", defaults={
        "responsible_person": "甲", "clerk": "乙", "contact": "1"})[0]
    for _ in range(n):
        ServiceRecord.objects.create(number=f"R{next(_seq)}", worker=w["worker"],
                                     issuer=issuer, masked_name="张*", minutes=60)


def _roster_url(w):
    return f"/api/v1/volunteering/shifts/{_volunteer_world(w)['shift'].pk}/roster"
def _flat(w):
    from warmstation.housing.tests.factories import make_flat

    if "flat" not in w:
        w["flat"] = make_flat(w["ylj"], station=w["station"], max_bookings_per_season=50)
        w["nights"] = itertools.count(1)
    return w["flat"]


def seed_flats(w, n):
    from warmstation.housing.tests.factories import make_flat

    _flat(w)
    for _ in range(n):
        make_flat(w["ylj"], name=f"爱心公寓{next(_seq)}")


def seed_bookings(w, n):
    """Bookings of one flat by the worker, one night each, each with two visitors."""
    from datetime import timedelta

    from django.utils import timezone

    from warmstation.housing.services import booking_create
    from warmstation.housing.tests.factories import FAMILY

    flat = _flat(w)
    for _ in range(n):
        day = timezone.localdate() + timedelta(days=next(w["nights"]))
        booking_create(worker=w["worker"], flat=flat, check_in=day,
                       check_out=day + timedelta(days=1), visitors=FAMILY)


def _office(w):
    if "office" not in w:
        from warmstation.areas.models import Area

        root = Area.objects.get(depth=0)
        w["office"] = as_level(make_user(Role.HOUSING_OFFICE, root), AuthLevel.PASSWORD)
    return w["office"]


def seed_surveys(w, n):
    from warmstation.housing.services import survey_save

    _office(w)
    for i in range(n):
        survey_save(worker=make_worker([w["ylj"]]), area=w["ylj"], housing="rent_shared",
                    rent=1000 + i, commute_minutes=20, household=1, needs={"need_cheaper"})


def seed_resources(w, n):
    from warmstation.housing.models import Resource
    from warmstation.housing.services import rental_apply, resource_save

    _office(w)
    for _ in range(n):
        resource = resource_save(actor=None, resource=Resource(), kind="dormitory",
                                 name=f"宿舍{next(_seq)}", area=w["ylj"], address="拱辰",
                                 beds=10, available=3)
        rental_apply(worker=w["worker"], resource=resource)


def _union_staff(w):
    if "union" not in w:
        from warmstation.areas.models import Area

        root = Area.objects.get(depth=0)  # w["district"] is the district admin here
        w["union"] = as_level(make_user(Role.UNION_STAFF, root), AuthLevel.PASSWORD)
    return w["union"]


def seed_applications(w, n):
    """Applications of new workers (waiting for review)."""
    from warmstation.union.services import membership_apply

    _union_staff(w)
    for _ in range(n):
        membership_apply(user=make_worker([w["ylj"]]), area=w["ylj"], employer="申通快递",
                         job_type="courier", consent=True)


def seed_union_members(w, n):
    """Members enrolled on site at the station, with their brand."""
    from datetime import date

    from tests.factories import BrandFactory
    from warmstation.union.services import BatchRow, batch_enrol

    batch_enrol(actor=_union_staff(w), title="集中入会", held_on=date(2026, 11, 20),
                area=w["ylj"], station=w["station"], brand=BrandFactory(),
                rows=[BatchRow(i, f"会员{next(_seq)}", f"1390{next(_seq):07d}")
                      for i in range(1, n + 1)], consent_confirmed=True)
def seed_import_batches(w, n):
    """Spreadsheet imports checked by the district admin (their reports kept)."""
    from warmstation.dashboard.importing_models import ImportBatch

    ImportBatch.objects.bulk_create(
        ImportBatch(kind="stations", filename=f"驿站{next(_seq)}.xlsx", sha256="0" * 64,
                    created_by=w["district"], rows_total=1,
                    report=[{"row": 2, "label": "x", "action": "create", "changes": [],
                             "errors": []}])
        for _ in range(n))


def seed_reports(w, n):
    from warmstation.reports import services
    from warmstation.reports.models import ReportCategory
    from warmstation.reports.tests.factories import jpeg

    services.report_categories_seed()  # a flushing (transactional) test may have emptied it
    garbage = ReportCategory.objects.get(code="exposed_garbage")
    for _ in range(n):
        i = next(_seq)
        photo = services.photo_upload(actor=w["worker"], data=jpeg(color=(i % 250, 9, 9)))
        lat, lng = _near(i)
        services.report_create(actor=w["worker"], category=garbage, lat=lat, lng=lng,
                               area=w["ylj"], photo_ids=[photo.pk], description=f"垃圾{i}")


def seed_public_reports(w, n):
    from warmstation.reports.models import Problem
    from warmstation.reports.services import problem_transition

    seed_reports(w, n)
    for pk in Problem.objects.filter(status="submitted").values_list("pk", flat=True):
        problem_transition(actor=w["district"], problem_id=pk, action="accept")


def seed_report_categories(w, n):
    from warmstation.reports.models import ReportCategory

    for _ in range(n):
        i = next(_seq)
        ReportCategory.objects.create(code=f"rc{i}", group_zh="市容环境", name_zh=f"类{i}")


@dataclass(frozen=True)
class ListCase:
    who: str
    url: Callable[[dict], str] | str
    seed: Callable[[dict, int], None]
    counted: bool = True  # the answer is a page whose `count` grows by the rows added


API = {
    "list_workers": ListCase("district", "/api/v1/workers", seed_workers),
    "list_areas": ListCase("worker", "/api/v1/areas", seed_areas),
    "list_managed_areas": ListCase("gc_admin", "/api/v1/areas/managed", seed_areas),
    "list_managed_stations": ListCase("district", "/api/v1/stations", seed_stations),
    "list_loans": ListCase("steward", lambda w: f"/api/v1/stations/{w['station'].pk}/loans",
                           seed_loans),
    "list_my_entries": ListCase("worker", "/api/v1/points/me/entries", seed_entries),
    "list_earning_rules": ListCase("worker", "/api/v1/points/rules", seed_rules),
    "list_merchants": ListCase("worker", "/api/v1/benefits/merchants", seed_merchants),
    "list_redemptions": ListCase("worker", "/api/v1/benefits/redemptions", seed_codes),
    "list_appeal_categories": ListCase("worker", "/api/v1/appeals/categories", seed_categories),
    "list_routing_rules": ListCase("district", "/api/v1/appeals/routing-rules",
                                   seed_routing_rules),
    "list_appeals": ListCase("district", "/api/v1/appeals", seed_appeals),
    "search_policy": ListCase("worker", "/api/v1/appeals/policy?q=社保断缴", seed_policy),
    "list_my_notices": ListCase("worker", "/api/v1/notices/inbox", seed_notices),
    "list_my_groups": ListCase("worker", "/api/v1/notices/groups", seed_groups),
    "list_notice_groups": ListCase("district", "/api/v1/notices/manage/groups", seed_groups),
    "list_group_members": ListCase(
        "district", lambda w: f"/api/v1/notices/manage/groups/{_notice_group(w).pk}/members",
        seed_members),
    "list_managed_notices": ListCase("district", "/api/v1/notices/manage/notices",
                                     seed_notices),
    "list_notice_deliveries": ListCase(
        "district", lambda w: f"/api/v1/notices/manage/notices/{_status_notice(w).pk}/deliveries",
        seed_status_rows),
    "list_notice_receipts": ListCase(
        "district", lambda w: f"/api/v1/notices/manage/notices/{_status_notice(w).pk}/receipts",
        seed_status_rows),
    "list_dead_letters": ListCase("district", "/api/v1/notices/manage/dead-letters", seed_dead),
    "list_volunteer_tasks": ListCase("worker", "/api/v1/volunteering/tasks", seed_tasks),
    "list_my_volunteer_signups": ListCase("worker", "/api/v1/volunteering/me/signups",
                                          seed_signups),
    "list_volunteer_roster": ListCase("organiser", _roster_url, seed_roster),
    "list_errands": ListCase("worker", "/api/v1/volunteering/errands", seed_errands),
    "list_activities": ListCase("organiser", "/api/v1/volunteering/activities",
                                seed_activities),
    "list_flats": ListCase("worker", "/api/v1/housing/flats", seed_flats),
    "list_bookings": ListCase("worker", "/api/v1/housing/bookings", seed_bookings),
    "list_surveys": ListCase("office", "/api/v1/housing/surveys", seed_surveys),
    "list_housing_resources": ListCase("worker", "/api/v1/housing/resources", seed_resources),
    "list_rental_applications": ListCase("worker", "/api/v1/housing/rental-applications",
                                         seed_resources),
    "list_membership_applications": ListCase("union", "/api/v1/union/applications",
                                             seed_applications),
    "list_union_members": ListCase("union", "/api/v1/union/members", seed_union_members),
    "list_report_categories": ListCase("worker", "/api/v1/reports/categories",
                                       seed_report_categories),
    "list_my_reports": ListCase("worker", "/api/v1/reports/mine", seed_reports),
    "list_reports": ListCase("district", "/api/v1/reports", seed_reports),
    "list_import_batches": ListCase("district", "/api/v1/data/imports", seed_import_batches),
}

NEARBY = "lat=39.7207&lng=116.1101&radius_m=5000"
PAGES = {
    "nearby search (API)": ListCase("anonymous", f"/api/v1/places/nearby?{NEARBY}&limit=100",
                                    lambda w, n: (seed_stations(w, n), seed_merchants(w, n)),
                                    counted=False),
    "station list": ListCase("worker", f"/stations/?{NEARBY.replace('radius_m', 'r')}",
                             seed_stations, counted=False),
    "wallet": ListCase("worker", "/wallet/?lat=39.7207&lng=116.1101",
                       lambda w, n: (seed_entries(w, n), seed_merchants(w, n), seed_codes(w, n)),
                       counted=False),
    "department inbox": ListCase("rsj_staff", "/appeals/inbox/", seed_appeals, counted=False),
    "dispatcher inbox": ListCase("district", "/appeals/inbox/", seed_appeals, counted=False),
    "my needs": ListCase("worker", "/appeals/", seed_appeals, counted=False),
    "policy Q&A": ListCase("worker", "/appeals/policy/?q=社保断缴", seed_policy, counted=False),
    "worker roster": ListCase("district", "/workers/", seed_workers, counted=False),
    "station desk": ListCase("district", "/stations/manage/", seed_stations, counted=False),
    "steward console list": ListCase("district", "/steward/", seed_stations, counted=False),
    "steward console": ListCase("steward", lambda w: f"/steward/{w['station'].pk}/",
                                seed_console, counted=False),
    "merchant counter": ListCase("owner", lambda w: f"/merchant/{w['merchant'].pk}/",
                                 seed_redeemed, counted=False),
    "partners": ListCase("district", "/partners/", seed_merchants, counted=False),
    "audit log": ListCase("district", "/audit/", seed_audit, counted=False),
    "housing (worker)": ListCase("worker", "/housing/",
                                 lambda w, n: (seed_flats(w, n), seed_bookings(w, n)),
                                 counted=False),
    "survey answers": ListCase("office", "/housing/survey/answers/", seed_surveys,
                               counted=False),
    "housing resources": ListCase("worker", "/housing/resources/", seed_resources,
                                  counted=False),
    "housing office": ListCase("office", "/housing/office/", seed_resources, counted=False),
    "union desk": ListCase("union", "/union/desk/",
                           lambda w, n: (seed_applications(w, n), seed_union_members(w, n)),
                           counted=False),
    "flat desk": ListCase("steward", "/housing/desk/", seed_bookings, counted=False),
    "flat calendar": ListCase("worker", lambda w: f"/housing/flats/{_flat(w).pk}/",
                              seed_bookings, counted=False),
    "my street reports": ListCase("worker", "/reports/", seed_reports, counted=False),
    "report queue": ListCase("district", "/reports/queue/", seed_reports, counted=False),
    "public street reports": ListCase("anonymous", "/reports/public/", seed_public_reports,
                                      counted=False),
    "needs export (xlsx)": ListCase("district", "/appeals/export.xlsx", seed_appeals,
                                    counted=False),
    "data imports": ListCase("district", "/district/data/", seed_import_batches, counted=False),
    "station export (csv)": ListCase("district", "/district/data/export/?kind=stations&format=csv",
                                     seed_stations, counted=False),
    "worker export (xlsx)": ListCase("district", "/district/data/export/?kind=workers",
                                     seed_workers, counted=False),
    "merchant export (csv)": ListCase("district",
                                      "/district/data/export/?kind=merchants&format=csv",
                                      seed_merchants, counted=False),
    "volunteer tasks": ListCase("worker", "/volunteer/", seed_tasks, counted=False),
    "volunteer tasks near me": ListCase("worker", "/volunteer/?lat=39.7207&lng=116.1101",
                                        seed_tasks, counted=False),
    "my volunteer shifts": ListCase("worker", "/volunteer/mine/", seed_signups, counted=False),
    "volunteer organise": ListCase("organiser", "/volunteer/organise/", seed_tasks,
                                   counted=False),
    "volunteer task manage": ListCase(
        "organiser", lambda w: f"/volunteer/organise/tasks/{_volunteer_world(w)['task'].pk}/",
        seed_shifts, counted=False),
    "volunteer roster": ListCase(
        "organiser", lambda w: f"/volunteer/organise/shifts/{_volunteer_world(w)['shift'].pk}/",
        seed_roster, counted=False),
    "open errands": ListCase("worker", "/volunteer/errands/", seed_errands, counted=False),
    "errand desk": ListCase("organiser", "/volunteer/errands/desk/", seed_errands,
                            counted=False),
    "errands export": ListCase("organiser", "/volunteer/errands/export.csv", seed_errands,
                               counted=False),
    "four ones activities": ListCase("organiser", "/volunteer/activities/", seed_activities,
                                     counted=False),
    "my volunteer records": ListCase("worker", "/volunteer/records/", seed_records,
                                     counted=False),
    "needs export (csv)": ListCase("rsj_staff", "/appeals/export.csv", seed_appeals,
                                   counted=False),
    "notice inbox": ListCase("worker", "/notices/", seed_notices, counted=False),
    "my groups": ListCase("worker", "/notices/groups/", seed_groups, counted=False),
    "notices desk": ListCase("district", "/notices/desk/", seed_notices, counted=False),
    "notice groups desk": ListCase("district", "/notices/desk/groups/", seed_groups,
                                   counted=False),
    "group members": ListCase("district", lambda w: f"/notices/desk/groups/{_notice_group(w).pk}/",
                              seed_members, counted=False),
    "notice delivery status": ListCase(
        "district", lambda w: f"/notices/desk/{_status_notice(w).pk}/", seed_status_rows,
        counted=False),
    "dead letters": ListCase("district", "/notices/desk/dead/", lambda w, n: seed_dead(w, n),
                             counted=False),
}


def _get(client: Client, url: str):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return len(queries), response, [q["sql"] for q in queries.captured_queries]


def _measure(w, case: ListCase):
    url = case.url(w) if callable(case.url) else case.url
    client = _client(w, case.who)
    case.seed(w, N)
    client.get(url)  # warm the caches
    few, first, sql_few = _get(client, url)
    case.seed(w, 2 * N)
    many, second, sql_many = _get(client, url)
    detail = "\n".join(q for q in sql_many if q not in sql_few)[:3000]
    assert few == many, f"{few} queries with N rows, {many} with 3N; new ones:\n{detail}"
    return first, second


def test_every_list_operation_has_a_query_count_case():
    """A new list operation must say here how to add rows to it."""
    assert sorted(LIST_OPERATIONS) == sorted(API)


@pytest.mark.parametrize("operation_id", sorted(API))
def test_list_operation_queries_do_not_grow_with_rows(w, operation_id):
    first, second = _measure(w, API[operation_id])
    a, b = first.json(), second.json()
    assert b["count"] - a["count"] >= 2 * N  # the true total, grown by what was added
    assert len(b["items"]) == min(b["count"], 50)


@pytest.mark.parametrize("page", sorted(PAGES))
def _hsds_list_operations() -> list[str]:
    """Every list of the HSDS API (its own document; paged the way HSDS 3.0 specifies)."""
    from warmstation.config.hsds import hsds

    schema = hsds.get_openapi_schema(path_prefix="/hsds/")
    return sorted(path for path, item in schema["paths"].items()
                  if "get" in item and item["get"]["operationId"].startswith("getPaginatedList"))


@pytest.mark.parametrize("path", _hsds_list_operations())
def test_hsds_list_queries_do_not_grow_with_rows(w, path):
    first, second = _measure(w, ListCase("anonymous", f"{path}?full=true", seed_stations))
    if path.endswith(("/organizations", "/taxonomies", "/taxonomy_terms")):
        return  # one per operator, per taxonomy, per term: not per station
    assert second.json()["total_items"] - first.json()["total_items"] == 2 * N


@pytest.mark.parametrize("page", sorted(PAGES))
def test_hot_page_queries_do_not_grow_with_rows(w, page):
    first, second = _measure(w, PAGES[page])
    assert len(second.content) > len(first.content)  # the added rows are on the page


@pytest.mark.parametrize("operation_id", sorted(API))
def test_out_of_range_paging_is_a_problem_not_a_500(w, operation_id):
    case = API[operation_id]
    url = case.url(w) if callable(case.url) else case.url
    url += "&" if "?" in url else "?"
    client = _client(w, case.who)
    for query in ("limit=0", "limit=201", "offset=-1", "offset=1000001", "limit=x",
                  "offset=99999999999999999999"):
        response = client.get(f"{url}{query}")
        assert response.status_code == 422, query
        assert response["Content-Type"].startswith("application/problem+json")
    far = client.get(f"{url}offset=1000000").json()
    assert far["items"] == [] and far["count"] >= 0


@pytest.mark.parametrize("operation_id", sorted(API))
def test_the_count_is_the_true_total_on_every_kind_of_page(w, operation_id):
    """A page that is not full gives the total without counting (core/pagination.py); a full
    page, and one past the end, count. All three must agree."""
    case = API[operation_id]
    _measure(w, case)  # rows added, so that a page of one is full
    url = case.url(w) if callable(case.url) else case.url
    url += "&" if "?" in url else "?"
    client = _client(w, case.who)
    whole = client.get(f"{url}limit=200").json()
    total = whole["count"]
    assert total == len(whole["items"]) >= 1
    full = client.get(f"{url}limit=1").json()
    last = client.get(f"{url}limit=5&offset={total - 1}").json()
    past = client.get(f"{url}limit=5&offset={total + 3}").json()
    assert (full["count"], len(full["items"])) == (total, 1)
    assert (last["count"], len(last["items"])) == (total, 1)
    assert (past["count"], past["items"]) == (total, [])


def test_out_of_range_page_numbers_show_the_first_or_last_page(w):
    from django.test import RequestFactory

    from warmstation.areas.models import Area
    from warmstation.core.pagination import page_list

    areas = Area.objects.order_by("path")  # five in the tree: three pages of two
    for raw, number in [("", 1), ("0", 1), ("-3", 1), ("abc", 1), ("\x00", 1), ("2", 2),
                        ("3", 3), ("9999", 3), ("99999999999999999999", 3), ("last", 3)]:
        page = page_list(RequestFactory().get("/", {"page": raw, "q": "x"}), areas, per_page=2)
        assert page.number == number, raw
        assert page.count == 5 and page.num_pages == 3 and page.query == "q=x"
    assert [a.code for a in page] == ["SZ"] or len(page) == 1
    client = _client(w, "district")
    for query in ("page=0", "page=-3", "page=abc", "page=99999999999999999999"):
        assert client.get(f"/workers/?{query}").status_code == 200, query
        assert client.get(f"/audit/?{query}").status_code == 200, query
    # A control character in any query value is refused at the edge (core/inputs.py).
    assert client.get("/workers/?page=%00").status_code == 422
