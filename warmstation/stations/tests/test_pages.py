"""Station pages: the worker's nearest-stations list and station page, the QR check-in, the
steward's console (every form: accepted, and refused with nothing changed) and the area desk —
for anonymous people, workers, the station's steward, another steward, admins in and out of
the area."""

import re
from datetime import time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import make_station, make_user, make_worker, signed_in
from warmstation.accounts.models import AuthLevel, Role
from warmstation.core import geo
from warmstation.stations.models import (
    Amenity,
    HoursException,
    Loan,
    OpeningHours,
    ServiceItem,
    ServiceRecord,
    Station,
    Stock,
    StockMovement,
)


@pytest.fixture
def world(tree):
    steward = make_user(Role.STEWARD, tree["ylj"])
    other_steward = make_user(Role.STEWARD, tree["sz"])
    station = make_station(tree["ylj"], 39.748, 116.14, name="伊林郡驿站", is_24h=True,
                           amenities=["charging", "water"], steward=steward,
                           stock={"umbrella": 2, "water": 10})
    station.phone = "010-69310009"
    station.save(update_fields=["phone"])
    Amenity.objects.filter(code="charging").update(name_zh="充电")
    station.services.add(ServiceItem.objects.create(code="rest", name_zh="休息"))
    other = make_station(tree["sz"], 39.70, 116.10, name="苏庄驿站", steward=other_steward,
                         hours=[(d, time(9), time(18)) for d in range(7)])
    return {
        "station": station, "other": other, "steward": steward, "other_steward": other_steward,
        "worker": make_worker([tree["ylj"]], mobile="13912340009"),
        "gc_admin": make_user(Role.AREA_ADMIN, tree["gc"]),
        "xl_admin": make_user(Role.AREA_ADMIN, tree["xl"]),
        "district_admin": make_user(Role.DISTRICT_ADMIN, tree["district"]),
    }


def _client(world, who):
    if who == "anonymous":
        return Client()
    level = AuthLevel.CODE if who == "worker" else \
        AuthLevel.PASSWORD if "steward" in who else AuthLevel.MFA
    return signed_in(world[who], level)


def _console(world, who="steward"):
    return f"/steward/{world['station'].pk}/"


# --- the worker's list ------------------------------------------------------------------------

def test_list_works_for_anonymous_people_without_tiles(world):
    response = Client().get("/stations/?lat=39.7481&lng=116.1401&r=20000")
    assert response.status_code == 200
    html = response.content.decode()
    assert "伊林郡驿站" in html and "苏庄驿站" in html
    # No tiles: no map and no Leaflet (the list with distances is the view).
    assert 'id="stations-data"' not in html and "leaflet" not in html and "htmx" not in html
    assert "km" in html or " m<" in html
    rows = response.context["rows"]
    assert rows[0]["station"].pk == world["station"].pk and rows[0]["open_now"]


def test_list_filters_open_now_and_amenities(world):
    response = Client().get("/stations/?lat=39.7481&lng=116.1401&r=20000&open=1"
                            "&amenity=charging&amenity=bogus")
    assert [r["station"].pk for r in response.context["rows"]] == [world["station"].pk]
    assert response.context["wanted"] == ["charging"]


def test_list_falls_back_to_the_workers_area_then_the_district(world, tree):
    tree["ylj"].center_lat, tree["ylj"].center_lng = 39.75, 116.15
    tree["ylj"].save()
    response = _client(world, "worker").get("/stations/")
    assert response.context["origin"].source == "area"
    assert response.context["origin"].lat == 39.75
    response = Client().get("/stations/?lat=abc&lng=999")
    assert response.context["origin"].source == "district"
    assert response.context["origin"].lat == tree["district"].center_lat


def test_list_uses_the_tile_url_from_settings(world, settings):
    settings.MAP_TILE_URL = "/tiles/{z}/{x}/{y}.png"
    html = Client().get("/stations/").content.decode()
    assert 'data-tiles="/tiles/{z}/{x}/{y}.png"' in html
    assert "leaflet" in html and 'id="stations-data"' in html


