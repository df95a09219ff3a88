"""Admin helpers: read-only registers for records only services may write."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """For ledgers, holds, codes and audit-like rows: visible to district admins, never edited
    by hand (a correction is a reversal made by a service)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
