from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from warmstation.core.models import AuditEvent

# ModelAdmin is generic only in the stubs (not subscriptable at runtime).
if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = admin.ModelAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(_ModelAdmin):
    list_display = ["at", "who", "action", "object_type", "object_id", "result", "ip"]
    list_filter = ["result", "action"]
    list_select_related = ["actor", "subject"]
    search_fields = ["action", "object_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
