"""Every write about street reports: photos uploaded ahead, a report, "我也遇到", the
triage workflow (accept/reject, dispatch, resolve, close, "not fixed"), merges, bulk steps, and
the acceptance points.

Each transition locks the problem row (access_problem_by_id(for_update=True)), checks the
workflow table and the actor's capacity, writes the timeline and audit lines and queues the
SMS to the followers in the same transaction — the pattern of appeals/services.py. Points are
paid on acceptance only, in the same transaction, through the ledger's idempotent API with one
key per (problem, person): a retried or concurrent acceptance can never pay twice (only one
acceptance passes the row lock and the state check; the key guards everything else).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from warmstation.accounts.models import Role
from warmstation.appeals import deadlines
from warmstation.appeals.models import Department
from warmstation.areas.models import Area
from warmstation.areas.scoping import area_in_scope
from warmstation.core import geo
from warmstation.core.audit import audit_event, audit_record
from warmstation.core.errors import (
    ApplicationError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from warmstation.core.images import blur_regions, check_image, fitted, reencode_image
from warmstation.core.inputs import clean_text
from warmstation.core.models import AuditEvent
from warmstation.core.ratelimit import rate_limit
from warmstation.core.sqlrows import reserve_ids, row_sql, saved
from warmstation.core.taskrows import Queued, queue_on_commit, queue_with_statement
from warmstation.outreach.models import OutboxMessage
from warmstation.outreach.services import (
    outbox_deliveries,
    outbox_message,
    outbox_record,
)
from warmstation.points.services import points_award
from warmstation.reports import filing_sql, workflow
from warmstation.reports.models import (
    Follower,
    Open311Client,
    Photo,
    Problem,
    ProblemEvent,
    ReportCategory,
    ReportSettings,
)
from warmstation.reports.permissions import TRIAGERS, access_problem_by_id, capacities

if TYPE_CHECKING:
    from warmstation.accounts.models import User

S = Problem.Status
MAX_SIDE = 2048
MAX_PHOTOS = 3
PENDING_MAX = 30          # photos uploaded ahead and not yet in a report, per person per day
NEAREST_FEW = 8           # nearest centres the database hands area_for_point to choose from
FAR_M = 40_000            # a place this far from every area is not in the district
DESCRIPTION_MAX = 1000
# A worker's photo upload and report on PostgreSQL as one statement each (filing_sql.py);
# False: through the ORM, as on SQLite (the tests compare the two).
ONE_STATEMENT = True


class BulkFailure(TypedDict):
    id: int
    zh: str
    en: str


class BulkResult(TypedDict):
    done: list[int]
    failed: list[BulkFailure]


def report_settings() -> ReportSettings:
    return ReportSettings.objects.get_or_create(pk=1)[0]


def report_categories_seed() -> int:
    """The standard event classes (reports/categories.py), as migration 0002 seeds them; for a
    database that was emptied (tests that flush) or a demo. Existing rows are kept as they are;
    returns how many were added."""
    from warmstation.reports.categories import CATEGORIES

    added = 0
    for sort, (code, gzh, gen, zh, en, days, keywords) in enumerate(CATEGORIES):
        added += ReportCategory.objects.get_or_create(code=code, defaults={
            "group_zh": gzh, "group_en": gen, "name_zh": zh, "name_en": en,
            "resolve_days": days, "keywords": keywords, "sort": sort * 10,
            "description": f"{gzh}·{zh}"})[1]
    return added


# --- places -----------------------------------------------------------------------------------

def point_to_wgs84(lat: float, lng: float, crs: str) -> tuple[float, float]:
    """A position from the device (WGS-84) or a map (GCJ-02 for AMap/Tencent, BD-09 for Baidu),
    as stored: WGS-84. Out-of-range values are refused."""
    if crs not in geo.CRS:
        raise InvalidInput(_("坐标系须为 wgs84、gcj02 或 bd09。"), field="crs")
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or lat != lat or lng != lng:
        raise InvalidInput(_("位置无效。"), field="lat")
    return geo.to_wgs84(lat, lng, crs)


def area_for_point(lat: float, lng: float) -> Area:
    """The area whose centre is nearest (there are no street boundaries to test against: see
    docs/decisions/0002); the deepest level wins between areas at the same centre.

    One query: the database orders the centres by a flat-earth distance (good to a fraction of
    a per cent across a district) and hands back the nearest few whole rows; the great-circle
    distance then chooses among them. Written as SQL (the same on SQLite and PostgreSQL):
    building the ORM's arithmetic cost more than running it."""
    coslat = math.cos(math.radians(lat))
    best: tuple[tuple[float, int, int], Area] | None = None
    for area in Area.objects.raw(_NEAREST_AREAS, [lat, lat, lng, coslat, lng, coslat,
                                                  NEAREST_FEW]):
        assert area.center_lat is not None and area.center_lng is not None
        d = geo.distance_m(lat, lng, area.center_lat, area.center_lng)
        key = (round(d), -area.depth, area.pk)
        if best is None or key < best[0]:
            best = (key, area)
    if best is None or best[0][0] > FAR_M:
        raise InvalidInput(_("该位置不在本区范围内。"), code="outside_district", field="lat")
    return best[1]


