from django.contrib import admin

from warmstation.core.admin_mixins import ReadOnlyAdmin
from warmstation.volunteering.models import (
    Activity,
    Errand,
    Issuer,
    ServiceRecord,
    Shift,
    Signup,
    VolunteerTask,
)


@admin.register(Issuer)
class IssuerAdmin(admin.ModelAdmin):
    """Organisations that issue volunteer-service records; `qualified` only for a registered
    volunteer-service organisation (民政部令第67号)."""

    list_display = ["name", "area", "responsible_person", "clerk", "contact", "qualified"]


@admin.register(VolunteerTask)
class VolunteerTaskAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "area", "place_name", "is_active"]
    list_filter = ["kind", "is_active"]


@admin.register(Shift)
class ShiftAdmin(ReadOnlyAdmin):
    list_display = ["task", "starts_at", "ends_at", "capacity", "placed", "closed_at"]


@admin.register(Signup)
class SignupAdmin(ReadOnlyAdmin):
    list_display = ["shift", "worker", "status", "checked_in_at", "checked_out_at", "minutes",
                    "checkout_capped", "confirmed_at", "points"]
    list_filter = ["status", "checkout_capped"]


@admin.register(Errand)
class ErrandAdmin(ReadOnlyAdmin):
    # The resident's details are not listed: only the worker who took the errand sees them.
    list_display = ["title", "area", "status", "taker", "created_at"]
    list_filter = ["status"]
    exclude = ["resident_name", "resident_address", "resident_phone"]


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "area", "held_on", "people_reached"]
    list_filter = ["kind"]


@admin.register(ServiceRecord)
class ServiceRecordAdmin(ReadOnlyAdmin):
    list_display = ["number", "masked_name", "issuer", "minutes", "issued_at", "revoked_at"]
