"""The district's view: dashboard, base map (底数图) and coverage gaps, under /district/."""

from django.urls import path  # noqa: F401

app_name = "dashboard"
urlpatterns: list = []
