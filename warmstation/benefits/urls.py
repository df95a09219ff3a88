from django.urls import path

from warmstation.benefits import views

app_name = "benefits"
urlpatterns = [
    path("wallet/", views.wallet, name="wallet"),
    path("wallet/offers/<id:offer_id>/code/", views.code_issue, name="code_issue"),
    path("wallet/codes/<id:redemption_id>/", views.code_screen, name="code"),
    path("merchant/", views.counter, name="counter"),
    path("merchant/<id:merchant_id>/", views.counter, name="counter_of"),
    path("merchant/offers/<id:offer_id>/", views.offer_edit, name="offer_edit"),
    path("partners/", views.partners, name="partners"),
]