_NEAREST_AREAS = (
    f"SELECT * FROM {Area._meta.db_table} WHERE center_lat IS NOT NULL"  # noqa: S608
    " AND center_lng IS NOT NULL ORDER BY (center_lat - %s) * (center_lat - %s)"
    " + (center_lng - %s) * %s * (center_lng - %s) * %s, depth DESC, id LIMIT %s")


# --- photos -----------------------------------------------------------------------------------

def _store(name: str, data: bytes) -> str:
    """Write `data` at `name` unless the same content is already there (names are hashes)."""
    if default_storage.exists(name):
        return name
    return default_storage.save(name, ContentFile(data))


def photo_upload(*, actor: User, data: bytes, kind: str = Photo.Kind.BEFORE,
                 request: HttpRequest | None = None) -> Photo:
    """A photo uploaded ahead of its report (or its resolution), referenced later by id.
    Refused with nothing stored if it is not a picture within the limits — judged from its
    bytes and header here (milliseconds); the decoding, turning, stripping and re-encoding
    (most of a second of CPU for a phone photo) is left to a task (`photo_process`), so the
    worker's request answers at once. Until then the bytes are kept as they came under a name
    nothing serves, and the photo is "processing"."""
    probe = check_image(data)  # InvalidInput before anything is written
    width, height = fitted(probe, MAX_SIDE)
    since = timezone.now() - timedelta(days=1)
    connection = connections[router.db_for_write(Photo)]
    one_statement = connection.vendor == "postgresql" and ONE_STATEMENT
    if not one_statement and Photo.objects.filter(
            uploader=actor, problem=None, created_at__gte=since).count() >= PENDING_MAX:
        raise _too_many_photos()
    # A name of our own per upload (never shared: deleting it once processed cannot race with
    # another upload of the same bytes).
    incoming = default_storage.save(f"reports/incoming/{secrets.token_hex(16)}",
                                    ContentFile(data))
    photo = Photo(uploader=actor, kind=kind, width=width, height=height,
                  state=Photo.State.PROCESSING, incoming=incoming)
    try:
        if one_statement:
            # The limit counted in the same statement (filing_sql.py, ADR 0019).
            (photo.pk,) = reserve_ids(connection, Photo)
            audit = _upload_audit(photo, actor, request, len(data), probe.format)
            processing = _processing(connection, photo.pk)  # commits with the photo
            if not filing_sql.upload_in_one_statement(
                    connection, photo=row_sql(photo, connection, with_pk=True),
                    audit=row_sql(audit, connection), tasks=processing.rows,
                    uploader_id=actor.pk, since=since, limit=PENDING_MAX):
                raise _too_many_photos()
            saved(photo, connection)
        else:
            with transaction.atomic(using=connection.alias):
                photo.save(force_insert=True)
                _upload_audit(photo, actor, request, len(data), probe.format) \
                    .save(force_insert=True)
            processing = _processing(connection, photo.pk, on_commit=True)
    except BaseException:
        default_storage.delete(incoming)  # no row names it: keep nothing
        raise
    # Only once the row is in: a queue that fails now (a broker down) must not take the bytes
    # of a photo that is kept; the periodic sweep re-queues a photo still processing.
    processing.written()
    return photo


def _too_many_photos() -> Conflict:
    return Conflict(_("待提交的照片过多，请先提交上报或稍后再试。"), code="too_many_photos")


def _upload_audit(photo: Photo, actor: User, request: HttpRequest | None, size: int,
                  fmt: str) -> AuditEvent:
    return audit_event("report.photo_upload", actor=actor, obj=photo, request=request,
                       detail={"bytes": size, "format": fmt})


def _processing(connection: BaseDatabaseWrapper, photo_id: int, *,
                on_commit: bool = False) -> Queued:
    """The re-encoding task of a photo: rows of the statement that writes it (ADR 0019), or,
    `on_commit` (the ORM path), queued once its row has committed."""
    from warmstation.reports.tasks import process_photo

    queue = queue_on_commit if on_commit else queue_with_statement
    return queue(connection, process_photo, (photo_id,))


