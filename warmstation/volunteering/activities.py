"""Every write about the 四个一 activities: a visit (走访慰问), a civic initiative (文明倡议), a care
delivery (关爱传递) and a batch of shared services (共享服务), with the people each reached.

A care delivery whose goods came from a station's cabinet takes them out through the stations
app's own `stock_change` (a conditional UPDATE: never below zero), in the same transaction as
the activity: short stock refuses the whole record. The workers who took part earn the published
rule's points (`four_ones_activity`), once each (the ledger key names the activity and the
worker)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from warmstation.core.audit import audit_record
from warmstation.core.errors import InvalidInput
from warmstation.core.inputs import check_date, clean_text
from warmstation.volunteering.models import Activity
from warmstation.volunteering.services import _award

if TYPE_CHECKING:
    from django.http import HttpRequest

    from warmstation.accounts.models import User
    from warmstation.areas.models import Area
    from warmstation.stations.models import Station

ACTIVITY_ACTION = "four_ones_activity"
REACHED_MAX = 100_000
PARTICIPANTS_MAX = 50


def activity_record(*, actor: User, area: Area, kind: str, title: str, held_on: date,
                    people_reached: int, note: str = "", station: Station | None = None,
                    goods: list[tuple[str, int]] | None = None,
                    participants: list[User] | None = None,
                    request: HttpRequest | None = None) -> Activity:
    """Record a 四个一 activity held in `area` (the caller checked the area and the station
    are theirs)."""
    if kind not in Activity.Kind.values:
        raise InvalidInput(_("请选择活动类型。"), code="invalid_kind", field="kind")
    title = clean_text(title, max_length=64, field="title")
    if not title:
        raise InvalidInput(_("请填写活动名称。"), field="title")
    check_date(held_on, field="held_on")
    if held_on > timezone.localdate():
        raise InvalidInput(_("活动日期不能在将来。"), code="in_the_future", field="held_on")
    if not 1 <= people_reached <= REACHED_MAX:
        raise InvalidInput(_("服务人次须在 1 至 %(max)s 之间。"), params={"max": REACHED_MAX},
                           code="invalid_number", field="people_reached")
    goods = [(code, qty) for code, qty in (goods or []) if qty]
    if goods and (kind != Activity.Kind.CARE or station is None):
        raise InvalidInput(_("只有从驿站物资柜发放的关爱传递才登记物品。"), field="station")
    people = list({p.pk: p for p in participants or []}.values())
    if len(people) > PARTICIPANTS_MAX:
        raise InvalidInput(_("参与小哥最多 %(max)s 人。"), params={"max": PARTICIPANTS_MAX},
                           field="participants")
    from warmstation.stations.services import stock_change

    with transaction.atomic():
        activity = Activity.objects.create(
            area=area, kind=kind, title=title, held_on=held_on, people_reached=people_reached,
            note=clean_text(note, max_length=1000, multiline=True, field="note"),
            station=station if kind == Activity.Kind.CARE else None,
            goods=[{"item": code, "quantity": qty} for code, qty in goods], recorded_by=actor)
        for code, qty in goods:
            assert station is not None
            stock_change(actor=actor, station=station, item_code=code, delta=-qty,
                         reason="out", note=f"关爱传递：{title}"[:128], request=request)
        activity.participants.set(people)
        paid = 0
        for person in people:
            points, _txn, _note = _award(
                user=person, action=ACTIVITY_ACTION,
                key=f"volunteering.activity:{activity.pk}:{person.pk}",
                source_ref=f"volunteering.activity:{activity.pk}", actor=actor)
            paid += points
        audit_record("volunteer.activity", actor=actor, obj=activity, request=request,
                     detail={"kind": kind, "reached": people_reached, "goods": len(goods),
                             "participants": len(people), "points": paid})
    return activity
