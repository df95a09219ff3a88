from django.contrib import admin

from warmstation.areas.models import Area, AreaContact


class AreaContactInline(admin.TabularInline):
    model = AreaContact
    extra = 0


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name_zh", "name_en"]
    inlines = [AreaContactInline]
    readonly_fields = ["path", "depth"]

    def get_readonly_fields(self, request, obj=None):
        # Moving an area would have to re-path its whole subtree (and with it everyone's
        # scope); that is an import job, not a form edit.
        return [*self.readonly_fields, "parent", "code"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        obj.compute_path()
        super().save_model(request, obj, form, change)