def photo_process(photo_id: int) -> Photo | None:
    """Re-encode a processing photo (core/images.py: upright, ≤ MAX_SIDE, every metadata field
    gone, a thumbnail), store it under its content hash and drop the bytes as they came. Safe
    to run twice or at once in two processes: the outputs are the same bytes under the same
    names, one conditional UPDATE wins, the others find the photo ready. A picture that passed
    the header check but cannot be decoded becomes "failed" (its report says so). None if the
    photo is gone."""
    photo = Photo.objects.filter(pk=photo_id).first()
    if photo is None or photo.state != Photo.State.PROCESSING:
        return photo
    try:
        with default_storage.open(photo.incoming, "rb") as handle:
            data = handle.read()
        picture = reencode_image(data, max_side=MAX_SIDE)
    except (OSError, InvalidInput):
        Photo.objects.filter(pk=photo.pk, state=Photo.State.PROCESSING).update(
            state=Photo.State.FAILED, incoming="")
        _drop_incoming(photo.incoming)
        return Photo.objects.filter(pk=photo.pk).first()
    digest = picture.sha256
    full = _store(f"reports/{digest[:2]}/{digest}.jpg", picture.full)
    thumb = _store(f"reports/{digest[:2]}/{digest}-t.jpg", picture.thumb)
    won = Photo.objects.filter(pk=photo.pk, state=Photo.State.PROCESSING).update(
        state=Photo.State.READY, sha256=digest, file=full, thumb=thumb,
        width=picture.width, height=picture.height, incoming="")
    if not won:  # done by another process meanwhile (same names), or erased: keep no orphan
        _drop_unreferenced(digest, full, thumb)
    _drop_incoming(photo.incoming)
    return Photo.objects.filter(pk=photo.pk).first()


def photo_ready(photo: Photo) -> Photo:
    """`photo` re-encoded, now if its task has not run yet (a viewer who comes first does the
    work once; the task then finds it done). A failed photo stays failed."""
    if photo.state != Photo.State.PROCESSING:
        return photo
    done = photo_process(photo.pk)
    if done is None:
        raise NotFound()
    # Keep what the caller selected with it (problem, uploader); take the new columns.
    for field in ("state", "sha256", "file", "thumb", "width", "height", "incoming"):
        setattr(photo, field, getattr(done, field))
    return photo


def photo_process_due(older_than: timedelta = timedelta(minutes=2)) -> int:
    """The periodic safety net: photos still processing after `older_than` (their task was
    lost: a crash between commit and enqueue, a worker killed mid-way) are processed now."""
    before = timezone.now() - older_than
    ids = list(Photo.objects.filter(state=Photo.State.PROCESSING, created_at__lt=before)
               .order_by("created_at").values_list("pk", flat=True)[:200])
    for pk in ids:
        photo_process(pk)
    return len(ids)


def _drop_incoming(name: str) -> None:
    """Delete an upload's bytes as they came (each upload has its own name)."""
    if name:
        default_storage.delete(name)


def _photo_ids(ids: Iterable[int]) -> list[int]:
    ids = list(dict.fromkeys(int(i) for i in ids))
    if len(ids) > MAX_PHOTOS:
        raise InvalidInput(_("最多 %(n)s 张照片。"), params={"n": MAX_PHOTOS}, field="photos")
    return ids


def _photos_refused() -> InvalidInput:
    return InvalidInput(_("照片无效或已使用，请重新上传。"), code="bad_photo", field="photos")


def _claim_photos(actor: User, ids: Iterable[int], problem: Problem, kind: str) -> None:
    """The actor's own unattached photos, attached to `problem` (a conditional UPDATE: a photo
    can belong to one problem only, even under a race)."""
    ids = _photo_ids(ids)
    claimed = Photo.objects.filter(pk__in=ids, uploader=actor, problem=None) \
        .exclude(state=Photo.State.FAILED).update(problem=problem, kind=kind)
    if claimed != len(ids):
        raise _photos_refused()


# --- reports ----------------------------------------------------------------------------------

def _event(problem: Problem, *, actor: User | None, action: str, from_status: str,
           note: str = "", public: bool = True, request: HttpRequest | None = None,
           detail: dict[str, Any] | None = None) -> ProblemEvent:
    event, audit = _event_rows(problem, actor=actor, action=action, from_status=from_status,
                               note=note, public=public, request=request, detail=detail)
    event.save(force_insert=True)
    audit.save(force_insert=True)
    return event


def _event_rows(problem: Problem, *, actor: User | None, action: str, from_status: str,
                note: str = "", public: bool = True, request: HttpRequest | None = None,
                detail: dict[str, Any] | None = None) -> tuple[ProblemEvent, AuditEvent]:
    """A step on the problem's timeline and its audit line, not yet written."""
    event = ProblemEvent(
        problem=problem, actor=actor if actor is not None and actor.is_authenticated else None,
        action=action, from_status=from_status, to_status=problem.status, note=note,
        department=problem.department, public=public)
    audit = audit_event(f"report.{action}", actor=actor, obj=problem, request=request,
                        detail={"from": from_status, "to": problem.status,
                                "department": problem.department_id, **(detail or {})})
    return event, audit


