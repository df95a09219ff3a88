from django.contrib import admin

from warmstation.appeals import policy, rules
from warmstation.appeals.models import (
    AppealSettings,
    Category,
    Department,
    PolicyAnswer,
    RoutingRule,
    WorkCalendarDay,
)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "kind", "area", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name_zh"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "answer_hours", "resolve_days", "is_policy", "is_active"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["category", "area", "department"]
    list_filter = ["category", "department"]

    def save_model(self, request, obj, form, change):
        # Through the service, so the change is audited like one made through the API.
        rules.routing_rule_set(actor=request.user, category=obj.category, area=obj.area,
                               department=obj.department, request=request)


@admin.register(AppealSettings)
class AppealSettingsAdmin(admin.ModelAdmin):
    list_display = ["dispatch_urgent_minutes", "dispatch_general_hours", "respond_hours",
                    "complex_resolve_days", "reopen_days", "fairly_satisfied_weight"]


@admin.register(WorkCalendarDay)
class WorkCalendarDayAdmin(admin.ModelAdmin):
    verbose_name = "工作日历"
    list_display = ["date", "working", "name"]

    def save_model(self, request, obj, form, change):
        rules.calendar_day_set(actor=request.user, date=obj.date, working=obj.working,
                               name=obj.name, request=request)


@admin.register(PolicyAnswer)
class PolicyAnswerAdmin(admin.ModelAdmin):
    list_display = ["question", "topic", "is_active", "updated_at"]
    list_filter = ["topic", "is_active"]
    search_fields = ["question", "keywords"]

    def save_model(self, request, obj, form, change):
        # The service fills the search column and audits the change.
        fields = {k: getattr(obj, k) for k in ("topic", "question", "answer", "keywords",
                                               "source", "department", "is_active")}
        policy.policy_answer_save(actor=request.user, entry=obj, request=request, **fields)
