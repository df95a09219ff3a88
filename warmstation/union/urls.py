from django.urls import path

from warmstation.union import views

app_name = "union"
urlpatterns = [
    path("", views.home, name="home"),
    path("applications/<id:application_id>/withdraw/", views.withdraw, name="withdraw"),
    path("card/", views.card, name="card"),
    path("desk/", views.desk, name="desk"),
    path("desk/applications/<id:application_id>/", views.decide, name="decide"),
    path("batches/new/", views.batch_new, name="batch_new"),
    path("batches/template/", views.batch_template, name="batch_template"),
    path("batches/<id:batch_id>/", views.batch_report, name="batch"),
]