def _notify(problem: Problem, text: str, *, mobiles: Iterable[str] | None = None) -> None:
    """SMS to every follower with a mobile, in the caller's transaction (the outbox sends after
    commit; nothing is sent for a rolled-back step). `mobiles`: the followers' numbers when the
    caller has them (a problem just filed: its reporter, or nobody for an Open311 client)."""
    if mobiles is None:
        mobiles = (Follower.objects.filter(problem=problem, user__closed_at=None)
                   .exclude(user__mobile="").values_list("user__mobile", flat=True))
    for message in _sms(problem, text, mobiles):
        outbox_record(message)


def _sms(problem: Problem, text: str, mobiles: Iterable[str]) -> list[OutboxMessage]:
    """The SMS `_notify` records, one per mobile number, not yet written."""
    return [outbox_message(channel=OutboxMessage.Channel.SMS, recipient=mobile, purpose="report",
                           body=f"【37°C+暖心驿站】您上报的问题{problem.number}"
                                f"（{problem.category.name_zh}）{text}")
            for mobile in mobiles if mobile.isdigit()]


RECEIVED = "已收到，等待指挥中心受理。"


@dataclass(frozen=True)
class Filed:
    """What filing a report gives back: the problem; whether this call created it (False: the
    same client key answered with the first report); and, when it did, the timeline as written
    (its one "create" event) and, from the one-statement path, its photos as claimed, so that
    the answer need not read them back (None: not in hand)."""

    problem: Problem
    created: bool
    events: tuple[ProblemEvent, ...] = ()
    photos: tuple[Photo, ...] | None = None


def report_create(**kwargs: Any) -> tuple[Problem, bool]:
    """`report_file`, as (problem, created)."""
    filed = report_file(**kwargs)
    return filed.problem, filed.created


def report_file(*, actor: User | None, category: ReportCategory, lat: float, lng: float,
                crs: str = "wgs84", description: str = "", address: str = "",
                photo_ids: Iterable[int] = (), client_key: str = "",
                area: Area | None = None, client: Open311Client | None = None,
                attributes: dict[str, Any] | None = None, photos: Iterable[Photo] = (),
                request: HttpRequest | None = None) -> Filed:
    """File a new problem. A worker reports with one to three photos uploaded ahead; an
    Open311 client (`client`) may file without any. The same `client_key` from the same person
    is the same report (the phone's offline queue resends): the first one is answered again,
    nothing is created twice."""
    if client is None:
        if actor is None or not actor.has_role(Role.WORKER):
            raise PermissionDenied()
        if client_key:
            if len(client_key) > 64 or not all("!" <= c <= "~" for c in client_key):
                raise InvalidInput(_("客户端标识无效。"), field="client_key")
            existing = Problem.objects.filter(reporter=actor, client_key=client_key).first()
            if existing is not None:
                return Filed(existing, created=False)
        # After the replay check: a resent report is answered, not counted.
        rate_limit(request, "report")
    if not category.is_active:
        raise InvalidInput(_("该类别已停用。"), field="category")
    description = clean_text(description, max_length=DESCRIPTION_MAX, multiline=True,
                             field="description")
    address = clean_text(address, max_length=200, field="address")
    photo_ids = list(photo_ids)
    if client is None and not photo_ids:
        raise InvalidInput(_("请至少拍一张照片。"), code="photo_required", field="photos")
    wlat, wlng = point_to_wgs84(lat, lng, crs)
    area = area or area_for_point(wlat, wlng)
    if client is not None and not any(area.path.startswith(a.path) for a in client.areas.all()):
        raise PermissionDenied()
    cell_s, cell_l = geo.cells_of(wlat, wlng)
    problem = Problem(
        category=category, area=area, lat=wlat, lng=wlng, cell_s=cell_s, cell_l=cell_l,
        address=address, description=description,
        source=Problem.Source.OPEN311 if client else Problem.Source.WORKER,
        reporter=actor if client is None else None, client=client,
        client_key=client_key if client is None else "",
        token=secrets.token_hex(8) if client is not None else "",
        attributes=attributes or {})
    connection = connections[router.db_for_write(Problem)]
    try:
        if client is None and actor is not None and connection.vendor == "postgresql" \
                and ONE_STATEMENT:
            return _file_in_one_statement(problem, actor=actor, photo_ids=photo_ids,
                                          connection=connection, request=request)
        with transaction.atomic(using=connection.alias):
            problem.save(force_insert=True)
            if actor is not None and client is None:
                _claim_photos(actor, photo_ids, problem, Photo.Kind.BEFORE)
                Follower.objects.create(problem=problem, user=actor,
                                        kind=Follower.Kind.REPORTER)
            for photo in photos:  # already stored by the caller (Open311 media_url)
                Photo.objects.filter(pk=photo.pk, problem=None).update(problem=problem)
            event = _event(problem, actor=actor, action="create", from_status="",
                           request=request, detail=_created_detail(problem))
            # Its one follower is the reporter who just filed it (an open account).
            _notify(problem, RECEIVED,
                    mobiles=[actor.mobile] if actor is not None and client is None else [])
    except IntegrityError:
        # The same client_key raced in from a second request: answer the first one.
        existing = Problem.objects.filter(reporter=actor, client_key=client_key).first() \
            if client_key and actor is not None else None
        if existing is None:
            raise
        return Filed(existing, created=False)
    return Filed(problem, created=True, events=(event,))


