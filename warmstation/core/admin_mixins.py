"""Admin helpers: read-only registers for records only services may write."""

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

# ModelAdmin is generic only in the stubs (not subscriptable at runtime).
if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = admin.ModelAdmin


class ReadOnlyAdmin(_ModelAdmin):
    """For ledgers, holds, codes and audit-like rows: visible to district admins, never edited
    by hand (a correction is a reversal made by a service)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
