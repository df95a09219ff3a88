from django.urls import path

from warmstation.outreach import views

app_name = "notices"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<id:notice_id>/", views.read, name="read"),
    path("groups/", views.my_groups, name="my_groups"),
    path("join/<str:join_token>/", views.join, name="join"),
    path("desk/", views.desk, name="desk"),
    path("desk/new/", views.compose, name="compose"),
    path("desk/dead/", views.dead, name="dead"),
    path("desk/<id:notice_id>/", views.status, name="status"),
    path("desk/<id:notice_id>/cancel/", views.cancel, name="cancel"),
    path("desk/groups/", views.groups, name="groups"),
    path("desk/groups/<id:group_id>/", views.group, name="group"),
    path("desk/groups/<id:group_id>/qr.svg", views.group_qr, name="group_qr"),
    path("desk/groups/<id:group_id>/channels/", views.channel_add, name="channel_add"),
    path("desk/channels/<id:channel_id>/", views.channel_edit, name="channel_edit"),
    path("desk/members/<id:member_id>/remove/", views.member_remove, name="member_remove"),
    path("desk/messages/<id:message_id>/retry/", views.retry, name="retry"),
]
