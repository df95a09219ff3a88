"""Volunteer-service records (志愿服务记录证明): issue, revoke, and the PDF.

The fields follow 民政部令第67号《志愿服务记录与证明出具办法（试行）》 and the 2015 guidance it
builds on (《关于规范志愿服务记录证明工作的指导意见》): the volunteer's name, identity-document type
and (masked) number, volunteer number, the services with their time and hours, the issuing
organisation with its responsible person, clerk and contact, the record number and the date.
Only a qualified issuer (a registered volunteer-service organisation) certifies; the platform
itself is not one, so a record it issues says plainly that it is a platform record, not a
certificate.

A record is a snapshot: its hours and services are copied when issued, so the public page and
the PDF show what was certified then, whatever happens to the rows later. Numbers carry a random
part, so the public verification page cannot be walked through by counting."""

from __future__ import annotations

import io
import secrets
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from warmstation.core.audit import audit_record
from warmstation.core.errors import Conflict
from warmstation.core.inputs import clean_text
from warmstation.core.masking import mask_id_number, mask_name
from warmstation.core.time import LOCAL
from warmstation.volunteering.models import Errand, Issuer, ServiceRecord, Signup
from warmstation.volunteering.services import volunteer_profile_open

if TYPE_CHECKING:
    from django.http import HttpRequest

    from warmstation.accounts.models import User

PLATFORM_ISSUER = {"name": "房山区“37°C+暖心驿站”服务平台", "responsible_person": "平台运营负责人",
                   "clerk": "系统自动出具", "contact": "12345", "qualified": False}
NOT_A_CERTIFICATE = ("本文件为“37°C+暖心驿站”平台的志愿服务记录，不是志愿服务记录证明；"
                     "如需证明，请向具备出具资格的志愿服务组织申请。")
NOT_A_CERTIFICATE_EN = ("This is a record kept by the platform, not a volunteer-service "
                        "certificate; ask a qualified volunteer-service organisation for one.")


