"""Open311 GeoReport v2, written from the specification's own examples (open311.github.io
GeoReport/v2: the services list, a service definition, POST requests with attribute[...],
the requests list, tokens, errors) adapted to our jurisdiction, in both formats; JSON answers
validated against the GeoReport v2 schemas in /work/shared/peer/open311/; media_url fetched
from a real local HTTP server (and refused on a private address or a redirect loop); and a
round trip by a client that speaks only HTTP against the live server."""

from __future__ import annotations

import io
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.etree import ElementTree as ET  # noqa: N817

import pytest
from django.test import Client
from PIL import Image

from warmstation.reports import services
from warmstation.reports.models import Open311Client, Photo, Problem
from warmstation.reports.tests.factories import YLJ, file_report, jpeg

pytestmark = pytest.mark.django_db
SCHEMAS = Path("/work/shared/peer/open311")
if not SCHEMAS.exists():  # the repository's copy when the shared folder is not mounted
    SCHEMAS = Path(__file__).resolve().parent / "open311_schemas"


def _validate(data, schema_name: str) -> None:
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    resources = {p.name: Resource.from_contents(json.loads(p.read_text()), default_specification=DRAFT4)
                 for p in SCHEMAS.glob("*.json")}
    registry = Registry().with_resources(resources.items())
    schema = json.loads((SCHEMAS / schema_name).read_text())
    jsonschema.Draft4Validator(schema, registry=registry,
                               format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER) \
        .validate(data)


@pytest.fixture
def key(w):
    _client, secret = services.open311_client_issue(actor=w["district"], name="海淀随手拍",
                                                    areas=[w["gc"]])
    return secret


def _get(path, **query):
    return Client().get(f"/open311/v2/{path}", query)


def _post(path, data):
    return Client().post(f"/open311/v2/{path}", data)


SPEC_POST = {  # the specification's example request, moved to Fangshan
    "jurisdiction_id": "110111", "service_code": "exposed_garbage", "lat": str(YLJ[0]),
    "long": str(YLJ[1]), "address_string": "拱辰街道伊林郡社区东门",
    "email": "smit222@sfgov.edu", "device_id": "tt222111", "account_id": "123456",
    "first_name": "john", "last_name": "smith", "phone": "111111111",
    "description": "A large pile of garbage is blocking the sidewalk",
    "attribute[severity]": "severe", "attribute[obstructs][]": ["sidewalk", "tactile"],
}


