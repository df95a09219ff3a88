from django.urls import path

from warmstation.reports import views, views_clients, views_triage

app_name = "reports"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("new/", views.new, name="new"),
    path("nearby/", views.nearby, name="nearby"),
    path("photos/", views.photo_upload, name="photo_upload"),
    path("photos/<id:photo_id>/", views.photo, name="photo"),
    path("photos/<id:photo_id>/thumb/", views.photo_thumb, name="photo_thumb"),
    path("photos/<id:photo_id>/publish/", views.photo_publish, name="photo_publish"),
    path("queue/", views_triage.queue, name="queue"),
    path("clients/", views_clients.clients, name="clients"),
    path("clients/<id:client_id>/revoke/", views_clients.client_revoke, name="client_revoke"),
    path("public/", views.public_list, name="public"),
    path("public/<id:problem_id>/", views.public_detail, name="public_detail"),
    path("<id:problem_id>/", views.detail, name="detail"),
    path("<id:problem_id>/act/", views.act, name="act"),
    path("<id:problem_id>/follow/", views.follow, name="follow"),
]
