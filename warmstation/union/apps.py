from django.apps import AppConfig


class UnionConfig(AppConfig):
    name = "warmstation.union"
    label = "union"
    verbose_name = "工会入会 Union membership"
