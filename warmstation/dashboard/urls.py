"""The district's view: dashboard, base map (底数图) and coverage gaps, under /district/."""

from django.urls import path

from warmstation.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.dashboard, name="home"),
    path("map/", views.base_map, name="map"),
    path("coverage/", views.coverage_gaps, name="coverage"),
    path("coverage/export/", views.coverage_export, name="coverage_export"),
]
