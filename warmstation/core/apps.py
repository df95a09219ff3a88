from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "warmstation.core"
    label = "core"
    verbose_name = "核心 Core"
