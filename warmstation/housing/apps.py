from django.apps import AppConfig


class HousingConfig(AppConfig):
    name = "warmstation.housing"
    label = "housing"
    verbose_name = "住宿 Housing"
