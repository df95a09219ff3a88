from django.urls import path

from warmstation.stations import views_steward as views

app_name = "steward"
urlpatterns = [
    path("", views.console_list, name="list"),
    path("<int:station_id>/", views.console, name="console"),
    path("<int:station_id>/status/", views.console_status, name="status"),
    path("<int:station_id>/hours/", views.console_hours, name="hours"),
    path("<int:station_id>/exception/", views.console_exception, name="exception"),
    path("<int:station_id>/amenities/", views.console_amenities, name="amenities"),
    path("<int:station_id>/stock/", views.console_stock, name="stock"),
    path("<int:station_id>/lend/", views.console_lend, name="lend"),
    path("<int:station_id>/loans/<int:loan_id>/return/", views.console_return, name="return"),
    path("<int:station_id>/record/", views.console_record, name="record"),
]