def issuer_for(worker: User) -> Issuer:
    """A qualified issuer covering one of the worker's areas, else the platform itself."""
    profile = getattr(worker, "worker_profile", None)
    paths = [a.path for a in profile.areas.all()] if profile else []
    q = Q(pk__in=[])
    for path in paths:
        parts = path.strip("/").split("/")
        q |= Q(area__path__in=["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)])
    issuer = Issuer.objects.filter(q, qualified=True).order_by("-area__depth", "pk").first()
    if issuer is not None:
        return issuer
    platform = Issuer.objects.filter(area=None, name=PLATFORM_ISSUER["name"]).first()
    return platform or Issuer.objects.create(**PLATFORM_ISSUER)


def _services(worker: User) -> tuple[int, list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    for s in (Signup.objects.filter(worker=worker, confirmed_at__isnull=False, minutes__gt=0)
              .select_related("shift__task__area").order_by("shift__starts_at")):
        rows.append({"date": s.shift.starts_at.astimezone(LOCAL).date().isoformat(),
                     "service": s.shift.task.title, "kind": s.shift.task.get_kind_display(),
                     "organisation": s.shift.task.area.name_zh, "minutes": s.minutes})
    for e in (Errand.objects.filter(taker=worker, status=Errand.Status.CONFIRMED)
              .select_related("area").order_by("done_at")):
        assert e.done_at is not None
        rows.append({"date": e.done_at.astimezone(LOCAL).date().isoformat(),
                     "service": f"跑腿：{e.title}", "kind": "跑腿服务",
                     "organisation": e.area.name_zh, "minutes": e.minutes})
    rows.sort(key=lambda r: r["date"])
    return sum(r["minutes"] for r in rows), rows


def record_issue(*, worker: User, actor: User | None = None,
                 request: HttpRequest | None = None) -> ServiceRecord:
    """Issue a record of the worker's confirmed service so far."""
    minutes, rows = _services(worker)
    if not minutes:
        raise Conflict(_("还没有已确认的志愿服务时长。"), code="no_confirmed_hours")
    volunteer_profile_open(user=worker)
    issued = timezone.now().astimezone(LOCAL)
    record = ServiceRecord.objects.create(
        number=f"FSVR{issued:%Y%m%d}{secrets.token_hex(4).upper()}", worker=worker,
        issuer=issuer_for(worker), masked_name=mask_name(worker.real_name) or "—",
        minutes=minutes, services=rows, issued_by=actor or worker)
    audit_record("volunteer.record_issue", actor=actor or worker, obj=record, request=request,
                 detail={"number": record.number, "minutes": minutes})
    return record


def record_revoke(*, actor: User, record: ServiceRecord, reason: str,
                  request: HttpRequest | None = None) -> ServiceRecord:
    reason = clean_text(reason, max_length=100, field="reason")
    if not reason:
        from warmstation.core.errors import InvalidInput

        raise InvalidInput(_("请填写撤销原因。"), field="reason")
    if not ServiceRecord.objects.filter(pk=record.pk, revoked_at=None).update(
            revoked_at=timezone.now(), revoke_reason=reason):
        raise Conflict(_("该记录已撤销。"), code="already_revoked")
    audit_record("volunteer.record_revoke", actor=actor, obj=record, request=request,
                 detail={"number": record.number, "reason": reason})
    record.refresh_from_db()
    return record


def record_pdf(record: ServiceRecord, *, verify_url: str) -> bytes:
    """The record as an A4 PDF: the 67号令 fields, the services, the issuer, and a QR code to
    the public verification page. The CJK font is embedded (core/pdf.py)."""
    from reportlab.graphics import renderPDF
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from warmstation.core.pdf import cjk_font, qr_drawing

    worker = record.worker
    profile = volunteer_profile_open(user=worker)
    id_number = getattr(getattr(worker, "worker_profile", None), "id_number", "") or ""
    issuer = record.issuer
    buf = io.BytesIO()
    pdf = Canvas(buf, pagesize=A4)
    font = cjk_font()
    width, height = A4
    title = "志愿服务记录证明" if issuer.qualified else "志愿服务记录（平台记录）"
    pdf.setTitle(f"{title} {record.number}")
    pdf.setFont(font, 20)
    pdf.drawCentredString(width / 2, height - 72, title)
    pdf.setFont(font, 11)
    y = height - 110
    fields = [
        ("姓名", worker.real_name or record.masked_name),
        ("证件类型", "居民身份证" if id_number else "未登记"),
        ("证件号码", mask_id_number(id_number) if id_number else "未登记"),
        ("志愿者编号", profile.number),
        ("志愿服务时长", f"{record.minutes / 60:.1f} 小时（{record.minutes} 分钟）"),
        ("记录编号", record.number),
        ("出具日期", record.issued_at.astimezone(LOCAL).strftime("%Y年%m月%d日")),
    ]
    for label, value in fields:
        pdf.drawString(72, y, f"{label}：{value}")
        y -= 20
    y -= 6
    pdf.setFont(font, 12)
    pdf.drawString(72, y, "志愿服务信息")
    y -= 18
    pdf.setFont(font, 9)
    for row in record.services[:30]:
        pdf.drawString(80, y, f"{row['date']}  {row['service'][:28]}  {row['kind']}  "
                              f"{row['organisation']}  {row['minutes'] / 60:.1f} 小时")
        y -= 14
    if len(record.services) > 30:
        pdf.drawString(80, y, f"……共 {len(record.services)} 条")
        y -= 14
    y -= 10
    pdf.setFont(font, 11)
    for label, value in (("出具单位", issuer.name), ("负责人", issuer.responsible_person),
                         ("经办人", issuer.clerk), ("联系方式", issuer.contact)):
        pdf.drawString(72, y, f"{label}：{value}")
        y -= 18
    if not issuer.qualified:
        pdf.setFont(font, 10)
        pdf.drawString(72, y - 6, NOT_A_CERTIFICATE[:44])
        pdf.drawString(72, y - 20, NOT_A_CERTIFICATE[44:])
    if record.revoked_at is not None:
        pdf.setFont(font, 16)
        pdf.drawString(72, 150, f"本记录已于 {record.revoked_at.astimezone(LOCAL):%Y-%m-%d} 撤销")
    renderPDF.draw(qr_drawing(verify_url, 110), pdf, width - 72 - 110, 60)
    pdf.setFont(font, 8)
    pdf.drawString(72, 72, f"扫码或访问 {verify_url} 核验本记录")
    pdf.showPage()
    pdf.save()
    return buf.getvalue()
