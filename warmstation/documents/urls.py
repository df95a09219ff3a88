from django.urls import path

from warmstation.documents import views

app_name = "cards"
urlpatterns = [
    path("mine/", views.my_card, name="mine"),
    path("<str:code>/", views.card_page, name="page"),
    path("<str:code>/card.pdf", views.card_pdf, name="pdf"),
    path("<str:code>/sheet.pdf", views.card_sheet, name="sheet"),
    path("<str:code>/card.png", views.card_png, name="png"),
    path("<str:code>/handbook/", views.handbook_page, name="handbook"),
    path("<str:code>/handbook/a5.pdf", views.handbook_file, {"kind": "a5"}, name="handbook_a5"),
    path("<str:code>/handbook/booklet.pdf", views.handbook_file, {"kind": "booklet"},
         name="handbook_booklet"),
]
