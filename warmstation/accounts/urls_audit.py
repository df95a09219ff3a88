from django.urls import path

from warmstation.accounts import views_audit

app_name = "audit"
urlpatterns = [
    path("", views_audit.audit_search, name="audit"),
]