def test_markers_follow_the_tiles_coordinate_system(world, settings):
    import json

    from warmstation.core import geo

    settings.MAP_TILE_URL = "/tiles/{z}/{x}/{y}.png"
    station = world["station"]
    for crs in ("wgs84", "gcj02"):
        settings.MAP_TILE_CRS = crs
        html = Client().get("/stations/?lat=39.7481&lng=116.1401&r=20000").content.decode()
        data = json.loads(html.split('id="stations-data" type="application/json">')[1]
                          .split("</script>")[0])
        marker = next(m for m in data["stations"] if m["id"] == station.pk)
        lat, lng = geo.from_wgs84(station.lat, station.lng, crs)
        assert (marker["lat"], marker["lng"]) == (round(lat, 6), round(lng, 6))
        assert data["crs"] == crs
    # GCJ-02 is hundreds of metres off WGS-84 in Beijing: the conversion did something.
    assert geo.distance_m(station.lat, station.lng, *geo.from_wgs84(station.lat, station.lng,
                                                                    "gcj02")) > 100


def test_list_scripts_carry_the_nonce_and_no_inline_code(world, settings):
    settings.MAP_TILE_URL = "/tiles/{z}/{x}/{y}.png"  # the map's scripts too (Leaflet)
    response = Client().get("/stations/")
    html = response.content.decode()
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert html.count(f'nonce="{nonce}"') == html.count("<script src=") == 2
    assert " onclick=" not in html and "<script>" not in html


# --- the station page -------------------------------------------------------------------------

