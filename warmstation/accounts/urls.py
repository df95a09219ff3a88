from django.urls import path

from warmstation.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.worker_login, name="worker_login"),
    path("staff/login/", views.staff_login, name="staff_login"),
    path("staff/mfa/", views.staff_mfa, name="staff_mfa"),
    path("logout/", views.sign_out, name="logout"),
    path("register/", views.register, name="register"),
    path("me/", views.my_data, name="my_data"),
    path("me/export.json", views.my_data_export, name="my_data_export"),
    path("me/close/", views.my_account_close, name="my_account_close"),
    path("workers/", views.workers, name="workers"),
    path("workers/<id:worker_id>/reveal/", views.worker_reveal, name="worker_reveal"),
]