def test_discovery_in_both_formats(w):
    data = _get("discovery.json").json()
    assert data["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert data["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    root = ET.fromstring(_get("discovery.xml").content)
    assert root.tag == "discovery" and root.find("endpoints/endpoint/formats/format").text \
        == "text/xml"


def test_services_validate_and_match_the_xml(w):
    data = _get("services.json").json()
    _validate(data, "services.json")
    codes = [s["service_code"] for s in data]
    assert "exposed_garbage" in codes and "piled_materials" in codes
    xml = _get("services.xml")
    assert xml["Content-Type"].startswith("text/xml")
    root = ET.fromstring(xml.content)
    assert root.tag == "services"
    assert [s.find("service_code").text for s in root.findall("service")] == codes
    first = root.find("service")
    assert first.find("metadata").text == "true" and first.find("type").text == "realtime"


def test_service_definition_has_attributes_with_datatypes(w):
    data = _get("services/exposed_garbage.json").json()
    _validate(data, "service-definition.json")
    kinds = {a["code"]: a["datatype"] for a in data["attributes"]}
    assert kinds["severity"] == "singlevaluelist" and kinds["obstructs"] == "multivaluelist"
    assert {"number", "datetime", "string", "text"} <= set(kinds.values())
    root = ET.fromstring(_get("services/exposed_garbage.xml").content)
    assert root.tag == "service_definition"
    values = root.findall("attributes/attribute/values/value")
    assert values and values[0].find("key").text == "minor"
    missing = _get("services/nope.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404


def test_post_request_as_the_specification_shows_it(w, key):
    response = _post("requests.json", {**SPEC_POST, "api_key": key})
    assert response.status_code == 201
    answer = response.json()
    assert set(answer[0]) == {"service_request_id", "token", "service_notice", "account_id"}
    problem = Problem.objects.get(pk=int(answer[0]["service_request_id"]))
    assert problem.source == "open311" and problem.reporter is None
    assert problem.attributes == {"severity": "severe", "obstructs": ["sidewalk", "tactile"]}
    assert problem.area == w["ylj"]
    # nothing of the person in the other system is kept
    stored = json.dumps([problem.description, problem.address, problem.attributes],
                        ensure_ascii=False)
    for secret in ("smit222", "john", "smith", "111111111", "tt222111"):
        assert secret not in stored
    # the client reads its own (still waiting) request back, by id and by token
    mine = _get(f"requests/{problem.pk}.json", api_key=key).json()
    _validate(mine, "requests.json")
    assert mine[0]["status"] == "open" and mine[0]["description"] == SPEC_POST["description"]
    assert _get(f"requests/{problem.pk}.json").status_code == 404  # not public yet
    token = _get(f"tokens/{answer[0]['token']}.json").json()
    assert token == [{"service_request_id": str(problem.pk), "token": answer[0]["token"]}]
    xml = ET.fromstring(_post("requests.xml", {**SPEC_POST, "api_key": key}).content)
    assert xml.tag == "service_requests" and xml.find("request/service_request_id").text


def test_requests_list_filters_and_public_view(w, key):
    filed = file_report(w)
    services.problem_transition(actor=w["cc"], problem_id=filed.pk, action="accept")
    waiting = file_report(w, "worker2", color="blue")
    data = _get("requests.json").json()
    _validate(data, "requests.json")
    ids = [r["service_request_id"] for r in data]
    assert str(filed.pk) in ids and str(waiting.pk) not in ids
    row = data[ids.index(str(filed.pk))]
    assert row["description"] is None  # a worker's words are not published
    assert row["requested_datetime"].endswith("+08:00")
    assert _get("requests.json", status="closed").json() == []
    assert _get("requests.json", service_code="piled_materials").json() == []
    assert len(_get("requests.json", service_request_id=f"{filed.pk},{waiting.pk}").json()) == 1
    assert _get("requests.json", start_date="2000-01-01T00:00:00Z",
                end_date="2000-02-01T00:00:00Z").json() == []
    bad = _get("requests.json", start_date="yesterday")
    assert bad.status_code == 400 and bad.json()[0]["code"] == 400
    root = ET.fromstring(_get("requests.xml").content)
    assert root.tag == "service_requests" and root.find("request/status").text == "open"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_errors_in_the_specifications_format(w, key, fmt):
    def errors(response):
        if fmt == "json":
            return response.json()
        root = ET.fromstring(response.content)
        assert root.tag == "errors"
        return [{"code": int(e.find("code").text), "description": e.find("description").text}
                for e in root.findall("error")]

    cases = [
        (_post(f"requests.{fmt}", SPEC_POST), 403),                        # no key
        (_post(f"requests.{fmt}", {**SPEC_POST, "api_key": "wrong"}), 403),
        (_post(f"requests.{fmt}", {**SPEC_POST, "api_key": key, "service_code": "x"}), 400),
        (_post(f"requests.{fmt}", {"api_key": key, "service_code": "exposed_garbage"}), 400),
        (_post(f"requests.{fmt}", {**SPEC_POST, "api_key": key,
                                   "attribute[severity]": "apocalyptic"}), 400),
        (_get(f"requests/987654.{fmt}"), 404),
        (_get(f"services.{fmt}", jurisdiction_id="elsewhere.gov"), 404),
        (_get(f"nothing-here.{fmt}"), 404),
        (_post(f"requests.{fmt}", {**SPEC_POST, "api_key": key, "description": "a\x00b"}), 400),
        (_get(f"requests.{fmt}", service_code="a\x1bb"), 400),
    ]
    for response, status in cases:
        assert response.status_code == status, (status, response.content[:200])
        body = errors(response)
        assert body[0]["code"] == status and body[0]["description"]
    assert Problem.objects.count() == 0


def test_a_key_is_scoped_to_its_areas_and_revocable(w, key):
    in_xilu = {**SPEC_POST, "api_key": key, "lat": "39.7050", "long": "116.1010"}
    assert _post("requests.json", in_xilu).status_code == 403
    client = Open311Client.objects.get()
    services.open311_client_revoke(actor=w["district"], client=client)
    assert _post("requests.json", {**SPEC_POST, "api_key": key}).status_code == 403
    assert Problem.objects.count() == 0
    from warmstation.core.models import AuditEvent

    assert set(AuditEvent.objects.filter(action__startswith="open311.").values_list(
        "action", flat=True)) == {"open311.client_issue", "open311.client_revoke"}


def test_address_id_and_address_string_place_the_request(w, key):
    by_id = _post("requests.json", {"api_key": key, "service_code": "exposed_garbage",
                                    "address_id": "YLJ"})
    by_name = _post("requests.json", {"api_key": key, "service_code": "exposed_garbage",
                                      "address_string": "伊林郡社区南门"})
    assert by_id.status_code == 201 and by_name.status_code == 201
    assert set(Problem.objects.values_list("area__code", flat=True)) == {"YLJ"}


# --- media_url --------------------------------------------------------------------------------

class _Pictures(BaseHTTPRequestHandler):
    picture = b""

    def do_GET(self):  # noqa: N802
        if self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
            return
        if self.path == "/pingpong":
            self.send_response(302)
            self.send_header("Location", "/pongping")
            self.end_headers()
            return
        if self.path == "/pongping":
            self.send_response(301)
            self.send_header("Location", "/pingpong")
            self.end_headers()
            return
        if self.path == "/hop":
            self.send_response(302)
            self.send_header("Location", "/photo.jpg")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(self.picture)))
        self.end_headers()
        self.wfile.write(self.picture)

    def log_message(self, *args):
        pass


