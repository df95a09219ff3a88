from django.urls import path

from warmstation.volunteering import views, views_errands, views_records

app_name = "volunteering"
urlpatterns = [
    path("", views.tasks, name="list"),
    path("tasks/<id:task_id>/", views.task, name="task"),
    path("shifts/<id:shift_id>/signup/", views.signup, name="signup"),
    path("signups/<id:signup_id>/cancel/", views.cancel, name="cancel"),
    path("mine/", views.mine, name="mine"),
    path("check/<str:token>/", views.check, name="check"),
    path("organise/", views.organise, name="organise"),
    path("organise/tasks/<id:task_id>/", views.manage, name="manage"),
    path("organise/shifts/<id:shift_id>/", views.roster, name="roster"),
    path("organise/signups/<id:signup_id>/", views.desk, name="desk"),
    path("errands/", views_errands.errands, name="errands"),
    path("errands/<id:errand_id>/", views_errands.errand, name="errand"),
    path("errands/desk/", views_errands.errand_desk, name="errand_desk"),
    path("errands/verify/", views_errands.errand_verify, name="errand_verify"),
    path("errands/export.csv", views_errands.errand_export, name="errand_export"),
    path("errands/ask/", views_errands.errand_ask, name="errand_ask"),
    path("errands/<id:errand_id>/thanks/", views_errands.errand_thanks, name="errand_thanks"),
    path("activities/", views.activities, name="activities"),
    path("records/", views_records.records, name="records"),
    path("records/<id:record_id>/pdf/", views_records.record_pdf, name="record_pdf"),
    path("records/<id:record_id>/revoke/", views_records.record_revoke, name="record_revoke"),
    path("verify/<str:number>/", views_records.verify, name="verify"),
]
