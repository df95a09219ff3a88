from django.contrib import admin

from warmstation.core.admin_mixins import ReadOnlyAdmin
from warmstation.union.models import EnrolmentBatch, Member, MembershipApplication


@admin.register(Member)
class MemberAdmin(ReadOnlyAdmin):
    """The union roll; enrolments go through the union desk or a batch (audited)."""

    list_display = ["number", "area", "station", "source", "enrolled_at"]
    list_filter = ["source"]
    search_fields = ["number"]


@admin.register(MembershipApplication)
class MembershipApplicationAdmin(ReadOnlyAdmin):
    list_display = ["id", "area", "status", "created_at", "reviewed_at"]
    list_filter = ["status"]


@admin.register(EnrolmentBatch)
class EnrolmentBatchAdmin(ReadOnlyAdmin):
    list_display = ["held_on", "title", "area", "rows_total", "rows_enrolled", "rows_refused"]
