from django.apps import AppConfig


class AreasConfig(AppConfig):
    name = "warmstation.areas"
    label = "areas"
    verbose_name = "区域 Areas"