def _created_detail(problem: Problem) -> dict[str, Any]:
    return {"source": problem.source, "client": problem.client_id}


def _file_in_one_statement(problem: Problem, *, actor: User, photo_ids: list[int],
                           connection: BaseDatabaseWrapper,
                           request: HttpRequest | None) -> Filed:
    """`report_file`'s rows for a worker, written as one statement (filing_sql.py, ADR 0019)
    inside the same transaction the ORM path opens."""
    ids = _photo_ids(photo_ids)
    # One message id per number the SMS may go to (the reporter's): surplus ones stay unused.
    problem.pk, event_id, *message_ids = reserve_ids(connection, Problem, ProblemEvent,
                                                     OutboxMessage)
    # The problem's row first: its created_at (auto_now_add) is set there, and its number,
    # which the SMS quotes, is made of it.
    head = row_sql(problem, connection, with_pk=True)
    follower = Follower(problem=problem, user=actor, kind=Follower.Kind.REPORTER)
    event, audit = _event_rows(problem, actor=actor, action="create", from_status="",
                               request=request, detail=_created_detail(problem))
    event.pk = event_id
    messages = _sms(problem, RECEIVED, [actor.mobile])
    assert len(messages) <= len(message_ids)
    for message, message_id in zip(messages, message_ids, strict=False):
        message.pk = message_id
    deliveries = outbox_deliveries(connection, messages)  # commit with their messages
    with transaction.atomic(using=connection.alias):
        photos = filing_sql.file_in_one_statement(
            connection, head=head, photo_ids=ids, uploader_id=actor.pk,
            tail=[row_sql(follower, connection), row_sql(event, connection, with_pk=True),
                  row_sql(audit, connection),
                  *(row_sql(m, connection, with_pk=True) for m in messages),
                  *deliveries.rows])
        if not photos:
            raise _photos_refused()
        deliveries.written()
    for obj in (problem, follower, event, audit, *messages):
        saved(obj, connection)
    return Filed(problem, created=True, events=(event,), photos=tuple(photos))


def report_follow(*, actor: User, problem_id: int, lat: float, lng: float,
                  crs: str = "wgs84", request: HttpRequest | None = None) -> Problem:
    """"我也遇到": the worker, standing within the same-problem radius, confirms an open problem
    instead of reporting it again, and follows it from then on. Twice is once."""
    if not actor.has_role(Role.WORKER):
        raise PermissionDenied()
    wlat, wlng = point_to_wgs84(lat, lng, crs)
    conf = report_settings()
    with transaction.atomic():
        problem = Problem.objects.select_for_update(of=("self",)).filter(
            pk=problem_id, status__in=(S.SUBMITTED, S.ACCEPTED, S.DISPATCHED)) \
            .select_related("category", "department").first()
        # Too far away looks like missing: a worker only confirms what they can see.
        if problem is None or geo.distance_m(wlat, wlng, problem.lat, problem.lng) > \
                conf.same_radius_m * 1.5:
            raise NotFound()
        follower, created = Follower.objects.get_or_create(
            problem=problem, user=actor, defaults={"kind": Follower.Kind.CONFIRMER})
        if created:
            _event(problem, actor=actor, action="follow", from_status=problem.status,
                   request=request)
            if problem.status != S.SUBMITTED:
                # Accepted already: the confirmer is paid now, as they would have been then.
                _pay(problem, [follower], actor=actor, request=request)
    return problem


# --- points -----------------------------------------------------------------------------------

