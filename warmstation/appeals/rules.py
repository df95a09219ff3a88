"""The district's editable settings for needs: categories and their limits, routing rules,
deadline settings, and the working-day calendar. District admins only (checked by callers)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from warmstation.appeals.models import (
    AppealSettings,
    Category,
    Department,
    RoutingRule,
    WorkCalendarDay,
)
from warmstation.areas.models import Area
from warmstation.core.audit import audit_record
from warmstation.core.errors import InvalidInput

SETTINGS_FIELDS = {"dispatch_urgent_minutes", "dispatch_general_hours", "respond_hours",
                   "complex_resolve_days", "reopen_days", "followup_days",
                   "remind_before_hours", "fairly_satisfied_weight"}


def category_update(*, actor, category: Category, request=None, **fields) -> Category:
    for key in ("name_zh", "name_en", "answer_hours", "resolve_days", "is_policy", "is_active",
                "sort"):
        if key in fields and fields[key] is not None:
            setattr(category, key, fields[key])
    if not 1 <= category.answer_hours <= 2000 or not 1 <= category.resolve_days <= 365:
        raise InvalidInput(_("时限超出范围。"),
                           field="answer_hours" if not 1 <= category.answer_hours <= 2000
                           else "resolve_days")
    with transaction.atomic():
        category.save()
        audit_record("appeal_category.update", actor=actor, obj=category, request=request,
                     detail={k: str(v) for k, v in fields.items()})
    return category


def routing_rule_set(*, actor, category: Category, area: Area | None, department: Department,
                     request=None) -> RoutingRule:
    with transaction.atomic():
        rule, _created = RoutingRule.objects.update_or_create(
            category=category, area=area, defaults={"department": department})
        audit_record("appeal_routing.set", actor=actor, obj=rule, request=request,
                     detail={"category": category.code, "area": area.code if area else None,
                             "department": department.code})
    return rule


def routing_rule_delete(*, actor, rule: RoutingRule, request=None) -> None:
    with transaction.atomic():
        audit_record("appeal_routing.delete", actor=actor, obj=rule, request=request)
        rule.delete()


def appeal_settings_update(*, actor, request=None, **fields) -> AppealSettings:
    conf = AppealSettings.objects.get_or_create(pk=1)[0]
    for key, value in fields.items():
        if key in SETTINGS_FIELDS and value is not None:
            setattr(conf, key, value)
    if not 0 <= float(conf.fairly_satisfied_weight) <= 1:
        raise InvalidInput(_("基本满意权重应在0到1之间。"), field="fairly_satisfied_weight")
    with transaction.atomic():
        conf.save()
        audit_record("appeal_settings.update", actor=actor, obj=conf, request=request,
                     detail={k: str(v) for k, v in fields.items()})
    return conf


def calendar_day_set(*, actor, date, working: bool, name: str = "", request=None):
    with transaction.atomic():
        day, _created = WorkCalendarDay.objects.update_or_create(
            date=date, defaults={"working": working, "name": name[:32]})
        audit_record("work_calendar.set", actor=actor, obj=day, request=request,
                     detail={"date": str(date), "working": working})
    return day
