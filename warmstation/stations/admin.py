from django.contrib import admin

from warmstation.core.admin_mixins import ReadOnlyAdmin
from warmstation.stations.models import (
    Amenity,
    GoodsItem,
    Loan,
    ResourceItem,
    ServiceItem,
    Station,
    StockMovement,
)
from warmstation.stations.services import station_save


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    """Stations; saved through the service (grid cells, check-in token, audit)."""

    list_display = ["name", "kind", "area", "steward", "is_24h", "temporarily_closed",
                    "is_active"]
    list_filter = ["kind", "is_24h", "is_active"]
    search_fields = ["name", "address"]
    autocomplete_fields = ["steward"]
    filter_horizontal = ["amenities", "resources", "services"]

    def save_model(self, request, obj, form, change):
        station_save(actor=request.user, station=obj, request=request)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: loans and the ledger of services point at it


for model in (Amenity, GoodsItem, ResourceItem, ServiceItem):
    admin.site.register(model)


@admin.register(Loan)
class LoanAdmin(ReadOnlyAdmin):
    list_display = ["id", "item", "station", "lent_at", "due_at", "returned_at"]


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ["at", "station", "item", "delta", "reason"]
    list_filter = ["reason"]