def _pay(problem: Problem, followers: Iterable[Follower], *, actor: User | None,
         request: HttpRequest | None) -> int:
    """Acceptance points to each unpaid follower: the rule `first_action` to the first
    reporter, `confirm_action` to confirmers, each under its ledger rule's monthly cap. The
    key names the problem and the person, so a retry pays nothing twice; a capped award is
    noted on the timeline (not shown to the public) and does not undo the acceptance."""
    conf = report_settings()
    paid = 0
    for follower in followers:
        if follower.paid:
            continue
        action = conf.first_action if follower.kind == Follower.Kind.REPORTER \
            else conf.confirm_action
        try:
            points_award(user=follower.user, action=action,
                         idempotency_key=f"reports.problem:{problem.pk}:user:{follower.user_id}",
                         source_ref=f"reports.problem:{problem.pk}", actor=actor,
                         request=request)
        except ApplicationError as exc:  # cap reached, no such rule, account closed
            ProblemEvent.objects.create(problem=problem, action="points", public=False,
                                        from_status=problem.status, to_status=problem.status,
                                        note=f"{follower.user_id}: {exc.message_zh}")
            continue
        Follower.objects.filter(pk=follower.pk).update(paid=True)
        follower.paid = True
        paid += 1
    return paid


# --- the workflow -----------------------------------------------------------------------------

def _department(problem: Problem, department: Department | None) -> Department:
    department = department or problem.category.department
    if department is None or not department.is_active:
        raise InvalidInput(_("请选择处置部门。"), code="department_required", field="department")
    return department


def problem_transition(*, actor: User, problem_id: int, action: str, note: str = "",
                       reason: str = "", department: Department | None = None,
                       photo_ids: Iterable[int] = (), into_id: int | None = None,
                       request: HttpRequest | None = None) -> Problem:
    """Move a problem one step. Illegal steps raise a 409 naming the state; a step the actor's
    capacity does not allow raises 403; a problem out of scope raises 404."""
    if action not in workflow.TRANSITIONS:
        raise InvalidInput(_("未知操作。"), field="action")
    note = clean_text(note, max_length=DESCRIPTION_MAX, multiline=True, field="note")
    if action in workflow.NOTE_REQUIRED and not note:
        raise InvalidInput(_("请填写说明。"), code="note_required", field="note")
    photo_ids = list(photo_ids)
    with transaction.atomic():
        problem = access_problem_by_id(actor, problem_id, for_update=True)
        workflow.check(problem, action, capacities(actor, problem))
        now, conf, from_status = timezone.now(), report_settings(), problem.status
        text, public = "", True
        if action == "accept":
            problem.status, problem.accepted_at = S.ACCEPTED, now
            problem.resolve_due = deadlines.add_working_days(now, problem.category.resolve_days)
            if department is not None:  # accepted and dispatched in one step
                problem.department = _department(problem, department)
                problem.status = S.DISPATCHED
            text = "已立案，感谢您的上报。"
        elif action == "reject":
            if reason not in Problem.RejectReason.values:
                raise InvalidInput(_("请选择不予立案的原因。"), code="reason_required",
                                   field="reason")
            problem.status, problem.reject_reason, problem.closed_at = S.REJECTED, reason, now
            label = Problem.RejectReason(reason).label
            note = note or str(label)
            text = f"未予立案（{label}）。"
        elif action == "dispatch":
            dept = _department(problem, department)
            if dept.pk == problem.department_id and problem.status == S.DISPATCHED:
                raise Conflict(_("已派遣给该部门。"), code="same_department",
                               field="department")
            problem.department, problem.status = dept, S.DISPATCHED
            text = f"已派至{dept.name_zh}处置。"
        elif action == "resolve":
            if not photo_ids:
                raise InvalidInput(_("请上传处置后的照片。"), code="photo_required",
                                   field="photos")
            _claim_photos(actor, photo_ids, problem, Photo.Kind.AFTER)
            problem.status, problem.resolved_at = S.RESOLVED, now
            text = f"已处置，{conf.reopen_days}天内如未解决可点“未解决”。"
        elif action == "close":
            problem.status, problem.closed_at = S.CLOSED, now
            text = "已结案。"
        elif action == "not_fixed":
            if problem.resolved_at is None or now - problem.resolved_at > \
                    timedelta(days=conf.reopen_days):
                raise Conflict(_("处置已超过%(days)s天，不能再重新办理，请重新上报。"),
                               params={"days": conf.reopen_days}, code="reopen_expired")
            problem.status, problem.closed_at, problem.resolved_at = S.DISPATCHED, None, None
            problem.reopen_count += 1
            problem.resolve_due = deadlines.add_working_days(now, problem.category.resolve_days)
            text = "已重新交办。"
        elif action == "merge":
            target = _merge_into(actor, problem, into_id, request=request)
            problem.status, problem.merged_into, problem.closed_at = S.MERGED, target, now
            note = note or f"与{target.number}为同一问题"
            text = f"与{target.number}为同一问题，已合并办理。"
        elif action == "note":
            public = False
        problem.save()
        _event(problem, actor=actor, action=action, from_status=from_status, note=note,
               public=public, request=request,
               detail={"reason": reason} if action == "reject" else None)
        if text:
            _notify(problem, text)
        if action == "accept":
            _pay(problem, list(Follower.objects.filter(problem=problem)
                               .select_related("user")), actor=actor, request=request)
    return problem


