from django.apps import AppConfig


class AppealsConfig(AppConfig):
    name = "warmstation.appeals"
    label = "appeals"
    verbose_name = "诉求与部门 Needs and departments"
