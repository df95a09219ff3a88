"""Spreadsheet import and export of base data (workers, stations, merchants), under /district/data/."""

from django.urls import path

from warmstation.dashboard import views_data

app_name = "dashboard_data"
urlpatterns = [
    path("", views_data.index, name="index"),
    path("template/", views_data.template, name="template"),
    path("export/", views_data.export, name="export"),
    path("batches/<id:batch_id>/", views_data.batch, name="batch"),
    path("batches/<id:batch_id>/apply/", views_data.batch_apply, name="batch_apply"),
    path("batches/<id:batch_id>/discard/", views_data.batch_discard, name="batch_discard"),
]
