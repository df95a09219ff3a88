from django.urls import path

from warmstation.areas import views

app_name = "areas"
urlpatterns = [
    path("", views.area_list, name="list"),
    path("<str:code>/", views.area_detail, name="detail"),
    path("contacts/<id:contact_id>/delete/", views.contact_delete, name="contact_delete"),
]
