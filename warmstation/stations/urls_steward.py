from django.urls import path

from warmstation.stations import views_steward as views

app_name = "steward"
urlpatterns = [
    path("", views.console_list, name="list"),
    path("<id:station_id>/", views.console, name="console"),
    path("<id:station_id>/status/", views.console_status, name="status"),
    path("<id:station_id>/hours/", views.console_hours, name="hours"),
    path("<id:station_id>/exception/", views.console_exception, name="exception"),
    path("<id:station_id>/exception/<id:exception_id>/delete/", views.console_exception_delete,
         name="exception_delete"),
    path("<id:station_id>/amenities/", views.console_amenities, name="amenities"),
    path("<id:station_id>/stock/", views.console_stock, name="stock"),
    path("<id:station_id>/lend/", views.console_lend, name="lend"),
    path("<id:station_id>/loans/<id:loan_id>/return/", views.console_return, name="return"),
    path("<id:station_id>/returns/", views.console_return_any, name="return_any"),
    path("<id:station_id>/record/", views.console_record, name="record"),
]
