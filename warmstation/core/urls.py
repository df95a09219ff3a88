from django.urls import path

from warmstation.core import views

app_name = "core"
urlpatterns = [
    path("", views.audit_search, name="audit"),
]
