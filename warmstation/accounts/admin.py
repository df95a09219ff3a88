from django.contrib import admin

from warmstation.accounts.models import (
    ApiToken,
    Brand,
    ConsentRecord,
    RoleGrant,
    User,
    WorkerProfile,
)
from warmstation.accounts.services import role_grant, role_revoke
from warmstation.core.masking import mask_mobile


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    fk_name = "user"
    extra = 0
    fields = ["role", "area", "department", "granted_by", "created_at"]
    readonly_fields = ["role", "area", "department", "granted_by", "created_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["masked_mobile", "real_name", "is_active", "date_joined"]
    search_fields = ["mobile", "real_name"]
    list_filter = ["is_active", "grants__role"]
    fields = ["mobile", "real_name", "is_active", "date_joined", "closed_at", "failed_logins",
              "locked_until", "totp_confirmed_at"]
    readonly_fields = ["mobile", "date_joined", "closed_at", "totp_confirmed_at"]
    inlines = [RoleGrantInline]

    @admin.display(description="手机号 mobile")
    def masked_mobile(self, obj):
        return mask_mobile(obj.mobile)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # accounts are closed (anonymised), never deleted


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    """Role changes go through the services so they are audited."""

    list_display = ["user", "role", "area", "department", "granted_by", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__mobile", "user__real_name", "area__name_zh"]
    autocomplete_fields = ["user", "area"]
    fields = ["user", "role", "area", "department"]

    def has_change_permission(self, request, obj=None):
        return obj is None

    def save_model(self, request, obj, form, change):
        obj.pk = role_grant(actor=request.user, user=obj.user, role=obj.role, area=obj.area,
                            department=obj.department, request=request).pk

    def delete_model(self, request, obj):
        role_revoke(actor=request.user, grant=obj, request=request)

    def delete_queryset(self, request, queryset):
        for grant in queryset:
            role_revoke(actor=request.user, grant=grant, request=request)


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "kind"]


@admin.register(WorkerProfile)
class WorkerProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "job_type", "brand"]
    list_filter = ["job_type", "brand"]
    exclude = ["id_number"]
    filter_horizontal = ["areas"]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    list_display = ["user", "purpose", "granted", "version", "at"]
    readonly_fields = ["user", "purpose", "granted", "version", "at", "ip"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "auth_level", "created_at", "expires_at",
                    "revoked_at"]
    readonly_fields = ["user", "key_hash", "prefix", "auth_level", "created_at", "expires_at",
                       "last_used_at"]
