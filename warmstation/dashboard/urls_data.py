"""Spreadsheet import and export of base data (workers, stations, merchants), under /district/data/."""

from django.urls import path  # noqa: F401

app_name = "dashboard_data"
urlpatterns: list = []
