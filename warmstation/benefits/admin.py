from django.contrib import admin

from warmstation.benefits.models import Merchant, MerchantStaff, Offer, Redemption
from warmstation.benefits.services import merchant_save, merchant_staff_add, offer_save
from warmstation.core.admin_mixins import ReadOnlyAdmin


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    """Partner merchants; saved through the service (grid cells, settlement account, audit)."""

    list_display = ["name", "kind", "area", "contact_name", "phone", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "address"]

    def save_model(self, request, obj, form, change):
        merchant_save(actor=request.user, merchant=obj, request=request)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead; redemptions and settlement keep pointing at it


@admin.register(MerchantStaff)
class MerchantStaffAdmin(admin.ModelAdmin):
    """Who may work a merchant's counter (the person also needs the merchant role)."""

    list_display = ["merchant", "user", "created_at"]
    autocomplete_fields = ["user"]
    search_fields = ["merchant__name", "user__real_name"]

    def has_change_permission(self, request, obj=None):
        return obj is None

    def save_model(self, request, obj, form, change):
        obj.pk = merchant_staff_add(actor=request.user, merchant=obj.merchant, user=obj.user,
                                    request=request).pk


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ["title", "merchant", "kind", "price", "normal_price", "points", "is_active"]
    list_filter = ["kind", "is_active"]

    def save_model(self, request, obj, form, change):
        offer_save(actor=request.user, offer=obj, request=request)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "merchant", "status", "issued_at", "redeemed_at"]
    list_filter = ["status"]