def _merge_into(actor: User, problem: Problem, into_id: int | None, *,
                request: HttpRequest | None) -> Problem:
    """Merge `problem` (locked) into the original `into_id`: the followers move over (a
    reporter of the duplicate becomes a confirmer of the original; one already paid stays
    paid), both link to each other, and the original's timeline says so. The original is
    locked after the duplicate; a merge of the two the other way round waits on the first
    lock and then finds its target merged (refused)."""
    if not into_id or int(into_id) == problem.pk:
        raise InvalidInput(_("请指定要合并到的原问题。"), field="into_id")
    access_problem_by_id(actor, into_id)  # in scope, or 404
    target = Problem.objects.select_for_update(of=("self",)).select_related("category") \
        .get(pk=into_id)
    if target.status not in workflow.OPEN or "triager" not in capacities(actor, target):
        raise Conflict(_("不能合并到该问题。"), code="merge_refused", field="into_id")
    already = set(Follower.objects.filter(problem=target).values_list("user_id", flat=True))
    for follower in Follower.objects.filter(problem=problem):
        if follower.user_id in already:
            if follower.paid:
                Follower.objects.filter(problem=target, user_id=follower.user_id) \
                    .update(paid=True)
            follower.delete()
            continue
        Follower.objects.filter(pk=follower.pk).update(problem=target,
                                                       kind=Follower.Kind.CONFIRMER)
    ProblemEvent.objects.create(problem=target, actor=actor, action="merged_in",
                                from_status=target.status, to_status=target.status,
                                department=target.department,
                                note=f"{problem.number}并入本问题")
    audit_record("report.merged_in", actor=actor, obj=target, request=request,
                 detail={"duplicate": problem.pk})
    if target.status != S.SUBMITTED:  # the original is filed: moved followers are paid now
        _pay(target, list(Follower.objects.filter(problem=target, paid=False)
                          .select_related("user")), actor=actor, request=request)
    return target


def problem_bulk(*, actor: User, ids: list[int], action: str, reason: str = "",
                 department: Department | None = None, note: str = "",
                 request: HttpRequest | None = None) -> BulkResult:
    """The same step for several problems (bulk accept, reject, dispatch). Each problem is its
    own transaction: one refusal does not undo the others; the result says which failed."""
    if action not in workflow.BULK_ACTIONS or len(ids) > 200:
        raise InvalidInput(_("批量操作仅限立案、不予立案、派遣，每次最多200条。"), field="action")
    done: list[int] = []
    failed: list[BulkFailure] = []
    for problem_id in ids:
        try:
            problem_transition(actor=actor, problem_id=problem_id, action=action,
                               reason=reason, department=department, note=note,
                               request=request)
            done.append(problem_id)
        except ApplicationError as exc:
            failed.append({"id": problem_id, "zh": exc.message_zh, "en": exc.message_en})
    return {"done": done, "failed": failed}


# --- photos made public -----------------------------------------------------------------------

def photo_publish(*, actor: User, photo_id: int, boxes: list[tuple[float, float, float, float]],
                  public: bool = True, request: HttpRequest | None = None) -> Photo:
    """Staff blur faces and plates (`boxes`, fractions of the picture) and choose whether the
    photo is shown to the public. The blurred copy replaces the stored one (the original is not
    kept: nobody should be able to undo the blur)."""
    from warmstation.reports.permissions import access_photo_by_id

    if len(boxes) > 20:
        raise InvalidInput(_("一次最多模糊20处。"), field="boxes")
    photo = access_photo_by_id(actor, photo_id)
    if photo.problem is None or "triager" not in capacities(actor, photo.problem):
        raise NotFound()
    photo = photo_ready(photo)
    if photo.state == Photo.State.FAILED:
        raise InvalidInput(_("这张照片无法读取。"), code="bad_photo", field="boxes")
    old = (photo.sha256, photo.file.name or "", photo.thumb.name or "")
    with transaction.atomic():
        if boxes:
            with default_storage.open(photo.file.name or "", "rb") as handle:
                picture = blur_regions(handle.read(), boxes)
            digest = picture.sha256
            transaction.on_commit(lambda: _drop_unreferenced(*old))
            photo.file.name = _store(f"reports/{digest[:2]}/{digest}.jpg", picture.full)
            photo.thumb.name = _store(f"reports/{digest[:2]}/{digest}-t.jpg", picture.thumb)
            photo.sha256, photo.blurred_at = digest, timezone.now()
        photo.is_public = public
        photo.save()
        audit_record("report.photo_publish", actor=actor, obj=photo, request=request,
                     detail={"boxes": len(boxes), "public": public})
    return photo


