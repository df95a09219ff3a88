from django.urls import path

from warmstation.housing import views

app_name = "housing"
urlpatterns = [
    path("", views.home, name="home"),
    path("flats/<id:flat_id>/", views.flat_detail, name="flat"),
    path("bookings/<id:booking_id>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("desk/", views.desk, name="desk"),
    path("desk/bookings/<id:booking_id>/check-in/", views.booking_check_in,
         name="booking_check_in"),
    path("desk/bookings/<id:booking_id>/check-out/", views.booking_check_out,
         name="booking_check_out"),
]
