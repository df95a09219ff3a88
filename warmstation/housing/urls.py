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
    path("survey/", views.survey, name="survey"),
    path("survey/figures/", views.survey_figures, name="survey_figures"),
    path("survey/answers/", views.survey_answers, name="survey_answers"),
    path("survey/answers/<id:survey_id>/", views.survey_answer, name="survey_answer"),
    path("resources/", views.resources, name="resources"),
    path("resources/<id:resource_id>/apply/", views.resource_apply, name="resource_apply"),
    path("office/", views.office, name="office"),
    path("office/applications/<id:rental_id>/", views.rental_step, name="rental_step"),
]