@pytest.fixture
def picture_server():
    img = Image.new("RGB", (800, 600), "purple")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    _Pictures.picture = buf.getvalue()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pictures)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_media_url_on_a_private_address_is_refused_and_nothing_stored(w, key, picture_server):
    for url in (f"{picture_server}/photo.jpg", "http://10.0.0.1/x.jpg", "http://[::1]/x.jpg",
                "http://169.254.169.254/latest/meta-data", "file:///etc/passwd",
                "gopher://127.0.0.1/x", "http://user:pw@example.com/x.jpg"):
        response = _post("requests.json", {**SPEC_POST, "api_key": key, "media_url": url})
        assert response.status_code == 400, url
        assert "media_url" in response.json()[0]["description"]
    assert Problem.objects.count() == 0 and Photo.objects.count() == 0


def test_media_url_is_fetched_reencoded_and_stripped(w, key, picture_server, settings):
    settings.OPEN311_MEDIA_ALLOW_PRIVATE = True  # the test's picture server is on 127.0.0.1
    response = _post("requests.json", {**SPEC_POST, "api_key": key,
                                       "media_url": f"{picture_server}/hop"})
    assert response.status_code == 201, response.content
    photo = Photo.objects.get()
    with photo.file.open("rb") as handle, Image.open(handle) as img:
        assert img.format == "JPEG" and dict(img.getexif()) == {}
    for path in ("/loop", "/pingpong"):
        refused = _post("requests.json", {**SPEC_POST, "api_key": key,
                                          "media_url": f"{picture_server}{path}"})
        assert refused.status_code == 400 and "media_url" in refused.json()[0]["description"]
    assert Problem.objects.count() == 1


# --- the round trip, over HTTP only -----------------------------------------------------------

def _http(method, url, data=None):
    body = urllib.parse.urlencode(data, doseq=True).encode() if data else None
    req = urllib.request.Request(url, data=body, method=method)
    if body:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.django_db(transaction=True)
def test_round_trip_file_list_read_update_over_http(live_server, tree):
    from warmstation.reports.tests.factories import make_report_world

    w = make_report_world(tree)
    _client, secret = services.open311_client_issue(actor=w["district"], name="对接系统",
                                                    areas=[w["gc"]])
    base = f"{live_server.url}/open311/v2"
    status, body = _http("POST", f"{base}/requests.json", {**SPEC_POST, "api_key": secret})
    assert status == 201
    request_id = json.loads(body)[0]["service_request_id"]
    # the command centre files it; now it is public
    services.problem_transition(actor=w["cc"], problem_id=int(request_id), action="accept",
                                department=w["sanitation"])
    status, body = _http("GET", f"{base}/requests.json?service_code=exposed_garbage")
    listed = json.loads(body)
    _validate(listed, "requests.json")
    assert status == 200 and request_id in [r["service_request_id"] for r in listed]
    status, body = _http("GET", f"{base}/requests/{request_id}.xml")
    one = ET.fromstring(body)
    assert status == 200 and one.find("request/agency_responsible").text == "拱辰环卫所"
    status, body = _http("POST", f"{base}/servicerequestupdates.json",
                         {"api_key": secret, "service_request_id": request_id,
                          "status": "OPEN", "description": "居民反映垃圾仍在",
                          "updated_datetime": "2026-12-01T10:00:00+08:00"})
    assert status == 201 and json.loads(body)[0]["update_id"]
    status, body = _http("GET", f"{base}/servicerequestupdates.json")
    updates = json.loads(body)
    assert status == 200 and any(u["service_request_id"] == request_id for u in updates)
    assert Problem.objects.get(pk=request_id).events.filter(action="open311_update").exists()
    status, body = _http("GET", f"{base}/servicerequestupdates.xml")
    assert ET.fromstring(body).tag == "service_request_updates"


def test_the_schemas_are_the_peer_copies():
    assert {p.name for p in SCHEMAS.glob("*.json")} >= {"services.json", "service.json",
                                                          "service-definition.json",
                                                          "requests.json", "request.json"}


def test_jpeg_helper_is_a_jpeg():
    assert jpeg()[:2] == b"\xff\xd8"