def test_station_page_with_navigation_links(world):
    station = world["station"]
    response = Client().get(f"/stations/{station.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    glat, glng = geo.from_wgs84(station.lat, station.lng, "gcj02")
    blat, blng = geo.from_wgs84(station.lat, station.lng, "bd09")
    assert f"https://uri.amap.com/marker?position={glng:.6f},{glat:.6f}" in html
    assert f"baidumap://map/marker?location={blat:.6f},{blng:.6f}" in html
    assert "coord_type=bd09ll" in html and "&amp;coordinate=gaode" in html
    assert "geo:39.748000,116.140000" in html
    assert 'href="tel:010-69310009"' in html
    assert "24小时开放" in html and "充电" in html and "可借 2" in html
    assert "进入驿站管理台" not in html


def test_station_page_shows_overnight_hours_closure_and_exceptions(world):
    other = world["other"]
    OpeningHours.objects.filter(station=other, weekday=5).update(opens=time(18), closes=time(2))
    other.temporarily_closed, other.closed_note = True, "装修"
    other.save()
    HoursException.objects.create(station=other, date=timezone.localdate() + timedelta(days=1),
                                  closed=True, note="春节")
    html = Client().get(f"/stations/{other.pk}/").content.decode()
    assert "18:00–次日02:00" in html
    assert "周一至周五" in html
    assert "装修" in html and "春节" in html


def test_station_page_links_the_console_for_those_who_may_change_it(world):
    url = f"/stations/{world['station'].pk}/"
    for who, expected in (("steward", True), ("gc_admin", True), ("other_steward", False),
                          ("xl_admin", False), ("worker", False)):
        html = _client(world, who).get(url).content.decode()
        assert ("进入驿站管理台" in html) is expected, who


def test_an_inactive_or_missing_station_looks_missing(world):
    Station.objects.filter(pk=world["station"].pk).update(is_active=False)
    assert Client().get(f"/stations/{world['station'].pk}/").status_code == 404
    assert Client().get("/stations/999999/").status_code == 404
    assert _client(world, "steward").get(f"/stations/{world['station'].pk}/").status_code == 200


# --- the QR check-in --------------------------------------------------------------------------

def test_check_in_asks_then_records_once(world):
    station = world["station"]
    url = f"/stations/{station.pk}/check-in/{station.checkin_token}/"
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
    client = _client(world, "worker")
    response = client.get(url)
    assert response.status_code == 200 and "确认签到" in response.content.decode()
    assert not ServiceRecord.objects.exists()  # a GET (a link preview) checks nobody in
    response = client.post(url)
    assert response.status_code == 200 and "签到成功" in response.content.decode()
    client.post(url)
    record = ServiceRecord.objects.get()
    assert record.kind == "check_in" and record.worker == world["worker"]
    assert record.station == station


def test_check_in_with_a_wrong_token_or_station_looks_missing(world):
    client = _client(world, "worker")
    station, other = world["station"], world["other"]
    assert client.post(f"/stations/{station.pk}/check-in/nope/").status_code == 404
    assert client.post(f"/stations/{other.pk}/check-in/{station.checkin_token}/") \
        .status_code == 404
    assert not ServiceRecord.objects.exists()


# --- the console: who may open it -------------------------------------------------------------

@pytest.mark.parametrize("who,status", [
    ("anonymous", 302), ("worker", 403), ("steward", 200), ("other_steward", 404),
    ("gc_admin", 200), ("xl_admin", 404), ("district_admin", 200),
])
def test_console_is_for_the_station_s_steward_and_admins_of_its_area(world, who, status):
    response = _client(world, who).get(_console(world))
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith("/staff/login/?next=")


def test_console_list_sends_a_single_station_steward_straight_to_it(world):
    response = _client(world, "steward").get("/steward/")
    assert response.status_code == 302 and response["Location"] == _console(world)
    html = _client(world, "district_admin").get("/steward/").content.decode()
    assert "伊林郡驿站" in html and "苏庄驿站" in html


def test_console_shows_the_check_in_qr_with_the_absolute_url(world):
    station = world["station"]
    html = _client(world, "steward").get(_console(world)).content.decode()
    assert "<svg" in html
    assert f"http://testserver/stations/{station.pk}/check-in/{station.checkin_token}/" in html


@pytest.mark.parametrize("who,status", [
    ("anonymous", 302), ("worker", 403), ("steward", 403), ("gc_admin", 200),
    ("district_admin", 200),
])
def test_area_desk_is_for_admins(world, who, status):
    assert _client(world, who).get("/stations/manage/").status_code == status


def test_area_desk_lists_only_the_admins_area_with_its_figures(world):
    station = world["station"]
    Loan.objects.create(station=station, item=Stock.objects.get(station=station,
                                                                item__code="umbrella").item,
                        worker=world["worker"], due_at=timezone.now() - timedelta(hours=1))
    Stock.objects.filter(station=station, item__code="umbrella").update(quantity=1)
    ServiceRecord.objects.create(station=station, kind="check_in", worker=world["worker"],
                                 at=timezone.now())
    response = _client(world, "gc_admin").get("/stations/manage/")
    rows = response.context["rows"]
    assert [r["station"] for r in rows] == [station]
    assert rows[0]["overdue"] == 1 and rows[0]["low"] == 1 and rows[0]["served"] == 1
    names = [r["station"].name for r in
             _client(world, "district_admin").get("/stations/manage/").context["rows"]]
    assert sorted(names) == ["伊林郡驿站", "苏庄驿站"]


# --- the console: every form, accepted and refused --------------------------------------------

def _post(world, form, data, who="steward", **extra):
    return _client(world, who).post(f"{_console(world)}{form}/", data, **extra)


def _state(station):
    station.refresh_from_db()
    return (
        station.is_24h, station.temporarily_closed, station.closed_note,
        list(OpeningHours.objects.filter(station=station).values_list("weekday", "opens",
                                                                      "closes")),
        list(HoursException.objects.filter(station=station).values_list("date", "closed")),
        sorted(station.amenities.values_list("code", flat=True)),
        sorted(Stock.objects.filter(station=station).values_list("item__code", "quantity")),
        Loan.objects.filter(station=station, returned_at=None).count(),
        ServiceRecord.objects.filter(station=station).count(),
        StockMovement.objects.filter(station=station).count(),
    )


def _refused(world, form, data, message, **extra):
    before = _state(world["station"])
    response = _post(world, form, data, **extra)
    # Wrong input is 422, a rule or state that forbids it (out of stock, returned) 409.
    assert response.status_code in (409, 422), response.content.decode()[:500]
    assert message in response.content.decode()
    assert _state(world["station"]) == before
    return response


def test_status_form(world):
    response = _post(world, "status", {"temporarily_closed": "on", "closed_note": "停电检修"})
    assert response.status_code == 302 and response["Location"].endswith("?done=status#status")
    station = world["station"]
    station.refresh_from_db()
    assert station.temporarily_closed and station.closed_note == "停电检修"
    assert not station.is_24h
    assert "状态已更新" in _client(world, "steward").get(response["Location"]).content.decode()


def test_status_form_by_another_steward_looks_missing(world):
    before = _state(world["station"])
    assert _post(world, "status", {"temporarily_closed": "on"},
                 who="other_steward").status_code == 404
    assert _state(world["station"]) == before


def test_hours_form(world):
    data = {"o0_0": "09:00", "c0_0": "12:00", "o0_1": "14:00", "c0_1": "18:00",
            "o5_0": "18:00", "c5_0": "02:00"}
    assert _post(world, "hours", data).status_code == 302
    assert sorted(OpeningHours.objects.filter(station=world["station"])
                  .values_list("weekday", "opens", "closes")) == [
        (0, time(9), time(12)), (0, time(14), time(18)), (5, time(18), time(2))]


@pytest.mark.parametrize("data,message", [
    ({"o0_0": "09:00"}, "请同时填写开门和关门时间"),
    ({"o0_0": "25:00", "c0_0": "26:00"}, "时间格式不对"),
    ({"o0_0": "09:00+08:00", "c0_0": "12:00"}, "时间格式不对"),
    ({"o1_0": "09:00", "c1_0": "09:00"}, "开门和关门时间不能相同"),
    ({"o2_0": "09:00", "c2_0": "12:00", "o2_1": "09:00", "c2_1": "12:00"}, "营业时段重复或重叠"),
    ({"o2_0": "09:00", "c2_0": "12:00", "o2_1": "11:00", "c2_1": "14:00"}, "营业时段重复或重叠"),
    ({"o2_0": "00:00", "c2_0": "00:00", "o2_1": "08:00", "c2_1": "10:00"}, "营业时段重复或重叠"),
    # An overnight span runs into the next day's morning (and Sunday's into Monday's).
    ({"o2_0": "18:00", "c2_0": "03:00", "o3_0": "02:00", "c3_0": "06:00"}, "营业时段重复或重叠"),
    ({"o6_0": "20:00", "c6_0": "02:00", "o0_0": "01:00", "c0_0": "05:00"}, "营业时段重复或重叠"),
])
def test_hours_form_refuses_bad_input(world, data, message):
    _refused(world, "hours", data, message)


def test_hours_form_accepts_spans_that_only_touch(world):
    data = {"o0_0": "08:00", "c0_0": "12:00", "o0_1": "12:00", "c0_1": "18:00",
            "o1_0": "18:00", "c1_0": "02:00", "o2_0": "02:00", "c2_0": "06:00"}
    assert _post(world, "hours", data).status_code == 302
    assert OpeningHours.objects.filter(station=world["station"]).count() == 4


def test_hours_service_refuses_overlap_for_the_api_too(world):
    response = _client(world, "steward").put(
        f"/api/v1/stations/{world['station'].pk}/hours",
        {"spans": [{"weekday": 0, "opens": "09:00", "closes": "12:00"},
                   {"weekday": 0, "opens": "09:00", "closes": "12:00"}]},
        content_type="application/json")
    assert response.status_code == 422 and response.json()["code"] == "overlapping_hours"


def test_status_form_refuses_an_overlong_note_instead_of_cutting_it(world):
    response = _refused(world, "status", {"temporarily_closed": "on", "closed_note": "停" * 5000},
                        "文字过长")
    assert "最多 128 个字符" in response.content.decode()
    assert _post(world, "status", {"temporarily_closed": "on",
                                   "closed_note": "停" * 128}).status_code == 302


def test_status_api_refuses_an_overlong_note(world):
    before = _state(world["station"])
    response = _client(world, "steward").post(
        f"/api/v1/stations/{world['station'].pk}/status",
        {"temporarily_closed": True, "note": "停" * 5000}, content_type="application/json")
    assert response.status_code == 422
    assert _state(world["station"]) == before


def test_exception_form(world):
    day = timezone.localdate() + timedelta(days=3)
    assert _post(world, "exception", {"date": day.isoformat(), "closed": "on",
                                      "note": "春节"}).status_code == 302
    assert _post(world, "exception", {"date": (day + timedelta(days=1)).isoformat(),
                                      "opens": "10:00", "closes": "14:00"}).status_code == 302
    assert list(HoursException.objects.filter(station=world["station"])
                .values_list("closed", "opens")) == [(True, None), (False, time(10))]


@pytest.mark.parametrize("data,message", [
    ({"date": "", "closed": "on"}, "请选择日期"),
    ({"date": "2030-01-01"}, "请填写当天的开门和关门时间"),
    ({"date": "9999-12-31", "closed": "on"}, "日期须在 2000-01-01 至 2100-12-31 之间"),
    ({"date": "0001-01-01", "closed": "on"}, "日期须在 2000-01-01 至 2100-12-31 之间"),
    ({"date": "2030-02-30", "closed": "on"}, "请输入正确的日期"),
    ({"date": "2030-01-01", "closed": "on", "note": "节" * 65}, "文字过长"),
])
def test_exception_form_refuses_bad_input(world, data, message):
    _refused(world, "exception", data, message)


def test_a_past_special_date_is_refused_and_a_future_one_can_be_deleted(world):
    yesterday = timezone.localdate() - timedelta(days=1)
    _refused(world, "exception", {"date": yesterday.isoformat(), "closed": "on"},
             "不能设置已经过去的日期")
    day = timezone.localdate() + timedelta(days=2)
    assert _post(world, "exception", {"date": day.isoformat(), "closed": "on"}).status_code == 302
    exception = HoursException.objects.get(station=world["station"])
    html = _client(world, "steward").get(_console(world)).content.decode()
    delete = f"{_console(world)}exception/{exception.pk}/delete/"
    assert f'action="{delete}"' in html and "<details class=\"confirm\">" in html
    assert _client(world, "steward").post(delete).status_code == 302
    assert not HoursException.objects.filter(station=world["station"]).exists()
    assert _client(world, "steward").post(delete).status_code == 404


def test_a_refused_hours_or_status_form_keeps_what_was_typed(world):
    response = _refused(world, "hours", {"o0_0": "08:00", "c0_0": "", "o1_0": "09:30",
                                         "c1_0": "18:00"}, "请同时填写开门和关门时间")
    html = response.content.decode()
    assert 'name="o0_0" value="08:00"' in html and 'name="o1_0" value="09:30"' in html
    response = _refused(world, "status", {"temporarily_closed": "on", "closed_note": "停" * 200},
                        "文字过长")
    assert "停" * 200 in response.content.decode()


def test_exception_form_reads_full_width_dates(world):
    assert _post(world, "exception", {"date": "２０３０－０１－０２", "closed": "on"}) \
        .status_code == 302
    assert HoursException.objects.filter(station=world["station"], date="2030-01-02").exists()


def test_amenities_form(world):
    Amenity.objects.create(code="wifi", name_zh="无线网络")
    assert _post(world, "amenities", {"amenity": ["wifi", "water"]}).status_code == 302
    assert sorted(world["station"].amenities.values_list("code", flat=True)) == ["water", "wifi"]


def test_amenities_form_refuses_unknown_amenities(world):
    _refused(world, "amenities", {"amenity": ["water", "jacuzzi"]}, "未知的设施")


def test_stock_form_in_and_out(world):
    assert _post(world, "stock", {"item": "water", "quantity": "5", "reason": "in"}) \
        .status_code == 302
    assert _post(world, "stock", {"item": "water", "quantity": "3", "reason": "out"}) \
        .status_code == 302
    assert Stock.objects.get(station=world["station"], item__code="water").quantity == 12
    assert list(StockMovement.objects.filter(station=world["station"])
                .order_by("id").values_list("delta", "reason")) == [(5, "in"), (-3, "out")]


@pytest.mark.parametrize("data,message", [
    ({"item": "water", "quantity": "11", "reason": "out"}, "库存不足"),
    ({"item": "water", "quantity": "0", "reason": "in"}, "数量须为 1 至 10000 之间的整数"),
    ({"item": "water", "quantity": "x", "reason": "in"}, "数量须为 1 至 10000 之间的整数"),
    # Full-width digits are digits, but this one is a mobile number, not a quantity.
    ({"item": "water", "quantity": "1380000000７", "reason": "in"},
     "数量须为 1 至 10000 之间的整数"),
    ({"item": "water", "quantity": "99999", "reason": "in"}, "数量须为 1 至 10000 之间的整数"),
    ({"item": "water", "quantity": "10001", "reason": "in"}, "数量须为 1 至 10000 之间的整数"),
    ({"item": "water", "quantity": "2", "reason": "adjust"}, "请选择入库或发放"),
    ({"item": "gold", "quantity": "2", "reason": "in"}, "未知的物品"),
])
def test_stock_form_refuses_bad_input(world, data, message):
    response = _refused(world, "stock", data, message)
    if "数量须为" in message:  # beside the field, with what was typed kept
        html = response.content.decode()
        assert 'id="error-quantity"' in html and f'value="{data["quantity"]}"' in html


def test_stock_form_takes_full_width_digits_and_the_api_bound(world):
    from warmstation.stations.models import STOCK_DELTA_MAX
    assert _post(world, "stock", {"item": "water", "quantity": "５", "reason": "in"}) \
        .status_code == 302
    assert _post(world, "stock", {"item": "water", "quantity": str(STOCK_DELTA_MAX),
                                  "reason": "in"}).status_code == 302
    assert Stock.objects.get(station=world["station"], item__code="water").quantity == \
        10 + 5 + STOCK_DELTA_MAX


def test_lend_and_return_forms(world):
    assert _post(world, "lend", {"item": "umbrella", "mobile": "139 1234 0009"}) \
        .status_code == 302
    loan = Loan.objects.get()
    assert loan.worker == world["worker"] and loan.station == world["station"]
    html = _client(world, "steward").get(_console(world)).content.decode()
    assert "共享" in html or "umbrella" in html
    assert f"/loans/{loan.pk}/return/" in html
    assert _post(world, f"loans/{loan.pk}/return", {}).status_code == 302
    loan.refresh_from_db()
    assert loan.returned_at is not None
    assert Stock.objects.get(station=world["station"], item__code="umbrella").quantity == 2
    _refused(world, f"loans/{loan.pk}/return", {}, "该物品已归还")


@pytest.mark.parametrize("data,message", [
    ({"item": "umbrella", "mobile": "13999999999"}, "没有找到该手机号的小哥"),
    ({"item": "umbrella", "mobile": "12"}, "请输入正确的11位手机号"),
    ({"item": "umbrella", "mobile": ""}, "请输入借用人的手机号"),
    ({"item": "water", "mobile": "13912340009"}, "该物品不可借用"),
])
def test_lend_form_refuses_bad_input(world, data, message):
    _refused(world, "lend", data, message)


def test_lend_form_refuses_when_none_is_left(world):
    Stock.objects.filter(station=world["station"], item__code="umbrella").update(quantity=0)
    _refused(world, "lend", {"item": "umbrella", "mobile": "13912340009"}, "已借完")


def test_overdue_loans_come_first_and_are_marked(world):
    item = Stock.objects.get(station=world["station"], item__code="umbrella").item
    Loan.objects.create(station=world["station"], item=item, worker=world["worker"],
                        due_at=timezone.now() + timedelta(hours=5))
    late = Loan.objects.create(station=world["station"], item=item, worker=world["worker"],
                               due_at=timezone.now() - timedelta(hours=5))
    response = _client(world, "steward").get(_console(world))
    loans = response.context["loans"]
    assert loans[0] == late and loans[0].overdue and not loans[1].overdue
    assert 'class="loan overdue"' in response.content.decode()


def test_return_of_another_stations_loan_looks_missing(world):
    other_stock = make_station(world["other"].area, 39.70, 116.10, stock={"umbrella": 1})
    item = Stock.objects.get(station=other_stock).item
    loan = Loan.objects.create(station=other_stock, item=item, worker=world["worker"],
                               due_at=timezone.now())
    assert _post(world, f"loans/{loan.pk}/return", {}).status_code == 404
    loan.refresh_from_db()
    assert loan.returned_at is None


def test_record_form(world):
    assert _post(world, "record", {"service": "rest", "mobile": "13912340009"}).status_code == 302
    assert _post(world, "record", {"service": "rest", "name": "王师傅",
                                   "at": "2026-01-05T10:30"}).status_code == 302
    named, known = ServiceRecord.objects.order_by("at")
    assert named.worker_label == "王师傅" and named.worker is None
    assert timezone.localtime(named.at).hour == 10
    assert known.worker == world["worker"] and known.recorded_by == world["steward"]
    html = _client(world, "steward").get(_console(world)).content.decode()
    assert "王师傅" in html


@pytest.mark.parametrize("data,message", [
    ({"service": "nap"}, "请选择服务项目"),
    ({"service": "rest", "mobile": "13999999999"}, "没有找到该手机号的小哥"),
    ({"service": "rest", "at": "2099-01-01T10:00"}, "服务时间不能晚于现在"),
    ({"service": "rest", "at": "yesterday"}, "服务时间格式不对"),
])
def test_record_form_refuses_bad_input(world, data, message):
    _refused(world, "record", data, message)


def test_forms_answer_htmx_in_place(world):
    response = _post(world, "stock", {"item": "water", "quantity": "1", "reason": "in"},
                     HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="console"' in response.content.decode()
    assert "库存已更新" in response.content.decode()
    response = _refused(world, "stock", {"item": "water", "quantity": "99", "reason": "out"},
                        "库存不足", HTTP_HX_REQUEST="true")
    assert 'id="console"' in response.content.decode()


def test_forms_refuse_get_and_messages_follow_the_language(world):
    client = _client(world, "steward")
    assert client.get(f"{_console(world)}stock/").status_code == 405
    response = client.post(f"{_console(world)}stock/", {"item": "water", "quantity": "99",
                                                         "reason": "out"},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    assert "Not enough" in response.content.decode()


def test_home_and_landing_link_the_station_pages(world):
    assert 'href="/stations/"' in Client().get("/").content.decode()
    html = _client(world, "worker").get("/").content.decode()
    assert 'href="/stations/?open=1"' in html and 'href="/steward/"' not in html
    html = _client(world, "steward").get("/").content.decode()
    assert 'href="/steward/"' in html and 'href="/stations/manage/"' not in html
    assert 'href="/stations/manage/"' in _client(world, "gc_admin").get("/").content.decode()


def test_hours_form_keeps_a_third_span_set_elsewhere(world):
    from warmstation.stations import services

    spans = [(0, time(6), time(8)), (0, time(10), time(12)), (0, time(14), time(16))]
    services.station_set_hours(actor=None, station=world["station"], spans=spans)
    html = _client(world, "steward").get(_console(world)).content.decode()
    assert 'name="o0_2" value="14:00"' in html
    data = {"o0_0": "06:00", "c0_0": "08:00", "o0_1": "10:00", "c0_1": "12:00",
            "o0_2": "14:00", "c0_2": "16:00"}
    assert _post(world, "hours", data).status_code == 302
    assert OpeningHours.objects.filter(station=world["station"]).count() == 3


def test_list_query_count_does_not_grow_with_the_stations(world, tree,
                                                          django_assert_max_num_queries):
    for i in range(15):
        make_station(tree["ylj"], 39.748 + i * 0.001, 116.14, amenities=["charging"], is_24h=True,
                     hours=[(d, time(9), time(18)) for d in range(7)])
    with django_assert_max_num_queries(8):
        response = Client().get("/stations/?lat=39.748&lng=116.14&open=1&amenity=charging")
    assert len(response.context["rows"]) > 10


@pytest.mark.parametrize("data", [
    {"service": "rest", "mobile": "13999999999", "at": "2026-01-05T10:30", "note": "带了雨伞"},
    {"service": "rest", "mobile": "13912340009", "at": "2099-01-01T10:00", "note": "带了雨伞"},
])
def test_record_form_refused_keeps_every_typed_value(world, data):
    html = _post(world, "record", data).content.decode()
    form = html[html.index('id="record-h"'):]
    form = form[:form.index("</form>")]
    assert 'value="rest" selected' in form
    assert f'name="mobile" inputmode="tel" autocomplete="off" maxlength="20" ' \
           f'value="{data["mobile"]}"' in form
    assert f'name="at" type="datetime-local" value="{data["at"]}"' in form
    assert 'value="带了雨伞"' in form


def test_a_loans_due_date_follows_the_language(world):
    item = Stock.objects.get(station=world["station"], item__code="umbrella").item
    due = timezone.make_aware(timezone.datetime(2026, 12, 2, 18, 4))
    Loan.objects.create(station=world["station"], item=item, worker=world["worker"], due_at=due)
    client = _client(world, "steward")
    assert "12月2日 18:04" in client.get(_console(world)).content.decode()
    english = client.get(_console(world), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Due Dec 2, 18:04" in english and "月" not in english.split("Due ")[1][:20]
