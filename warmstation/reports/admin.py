from django.contrib import admin

from warmstation.reports.models import Open311Client, ReportCategory, ReportSettings


@admin.register(ReportCategory)
class ReportCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "group_zh", "name_zh", "resolve_days", "department", "is_active")
    list_filter = ("group_zh", "is_active")


@admin.register(ReportSettings)
class ReportSettingsAdmin(admin.ModelAdmin):
    list_display = ("same_radius_m", "same_max", "reopen_days", "first_action",
                    "confirm_action")


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    list_display = ("name", "key_hint", "revoked_at", "last_used_at")
    readonly_fields = ("key_hash", "key_hint", "issued_by", "revoked_at", "last_used_at")
