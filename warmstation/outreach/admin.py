from django.contrib import admin

from warmstation.outreach.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "recipient", "purpose", "status", "attempts", "body"]
    list_filter = ["channel", "status", "purpose"]
    search_fields = ["recipient"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
