"""Every write about union membership: applications and their review, enrolment (one member
per mobile, under a unique constraint), on-site batch enrolment with its row-by-row report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from warmstation.accounts.models import Brand, WorkerProfile
from warmstation.areas.models import Area
from warmstation.core.audit import audit_record, client_ip
from warmstation.core.errors import ApplicationError, Conflict, InvalidInput, PermissionDenied
from warmstation.core.inputs import check_text, normalise_mobile
from warmstation.core.masking import mask_mobile, mask_name
from warmstation.union.models import (
    EnrolmentBatch,
    JobType,
    Member,
    MembershipApplication,
    MembershipConsent,
    member_number,
)

if TYPE_CHECKING:
    from warmstation.accounts.models import User
    from warmstation.stations.models import Station

BATCH_ROWS_MAX = 2000
UNKNOWN_BRAND = _("未知的企业或平台。")
PLACE_NEEDED = _("请选择驿站或区域。")


def _consent(*, user: User | None, granted: bool, method: str = MembershipConsent.Method.ONLINE,
             member: Member | None = None, recorded_by: User | None = None,
             request: HttpRequest | None = None) -> MembershipConsent:
    return MembershipConsent.objects.create(user=user, member=member, granted=granted,
                                            method=method, recorded_by=recorded_by,
                                            ip=client_ip(request))


def _check_details(*, employer: str, job_type: str) -> str:
    employer = check_text((employer or "").strip(), max_length=128, field="employer")
    if not employer:
        raise InvalidInput(_("请填写工作单位或平台。"), field="employer")
    if job_type not in JobType.values:
        raise InvalidInput(_("工作类型无效。"), field="job_type")
    return employer


def membership_apply(*, user: User, area: Area, employer: str, job_type: str,
                     brand: Brand | None = None, station: Station | None = None,
                     consent: bool, request: HttpRequest | None = None) -> MembershipApplication:
    """A registered worker applies to join the union. Their explicit consent to the union
    processing these details is required and recorded (MembershipConsent); one application
    under review at a time (a partial unique constraint), none once a member."""
    profile = WorkerProfile.objects.filter(user=user).first()
    if profile is None:
        raise PermissionDenied(_("仅登记的新就业群体可以申请入会。"), code="not_eligible")
    if not consent:
        raise InvalidInput(_("请勾选同意工会处理您的入会信息。"), code="consent_required",
                           field="consent")
    employer = _check_details(employer=employer, job_type=job_type)
    if Member.objects.filter(user=user).exists() or \
            Member.objects.filter(mobile=user.mobile).exists():
        raise Conflict(_("您已经是工会会员。"), code="already_member")
    try:
        with transaction.atomic():
            record = _consent(user=user, granted=True, request=request)
            application = MembershipApplication.objects.create(
                applicant=user, real_name=user.real_name, mobile=user.mobile, employer=employer,
                brand=brand, job_type=job_type, area=area, station=station, consent=record)
            audit_record("union.apply", actor=user, obj=application, request=request,
                         detail={"area": area.code, "consent": record.pk})
    except IntegrityError:
        raise Conflict(_("您已有一份入会申请在审核中。"), code="application_pending") from None
    return application


def membership_withdraw(*, user: User, application: MembershipApplication,
                        request: HttpRequest | None = None) -> MembershipApplication:
    """The applicant withdraws before review; their consent is withdrawn with it."""
    with transaction.atomic():
        won = MembershipApplication.objects.filter(
            pk=application.pk, applicant=user, status=MembershipApplication.Status.SUBMITTED
        ).update(status=MembershipApplication.Status.WITHDRAWN, updated_at=timezone.now())
        if not won:
            raise Conflict(_("这份申请已处理，不能撤回。"), code="invalid_transition")
        _consent(user=user, granted=False, request=request)
        audit_record("union.withdraw", actor=user, obj=application, request=request)
    application.refresh_from_db()
    return application


def _new_member(**fields: Any) -> Member:
    member = Member.objects.create(enrolled_at=timezone.now(), **fields)
    member.number = member_number(member.pk)
    member.save(update_fields=["number"])
    return member


def membership_decide(*, actor: User, application: MembershipApplication, approve: bool,
                      note: str = "", request: HttpRequest | None = None) -> MembershipApplication:
    """The union reviews an application: approved → enrolled with a member number at once;
    rejected → the note says why. Exactly once (a conditional UPDATE on `submitted`)."""
    note = check_text((note or "").strip(), max_length=500, multiline=True, field="note")
    if not approve and not note:
        raise InvalidInput(_("请写明未通过的原因。"), field="note")
    status = MembershipApplication.Status.APPROVED if approve else \
        MembershipApplication.Status.REJECTED
    now = timezone.now()
    try:
        with transaction.atomic():
            won = MembershipApplication.objects.filter(
                pk=application.pk, status=MembershipApplication.Status.SUBMITTED).update(
                status=status, reviewed_by=actor, reviewed_at=now, review_note=note,
                updated_at=now)
            if not won:
                raise Conflict(_("这份申请已处理。"), code="invalid_transition")
            member = None
            if approve:
                member = _new_member(
                    user=application.applicant, real_name=application.real_name,
                    mobile=application.mobile, employer=application.employer,
                    brand=application.brand, job_type=application.job_type,
                    area=application.area, station=application.station,
                    source=Member.Source.APPLICATION, application=application,
                    enrolled_by=actor)
                application.consent.member = member
                application.consent.save(update_fields=["member"])
            audit_record("union.approve" if approve else "union.reject", actor=actor,
                         obj=application, request=request,
                         detail={"member": member.number if member else None})
    except IntegrityError:
        raise Conflict(_("这个手机号已经是工会会员。"), code="already_member") from None
    application.refresh_from_db()
    return application


# --- on-site batch enrolment -------------------------------------------------------------------

@dataclass
class BatchRow:
    """One line of a batch as typed or read from the spreadsheet (row numbers from 1)."""

    row: int
    name: str
    mobile: str
    employer: str = ""
    job_type: str = ""


def _row_result(r: BatchRow, result: str, error: ApplicationError | None = None,
                number: str = "", mobile: str = "") -> dict[str, Any]:
    return {"row": r.row, "name": mask_name(r.name.strip()[:64]),
            "mobile": mask_mobile(mobile or r.mobile.strip()[:32]), "result": result,
            "message_zh": error.message_zh if error else "",
            "message_en": error.message_en if error else "", "number": number}


def batch_enrol(*, actor: User, title: str, held_on: date, area: Area,
                station: Station | None = None, partner: str = "", brand: Brand | None = None,
                rows: list[BatchRow], consent_confirmed: bool,
                request: HttpRequest | None = None) -> EnrolmentBatch:
    """Enrol a list of workers on site. Every row is accounted for in the report: enrolled
    (with its member number), already a member, or refused with its reason (a bad name or
    mobile, a repeat within the list). Good rows are enrolled even when others are bad;
    nothing is dropped silently. The steward confirms that each person signed the union's
    consent form on site; it is recorded for each member enrolled."""
    title = check_text((title or "").strip(), max_length=128, field="title")
    if not title:
        raise InvalidInput(_("请填写活动名称。"), field="title")
    partner = check_text((partner or "").strip(), max_length=64, field="partner")
    if not consent_confirmed:
        raise InvalidInput(_("请确认每位小哥都已现场签署入会信息处理同意书。"),
                           code="consent_required", field="consent")
    if not rows:
        raise InvalidInput(_("名单是空的。"), field="roster")
    if len(rows) > BATCH_ROWS_MAX:
        raise InvalidInput(_("一次最多 %(n)s 行。"), params={"n": BATCH_ROWS_MAX}, field="roster")
    report: list[dict[str, Any]] = []
    good: list[tuple[BatchRow, str, str, str]] = []  # row, name, mobile, employer
    seen: dict[str, int] = {}
    for r in rows:
        try:
            name = check_text(r.name.strip(), max_length=64, field="name")
            if not name:
                raise InvalidInput(_("姓名为空。"), field="name")
            mobile = normalise_mobile(r.mobile)
            employer = check_text((r.employer or "").strip(), max_length=128, field="employer")
            if r.job_type and r.job_type not in JobType.values:
                raise InvalidInput(_("工作类型无效。"), field="job_type")
            if mobile in seen:
                raise InvalidInput(_("与第 %(n)s 行的手机号重复。"), params={"n": seen[mobile]},
                                   code="duplicate_row", field="mobile")
        except InvalidInput as exc:
            report.append(_row_result(r, "refused", exc))
            continue
        seen[mobile] = r.row
        good.append((r, name, mobile, employer))
    with transaction.atomic():
        batch = EnrolmentBatch.objects.create(title=title, held_on=held_on, area=area,
                                              station=station, partner=partner, brand=brand,
                                              created_by=actor)
        mobiles = [m for _r, _n, m, _e in good]
        members = set(Member.objects.filter(mobile__in=mobiles).values_list("mobile", flat=True))
        users = dict(WorkerProfile.objects.filter(user__mobile__in=mobiles, user__is_active=True)
                     .values_list("user__mobile", "user_id"))
        linked = set(Member.objects.filter(user_id__in=users.values())
                     .values_list("user_id", flat=True))
        fresh: list[tuple[BatchRow, Member]] = []
        now = timezone.now()
        for r, name, mobile, employer in good:
            if mobile in members or users.get(mobile) in linked:
                report.append(_row_result(r, "member", Conflict(_("已经是工会会员。"),
                                                                code="already_member"),
                                          mobile=mobile))
                continue
            user_id = users.get(mobile)
            fresh.append((r, Member(
                user_id=user_id, real_name=name, mobile=mobile,
                employer=employer or (brand.name_zh if brand else ""), brand=brand,
                job_type=r.job_type or JobType.COURIER, area=area, station=station,
                source=Member.Source.BATCH, batch=batch, enrolled_at=now, enrolled_by=actor)))
        # A concurrent enrolment of the same mobile fails this insert on the unique index; then
        # the rows go one by one, each in its own savepoint, so only that row is affected.
        try:
            with transaction.atomic():
                created = Member.objects.bulk_create([m for _r, m in fresh])
        except IntegrityError:
            created = []
            for r, m in fresh:
                try:
                    with transaction.atomic():
                        m.pk = None
                        m.save()
                        created.append(m)
                except IntegrityError:
                    report.append(_row_result(r, "member", Conflict(_("已经是工会会员。"),
                                                                    code="already_member"),
                                              mobile=m.mobile or ""))
        for m in created:
            m.number = member_number(m.pk)
        Member.objects.bulk_update(created, ["number"])
        MembershipConsent.objects.bulk_create([
            MembershipConsent(user_id=m.user_id, member=m, granted=True,
                              method=MembershipConsent.Method.ON_SITE, recorded_by=actor)
            for m in created])
        by_row = {id(m): r for r, m in fresh}
        report += [_row_result(by_row[id(m)], "enrolled", number=m.number or "",
                               mobile=m.mobile or "") for m in created]
        report.sort(key=lambda x: x["row"])
        batch.rows_total = len(rows)
        batch.rows_enrolled = len(created)
        batch.rows_refused = sum(1 for x in report if x["result"] == "refused")
        batch.report = report
        batch.save(update_fields=["rows_total", "rows_enrolled", "rows_refused", "report"])
        audit_record("union.batch", actor=actor, obj=batch, request=request,
                     detail={"rows": len(rows), "enrolled": len(created),
                             "refused": batch.rows_refused, "area": area.code})
    return batch