def _drop_unreferenced(sha256: str, *names: str) -> None:
    """Delete a picture's files once no photo row names them (the unblurred original)."""
    if Photo.objects.filter(sha256=sha256).exists():
        return
    for name in names:
        if name:
            default_storage.delete(name)


def triager_for(actor: User, area: Area) -> bool:
    return actor.has_role(*TRIAGERS) and area_in_scope(actor, area, roles=TRIAGERS)


# --- Open311 clients --------------------------------------------------------------------------

def _key_hash(key: str) -> str:
    import hashlib

    return hashlib.sha256(key.encode()).hexdigest()


def open311_client_issue(*, actor: User, name: str, areas: Iterable[Area], contact: str = "",
                         request: HttpRequest | None = None) -> tuple[Open311Client, str]:
    """A new API key for another civic-reporting system, scoped to `areas`. The key is shown
    once (returned here) and stored only as a hash."""
    if not actor.has_role(Role.DISTRICT_ADMIN):
        raise PermissionDenied()
    name = clean_text(name, max_length=64, field="name")
    contact = clean_text(contact, max_length=100, field="contact")
    areas = list(areas)
    if not name or not areas:
        raise InvalidInput(_("请填写客户端名称并至少选择一个区域。"), field="name")
    key = secrets.token_urlsafe(24)
    with transaction.atomic():
        client = Open311Client.objects.create(name=name, contact=contact,
                                              key_hash=_key_hash(key), key_hint=key[:4],
                                              issued_by=actor)
        client.areas.set(areas)
        audit_record("open311.client_issue", actor=actor, obj=client, request=request,
                     detail={"name": name, "areas": [a.code for a in areas]})
    return client, key


def open311_client_revoke(*, actor: User, client: Open311Client,
                          request: HttpRequest | None = None) -> Open311Client:
    if not actor.has_role(Role.DISTRICT_ADMIN):
        raise PermissionDenied()
    with transaction.atomic():
        changed = Open311Client.objects.filter(pk=client.pk, revoked_at=None).update(
            revoked_at=timezone.now())
        audit_record("open311.client_revoke", actor=actor, obj=client, request=request,
                     detail={"changed": bool(changed)})
    client.refresh_from_db()
    return client


def open311_client_by_key(key: str) -> Open311Client | None:
    """The active client holding `key`, or None (missing, wrong or revoked: the same 403)."""
    if not key or len(key) > 128:
        return None
    client = Open311Client.objects.filter(key_hash=_key_hash(key), revoked_at=None) \
        .prefetch_related("areas").first()
    if client is not None and (client.last_used_at is None or
                               timezone.now() - client.last_used_at > timedelta(minutes=5)):
        Open311Client.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    return client


def photo_from_url(*, url: str, kind: str = Photo.Kind.BEFORE) -> Photo:
    """The picture at `url` (an Open311 media_url), fetched under core/fetch.py's rules and then
    re-encoded and stripped like any upload; stored without an uploader."""
    from django.conf import settings

    from warmstation.core.fetch import safe_fetch
    from warmstation.core.images import MAX_UPLOAD_BYTES

    fetched = safe_fetch(url, max_bytes=MAX_UPLOAD_BYTES,
                         allow_private=getattr(settings, "OPEN311_MEDIA_ALLOW_PRIVATE", False))
    picture = reencode_image(fetched.body, max_side=MAX_SIDE)
    digest = picture.sha256
    return Photo.objects.create(
        kind=kind, sha256=digest, width=picture.width, height=picture.height,
        file=_store(f"reports/{digest[:2]}/{digest}.jpg", picture.full),
        thumb=_store(f"reports/{digest[:2]}/{digest}-t.jpg", picture.thumb))


def open311_update(*, client: Open311Client, problem_id: int, description: str,
                   status: str = "", request: HttpRequest | None = None) -> ProblemEvent:
    """A note from a partner system on a problem in its areas (the servicerequestupdates
    extension); shown to staff on the timeline, not to the public."""
    description = clean_text(description, max_length=DESCRIPTION_MAX, multiline=True,
                             field="description")
    if not description:
        raise InvalidInput(_("请填写更新内容。"), field="description")
    with transaction.atomic():
        problem = Problem.objects.select_for_update(of=("self",)).filter(pk=problem_id) \
            .select_related("area", "department").first()
        if problem is None or not any(problem.area.path.startswith(a.path)
                                      for a in client.areas.all()):
            raise NotFound()
        note = f"[{client.name}] {description}" + (f"（{status}）" if status else "")
        event = ProblemEvent.objects.create(
            problem=problem, action="open311_update", from_status=problem.status,
            to_status=problem.status, department=problem.department, note=note[:1000],
            public=False)
        audit_record("open311.update", actor_label=client.name[:64], obj=problem,
                     request=request, detail={"client": client.pk, "event": event.pk})
    return event
