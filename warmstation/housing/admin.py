from django.contrib import admin

from warmstation.core.admin_mixins import ReadOnlyAdmin
from warmstation.housing.models import Booking, Equipment, Flat
from warmstation.housing.services import flat_save


@admin.register(Equipment)
class EquipmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en"]


@admin.register(Flat)
class FlatAdmin(admin.ModelAdmin):
    """Family short-stay flats; saved through the service (audit)."""

    list_display = ["name", "area", "station", "max_guests", "max_nights", "is_active"]
    list_filter = ["is_active"]
    filter_horizontal = ["equipment"]

    def save_model(self, request, obj, form, change):
        flat_save(actor=request.user, flat=obj, request=request)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead; bookings keep pointing at it


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = ["id", "flat", "check_in", "check_out", "status", "created_at"]
    list_filter = ["status"]
