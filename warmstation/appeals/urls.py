from django.urls import path

from warmstation.appeals import views

app_name = "appeals"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("new/", views.new, name="new"),
    path("suggest/", views.suggest, name="suggest"),
    path("inbox/", views.inbox, name="inbox"),
    path("board/", views.board, name="board"),
    path("meeting/", views.meeting_new, name="meeting"),
    path("policy/", views.policy_list, name="policy"),
    path("export.xlsx", views.export, name="export"),
    path("export.csv", views.export, {"fmt": "csv"}, name="export_csv"),
    path("<id:appeal_id>/", views.detail, name="detail"),
    path("<id:appeal_id>/act/", views.act, name="act"),
    path("attachments/<id:attachment_id>/", views.attachment, name="attachment"),
]
