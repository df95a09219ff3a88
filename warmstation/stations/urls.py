from django.urls import path

from warmstation.stations import views

app_name = "stations"
urlpatterns = [
    path("", views.station_list, name="list"),
    path("manage/", views.station_manage, name="manage"),
    path("<id:station_id>/", views.station_detail, name="detail"),
    path("<id:station_id>/check-in/<str:token>/", views.station_check_in, name="check_in"),
]
