from django.contrib import admin

from warmstation.core.admin_mixins import ReadOnlyAdmin
from warmstation.points.models import EarningRule, Entry, Hold, LedgerTransaction, PointsAccount
from warmstation.points.services import earning_rule_save


@admin.register(EarningRule)
class EarningRuleAdmin(admin.ModelAdmin):
    """Published earning rules; saved through the service so every change is audited."""

    list_display = ["action", "name_zh", "source", "points", "daily_cap", "monthly_cap",
                    "is_active"]
    list_filter = ["source", "is_active"]

    def save_model(self, request, obj, form, change):
        earning_rule_save(actor=request.user, rule=obj, request=request)

    def has_delete_permission(self, request, obj=None):
        return False  # retire a rule instead; its awards keep pointing at it


class EntryInline(admin.TabularInline):
    model = Entry
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    inlines = [EntryInline]
    list_display = ["id", "kind", "points", "user", "action", "source_ref", "created_at"]
    list_filter = ["kind"]
    search_fields = ["source_ref", "memo"]


@admin.register(PointsAccount)
class PointsAccountAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "code", "user", "balance", "held"]
    list_filter = ["kind"]


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ["id", "account", "amount", "status", "expires_at"]
    list_filter = ["status"]
